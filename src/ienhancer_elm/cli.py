"""The `ienhancer-elm` command line."""

from __future__ import annotations

import argparse
import csv
import os
import sys
from dataclasses import fields
from pathlib import Path

from . import __version__
from .files import check_output_file, check_output_folder, written_whole
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
    predict.set_defaults(handler=run_predict, output_files=("output",))
    _add_scan_parser(commands, [model, device, speed])
    _add_variants_parser(commands, [model, device, speed])
    _add_background_parser(commands, [device, speed])
    _add_evaluate_parser(commands, [model, device])
    _add_own_dataset_parser(commands)
    _add_motif_parsers(commands, device)
    _add_attribute_parser(commands, [model, device])
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
    export.set_defaults(handler=run_export_members, output_folders=("output",))
    card = commands.add_parser("card", help="render an ensemble folder's model card (README.md) from its reports")
    card.add_argument("model", help="ensemble folder")
    card.add_argument("--evaluation", action="append", default=[], help="an `evaluate -o` JSON report (repeatable)")
    card.add_argument("--repo-id", required=True, help="the Hub id the card describes")
    card.add_argument("--summary", default="", help="one paragraph under the title")
    card.add_argument("--widget", default="examples/sample.fasta", help="FASTA whose first record is the widget input")
    card.add_argument(
        "--gc-table", help="experiments/beyond_gc/gc-table.json: how much of the test figures GC share explains"
    )
    card.add_argument("-o", "--output", help="default: MODEL/README.md")
    card.set_defaults(handler=run_card, output_files=("output",))


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
    scan.add_argument("--bigwig", help="the same scores as bigWig, for genome browsers (needs pyBigWig)")
    scan.add_argument(
        "--bedgraph-value",
        choices=["probability", "log10p"],
        default="probability",
        help="what the bedGraph holds: the probability, or -log10 of the background p-value",
    )
    scan.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    scan.set_defaults(handler=run_scan, batch_size=64, output_files=("output", "bedgraph", "bigwig"))


def _add_variants_parser(commands, parents) -> None:
    variants = commands.add_parser(
        "variants",
        parents=parents,
        help="score each VCF variant's ALT against its REF in a window of the reference genome",
    )
    variants.add_argument("vcf", help="VCF (plain or gzip), or - for stdin")
    variants.add_argument(
        "--reference", required=True, help="reference FASTA, plain or bgzip (pyfaidx indexes it where needed)"
    )
    variants.add_argument(
        "--window",
        type=positive_int,
        help="window length in bases, centred on the variant (default: the model's window, 200 for the shipped models)",
    )
    variants.add_argument("-o", "--output", default="-", help="output TSV (default: stdout)")
    variants.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    variants.set_defaults(
        handler=run_variants, batch_size=64, output_files=("output",)
    )  # windows of one length: scan's batch


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
    background.set_defaults(handler=run_background, batch_size=64, output_files=("output",))


def _add_attribute_parser(commands, parents) -> None:
    attribute = commands.add_parser(
        "attribute",
        parents=parents,
        help="which bases make each sequence an enhancer: per-base, per-nucleotide attributions and logos",
    )
    attribute.add_argument(
        "input", help="FASTA (plain or gzip), a text file with one sequence per line, or - for stdin"
    )
    attribute.add_argument(
        "-o", "--output", required=True, help="output folder (attributions.npz, attributions.tsv, logos/)"
    )
    attribute.add_argument(
        "--method",
        choices=["first-order", "ism"],
        default="first-order",
        help="first-order: one gradient pass per member (fast); ism: every substitution scored (exact; about 70x slower on 2 CPU cores, bench/attribution.py)",
    )
    attribute.add_argument("--logos", type=int, default=3, help="draw logos for the first N records (0: none)")
    attribute.set_defaults(handler=run_attribute, precision="fp32", output_folders=("output",))


