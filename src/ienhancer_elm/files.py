"""Files: reading text that may be gzipped, checksums, and outputs that appear only once whole."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import sys
from contextlib import contextmanager
from pathlib import Path

GZIP_MAGIC = b"\x1f\x8b"


def open_text(source) -> io.TextIOBase:
    """A text file, plain or gzip/bgzip (recognised by its magic bytes, not its name), for reading; "-" is
    standard input, gzipped or not. Closing what it returns leaves standard input open. A byte-order mark (Windows
    editors write one) is not taken for the first character."""
    if str(source) == "-":
        buffer = getattr(sys.stdin, "buffer", None)
        if hasattr(buffer, "peek") and buffer.peek(2)[:2] == GZIP_MAGIC:  # a peek reads nothing away
            return gzip.open(buffer, "rt", encoding="utf-8-sig")
        return sys.stdin
    with open(source, "rb") as probe:
        gzipped = probe.read(2) == GZIP_MAGIC
    return gzip.open(source, "rt", encoding="utf-8-sig") if gzipped else open(source, encoding="utf-8-sig")


def sha256_of(path) -> str:
    """The sha256 of a file, or of a folder: one digest over every file's relative path and digest, in order."""
    path = Path(path)
    if path.is_file():
        return _file_digest(path)
    digest = hashlib.sha256()
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(f"{file.relative_to(path).as_posix()}\0{_file_digest(file)}\n".encode())
    return digest.hexdigest()


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(1 << 24):
            digest.update(block)
    return digest.hexdigest()


@contextmanager
def written_whole(path, newline: str | None = None):
    """A text handle to write `path` through: a sibling `.partial` file, put in its place only once the block
    ends without an exception, so that a run that stops leaves no output that could pass for a finished one.
    "-" is standard output, a device or pipe is written directly, and None gives None (no such output)."""
    if not path:
        yield None
        return
    if str(path) == "-":
        yield sys.stdout
        return
    if Path(path).exists() and not Path(path).is_file():
        with open(path, "w", encoding="utf-8", newline=newline) as handle:
            yield handle
        return
    partial = Path(f"{path}.partial")
    try:
        with open(partial, "w", encoding="utf-8", newline=newline) as handle:
            yield handle
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
