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


class OutputPathError(OSError):
    """An output that cannot be written where it was asked for."""


def check_output_file(path) -> None:
    """Refuse an output file that could not be written: its folder missing or read-only, or the path a folder.
    Commands call this before loading a model, so that a typo costs no wait; "-" (standard output) and None (no
    such output) pass. A device or pipe that exists (/dev/stdout) is written directly, so it needs only to be
    writable itself."""
    if not path or str(path) == "-":
        return
    path = Path(path)
    if path.is_dir():
        raise OutputPathError(f"{path}: a folder, not a file")
    if path.exists() and not path.is_file():
        if not os.access(path, os.W_OK):
            raise OutputPathError(f"{path}: not writable")
        return
    _check_writable_folder(path, path.parent)


def check_output_folder(path) -> None:
    """Refuse an output folder that could not be made: the path a file, or its nearest existing ancestor not a
    writable folder (the commands make the missing folders, parents included)."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise OutputPathError(f"{path}: a file, not a folder")
    nearest = next(folder for folder in (path, *path.parents) if folder.exists())
    _check_writable_folder(path, nearest)


def _check_writable_folder(path: Path, folder: Path) -> None:
    if not folder.exists():
        raise OutputPathError(f"{path}: no such folder: {folder}")
    if not folder.is_dir():
        raise OutputPathError(f"{path}: {folder} is not a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputPathError(f"{path}: the folder {folder} is not writable")


@contextmanager
def written_whole(path, newline: str | None = None):
    """A text handle to write `path` through: a sibling `.partial` file, put in its place only once the block
    ends without an exception, so that a run that stops leaves no output that could pass for a finished one.
    "-" is standard output, a device or pipe is written directly, and None gives None (no such output). An
    output that cannot be written is refused by its own name (`check_output_file`), not the `.partial` one."""
    if not path:
        yield None
        return
    if str(path) == "-":
        yield sys.stdout
        return
    check_output_file(path)
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
