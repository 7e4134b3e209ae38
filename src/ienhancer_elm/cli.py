"""The `ienhancer-elm` command line."""

from __future__ import annotations

import argparse
import csv
import sys
from contextlib import nullcontext

from tqdm.auto import tqdm
from transformers.utils import logging as transformers_logging

from . import __version__
from .predict import NoDefaultModel, load_model, predict_records
from .sequences import InputFormatError, read_records


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ienhancer-elm", description="Enhancer identification with k-mer BERT ensembles."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    predict = commands.add_parser("predict", help="classify DNA sequences (FASTA, .gz, one per line, or - for stdin)")
    predict.add_argument("input", help="FASTA (plain or gzip), a text file with one sequence per line, or - for stdin")
    predict.add_argument("--model", help="model folder or Hub id (default: the shipped layer-1 model)")
    predict.add_argument("--revision", help="Hub revision (tag or commit) of --model")
    predict.add_argument("-o", "--output", default="-", help="output TSV (default: stdout)")
    predict.add_argument("--batch-size", type=int, default=32)
    predict.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1, ...")
    predict.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    predict.set_defaults(handler=run_predict)
    return parser


def run_predict(args) -> int:
    if args.batch_size < 1:
        raise UsageError("--batch-size must be at least 1")
    model, tokenizer = load_model(args.model, args.device, args.revision)
    members = [f"p_k{k}" for k in model.config.kmers]
    failed = 0
    with _open_output(args.output) as handle:
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
        writer.writerow(["id", "length", "probability", "label", *members, "error"])
        records = read_records(args.input)
        progress = tqdm(records, desc="predict", unit="seq", disable=args.no_progress or None, file=sys.stderr)
        for row in predict_records(model, tokenizer, progress, args.batch_size):
            if row.error:
                failed += 1
                print(f"ienhancer-elm: record {row.id}: {row.error}", file=sys.stderr)
            probabilities = [row.member_probabilities.get(k) for k in model.config.kmers]
            writer.writerow(
                [
                    row.id,
                    row.length,
                    _number(row.probability),
                    row.label or "",
                    *map(_number, probabilities),
                    row.error or "",
                ]
            )
    if failed:
        print(f"ienhancer-elm: {failed} record(s) could not be scored; see the error column", file=sys.stderr)
    return 1 if failed else 0


def _number(value) -> str:
    return "" if value is None else f"{value:.6f}"


def _open_output(path: str):
    return nullcontext(sys.stdout) if path == "-" else open(path, "w", encoding="utf-8", newline="")


class UsageError(ValueError):
    pass


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    transformers_logging.disable_progress_bar()  # a weight-loading bar per run is noise on a CLI
    try:
        return args.handler(args)
    except (InputFormatError, NoDefaultModel, UsageError, OSError) as error:
        print(f"ienhancer-elm: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