def _add_motif_parsers(commands, device) -> None:
    from .motifs import MotifSettings

    motifs = commands.add_parser(
        "motifs",
        parents=[_option_group(_model_options), device],
        help="motifs from a member's attention or the ensemble's attributions, matched to JASPAR by TOMTOM",
    )
    motifs.add_argument("--dataset", default=DEFAULT_DATASET, help="dataset folder or Hub id")
    motifs.add_argument("--config", default="layer1", help="layer1, layer2 or enhancer_if_nhlf")
    motifs.add_argument("--split", default="train", help="labelled split to mine (default: train)")
    motifs.add_argument(
        "--method",
        choices=["attention", "attribution"],
        default="attention",
        help="attention: the paper's (one member's last-layer attention, seeds tested for enrichment); attribution: "
        "TF-MoDISco on the ensemble's first-order attributions",
    )
    motifs.add_argument("-o", "--output", required=True, help="folder for motifs.meme, motifs.tsv, logos/, report.md")
    for setting in fields(MotifSettings):
        motifs.add_argument(
            f"--{setting.name.replace('_', '-')}",
            type=type(setting.default),
            default=setting.default,
            help=setting.metadata["help"],
        )
    motifs.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    motifs.set_defaults(handler=run_motifs, output_folders=("output",))
    explain = commands.add_parser(
        "explain",
        parents=[_option_group(_model_options)],
        help="plot each member's per-base attention over one sequence",
    )
    explain.add_argument("sequence", help="a DNA sequence, or a FASTA file whose first record is used")
    explain.add_argument("-o", "--output", required=True, help="image file (PNG, SVG, PDF)")
    explain.set_defaults(handler=run_explain, output_files=("output",))


def _add_data_parser(commands) -> None:
    build = commands.add_parser("dataset", help="write the benchmarks as a Hub dataset folder (Parquet + card)")
    build.add_argument("-o", "--output", required=True, help="folder to write")
    build.add_argument("--source", default="../shared/data", help="the raw benchmark files (default: ../shared/data)")
    build.set_defaults(handler=run_data_build, output_folders=("output",))


def _add_own_dataset_parser(commands) -> None:
    dataset = commands.add_parser(
        "dataset",
        help="build a dataset folder from your own enhancers (two FASTA files, or BED regions on a reference) for "
        "fine-tuning and evaluate",
    )
    dataset.add_argument("positives", help="FASTA of enhancer sequences, or with --reference a BED of enhancer regions")
    dataset.add_argument(
        "--negatives", help="FASTA of non-enhancers, or with --reference a BED (default there: drawn from the genome)"
    )
    dataset.add_argument(
        "--reference",
        help="reference FASTA (plain or bgzip) the BED regions lie on; without --negatives, negatives are drawn from "
        "it: same length, A/C/G/T only, off every positive region, one per positive within 0.01 of its GC share",
    )
    dataset.add_argument("-o", "--output", required=True, help="the dataset folder (other configs in it are kept)")
    dataset.add_argument("--config", required=True, help="the config's name, as fine-tuning and evaluate take it")
    dataset.add_argument("--length", type=positive_int, default=200, help="BED regions: bases around each centre")
    dataset.add_argument("--test-fraction", type=float, default=0.2, help="share of each class held out for test")
    dataset.add_argument(
        "--test-chromosomes",
        help="BED regions: hold out every sequence on these chromosomes instead (comma-separated: chr8,chr9)",
    )
    dataset.add_argument("--seed", type=int, default=0, help="seed of the test split and of drawn negatives")
    dataset.set_defaults(handler=run_own_dataset, output_folders=("output",))


def _add_evaluate_parser(commands, parents) -> None:
    evaluate = commands.add_parser(
        "evaluate", parents=parents, help="score a model on a benchmark split, with 95%% bootstrap intervals"
    )
    evaluate.add_argument("--dataset", default=DEFAULT_DATASET, help="dataset folder or Hub id")
    evaluate.add_argument(
        "--config", default="layer1", help="layer1, layer2, enhancer_if_nhlf, or one `ienhancer-elm dataset` built"
    )
    evaluate.add_argument("--split", default="test", help="train or test")
    evaluate.add_argument("-o", "--output", help="write the figures as JSON here")
    evaluate.add_argument("--plot", help="draw ROC and precision-recall curves to this image")
    evaluate.add_argument(
        "--against",
        help="a second model (ensemble folder, Hub id or baseline .joblib): add the paired bootstrap difference",
    )
    evaluate.add_argument("--resamples", type=positive_int, default=1000, help="bootstrap resamples")
    evaluate.add_argument("--seed", type=int, default=0, help="seed of the bootstrap resampling")
    evaluate.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    evaluate.set_defaults(handler=run_evaluate, output_files=("output", "plot"))


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
    baseline.set_defaults(handler=run_baseline, output_folders=("output",))


