"""Render every table of figures in README.md and docs/*.md from the committed files the figures come from.

    python docs/figures.py           # rewrite each block between the markers below
    python docs/figures.py --check   # change nothing; exit 1 naming every block whose text differs

A block is the lines between `<!-- figures:begin NAME -->` and `<!-- figures:end -->`. No figure inside a block
is typed by hand: NAME is a key of the `RENDERERS` of one module of `MODULES`, each beside what it renders (the
shipped models' reports: docs/shipped_figures.py; the benchmarks: bench/figures.py; each experiment: the
figures.py of its folder in experiments/). A renderer takes nothing and returns the block's text. Figures
outside blocks are either not in any file here (and the page names the command or run that gave them) or not
figures.
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import sys
from pathlib import Path

from table_helpers import REPO  # docs/, this script's folder, is on sys.path

PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
BLOCK = re.compile(r"(<!-- figures:begin (?P<name>[\w-]+) -->\n)(?P<body>.*?)(<!-- figures:end -->)", re.S)
MODULES = [
    REPO / "docs" / "shipped_figures.py",
    REPO / "bench" / "figures.py",
    *sorted(REPO.glob("experiments/*/figures.py")),
]


def load(path: Path):
    """A renderer module, loaded as Python runs a script: with its own folder first on sys.path, so that it
    imports its experiment's scripts by name."""
    name = "figures_" + "_".join(path.relative_to(REPO).with_suffix("").parts)  # many are named figures.py
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(path.parent))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(path.parent))
    return module


def renderers() -> dict:
    """Every block's renderer, by name; a name claimed twice is an error, as one block would hide the other."""
    found, where = {}, {}
    for path in MODULES:
        for name, renderer in load(path).RENDERERS.items():
            if name in found:
                raise SystemExit(f"figures block {name!r} is rendered by both {where[name]} and {path}")
            found[name], where[name] = renderer, path
    return found


def render(text: str, page: Path, known: dict) -> tuple[str, list[str]]:
    """The page with every block re-rendered, and the names of blocks that changed."""
    changed = []

    def replace(match: re.Match) -> str:
        name = match["name"]
        if name not in known:
            raise SystemExit(f"{page.relative_to(REPO)}: unknown figures block {name!r} (known: {', '.join(known)})")
        body = known[name]()
        if body != match["body"]:
            changed.append(name)
        return match.group(1) + body + match.group(4)

    return BLOCK.sub(replace, text), changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a block differs from its files")
    args = parser.parse_args(argv)
    known = renderers()
    stale = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        new, changed = render(text, page, known)
        stale += [f"{page.relative_to(REPO)}: {name}" for name in changed]
        if changed and not args.check:
            page.write_text(new, encoding="utf-8")
    if stale and args.check:
        print(
            "figures differ from their files (run `python docs/figures.py`):\n  " + "\n  ".join(stale), file=sys.stderr
        )
        return 1
    if stale:
        print("re-rendered:\n  " + "\n  ".join(stale))
    return 0


if __name__ == "__main__":
    sys.exit(main())
