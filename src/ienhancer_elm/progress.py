"""Progress on standard error: a bar on a terminal; off one (a log file, a batch job, a pipe), a plain line every
half minute, so that a long `scan` or `evaluate` shows it is alive without filling the log with redraws."""

from __future__ import annotations

import sys

LOG_INTERVAL_S = 30  # off a terminal: at most one progress line this often, and one at the end


def progress_bar(iterable=None, *, quiet: bool = False, **options):
    """A tqdm bar on standard error (`options` as tqdm takes them); `quiet`: none (--no-progress)."""
    from tqdm.auto import tqdm  # looked up at each call, so that tests can stand in for it

    if quiet:
        return tqdm(iterable, disable=True, file=sys.stderr, **options)
    if _on_terminal(sys.stderr):
        return tqdm(iterable, file=sys.stderr, **options)
    log = {"mininterval": LOG_INTERVAL_S, "maxinterval": LOG_INTERVAL_S, "ascii": True}
    return tqdm(iterable, file=LinePerRedraw(sys.stderr), **(log | options))


def _on_terminal(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or stand-in stream
        return False


class LinePerRedraw:
    """Stands in for standard error off a terminal. tqdm redraws its bar in place after a carriage return, which a
    log file keeps as one line growing without end; here each redraw is a line of its own, and the blank redraws
    (a bar cleared, the final newline) are dropped, as is a redraw that repeats the line before (closing redraws
    the last state)."""

    def __init__(self, stream):
        self.stream, self.last = stream, None

    def write(self, text: str) -> None:
        line = text.replace("\r", "").rstrip()
        if line and line != self.last:
            self.stream.write(line + "\n")
            self.last = line

    def flush(self) -> None:
        self.stream.flush()
