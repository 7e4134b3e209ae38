"""Run settings: a JSON file per run, overridable on the command line (`--help` lists every field)."""

from __future__ import annotations

import dataclasses
import json
import sys
from dataclasses import dataclass, field

from transformers import HfArgumentParser

from .loop import LoopSettings


@dataclass(kw_only=True)
class MemberSize:
    """The BERT shape of a member; the shipped members have 4 layers, hidden 256, 4 heads."""

    hidden_size: int = 256
    num_hidden_layers: int = 4
    num_attention_heads: int = 4
    intermediate_size: int = 1024


@dataclass(kw_only=True)
class RunSettings(LoopSettings):
    """The training loop's settings and how the run is launched (shared by pretraining and fine-tuning)."""

    batch_size: int = 16
    seed: int = 42
    mixed_precision: str = field(default="no", metadata={"help": "no or bf16"})
    cpu: bool = False

    def loop_settings(self, **changes) -> LoopSettings:
        names = {f.name for f in dataclasses.fields(LoopSettings)}
        return LoopSettings(**{name: getattr(self, name) for name in names} | changes)


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
        if not values:  # an empty list is the field's default, and a flag without values is refused
            continue
        flags += [f"--{name}", *(json.dumps(v) if isinstance(v, bool) else str(v) for v in values)]
    return flags
