"""The `ienhancer-elm` command line."""

from __future__ import annotations

import argparse
import csv
import os
import sys
from dataclasses import fields
from pathlib import Path

from . import __version__
from .files import written_whole
from .paths import DEFAULT_DATASET
from .windows import WindowSettings

# torch, transformers and the commands' modules are imported when a command runs, so that `--help` is quick.

DEVICE_HELP = "auto, cpu, cuda, cuda:1, ..."
BATCH_HELP = "sequences per forward pass"
PRECISION_HELP = "auto: weights cast to bf16 where the CPU or GPU has bf16 units, else fp32"
COMPILE_HELP = (
    "compile the members with torch.compile first (half a minute; on CPUs it needs a C++ compiler, else it "
    "warns and runs uncompiled); pays when many batches follow: measured 1.2x faster prediction and 1.4x "
    "faster scans on 2 AMX CPU cores, 1.4x faster prediction on an H200, where scans were slower"
)


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {text}")
    return value


def rate(text: str) -> float:
    value = float(text)
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"must be above 0 and at most 1, got {text}")
    return value


def probability(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {text}")
    return value


class _HelpWithDefaults(argparse.HelpFormatter):
    """Adds an option's default to its help, unless it has none or the help already names it."""

    def _get_help_string(self, action):
        if action.default in (None, False, argparse.SUPPRESS) or "default" in action.help:
            return action.help
        return f"{action.help} (default: %(default)s)"


class _ParserShowingDefaults(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, formatter_class=_HelpWithDefaults, **kwargs)


def _option_group(*adders) -> argparse.ArgumentParser:
    """A parent parser holding options that several commands share, declared once."""
    parent = argparse.ArgumentParser(add_help=False)
    for add in adders:
        add(parent)
    return parent


def _model_options(parser) -> None:
    parser.add_argument(
        "--model",
        help="model folder, Hub id, or a shipped model's name: layer1, layer2, nhlf (default: layer1; for evaluate, "
        "the one of --config)",
    )
    parser.add_argument("--revision", help="Hub revision (tag or commit) of --model")


def _device_options(parser) -> None:
    parser.add_argument("--batch-size", type=positive_int, default=32, help=BATCH_HELP)
    parser.add_argument("--device", default="auto", help=DEVICE_HELP)


def _speed_options(parser) -> None:
    parser.add_argument("--precision", default="auto", choices=["auto", "bf16", "fp32"], help=PRECISION_HELP)
    parser.add_argument("--compile", action="store_true", help=COMPILE_HELP)


def _window_options(parser) -> None:
    """The windows scan and background score (`windows.WindowSettings`), with its defaults."""
    defaults = {setting.name: setting.default for setting in fields(WindowSettings)}
    parser.add_argument("--window", type=positive_int, default=defaults["window"], help="window length in bases")
    parser.add_argument("--stride", type=positive_int, default=defaults["stride"], help="bases between window starts")
    parser.add_argument(
        "--max-n",
        type=probability,
        default=defaults["max_n_fraction"],
        help="skip windows with a larger fraction of N",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ienhancer-elm", description="Enhancer identification with k-mer BERT ensembles."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_ParserShowingDefaults)
    model, device, speed = (_option_group(add) for add in (_model_options, _device_options, _speed_options))
    predict = commands.add_parser(
        "predict",
        parents=[model, device, speed],
        help="classify DNA sequences (FASTA, .gz, one per line, or - for stdin)",
    )
    predict.add_argument("input", help="FASTA (plain or gzip), a text file with one sequence per line, or - for stdin")
    predict.add_argument("-o", "--output", default="-", help="output TSV (default: stdout)")
    predict.add_argument(
        "--strength", action="store_true", help="also call strong vs weak (layer 2) for the sequences called enhancers"
    )
    predict.add_argument("--strength-model", help="layer-2 model folder or Hub id (default: the shipped layer-2 model)")
    predict.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    predict.set_defaults(handler=run_predict)
    _add_scan_parser(commands, [model, device, speed])
    _add_background_parser(commands, [device, speed])
    _add_evaluate_parser(commands, [model, device])
    _add_motif_parsers(commands, device)
    release = commands.add_parser(
        "release",
        help="for maintainers: build the benchmark dataset, fit the k-mer baseline, render cards, publish to the Hub",
    )
    maintainer = release.add_subparsers(dest="action", required=True, parser_class=_ParserShowingDefaults)
    _add_data_parser(maintainer)
    _add_baseline_parser(maintainer)
    _add_publishing_parsers(maintainer)
    return parser


def _add_publishing_parsers(commands) -> None:
    push = commands.add_parser("push", help="publish a model, dataset or Space folder to the Hugging Face Hub")
    push.add_argument(
        "folder", help="a model folder (config.json), a dataset folder (README.md + Parquet) or a Space (app.py)"
    )
    push.add_argument("--repo-id", required=True, help="ORG/NAME on the Hub")
    push.add_argument("--revision", help="tag the pushed commit with this name (e.g. v0.1.0)")
    push.add_argument("--private", action="store_true", help="create the repository as private")
    push.add_argument("--repo-type", choices=["model", "dataset", "space"], help="default: from the folder's contents")
    push.set_defaults(handler=run_push)
    export = commands.add_parser(
        "export-members", help="write each member of an ensemble as a standalone DNABERT-layout BERT folder"
    )
    export.add_argument("model", help="ensemble folder")
    export.add_argument("-o", "--output", required=True, help="parent folder for NAME-k3/, NAME-k4/, ...")
    export.add_argument("--name", help="folder name prefix (default: the ensemble folder's name)")
    export.set_defaults(handler=run_export_members)
    card = commands.add_parser("card", help="render an ensemble folder's model card (README.md) from its reports")
    card.add_argument("model", help="ensemble folder")
    card.add_argument("--evaluation", action="append", default=[], help="an `evaluate -o` JSON report (repeatable)")
    card.add_argument("--repo-id", required=True, help="the Hub id the card describes")
    card.add_argument("--summary", default="", help="one paragraph under the title")
    card.add_argument("--widget", default="examples/sample.fasta", help="FASTA whose first record is the widget input")
    card.add_argument("-o", "--output", help="default: MODEL/README.md")
    card.set_defaults(handler=run_card)


def _add_scan_parser(commands, parents) -> None:
    scan = commands.add_parser(
        "scan", parents=parents, help="score sliding windows over long sequences; write enhancer regions"
    )
    scan.add_argument("fasta", help="FASTA (plain, gzip or bgzip) with records of any length")
    scan.add_argument("--regions", help="BED file: scan only these intervals (needs an indexable FASTA)")
    _window_options(scan)
    scan.add_argument(
        "--background-rate",
        type=rate,
        help="call windows whose p-value against the model's genomic background (background.json) is at most"
        " this (default: 0.01 where the model has a background)",
    )
    scan.add_argument(
        "--threshold",
        type=probability,
        help="call windows above this probability instead; given, it wins over --background-rate"
        " (default: 0.5 where the model has no background)",
    )
    scan.add_argument("-o", "--output", required=True, help="BED of merged enhancer regions")
    scan.add_argument("--bedgraph", help="per-window scores as bedGraph")
    scan.add_argument(
        "--bedgraph-value",
        choices=["probability", "log10p"],
        default="probability",
        help="what the bedGraph holds: the probability, or -log10 of the background p-value",
    )
    scan.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    scan.set_defaults(handler=run_scan, batch_size=64)


def _add_background_parser(commands, parents) -> None:
    from .background import GC_STRATA

    background = commands.add_parser(
        "background",
        parents=parents,
        help="score the windows of plain genome pieces as scan does: the model's background for p-values",
    )
    background.add_argument("model", help="model folder (the background is written into it)")
    background.add_argument("genomes", nargs="+", metavar="GENOME.fa", help="FASTA pieces (plain, gzip or bgzip)")
    _window_options(background)
    background.add_argument(
        "--gc-strata",
        type=positive_int,
        default=GC_STRATA,
        help="compare each score only with background windows of similar GC: this many strata of about equal size"
        f" (default {GC_STRATA}; 1: one pooled background)",
    )
    background.add_argument("-o", "--output", help="where to write the background (default: MODEL/background.json)")
    background.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    background.set_defaults(handler=run_background, batch_size=64)


def _add_motif_parsers(commands, device) -> None:
    from .motifs import MotifSettings

    motifs = commands.add_parser(
        "motifs",
        parents=[_option_group(_model_options), device],
        help="motifs from a member's attention, matched to JASPAR by TOMTOM",
    )
    motifs.add_argument("--dataset", default=DEFAULT_DATASET, help="dataset folder or Hub id")
    motifs.add_argument("--config", default="layer1", help="layer1, layer2 or enhancer_if_nhlf")
    motifs.add_argument("--split", default="train", help="labelled split to mine (default: train)")
    motifs.add_argument("-o", "--output", required=True, help="folder for motifs.meme, motifs.tsv, logos/, report.md")
    for setting in fields(MotifSettings):
        motifs.add_argument(
            f"--{setting.name.replace('_', '-')}",
            type=type(setting.default),
            default=setting.default,
            help=setting.metadata["help"],
        )
    motifs.set_defaults(handler=run_motifs)
    explain = commands.add_parser(
        "explain",
        parents=[_option_group(_model_options)],
        help="plot each member's per-base attention over one sequence",
    )
    explain.add_argument("sequence", help="a DNA sequence, or a FASTA file whose first record is used")
    explain.add_argument("-o", "--output", required=True, help="image file (PNG, SVG, PDF)")
    explain.set_defaults(handler=run_explain)


def _add_data_parser(commands) -> None:
    build = commands.add_parser("dataset", help="write the benchmarks as a Hub dataset folder (Parquet + card)")
    build.add_argument("-o", "--output", required=True, help="folder to write")
    build.add_argument("--source", default="../shared/data", help="the raw benchmark files (default: ../shared/data)")
    build.set_defaults(handler=run_data_build)


def _add_evaluate_parser(commands, parents) -> None:
    evaluate = commands.add_parser(
        "evaluate", parents=parents, help="score a model on a benchmark split, with 95%% bootstrap intervals"
    )
    evaluate.add_argument("--dataset", default=DEFAULT_DATASET, help="dataset folder or Hub id")
    evaluate.add_argument("--config", default="layer1", help="layer1, layer2 or enhancer_if_nhlf")
    evaluate.add_argument("--split", default="test", help="train or test")
    evaluate.add_argument("-o", "--output", help="write the figures as JSON here")
    evaluate.add_argument("--plot", help="draw ROC and precision-recall curves to this image")
    evaluate.add_argument(
        "--against",
        help="a second model (ensemble folder, Hub id or baseline .joblib): add the paired bootstrap difference",
    )
    evaluate.add_argument("--resamples", type=positive_int, default=1000, help="bootstrap resamples")
    evaluate.add_argument("--seed", type=int, default=0, help="seed of the bootstrap resampling")
    evaluate.set_defaults(handler=run_evaluate)


def _add_baseline_parser(commands) -> None:
    baseline = commands.add_parser(
        "baseline",
        help="fit a baseline on train: the k-mer spectrum (classifier chosen by 5-fold CV) or GC share alone",
    )
    baseline.add_argument("--dataset", default=DEFAULT_DATASET, help="dataset folder or Hub id")
    baseline.add_argument("--config", default="layer1", help="layer1, layer2 or enhancer_if_nhlf")
    baseline.add_argument("-o", "--output", required=True, help="folder for model.joblib and cv.json")
    baseline.add_argument(
        "--seed", type=int, default=0, help="seed of the cross-validation folds and the random forest"
    )
    baseline.add_argument(
        "--features",
        choices=["kmers", "gc"],
        default="kmers",
        help="kmers: k = 1..5 frequencies; gc: the sequence's GC share alone (logistic regression)",
    )
    baseline.set_defaults(handler=run_baseline)


def run_predict(args) -> int:
    from tqdm.auto import tqdm

    from .background import background_for
    from .predict import load_model, table_cells, table_header
    from .runtime import compile_for_inference, scored_precision
    from .sequences import read_records

    model, tokenizer = load_model(args.model, args.device, args.revision, precision=args.precision)
    background = background_for(model, args.revision)
    if background is not None and (note := background.precision_note(scored_precision(model, args.precision))):
        print(f"ienhancer-elm: note: {note}", file=sys.stderr)
    if args.compile:
        compile_for_inference(model, args.batch_size)
    failed = written = 0
    try:
        with written_whole(args.output, newline="") as handle:
            writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
            writer.writerow(table_header(model, args.strength, background))
            records = read_records(args.input)
            # The bar counts rows written (records read run a chunk ahead); a file's records are counted first.
            quiet = args.no_progress or None  # None: shown only on a terminal
            total = None if quiet else _record_count(args.input)
            with tqdm(total=total, desc="predict", unit="seq", disable=quiet, file=sys.stderr) as progress:
                for row, strength in _predictions(args, model, tokenizer, records):
                    written += 1
                    progress.update()
                    failed += bool(row.error)
                    if row.error or row.warning:
                        note = row.error or f"warning: {row.warning}"
                        progress.write(f"ienhancer-elm: record {row.id}: {note}", file=sys.stderr)
                    writer.writerow(table_cells(model, row, strength, args.strength, background))
            if not written:
                raise _NothingToPredict
    except _NothingToPredict:  # raised inside the output block, so that no output file is left
        print(f"ienhancer-elm: warning: {args.input} holds no sequence", file=sys.stderr)
        return 1
    if failed:
        print(f"ienhancer-elm: {failed} record(s) could not be scored; see the error column", file=sys.stderr)
    return 1 if failed else 0


class _NothingToPredict(Exception):
    pass


def _record_count(source: str) -> int | None:
    """How many records `predict` will read from a file (FASTA headers, or non-blank lines), for the bar's
    total; None for stdin, or where the file cannot be read as text (reading it then names the problem)."""
    from .files import open_text

    if source == "-" or not Path(source).is_file():
        return None
    count, fasta = 0, None
    try:
        with open_text(source) as handle:
            for line in handle:
                if fasta is None and line.strip():
                    fasta = line.lstrip().startswith(">")
                count += line.startswith(">") if fasta else bool(line.strip())
    except (UnicodeDecodeError, OSError, EOFError):
        return None
    return count


def _predictions(args, model, tokenizer, records):
    """(layer-1 row, layer-2 row or None) per record; layer 2 only with --strength."""
    from .predict import load_model, predict_records, predict_two_layers
    from .runtime import compile_for_inference

    if not args.strength:
        return ((row, None) for row in predict_records(model, tokenizer, records, args.batch_size, args.precision))
    strength_model, strength_tokenizer = load_model(
        args.strength_model, args.device, layer="layer2", precision=args.precision
    )
    if args.compile:
        compile_for_inference(strength_model, args.batch_size)
    return predict_two_layers(
        model, tokenizer, strength_model, strength_tokenizer, records, args.batch_size, args.precision
    )


def _scan_settings(args, **calling):
    """The settings of scan's or background's options; `calling`: scan's options for calling windows."""
    from .scan import ScanSettings

    windows = {"window": args.window, "stride": args.stride, "max_n_fraction": args.max_n}
    return ScanSettings(
        **windows, batch_size=args.batch_size, precision=args.precision, compile=args.compile, **calling
    )


def run_scan(args) -> int:
    from .scan import scan

    calling = {"threshold": args.threshold, "background_rate": args.background_rate}
    settings = _scan_settings(args, **calling, bedgraph_value=args.bedgraph_value)
    summary = scan(
        args.fasta,
        args.output,
        settings,
        args.model,
        args.revision,
        args.regions,
        args.bedgraph,
        args.device,
        show_progress=not args.no_progress,
    )
    if summary is not None:
        print(f"ienhancer-elm: {summary.line()}", file=sys.stderr)
    return 0


def run_background(args) -> int:
    from .background import BACKGROUND_FILE, BackgroundError
    from .scan import compute_background

    if args.output is None and not Path(args.model).is_dir():
        raise BackgroundError(f"{args.model}: not a model folder; give -o for where to write the background")
    output = Path(args.output or Path(args.model) / BACKGROUND_FILE)
    settings = _scan_settings(args)
    command = " ".join(["ienhancer-elm", *args.argv])
    background = compute_background(
        args.model, args.genomes, settings, args.device, command, not args.no_progress, args.gc_strata
    )
    background.write(output)
    windows = ", ".join(f"{piece['file']} {piece['windows']}" for piece in background.pieces)
    strata = f"{len(background.strata)} GC strata"
    print(
        f"ienhancer-elm: {background.n} background window(s) ({windows}; {strata}) written to {output}", file=sys.stderr
    )
    return 0


def run_motifs(args) -> int:
    from pathlib import Path

    from tqdm.auto import tqdm

    from .evaluation import load_split
    from .motif_report import write_all
    from .motifs import MotifSettings, motifs_from_model
    from .predict import load_model

    settings = MotifSettings(**{name: getattr(args, name) for name in vars(MotifSettings())})
    model, tokenizer = load_model(args.model, args.device)
    rows = load_split(args.dataset, args.config, args.split)
    progress = lambda records: tqdm(records, desc="motifs", unit="seq", file=sys.stderr)  # noqa: E731
    motifs, summary = motifs_from_model(
        model, tokenizer, rows["sequence"], rows["label"], settings, args.batch_size, progress
    )
    write_all(motifs, Path(args.output), summary | {"dataset": f"{args.config}/{args.split}"}, settings.match_q)
    matched = sum(1 for m in motifs if m.matches and m.matches[0]["q"] < settings.match_q)
    print(f"{len(motifs)} motif(s), {matched} matching JASPAR (q < {settings.match_q}); see {args.output}/report.md")
    return 0


def run_explain(args) -> int:
    from .explain import ExplainError, explain_sequence
    from .predict import load_model
    from .sequences import Record, read_records

    if _names_a_file(args.sequence):
        record = next(iter(read_records(args.sequence)), None)
        if record is None:
            raise ExplainError(f"{args.sequence}: no sequence in the file")
    else:
        record = Record("sequence", args.sequence)
    model, tokenizer = load_model(args.model, "cpu")
    print(explain_sequence(model, tokenizer, record, args.output))
    return 0


def _names_a_file(text: str) -> bool:
    try:
        return Path(text).is_file()
    except OSError:  # a sequence longer than a file name may be (ENAMETOOLONG)
        return False


def run_data_build(args) -> int:
    from .release.dataset_repo import build_dataset_repo

    print(build_dataset_repo(args.source, args.output))
    return 0


def run_evaluate(args) -> int:
    from .evaluation import evaluate, format_table, load_scorer, plot_curves, write_report

    scorer = load_scorer(args.model, args.device, args.revision, args.batch_size, args.config)
    against = load_scorer(args.against, args.device, None, args.batch_size, args.config) if args.against else None
    command = " ".join(["ienhancer-elm", *args.argv])
    report = evaluate(scorer, args.dataset, args.config, args.split, args.resamples, args.seed, against, command)
    print(format_table(report))
    if args.output:
        write_report(report, args.output)
    if args.plot:
        plot_curves(report, args.plot)
    return 0


def run_baseline(args) -> int:
    import json
    from pathlib import Path

    import joblib

    from .baseline import select_baseline
    from .evaluation import load_split

    train = load_split(args.dataset, args.config, "train")
    chosen = select_baseline(train["sequence"], train["label"], seed=args.seed, features=args.features)
    folder = Path(args.output)
    folder.mkdir(parents=True, exist_ok=True)
    saved = {key: chosen[key] for key in ("model", "features", "chosen", "params")} | {"threshold": 0.5}
    joblib.dump(saved, folder / "model.joblib")
    summary = {key: chosen[key] for key in ("features", "chosen", "params", "cv_auc_by_candidate", "cv_metrics")}
    summary |= {"dataset": args.dataset, "config": args.config, "seed": args.seed, "threshold": 0.5}
    (folder / "cv.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps(summary, indent=2))
    return 0


def run_push(args) -> int:
    from .release.publishing import push_folder

    result = push_folder(args.folder, args.repo_id, args.revision, args.private, args.repo_type)
    print(result.line())
    return 0


def run_export_members(args) -> int:
    from .release.publishing import export_members

    for folder in export_members(args.model, args.output, args.name):
        print(folder)
    return 0


def run_card(args) -> int:
    import json

    from .release.model_card import render_model_card
    from .sequences import read_records

    evaluations = [json.loads(Path(path).read_text(encoding="utf-8")) for path in args.evaluation]
    widget = next(iter(read_records(args.widget))).sequence
    card = render_model_card(args.model, evaluations, args.repo_id, args.summary, widget)
    output = Path(args.output or Path(args.model) / "README.md")
    output.write_text(card, encoding="utf-8")
    print(output)
    return 0


def _handled_errors() -> tuple[type[Exception], ...]:
    """The errors a command reports in one line (a traceback would be a bug)."""
    from .background import BackgroundError
    from .evaluation import EvaluationError
    from .explain import ExplainError
    from .motifs import MotifError
    from .paths import NoDefaultModel
    from .release.publishing import PublishError
    from .scan import ScanError
    from .sequences import InputFormatError

    errors = (InputFormatError, NoDefaultModel, EvaluationError, ExplainError, MotifError, ScanError)
    return (*errors, BackgroundError, PublishError, OSError)


def main(argv=None) -> int:
    """Run one command; returns its exit status. No process-wide settings change here (see `console_main`)."""
    return run(parse(argv))


def parse(argv=None) -> argparse.Namespace:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)  # `--help` and usage errors exit here, before any heavy import
    args.argv = argv
    return args


def run(args: argparse.Namespace) -> int:
    try:
        handled = _handled_errors()
        return args.handler(args)
    except ModuleNotFoundError as error:  # a command whose optional dependencies are not installed
        extra = "motifs" if args.command in ("motifs", "explain") else "data"
        print(
            f"ienhancer-elm: error: `{args.command}` needs the module {error.name!r}: "
            f'pip install "ienhancer-elm[{extra}]"',
            file=sys.stderr,
        )
        return 2
    except Exception as error:
        if isinstance(error, BrokenPipeError) or not isinstance(error, handled):
            raise
        print(f"ienhancer-elm: error: {error}", file=sys.stderr)
        return 2


def console_main() -> None:
    """The `ienhancer-elm` program: process-wide settings that suit a command line, then the command."""
    args = parse()
    from transformers.utils import logging as transformers_logging

    from .runtime import keep_freed_memory

    transformers_logging.disable_progress_bar()  # a weight-loading bar per run is noise on a CLI
    keep_freed_memory()
    try:
        status = run(args)
        sys.stdout.flush()
    except BrokenPipeError:  # the reader went away (`| head`): stop quietly, as Unix tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        status = 0
    sys.exit(status)


if __name__ == "__main__":
    console_main()
