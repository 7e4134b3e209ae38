"""The tiny random ensemble published for tests and examples (`hub_configs/tiny`, `ienhancer-elm-tiny`).

python -m ienhancer_elm.release.tiny [FOLDER]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..hub_export import tiny_model, write_model_folder
from ..paths import HUB_ORG
from .model_card import render_model_card

TINY_SUMMARY = (
    "A small random ensemble (k = 3, 4; hidden 32; 2 layers) for tests and examples. "
    "It was never trained: its calls mean nothing."
)


def write_tiny_folder(folder: str | Path) -> Path:
    """The tiny random ensemble with its card, as published for tests (`ienhancer-elm-tiny`)."""
    folder = write_model_folder(tiny_model(), folder)
    card = render_model_card(folder, [], f"{HUB_ORG}/ienhancer-elm-tiny", TINY_SUMMARY, "ACGTTGCAGGATTACA" * 12)
    (folder / "README.md").write_text(card, encoding="utf-8")
    return folder


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="Write hub_configs/tiny: a small random ensemble folder.")
    parser.add_argument("folder", nargs="?", default="hub_configs/tiny")
    args = parser.parse_args(argv)
    print(write_tiny_folder(args.folder))


if __name__ == "__main__":
    main()