def run_predict(args) -> int:
    from collections import Counter

    from .background import background_for
    from .predict import load_model, table_cells, table_header
    from .progress import progress_bar
    from .runtime import compile_for_inference, scored_precision
    from .sequences import EmptyInput, read_records

    count = _record_count(args.input)  # the bar's total; standard input is counted as it comes
    if count == 0:
        raise EmptyInput(args.input)  # before the model loads, as `scan` does
    model, tokenizer = load_model(args.model, args.device, args.revision, precision=args.precision)
    background = background_for(model, args.revision)
    if background is not None and (note := background.precision_note(scored_precision(model, args.precision))):
        print(f"ienhancer-elm: note: {note}", file=sys.stderr)
    if args.compile:
        compile_for_inference(model, args.batch_size)
    failed, ids = 0, Counter()
    with written_whole(args.output, newline="") as handle:
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
        writer.writerow(table_header(model, args.strength, background))
        records = read_records(args.input)
        # The bar counts rows written (records read run a chunk ahead); a file's records are counted first.
        with progress_bar(total=count, desc="predict", unit="seq", quiet=args.no_progress) as progress:
            warn = lambda text: progress.write(f"ienhancer-elm: warning: {text}", file=sys.stderr)  # noqa: E731
            for row, strength in _predictions(args, model, tokenizer, records, warn):
                ids[row.id] += 1
                progress.update()
                failed += bool(row.error)
                if row.error or row.warning:
                    note = row.error or f"warning: {row.warning}"
                    progress.write(f"ienhancer-elm: record {row.id}: {note}", file=sys.stderr)
                writer.writerow(table_cells(model, row, strength, args.strength, background))
        if not ids:  # standard input, read as it comes
            raise EmptyInput(args.input)  # inside the output block, so that no output file is left
    if repeated := _repeated_ids(ids):
        print(f"ienhancer-elm: warning: {repeated}", file=sys.stderr)
    if failed:
        print(f"ienhancer-elm: {failed} record(s) could not be scored; see the error column", file=sys.stderr)
    return 1 if failed else 0


def _repeated_ids(ids) -> str | None:
    """A warning naming the record ids given more than once: `scan` refuses them, `predict` keeps a row for each
    record, which a table joined on the id would mix up."""
    from .windows import listed

    repeated = [name for name, count in ids.items() if count > 1]
    if not repeated:
        return None
    return f"{len(repeated)} record id(s) appear more than once ({listed(repeated)}); each record keeps its own row"


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


def _predictions(args, model, tokenizer, records, warn):
    """(layer-1 row, layer-2 row or None) per record; layer 2 only with --strength. `warn` gets a warning's text."""
    from .predict import load_model, predict_records, predict_two_layers
    from .runtime import compile_for_inference

    if not args.strength:
        return ((row, None) for row in predict_records(model, tokenizer, records, args.batch_size, args.precision))
    strength_model, strength_tokenizer = load_model(
        args.strength_model, args.device, layer="layer2", precision=args.precision
    )
    if args.compile:
        compile_for_inference(strength_model, args.batch_size)
    pairs = predict_two_layers(
        model, tokenizer, strength_model, strength_tokenizer, records, args.batch_size, args.precision
    )
    return _warning_once_beyond_trained_length(pairs, strength_model, warn)


def _warning_once_beyond_trained_length(pairs, strength_model, warn):
    """The pairs, with one warning at the first record layer 2 reads that is longer than the sequences it was
    trained on (`window_bp`: 200 bp for the shipped layer-2 model, while NHLF's are up to 1 kbp): such a record's
    strength is a mean over windows, a reading nothing validated for strength."""
    trained = strength_model.config.window_bp  # None: the model reads whole sequences and says no length
    warned = False
    for row, strength in pairs:
        if strength is not None and trained and row.length > trained and not warned:
            warn(
                f"the strength model {strength_model.name_or_path} was trained on {trained} bp sequences; record"
                f" {row.id} is {row.length} bp, so its strength, as that of every record over {trained} bp, is the"
                f" mean over {trained} bp windows, which that model was not trained to call"
            )
            warned = True
        yield row, strength


def _scan_settings(args, **calling):
    """The settings of scan's or background's options; `calling`: scan's options for calling windows."""
    from .scan import ScanSettings

    windows = {"window": args.window, "stride": args.stride, "max_n_fraction": args.max_n}
    return ScanSettings(
        **windows, batch_size=args.batch_size, precision=args.precision, compile=args.compile, **calling
    )


def run_scan(args) -> int:
    from .scan import scan

    if args.bigwig:
        import pyBigWig  # noqa: F401  (missing, it stops the run here with the install hint, not after the scan)

        from .windows import ScanError

        if args.bedgraph == "-":
            raise ScanError("--bigwig is made from the bedGraph: give --bedgraph a file, or leave it out")

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
        bigwig=args.bigwig,
    )
    if summary is not None:
        print(f"ienhancer-elm: {summary.line()}", file=sys.stderr)
    return 0


