"""Built networks kept on disk: the in-process chains' state after provisioning, keyed by everything
that determines it, so a later build of the same network loads in a fraction of a second instead of
deploying, configuring, seeding and syncing again (about 9 s for 16 chains).

A build is deterministic, so a loaded network is the very network a build would make: the key covers
the network settings, the seed data, the compiled contracts and the code that builds and runs the
chains (every module of `registry` and `sim.bridge`), and the py-evm and eth-tester versions. Change
any of them and the key changes. Entries are plain bytes (no pickle: loading one runs no code), written
whole or not at all, with their sha256: a damaged entry is built again. The cache is a convenience
only: a cache that cannot be written (full disk, read-only folder) leaves runs as they were, and it
keeps the newest `KEEP` entries.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import struct
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from importlib.metadata import version
from pathlib import Path

from registry import SeedData
from registry.evm.inprocess import ChainImage
from registry.paths import ARTIFACTS_DIR, ROOT, cache_dir

from .topology import NetworkConfig

FORMAT = 2  # bump when what an entry holds changes
KEEP = 12  # entries kept; older ones (other settings, older code) are removed when one is saved
_HEADER = struct.Struct(">Q32sQ")  # chain id, head block hash, number of database entries
_LENGTHS = struct.Struct(">II")  # key and value length of one entry


@cache
def _code_fingerprint() -> str:
    """sha256 over the code and contracts a built network depends on."""
    digest = hashlib.sha256(f"{FORMAT} py-evm {version('py-evm')} eth-tester {version('eth-tester')}".encode())
    files = sorted([*(ROOT / "registry").rglob("*.py"), *(ROOT / "sim" / "bridge").rglob("*.py"),
                    *ARTIFACTS_DIR.glob("*.json")])
    for path in files:
        digest.update(str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


class NetworkCache:
    """A folder of built networks (`chain id → ChainImage` per entry)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    @classmethod
    def default(cls) -> NetworkCache:
        return cls(cache_dir() / "networks")

    def key(self, config: NetworkConfig, data: SeedData, sync: bool) -> str:
        parts = [_code_fingerprint(), config.model_dump_json(), data.model_dump_json(exclude={"entities_source"}),
                 str(sync)]
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]

    @contextmanager
    def building(self, key: str) -> Iterator[None]:
        """Held while entry `key` is looked up and, if missing, built and saved: another process after
        the same network waits and then loads it, instead of building it a second time."""
        self.directory.mkdir(parents=True, exist_ok=True)
        with (self.directory / f".{key}.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def load(self, key: str) -> dict[int, ChainImage] | None:
        """The images of entry `key`, or None when there is none (or it cannot be read)."""
        path = self.directory / f"{key}.net"
        try:
            raw = path.read_bytes()
        except OSError:
            return None  # absent or unreadable: build instead
        body, checksum = raw[:-32], raw[-32:]
        if len(raw) < 32 or hashlib.sha256(body).digest() != checksum:
            return None  # damaged: build instead
        try:
            images = _decode(body)
        except (struct.error, ValueError):
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # recently used: the last to be pruned
        return images

    def save(self, key: str, images: dict[int, ChainImage]) -> None:
        """Keep `images` as entry `key`, if the folder takes it; then drop the oldest entries."""
        body = _encode(images)
        staging: Path | None = None
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            handle, name = tempfile.mkstemp(dir=self.directory, prefix=f".{key}.")
            staging = Path(name)
            with os.fdopen(handle, "wb") as out:
                out.write(body + hashlib.sha256(body).digest())
            os.replace(staging, self.directory / f"{key}.net")  # whole or not at all
            self._prune()
        except OSError:
            if staging is not None:
                staging.unlink(missing_ok=True)  # a cache that cannot be written is no cache, not an error

    def _prune(self) -> None:
        entries = sorted(self.directory.glob("*.net"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in entries[KEEP:]:
            old.unlink(missing_ok=True)
            (self.directory / f".{old.stem}.lock").unlink(missing_ok=True)


def _encode(images: dict[int, ChainImage]) -> bytes:
    parts = []
    for chain_id, image in images.items():
        parts.append(_HEADER.pack(chain_id, image.head, len(image.store)))
        for k, v in image.store.items():
            parts += [_LENGTHS.pack(len(k), len(v)), k, v]
    return b"".join(parts)


def _decode(raw: bytes) -> dict[int, ChainImage]:
    images: dict[int, ChainImage] = {}
    view, at = memoryview(raw), 0
    while at < len(raw):
        chain_id, head, count = _HEADER.unpack_from(view, at)
        at += _HEADER.size
        store = {}
        for _ in range(count):
            key_length, value_length = _LENGTHS.unpack_from(view, at)
            at += _LENGTHS.size
            store[bytes(view[at:at + key_length])] = bytes(view[at + key_length:at + key_length + value_length])
            at += key_length + value_length
        if at > len(raw):
            raise ValueError("truncated network cache entry")
        images[chain_id] = ChainImage(store, head)
    return images
