"""Run settings: a JSON file per run, overridable on the command line (`--help` lists every field)."""

from __future__ import annotations

import json
import sys

from transformers import HfArgumentParser


def parse_arguments(cls, argv: list[str] | None = None):
    """`script.py [RUN.json] [--field value ...]`: the file's values first, command-line flags win."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0].endswith(".json"):
        with open(argv[0], encoding="utf-8") as handle:
            argv = _as_flags(json.load(handle)) + argv[1:]
    (arguments,) = HfArgumentParser(cls).parse_args_into_dataclasses(args=argv)
    return arguments


def _as_flags(settings: dict) -> list[str]:
    flags = []
    for name, value in settings.items():
        values = value if isinstance(value, list) else [value]
        flags += [f"--{name}", *(json.dumps(v) if isinstance(v, bool) else str(v) for v in values)]
    return flags