def run_variants(args) -> int:
    from .background import background_for
    from .predict import load_model
    from .progress import progress_bar
    from .runtime import compile_for_inference, process_state, scored_precision
    from .sequences import EmptyInput
    from .shares import in_input_order
    from .variants import VariantError, open_reference, table_cells, table_header, variant_effects, window_for

    state = process_state(args.device)
    if state.num_processes > 1 and "-" in (args.output, args.vcf):
        raise VariantError("several processes need files: give the VCF as a file and -o FILE (not - for stdin/stdout)")
    with state.main_process_first():  # pyfaidx writes a missing index: one process at a time
        open_reference(args.reference).close()
    say = print if state.is_main_process else _quiet
    device = args.device if args.device not in (None, "auto") else state.device
    model, tokenizer = load_model(args.model, device, args.revision, precision=args.precision)
    background = background_for(model, args.revision)
    if background is not None and (note := background.precision_note(scored_precision(model, args.precision))):
        say(f"ienhancer-elm: note: {note}", file=sys.stderr)
    if args.compile:
        compile_for_inference(model, args.batch_size)
    window = window_for(model, args.window)
    if background is not None and window != background.window:
        note = f"the background holds {background.window} bp windows, these are {window} bp: no p-values"
        say(f"ienhancer-elm: note: {note}", file=sys.stderr)
    share = {"rank": state.process_index, "world": state.num_processes}
    rows = variant_effects(args.vcf, args.reference, model, tokenizer, window, args.batch_size, args.precision, **share)
    quiet = args.no_progress or not state.is_main_process
    scored = progress_bar(rows, quiet=quiet, desc="variants", unit="allele")
    ordered = in_input_order(
        ((row.ordinal, table_cells(row, background, window)) for row in scored), args.output, state
    )
    if not state.is_main_process:
        for _ in ordered:  # this process's share is written and merged by the main process
            pass
        return 0
    failed = written = 0
    with written_whole(args.output, newline="") as handle:
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
        writer.writerow(table_header(background))
        for _, cells in ordered:
            written += 1
            failed += bool(cells[-1])
            writer.writerow(cells)
        if not written:
            raise EmptyInput(args.vcf, "variant record")  # inside the output block, so that no output file is left
    if failed:
        print(
            f"ienhancer-elm: {failed} of {written} allele(s) could not be scored; see the error column", file=sys.stderr
        )
    return 1 if failed else 0


def _quiet(*args, **kwargs) -> None:
    """`print` for processes other than the main one: one voice per run."""


def run_background(args) -> int:
    from .background import BACKGROUND_FILE, BackgroundError
    from .scan import compute_background

    if args.output is None and not Path(args.model).is_dir():
        raise BackgroundError(f"{args.model}: not a model folder; give -o for where to write the background")
    output = Path(args.output or Path(args.model) / BACKGROUND_FILE)
    check_output_file(output)  # the model's folder may be read-only: say so before hours of scoring
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


def run_attribute(args) -> int:
    from .attribution import AttributionError
    from .attribution_files import write_attributions
    from .predict import load_model
    from .runtime import process_state
    from .sequences import EmptyInput, read_records

    state = process_state(args.device)
    if state.num_processes > 1 and args.input == "-":
        raise AttributionError(
            "standard input (-) can be read by one process only: give a file to attribute in several"
        )
    device = args.device if args.device not in (None, "auto") else state.device
    model, tokenizer = load_model(args.model, device, args.revision, precision="fp32")
    records = read_records(args.input)
    done = write_attributions(records, model, tokenizer, args.output, args.method, args.logos, args.batch_size, state)
    if done is None:  # another process's share, written by the main process
        return 0
    written, failed = done
    if not written:
        raise EmptyInput(args.input)
    print(f"ienhancer-elm: attributions of {written} record(s) written to {args.output}", file=sys.stderr)
    if failed:
        print(f"ienhancer-elm: {failed} record(s) could not be attributed; see the error column", file=sys.stderr)
    return 1 if failed else 0


