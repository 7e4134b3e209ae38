"""Model cards rendered from what a model folder and its evaluation reports hold; no figure is typed by hand.

The ensemble folder written by `training/build_ensemble.py` carries `cv_results.json` (members and
threshold chosen on held-out training data) and `training.json` (the runs behind each member);
`ienhancer-elm evaluate -o` writes the test reports.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from ..metrics import METRICS, shown_metrics
from ..models import IEnhancerELMConfig
from ..paths import HUB_ORG, MODEL_FOR_CONFIG, SHIPPED_REPOS, NoDefaultModel, shipped_model_path

DATASET_REPO = f"{HUB_ORG}/ienhancer-benchmarks"
CITATION = """@article{li2023ienhancerelm,
  title   = {iEnhancer-ELM: improve enhancer identification by extracting position-related multiscale
             contextual information based on enhancer language models},
  author  = {Li, Jiahao and Wu, Zhourun and Lin, Wenhao and Luo, Jiawei and Zhang, Jun and Chen, Qingcai and Chen, Junjie},
  journal = {Bioinformatics Advances},
  volume  = {3},
  number  = {1},
  pages   = {vbad043},
  year    = {2023}
}"""


def read_json_or_empty(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


RECIPES = {
    "ienhancer2l": "training/recipe.sh",
    "enhancer_if_nhlf": "training/release_nhlf.sh",
    "own": "training/finetune.py + training/build_ensemble.py",  # docs/training.md, "Your own cell type"
}
BENCHMARK_NAMES = {
    "layer1": "iEnhancer-2L layer1",
    "layer2": "iEnhancer-2L layer2",
    "enhancer_if_nhlf": "Enhancer-IF NHLF",
}


def front_matter(
    config: IEnhancerELMConfig, repo_id: str, evaluations: list[dict], widget: str, dataset: str | None = DATASET_REPO
) -> str:
    """The YAML header; `dataset`: the Hub dataset the model was trained on (None: a local folder of one's own)."""
    positive = config.labels[1]
    lines = [
        "---",
        "license: apache-2.0",
        "library_name: transformers",
        "pipeline_tag: text-classification",
        "tags:",
        *(
            f"  - {tag}"
            for tag in ("biology", "genomics", "dna", "enhancer", "k-mer", "bert", "ensemble", "custom_code")
        ),
        *(["datasets:", f"  - {dataset}"] if dataset else []),
        "metrics:",
        *(f"  - {metric}" for metric in ("accuracy", "matthews_correlation", "recall", "roc_auc")),
        "widget:",
        f"  - text: {widget}",
        f"    example_title: an example {positive if positive.endswith('enhancer') else positive + ' enhancer'}",
    ]
    if evaluations:
        lines += _model_index(repo_id, evaluations, dataset)
    return "\n".join(lines + ["---", ""])


def _model_index(repo_id: str, evaluations: list[dict], dataset: str | None) -> list[str]:
    lines = ["model-index:", f"  - name: {repo_id}", "    results:"]
    for report in evaluations:
        data = report["dataset"]
        lines += [
            "      - task:",
            "          type: text-classification",
            "        dataset:",
            f"          name: {BENCHMARK_NAMES.get(data['config'], data['config'])} ({data['split']})",
            f"          type: {dataset or data['source']}",
            f"          config: {data['config']}",
            f"          split: {data['split']}",
            "        metrics:",
        ]
        figures = report["results"]["all"]
        names = (("ACC", "accuracy"), ("MCC", "matthews_correlation"), ("AUC_ROC", "roc_auc"))
        if "BACC" in shown_metrics(report["results"]):  # unbalanced classes: the accuracy to read
            names += (("BACC", "balanced_accuracy"),)
        for name, hub_name in names:
            lines += [
                f"          - type: {hub_name}",
                f"            value: {figures[name]['value']:.3f}",
            ]
    return lines


def figure_cell(entry, number: str = "{:.3f}") -> str:
    if not isinstance(entry, dict) or entry.get("value") is None or math.isnan(entry["value"]):
        return "undefined (one class)"
    low, high = entry["ci95"]
    if low is None or high is None:
        return number.format(entry["value"])
    return f"{number.format(entry['value'])} [{number.format(low)}, {number.format(high)}]"


SUBSETS = (("all", "all"), ("without_in_train", "without `in_train`"))


def results_table(evaluations: list[dict]) -> str:
    names = _shown(evaluations)
    rows = ["| split | rows | n | " + " | ".join(names) + " |", "|---" * (3 + len(names)) + "|"]
    notes = []
    for report in evaluations:
        split = f"{report['dataset']['config']} {report['dataset']['split']}"
        rows += subset_rows(split, report["results"], names)
        if "difference" in report:
            against = report["difference"]["against"]
            suffix = f": this model minus the {against['kind']}"
            rows += subset_rows(split, report["difference"]["results"], names, suffix, "{:+.3f}")
            notes.append(
                f'Rows "minus" are paired bootstrap differences against {_describe(against)}, at its threshold '
                f"{report['difference']['against_threshold']}; both are scored on the same resampled sequences, "
                "and an interval that spans 0 means neither model is shown better."
            )
    commands = "\n".join(f"- `{report['command']}`" for report in evaluations)
    return "\n".join(rows) + "\n\n" + "".join(note + "\n\n" for note in notes) + "Made by:\n" + commands + "\n"


def _shown(evaluations: list[dict]) -> tuple[str, ...]:
    """METRICS, and BACC where some report's split is unbalanced."""
    return max((shown_metrics(report["results"]) for report in evaluations), key=len, default=METRICS)


def subset_rows(split: str, results: dict, names, suffix: str = "", number: str = "{:.3f}") -> list[str]:
    rows = []
    for subset, label in SUBSETS:
        figures = results.get(subset)
        if figures:
            cells = " | ".join(figure_cell(figures.get(metric), number) for metric in names)
            rows.append(f"| {split} | {label}{suffix} | {figures['n']} | {cells} |")
    return rows


def _describe(model: dict) -> str:
    if model.get("kind") == "k-mer spectrum baseline":
        return (
            f"the k-mer spectrum baseline `{model['source']}` (`ienhancer-elm release baseline`: k = 1..5 frequencies, "
            f"{model['chosen']} chosen by 5-fold CV on the training split)"
        )
    return f"`{model.get('source')}`"


def cv_section(cv: dict) -> str:
    if not cv:
        return "No cross-validation report was found next to the weights.\n"
    figures = cv["cv_at_threshold"]
    cells = ", ".join(f"{m} {figures[m]:.3f}" for m in METRICS if figures.get(m) is not None)
    whose = (
        "that the members, before their refit on the whole split, did not train on"
        if "refitted_encoders" in cv
        else "that no member trained on"
    )
    lines = [
        f"{_chosen(cv)} on held-out training predictions ({figures['n']} sequences {whose}): "
        f"{cells}. The test split played no part in any choice. Every subset of the BERT members on the same "
        "held-out sequences, threshold 0.5, best AUC first:",
        "",
        "| members (k) | " + " | ".join(METRICS) + " |",
        "|---" * (1 + len(METRICS)) + "|",
    ]
    for row in cv["subsets_at_0.5"]:
        kmers = ", ".join(map(str, row["kmers"]))
        lines.append(f"| {kmers} | " + " | ".join(f"{row[m]:.3f}" for m in METRICS) + " |")
    return "\n".join(lines + _heads_and_calibration(cv)) + "\n"


def _chosen(cv: dict) -> str:
    if cv.get("benchmark", "ienhancer2l") != "enhancer_if_nhlf":  # the recipe chose the members there too
        return f"Members k = {cv['chosen_kmers']} and the threshold {cv['threshold']} (best MCC) were chosen"
    return f"The threshold {cv['threshold']} (best MCC) was chosen"


def _heads_and_calibration(cv: dict) -> list[str]:
    """How the heads were refitted and the probability calibrated, where the report says so."""
    lines = []
    if heads := cv.get("heads"):
        settings = heads["settings"]
        lines += [
            "",
            "The members' heads were then refitted on the frozen encoders' pooled features (standardised, weight "
            f"decay {settings['weight_decay']:g}, label smoothing {settings['label_smoothing']:g}; the paper's head "
            f"shape, the standardisation folded in), {heads['fitted_on']}; the threshold and the calibration slope "
            f"come from {heads['threshold_and_slope_from']} (`{heads['command']}`)."
            + (
                " Heads trained end to end saturated (most Tanh units at +-1), so that many sequences got the very "
                "same score."
                if cv.get("benchmark", "ienhancer2l") == "ienhancer2l"
                else ""
            ),
        ]
    if encoders := cv.get("refitted_encoders"):
        epochs = ", ".join(f"k = {k}: {n}" for k, n in encoders["epochs"].items())
        lines += [
            "",
            f"Last, every member's encoder was replaced by one fine-tuned on {encoders['refitted_on']} for the epoch "
            f"count its held-out fold chose ({epochs}), and its head fitted again on that encoder's features with "
            f"the settings above (`{encoders['command']}`); threshold, slope and every other choice stayed. The "
            "held-out figures here are those of the members before that refit: the shipped members have no held-out "
            "data left.",
        ]
    if calibration := cv.get("calibration"):
        lines += [
            "",
            f"Calibration: slope {calibration['slope']:.3f} on {calibration['held_out']}; held-out log loss "
            f"{calibration['log_loss']['slope 1']:.4f} with slope 1, {calibration['log_loss']['fitted']:.4f} fitted.",
        ]
    return lines


SHIPPED_CORPUS = "hg38_chr2_1-2333275.fa.gz"  # the slice the shipped members were pretrained on


def pretraining_corpus(pretraining: dict) -> str:
    """What a member was pretrained on, from its pretraining run's record (`corpus.json`)."""
    settings = pretraining.get("arguments") or {}
    files = [Path(path).name for path in settings.get("corpus", [])]
    if not files or SHIPPED_CORPUS in files:
        return "200 bp windows of a 2.3 Mbp slice of hg38 chromosome 2 and the unlabelled training sequences"
    sequences = " and the unlabelled training sequences" if settings.get("dataset_configs") else ""
    return f"{settings.get('window', 200)} bp windows of {', '.join(f'`{name}`' for name in files)}{sequences}"


def procedure(arguments: dict, pretraining: dict | None, refitted: bool = False) -> str:
    """How the members were trained; `pretraining`: the first member's pretraining record, None without one."""
    start = (
        "Each member was pretrained as a masked language model (DNABERT-style masking of k consecutive k-mers) on "
        f"{pretraining_corpus(pretraining)} (both strands; every window overlapping a test sequence dropped), then "
        if pretraining
        else "Each member was "
    )
    folds = arguments["folds"]
    if arguments.get("refit", True) and arguments.get("only_fold", -1) == -1:
        return start + (
            f"fine-tuned with stratified {folds}-fold cross-validation (per fold, the epoch with the best validation "
            "AUC), then retrained on the whole training split for the median of the folds' best epoch counts."
        )
    chosen = (
        f"fine-tuned on a stratified {1 - 1 / folds:.0%} of the training split, the epoch chosen by AUC on the other "
        f"{1 / folds:.0%}"
    )
    if refitted:
        return (
            start
            + chosen
            + (
                "; then fine-tuned again from the same pretrained weights on the whole training split for that many "
                "epochs (best epoch + 1), and that encoder ships."
            )
        )
    return start + chosen + "; that model ships."


def training_section(training: dict) -> str:
    if not training:
        return "No training record was found next to the weights.\n"
    members = list(training["members"].values())
    refitted = any("refit" in member for member in members)  # runs not in the ensemble have none
    lines = [
        procedure(members[0]["arguments"], members[0].get("pretraining"), refitted),
        "",
        "| k | pretraining windows (both strands) | fine-tuning | best epoch (0-based) | validation AUC |"
        + (" epochs on the whole split |" if refitted else "")
        + " time (pretraining included) |",
    ]
    lines.append("|---|---|---|---|---|" + ("---|" if refitted else "") + "---|")
    for k, member in sorted(training["members"].items(), key=lambda item: int(item[0])):
        pretraining = member.get("pretraining") or {}
        windows = pretraining.get("kept_both_strands", "none (from scratch or DNABERT)")
        args = member["arguments"]
        recipe = f"lr {args['learning_rate']}, batch {args['batch_size']}, up to {args['epochs']} epochs, patience {args['patience']}"
        if args.get("reverse_complement_augmentation"):
            recipe += ", both strands of every training sequence"
        best_epoch = ", ".join(str(e) for e in member["summary"]["best_epochs"].values())
        auc = ", ".join(f"{a:.3f}" for a in member["summary"]["best_valid_auc"].values())
        minutes = (member.get("seconds", 0) + member.get("refit", {}).get("seconds", 0)) / 60
        refit = f" {member['refit']['summary']['refit_epochs'] if 'refit' in member else 'not refitted'} |"
        refit = refit if refitted else ""
        lines.append(f"| {k} | {windows} | {recipe} | {best_epoch} | {auc} |{refit} {minutes:.0f} min |")
    total = training.get("seconds", 0) / 3600
    return (
        "\n".join(lines)
        + f"\n\nTotal recorded training time: {total:.1f} h (each member's pretraining counted once per layer) on {training.get('hardware', 'the CPU')}.\n"
    )


def render_model_card(
    folder: str | Path, evaluations: list[dict], repo_id: str, summary: str, widget: str, gc_table: dict | None = None
) -> str:
    """The card of an ensemble folder: front matter, use, data, procedure, results (with how much of them GC share
    explains, from `gc_table`: experiments/beyond_gc/gc-table.json), limitations, citation."""
    folder = Path(folder)
    benchmark = read_json_or_empty(folder / "cv_results.json").get("benchmark", "ienhancer2l")
    if not (folder / "config.json").is_file():  # from_pretrained would fall back to a default config
        raise FileNotFoundError(f"{folder}: not a model folder (no config.json)")
    config = IEnhancerELMConfig.from_pretrained(folder)
    sizes = {k: config.member_configs[str(k)] for k in config.kmers}
    size_line = ", ".join(
        f"k={k}: {s['num_hidden_layers']} layers, hidden {s['hidden_size']}, {s['num_attention_heads']} heads"
        for k, s in sizes.items()
    )
    template = (Path(__file__).parent / "templates" / "model_card.md").read_text(encoding="utf-8")
    body = template.format(
        repo_id=repo_id,
        summary=summary,
        negative=config.labels[0],
        positive=config.labels[1],
        kmers=", ".join(map(str, config.kmers)),
        head_dropout=f"{config.head_dropout:g}",
        sizes=size_line,
        input=input_line(config, _tokenizer_max_length(folder)),
        recipe=RECIPES[benchmark],
        threshold=config.threshold,
        slope=f"{config.calibration_slope:.3g}",
        spectrum=spectrum_paragraph(config, read_json_or_empty(folder / "cv_results.json")),
        benchmark=benchmark_sections(folder, evaluations, config, gc_table or {}),
        citation=CITATION,
    )
    dataset = None if benchmark == "own" else DATASET_REPO
    return front_matter(config, repo_id, evaluations, widget, dataset) + body


def spectrum_paragraph(config: IEnhancerELMConfig, cv: dict) -> str:
    """The spectrum member, where the model has one: what it reads, how it was fitted, its share of the vote."""
    if not config.spectrum_kmers:
        return ""
    fitted = cv.get("spectrum") or {}
    share = 1 / (len(config.kmers) + 1) if config.spectrum_weight is None else config.spectrum_weight
    c_value = (fitted.get("params") or {}).get("calibratedclassifiercv__estimator__C")
    chosen_c = f" (C = {c_value:g}, chosen by 5-fold CV)" if c_value is not None else ""
    command = fitted.get("command") or (cv.get("heads") or {}).get("command", "training/refit_heads.py")
    return (
        f"\nA further member reads the k-mer spectrum: the frequencies of every {'-, '.join(map(str, config.spectrum_kmers))}-mer "
        f"{'of each window the BERT members read' if config.spectrum_windows else 'of the whole sequence (however long)'}"
        ", standardised, go to a support vector classifier with an RBF kernel"
        f"{chosen_c} and Platt's sigmoid, fitted by scikit-learn on the training split and stored here as "
        f"{config.spectrum_support_vectors:,} support vectors (torch buffers, kept in fp32). It has "
        f"{share:.0%} of the soft vote, the BERT members sharing the rest equally; that share was chosen on a "
        f"held-out fold of the training data (`{command}`). Its "
        "probability is the output's last member column.\n"
    )


def benchmark_sections(folder: Path, evaluations: list[dict], config: IEnhancerELMConfig, gc_table: dict) -> str:
    """Data, procedure, results and limitations, written for the benchmark the model was trained on."""
    cv = read_json_or_empty(folder / "cv_results.json")
    benchmark = cv.get("benchmark", "ienhancer2l")
    training = read_json_or_empty(folder / "training.json")
    template = (Path(__file__).parent / "templates" / f"benchmark_{benchmark}.md").read_text(encoding="utf-8")
    return template.format(
        cv=cv_section(cv),
        training=training_section(training),
        config_name=cv.get("config"),  # these three: a dataset of one's own (benchmark_own.md)
        dataset_source=cv.get("dataset"),
        starting_point=starting_point(training),
        results=(results_table(evaluations) if evaluations else "Not evaluated yet.\n")
        + gc_section(folder, evaluations, gc_table),
        background=background_section(folder),
        dataset=DATASET_REPO,
        layer1_repo=SHIPPED_REPOS["layer1"],
        layer1_encoders=cv.get("encoders_fine_tuned_on", "the iEnhancer-2L layer-1 benchmark"),
        window=config.window_bp,
    )


def starting_point(training: dict) -> str:
    """Where the members' fine-tuning started (`init` of their runs)."""
    starts = sorted({member["arguments"]["init"] for member in training.get("members", {}).values()})
    if not starts:
        return ""
    named = ", ".join("random weights" if start == "scratch" else f"`{start}`" for start in starts)
    if starts == ["scratch"]:
        return f"Fine-tuning started from {named}."
    return (
        f"Fine-tuning started from {named} (an ensemble folder gives each run its member of that k, encoder and "
        "head; a DNABERT-layout folder its encoder)."
    )


def input_line(config: IEnhancerELMConfig, max_length: int) -> str:
    """What sequences the model takes, and how it reads those longer than its window."""
    if not config.window_bp:
        return (
            f"DNA of any length from k to {max_length - 2 + min(config.kmers) - 1} bp, read whole; longer regions: "
            "`ienhancer-elm scan`."
        )
    combined = {
        "probability": "each member's window probabilities are averaged",
        "states": "each member's head reads the mean of its windows' pooled states (the heads were fitted on such "
        "means, so a sequence of one window, and `scan`'s windows, lie off what they were fitted on)",
    }[config.window_combination]
    return (
        f"DNA of {max(config.kmers)} to {max_length - 2 + min(config.kmers) - 1:,} bp. A sequence of at most "
        f"{config.window_bp} bp (the length the members were trained on) is read whole; a longer one in "
        f"{config.window_bp} bp windows every {config.window_stride_bp} bp, the last ending at its last base, and "
        f"{combined} (windows of N alone left out){_spectrum_reading(config)}, so `pipeline`, `AutoModel` and "
        "`predict` give it one probability. Genomes and longer regions: `ienhancer-elm scan`."
    )


def _spectrum_reading(config: IEnhancerELMConfig) -> str:
    if not config.spectrum_kmers:
        return ""
    if config.spectrum_windows:
        return "; the spectrum member reads the same windows and its window probabilities are averaged"
    return (
        "; the spectrum member reads the k-mer frequencies of the whole sequence (it was fitted on whole "
        "sequences, so `scan`'s windows, shorter than those, lie off what it was fitted on)"
    )


def _tokenizer_max_length(folder: Path) -> int:
    saved = read_json_or_empty(folder / "tokenizer_config.json")
    return int(saved.get("model_max_length", 512))


def gc_section(folder: Path, evaluations: list[dict], gc_table: dict) -> str:
    """How much of the test figures G + C share alone reaches, and the model's AUC over GC-matched pairs, where
    the GC table (experiments/beyond_gc/gc_table.py, which scores the shipped models) holds the config of the first
    test report shown and `folder` is that config's shipped model."""
    configs = [report["dataset"].get("config") for report in evaluations]
    figures = gc_table.get("configs", {}).get(configs[0]) if configs else None
    if not figures or not _is_shipped(folder, configs[0]):
        return ""
    rows = [
        "| test sequences | AUC, GC share alone | AUC, this model | GC-matched AUC, GC share alone | "
        "GC-matched AUC, this model | GC-matched pairs |",
        "|---|---|---|---|---|---|",
    ]
    none_in_train = figures["n"].get("without_in_train") == figures["n"]["all"]
    for subset, label in SUBSETS:
        if subset in figures["subsets"] and not (subset != "all" and none_in_train):
            found = figures["subsets"][subset]
            alone, model = found["GC share alone"], found["shipped ensemble"]
            cells = [alone["AUC_ROC"], model["AUC_ROC"], alone["AUC_GC"], model["AUC_GC"]]
            pairs = f"{model['AUC_GC']['pairs']:,}"
            rows.append(
                f"| {label} ({figures['n'][subset]}) | " + " | ".join(map(figure_cell, cells)) + f" | {pairs} |"
            )
    absent = [label for subset, label in SUBSETS if subset not in figures["subsets"]]
    missing = f" The rows {absent[0]} hold one class only, so no AUC is given for them." if absent else ""
    missing += " No test sequence is also a training sequence." if none_in_train else ""
    mean_gc = figures["mean_gc"]
    correlation = figures["subsets"]["all"]["shipped ensemble"]["correlation_with_gc"]
    return (
        "\n### How much of it is GC content\n\n"
        f"The test split's positives average {mean_gc['positives']:.3f} G + C, its negatives {mean_gc['negatives']:.3f}. "
        "G + C share alone is one feature, fitted on the training split. The GC-matched AUC is the share of pairs of a "
        f"positive and a negative whose G + C shares differ by at most 0.01 that the score orders rightly (0.5: "
        f"chance): there GC tells nothing. On all test sequences the model's score follows G + C share at r = "
        f"{correlation:.2f}.{missing}\n\n" + "\n".join(rows) + "\n\n"
        f"From `{figures.get('command', gc_table.get('command'))}`; 95% intervals from {gc_table['bootstrap']['resamples']:,} bootstrap resamples "
        "of the sequences.\n"
    )


def _is_shipped(folder: Path, config: str) -> bool:
    """Whether `folder` is the shipped model of `config`, the model the GC table scored."""
    try:
        return Path(folder).resolve() == shipped_model_path(MODEL_FOR_CONFIG[config]).resolve()
    except (KeyError, NoDefaultModel):
        return False


def background_section(folder: Path) -> str:
    """What the folder's background.json holds, where it has one (`ienhancer-elm background`)."""
    path = folder / "background.json"
    if not path.is_file():
        return ""
    saved = json.loads(path.read_text(encoding="utf-8"))
    pieces = ", ".join(f"`{piece['file']}`" for piece in saved["pieces"])
    strata = len(saved.get("stratum_windows", [None]))
    strata = (
        f" A score is compared only with the windows of its own GC stratum ({strata} strata of about equal size "
        "by G + C share): on genomic DNA this model's score follows GC content closely."
        if strata > 1
        else ""
    )
    return (
        "\n## Genomic background\n\n"
        f"`background.json` holds this model's scores of {saved['windows']:,} windows of genomic DNA "
        f"({saved['window']} bp, stride {saved['stride']}; {pieces}; scored in {saved['model'].get('precision')}), "
        "so that `ienhancer-elm predict` and `scan` give each score its background p-value, the share of those "
        f"windows scoring at least as high (+1 corrected), and `scan` calls windows at a background rate.{strata} "
        f"Made by `{saved['command']}`.\n"
    )


def member_card(config: IEnhancerELMConfig, k: int, ensemble_name: str) -> str:
    settings = config.member_configs[str(k)]
    return (
        "---\nlicense: apache-2.0\nlibrary_name: transformers\ntags:\n  - biology\n  - dna\n  - dnabert\n---\n"
        f"# {ensemble_name}, k = {k} member\n\n"
        f"The k = {k} encoder of the iEnhancer-ELM ensemble `{HUB_ORG}/{ensemble_name}`, exported as a plain BERT "
        f"in DNABERT's layout ({settings['num_hidden_layers']} layers, hidden {settings['hidden_size']}, "
        f"vocabulary of {settings['vocab_size']} = 4^{k} k-mers + 5 special tokens, in DNABERT's order). "
        "The ensemble's classification head is not included.\n\n"
        "```python\nfrom transformers import AutoModel, BertTokenizer\n\n"
        f'model = AutoModel.from_pretrained("{HUB_ORG}/{ensemble_name}-k{k}")\n'
        f'tokenizer = BertTokenizer.from_pretrained("{HUB_ORG}/{ensemble_name}-k{k}", do_lower_case=False)\n'
        'sequence = "ACGTTGCAGGATTACA"\n'
        f'kmers = " ".join(sequence[i : i + {k}] for i in range(len(sequence) - {k - 1}))  # overlapping, stride 1\n'
        'hidden = model(**tokenizer(kmers, return_tensors="pt")).last_hidden_state\n```\n\n'
        "Upper-case k-mers only: a lower-casing tokenizer maps every k-mer to `[UNK]`.\n"
    )
