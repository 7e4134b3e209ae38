"""What every renderer of figures shares (docs/figures.py runs them): the repository root, a committed JSON, a
table's header rows."""

from __future__ import annotations

import json
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def read_json(path) -> dict:
    """A committed JSON file, by its path in the repository (or an absolute one)."""
    return json.loads((REPO / path).read_text(encoding="utf-8"))


def header(*columns: str) -> list[str]:
    """A Markdown table's header and rule."""
    return ["| " + " | ".join(columns) + " |", "|---" * len(columns) + "|"]