def run_motifs(args) -> int:
    from pathlib import Path

    from .attribution_motifs import motifs_from_attributions
    from .evaluation import load_split
    from .motif_report import write_all
    from .motifs import MotifSettings, motifs_from_model
    from .predict import load_model
    from .progress import progress_bar

    settings = MotifSettings(**{name: getattr(args, name) for name in vars(MotifSettings())})
    model, tokenizer = load_model(args.model, args.device)
    rows = load_split(args.dataset, args.config, args.split)
    progress = lambda records: progress_bar(records, desc="motifs", unit="seq", quiet=args.no_progress)  # noqa: E731
    mine = motifs_from_attributions if args.method == "attribution" else motifs_from_model
    motifs, summary = mine(model, tokenizer, rows["sequence"], rows["label"], settings, args.batch_size, progress)
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

    progress = not args.no_progress
    scorer = load_scorer(args.model, args.device, args.revision, args.batch_size, args.config, progress)
    against = (
        load_scorer(args.against, args.device, None, args.batch_size, args.config, progress) if args.against else None
    )
    command = " ".join(["ienhancer-elm", *args.argv])
    report = evaluate(
        scorer, args.dataset, args.config, args.split, args.resamples, args.seed, against, command, progress
    )
    print(format_table(report))
    if args.output:
        write_report(report, args.output)
    if args.plot:
        plot_curves(report, args.plot)
    return 0


def run_own_dataset(args) -> int:
    from .training.own_data import DatasetRequest, build_own_dataset

    request = DatasetRequest(
        positives=args.positives,
        output=args.output,
        config=args.config,
        negatives=args.negatives,
        reference=args.reference,
        length=args.length,
        test_fraction=args.test_fraction,
        test_chromosomes=[name for name in (args.test_chromosomes or "").split(",") if name],
        seed=args.seed,
        command=" ".join(["ienhancer-elm", *args.argv]),
    )
    record = build_own_dataset(request)
    rows = record["rows"]
    print(
        f"ienhancer-elm: {args.output}/{args.config}: {rows['train']} training and {rows['test']} test sequences;"
        f" card {args.output}/README.md",
        file=sys.stderr,
    )
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
    gc_table = json.loads(Path(args.gc_table).read_text(encoding="utf-8")) if args.gc_table else None
    card = render_model_card(args.model, evaluations, args.repo_id, args.summary, widget, gc_table)
    output = Path(args.output or Path(args.model) / "README.md")
    output.write_text(card, encoding="utf-8")
    print(output)
    return 0


def _handled_errors() -> tuple[type[Exception], ...]:
    """The errors a command reports in one line (a traceback would be a bug)."""
    from .attribution import AttributionError
    from .background import BackgroundError
    from .evaluation import EvaluationError
    from .explain import ExplainError
    from .motifs import MotifError
    from .paths import NoDefaultModel
    from .release.publishing import PublishError
    from .scan import ScanError
    from .sequences import InputFormatError
    from .variants import VariantError

    errors = (InputFormatError, NoDefaultModel, EvaluationError, ExplainError, MotifError, ScanError)
    return (*errors, AttributionError, BackgroundError, PublishError, VariantError, OSError)


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
        _check_outputs(args)
        return args.handler(args)
    except ModuleNotFoundError as error:  # a command whose optional dependencies are not installed
        print(f"ienhancer-elm: error: {_missing_extra(args.command, error.name)}", file=sys.stderr)
        return 2
    except Exception as error:
        if isinstance(error, BrokenPipeError) or not isinstance(error, handled):
            raise
        from .sequences import EmptyInput

        print(f"ienhancer-elm: error: {error}", file=sys.stderr)
        return 1 if isinstance(error, EmptyInput) else 2  # nothing to do: as predict exits where it scores nothing


def _check_outputs(args) -> None:
    """Refuse an output that could not be written, by the path the user gave, before the command loads a model
    (seconds to minutes) or reads its input: the files a command writes (`output_files`, set by its parser) and
    the folders it makes (`output_folders`)."""
    for name in getattr(args, "output_files", ()):
        check_output_file(getattr(args, name))
    for name in getattr(args, "output_folders", ()):
        check_output_folder(getattr(args, name))


def _missing_extra(command: str, module: str) -> str:
    """How to install what `command` lacks: from the package index, or in a clone (before the package is
    published, the clone's way is the one that works)."""
    extra = "motifs" if command in ("motifs", "explain") else "data"
    return (
        f'`{command}` needs the module {module!r}: pip install "ienhancer-elm[{extra}]"'
        f' (or, in a clone of the repository, pip install -e ".[{extra}]")'
    )


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
    except KeyboardInterrupt:  # Ctrl-C: the outputs' cleanup has run (`written_whole`); a traceback says nothing
        print("ienhancer-elm: interrupted", file=sys.stderr)
        status = 130  # 128 + SIGINT, as shells report a command stopped by Ctrl-C
    sys.exit(status)


if __name__ == "__main__":
    console_main()
