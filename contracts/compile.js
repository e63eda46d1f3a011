#!/usr/bin/env node
// Compile every contract in src/ with the pinned solc (JS API, standard JSON) and write
// artifacts/<Contract>.json. `--check` recompiles into memory and fails if any committed
// artifact differs (bytecode byte for byte, ABI, source hashes). `--out DIR` writes elsewhere.
// Imports of libraries (`@openzeppelin/contracts/...`) are read from node_modules, where npm put
// the version pinned in package.json; each artifact records the versions it was built with.
// artifacts/constants.json holds every integer constant and enum the sources define (contracts,
// libraries and file level), evaluated from the AST: Python takes the contracts' numbers from there.
"use strict";
const fs = require("fs");
const path = require("path");
const crypto = require("crypto");
const solc = require("solc");

const HERE = __dirname;
const SRC = path.join(HERE, "src");
const NODE_MODULES = path.join(HERE, "node_modules");
const LIBRARIES = ["@openzeppelin/contracts", "@polytope-labs/solidity-merkle-trees"];
const SETTINGS = {
  evmVersion: "prague", // py-evm stops at Prague
  optimizer: { enabled: true, runs: 200 },
  viaIR: false,
  outputSelection: {
    "*": { "": ["ast"], "*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object", "evm.deployedBytecode.immutableReferences"] },
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
  return { artifacts, constants: constantsOf(output, sources) };
}

// The value of a compile-time integer expression (BigInt), or undefined when it is not one.
function evaluate(node, declarations) {
  if (!node) return undefined;
  const type = node.typeDescriptions && node.typeDescriptions.typeString;
  const literal = type && type.match(/^int_const (-?\d+)$/);
  if (literal) return BigInt(literal[1]);
  const operand = (n) => evaluate(n, declarations);
  switch (node.nodeType) {
    case "Identifier":
    case "MemberAccess": {
      const declared = declarations.get(node.referencedDeclaration);
      if (!declared) return undefined;
      if (declared.nodeType === "EnumValue") return BigInt(declared.index);
      return declared.constant ? operand(declared.value) : undefined;
    }
    case "TupleExpression":
      return node.components.length === 1 ? operand(node.components[0]) : undefined;
    case "FunctionCall": // a conversion, e.g. uint8(PilotRegistry.EntityStatus.Active) or address(0)
      return node.kind === "typeConversion" && node.arguments.length === 1 ? operand(node.arguments[0]) : undefined;
    case "UnaryOperation":
      return node.operator === "-" && operand(node.subExpression) !== undefined ? -operand(node.subExpression)
        : undefined;
    case "BinaryOperation": {
      const a = operand(node.leftExpression), b = operand(node.rightExpression);
      if (a === undefined || b === undefined) return undefined;
      const ops = { "+": a + b, "-": a - b, "*": a * b, "**": a ** b, "|": a | b, "&": a & b, "^": a ^ b,
                    "<<": a << b, ">>": a >> b, "/": b ? a / b : undefined, "%": b ? a % b : undefined };
      return ops[node.operator];
    }
    default:
      return undefined;
  }
}

// { Contract or library (or file name for file-level ones): { constants: {NAME: value}, enums: {Enum: [Member…]} } }
function constantsOf(output, sources) {
  const declarations = new Map();
  const walk = (node, visit) => {
    if (Array.isArray(node)) return node.forEach((n) => walk(n, visit));
    if (!node || typeof node !== "object") return;
    visit(node);
    for (const value of Object.values(node)) if (value && typeof value === "object") walk(value, visit);
  };
  for (const source of Object.values(output.sources)) {
    walk(source.ast, (n) => {
      if (n.nodeType === "EnumDefinition") n.members.forEach((m, i) => declarations.set(m.id, { ...m, index: i }));
      else if (n.id !== undefined && n.nodeType !== "EnumValue") declarations.set(n.id, n);
    });
  }
  const found = {};
  const entry = (name) => (found[name] = found[name] || { constants: {}, enums: {} });
  const collect = (owner, nodes) => {
    for (const n of nodes) {
      if (n.nodeType === "VariableDeclaration" && n.constant) {
        const value = evaluate(n.value, declarations);
        if (value !== undefined) entry(owner).constants[n.name] = value;
      } else if (n.nodeType === "EnumDefinition") {
        entry(owner).enums[n.name] = n.members.map((m) => m.name);
      }
    }
  };
  for (const file of Object.keys(sources)) {
    const unit = output.sources[file].ast;
    collect(path.basename(file, ".sol"), unit.nodes);
    for (const n of unit.nodes) if (n.nodeType === "ContractDefinition") collect(n.name, n.nodes);
  }
  const sorted = Object.fromEntries(Object.keys(found).sort().map((k) => [k, found[k]]));
  return JSON.stringify(sorted, (_, v) => (typeof v === "bigint" ? `@@${v}` : v), 2).replace(/"@@(-?\d+)"/g, "$1") + "\n";
}

function main() {
  const args = process.argv.slice(2);
  const check = args.includes("--check");
  const outIdx = args.indexOf("--out");
  const outDir = outIdx >= 0 ? path.resolve(args[outIdx + 1]) : path.join(HERE, "artifacts");
  const { artifacts, constants } = compile();
  if (check) {
    let bad = 0;
    const constantsFile = path.join(HERE, "artifacts", "constants.json");
    if (!fs.existsSync(constantsFile) || fs.readFileSync(constantsFile, "utf8") !== constants) {
      console.error("artifacts/constants.json: differs from a fresh compile (run: npm run compile)");
      bad++;
    }
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
  fs.writeFileSync(path.join(outDir, "constants.json"), constants);
  console.log(`wrote ${Object.keys(artifacts).length} artifacts to ${path.relative(process.cwd(), outDir) || "."}`);
}

main();
