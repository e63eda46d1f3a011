#!/usr/bin/env node
// Compile every contract in src/ with the pinned solc (JS API, standard JSON) and write
// artifacts/<Contract>.json. `--check` recompiles into memory and fails if any committed
// artifact differs (bytecode byte for byte, ABI, source hashes). `--out DIR` writes elsewhere.
// Imports of libraries (`@openzeppelin/contracts/...`) are read from node_modules, where npm put
// the version pinned in package.json; each artifact records the versions it was built with.
"use strict";
const fs = require("fs");
const path = require("path");
const crypto = require("crypto");
const solc = require("solc");

const HERE = __dirname;
const SRC = path.join(HERE, "src");
const NODE_MODULES = path.join(HERE, "node_modules");
const LIBRARIES = ["@openzeppelin/contracts"];
const SETTINGS = {
  evmVersion: "prague", // py-evm stops at Prague
  optimizer: { enabled: true, runs: 200 },
  viaIR: false,
  outputSelection: {
    "*": { "*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object", "evm.deployedBytecode.immutableReferences"] },
  },
};

function sha256(text) {
  return crypto.createHash("sha256").update(text).digest("hex");
}

// Solidity's import callback: library files from node_modules, nothing else from outside src/.
function findImports(importPath) {
  if (!LIBRARIES.some((lib) => importPath.startsWith(lib + "/"))) return { error: `not found: ${importPath}` };
  try {
    return { contents: fs.readFileSync(path.join(NODE_MODULES, importPath), "utf8") };
  } catch (e) {
    return { error: `${importPath}: ${e.message} (run: npm ci --prefix contracts)` };
  }
}

function libraryVersions() {
  const versions = {};
  for (const lib of LIBRARIES) {
    versions[lib] = JSON.parse(fs.readFileSync(path.join(NODE_MODULES, lib, "package.json"), "utf8")).version;
  }
  return versions;
}

function compile() {
  const files = fs.readdirSync(SRC).filter((f) => f.endsWith(".sol")).sort();
  const sources = {};
  const hashes = {};
  for (const f of files) {
    const content = fs.readFileSync(path.join(SRC, f), "utf8");
    sources[f] = { content };
    hashes[f] = sha256(content);
  }
  const input = { language: "Solidity", sources, settings: SETTINGS };
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports }));
  const libraries = libraryVersions();
  const errors = (output.errors || []).filter((e) => e.severity === "error");
  for (const e of output.errors || []) process.stderr.write(e.formattedMessage + "\n");
  if (errors.length) process.exit(1);
  const artifacts = {};
  for (const [file, contracts] of Object.entries(output.contracts)) {
    if (!(file in sources)) continue; // a library's file
    for (const [name, c] of Object.entries(contracts)) {
      // one artifact per file: the contract named like it (Gateway.sol -> Gateway); files of shared
      // types and libraries (Messaging.sol) have none
      if (path.basename(file, ".sol") !== name) continue;
      artifacts[name] = {
        contractName: name,
        sourceName: file,
        abi: c.abi,
        bytecode: "0x" + c.evm.bytecode.object,
        deployedBytecode: "0x" + c.evm.deployedBytecode.object,
        // byte ranges of the runtime code that the constructor fills in (immutables)
        immutableReferences: Object.values(c.evm.deployedBytecode.immutableReferences || {}).flat(),
        compiler: { name: "solc", version: solc.version() },
        settings: { evmVersion: SETTINGS.evmVersion, optimizer: SETTINGS.optimizer, viaIR: SETTINGS.viaIR },
        sources: hashes,
        libraries,
      };
    }
  }
  return artifacts;
}

function main() {
  const args = process.argv.slice(2);
  const check = args.includes("--check");
  const outIdx = args.indexOf("--out");
  const outDir = outIdx >= 0 ? path.resolve(args[outIdx + 1]) : path.join(HERE, "artifacts");
  const artifacts = compile();
  if (check) {
    let bad = 0;
    for (const [name, a] of Object.entries(artifacts)) {
      const file = path.join(HERE, "artifacts", name + ".json");
      if (!fs.existsSync(file)) {
        console.error(`artifacts/${name}.json: missing (run: npm run compile)`);
        bad++;
        continue;
      }
      const committed = JSON.parse(fs.readFileSync(file, "utf8"));
      for (const key of ["bytecode", "deployedBytecode", "immutableReferences", "abi", "sources", "compiler", "settings",
                         "libraries"]) {
        if (JSON.stringify(committed[key]) !== JSON.stringify(a[key])) {
          console.error(`artifacts/${name}.json: ${key} differs from a fresh compile (run: npm run compile)`);
          bad++;
        }
      }
    }
    if (bad) process.exit(1);
    console.log(`${Object.keys(artifacts).length} artifacts match a fresh compile with solc ${solc.version()}`);
    return;
  }
  fs.mkdirSync(outDir, { recursive: true });
  for (const [name, a] of Object.entries(artifacts)) {
    fs.writeFileSync(path.join(outDir, name + ".json"), JSON.stringify(a, null, 2) + "\n");
  }
  console.log(`wrote ${Object.keys(artifacts).length} artifacts to ${path.relative(process.cwd(), outDir) || "."}`);
}

main();
