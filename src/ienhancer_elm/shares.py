"""Work split across the processes `accelerate launch` starts: each process takes every N-th chunk of the input
(chunk c goes to process c mod N), writes its rows to a share file beside the output, and the main process merges
the shares back into input order, so that the output equals a single process's."""

from __future__ import annotations

import heapq
import itertools
import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path


def chunks(items: Iterable, size: int) -> Iterator[list]:
    items = iter(items)
    while chunk := list(itertools.islice(items, size)):
        yield chunk


def own_chunks(chunked: Iterable[list], rank: int, world: int) -> Iterator[list]:
    """This process's chunks: every `world`-th, starting at its `rank`."""
    return itertools.islice(chunked, rank, None, world)


def share_path(output: str | os.PathLike, rank: int) -> Path:
    return Path(f"{output}.part{rank}")


def save_share(rows: Iterable, path: Path) -> None:
    """Rows (JSON-serialisable sequences, each led by what orders it) as JSON lines."""
    with open(path, "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row) + "\n")


def merged_shares(paths, key=lambda row: row[0]) -> Iterator[tuple]:
    """The shares, each in input order, merged back into one ordered stream."""
    handles = [open(path, encoding="utf-8") for path in paths]
    try:
        streams = [(tuple(json.loads(line)) for line in handle) for handle in handles]
        yield from heapq.merge(*streams, key=key)
    finally:
        for handle in handles:
            handle.close()


def in_input_order(rows: Iterable, output, state) -> Iterator[tuple]:
    """The rows of every process in input order, on the main process; nothing on the others. With one process,
    `rows` as they come. Every process must run this to its end: each writes its share, then waits for the others;
    the main process merges the shares and removes them, the others are done."""
    if state.num_processes == 1:
        yield from rows
        return
    path = share_path(output, state.process_index)
    try:
        save_share(rows, path)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    state.wait_for_everyone()
    if state.is_main_process:
        shares = [share_path(output, rank) for rank in range(state.num_processes)]
        try:
            yield from merged_shares(shares)
        finally:
            for share in shares:
                share.unlink(missing_ok=True)
