"""The benchmarks' figures (the reports in bench/), rendered into docs/ by `python docs/figures.py`."""

from __future__ import annotations

from table_helpers import REPO, header, read_json


def _throughput(path: str, targets: bool) -> str:
    """A `bench/throughput.py` report; `targets`: the project's CPU targets (5x prediction, 50x tokenization)."""
    report = read_json(path)
    predict, compiled, tokens = report["predict"], report.get("compiled"), report["tokenization"]
    peak = predict["measured_matmul_peak_gflop_per_s"]

    def target(ratio: float, goal: float) -> str:
        return f"{goal:g}x: {'met' if ratio >= goal else '**not met**'}"

    table = [  # what, this package, the usual way, ratio, target
        [
            "ensemble prediction, sequences/s",
            f"{predict['package_seq_per_s']:,.1f} (bf16 weights)",
            f"{predict['naive_seq_per_s']:,.1f}",
            f"{predict['speedup']:.2f}x",
            target(predict["speedup"], 5),
        ]
    ]
    if compiled:
        table.append(
            [
                "the same with `--compile`",
                f"{compiled['seq_per_s']:,.1f} after a {compiled['first_pass_s']:.0f} s first pass",
                f"{predict['naive_seq_per_s']:,.1f}",
                f"{compiled['over_naive']:.2f}x ({compiled['over_eager']:.2f}x eager)",
                target(compiled["over_naive"], 5),
            ]
        )
    same = "identical labels" if predict["labels_identical"] else "**labels differ**"
    table += [
        [
            "fp32 weights under bf16 autocast, sequences/s",
            f"{predict['autocast_seq_per_s']:,.1f}",
            "",
            f"bf16 weights: {predict['bf16_weights_over_autocast']:.2f}x this",
            "",
        ],
        [
            "same labels? largest probability difference",
            f"{same}; {predict['max_probability_difference']:.1e}",
            "",
            "",
            "identical",
        ],
        [
            f"tokenization of {tokens['sequences']:,} sequences, every k",
            f"{tokens['package_s']:.3f} s",
            f"{tokens['naive_s']:.1f} s",
            f"{tokens['speedup']:.0f}x",
            target(tokens["speedup"], 50),
        ],
        [
            "prediction, GFLOP/s",
            f"{predict['package_gflop_per_s']:,.0f} ({predict['fraction_of_matmul_peak']:.1%} of the measured bf16 matrix "
            f"peak, {peak['bf16']:,.0f}; fp32 peak {peak['fp32']:,.0f})",
            "",
            "",
            "",
        ],
    ]
    columns = ["what", "this package", "the usual way", "ratio", "target"][: 5 if targets else 4]
    rows = [
        f"`{path}`: {report['device']}, {report['torch_threads']} threads, {report['sequences']:,} sequences, batch {report['batch_size']}.",
        "",
    ]
    rows += header(*columns)
    rows += ["| " + " | ".join(cells[: len(columns)]) + " |" for cells in table]
    scan = report.get("scan")
    if scan:
        rows += [
            "",
            f"Scans, window {scan['window']}, stride {scan['stride']} (process start and model load included):",
            "",
        ]
        rows += header("compiled", "Mbp", "seconds", "bp/s", "peak memory, MiB")
        for run in scan["runs"]:
            rows.append(
                f"| {'yes' if run['compiled'] else 'no'} | {run['bp'] / 1e6:g} | {run['seconds']:.1f} | {run['bp_per_s']:,.0f} | {run['peak_mib']:,.0f} |"
            )
        if len({run["bp"] for run in scan["runs"]}) > 1:
            ratio = scan["memory_ratio_largest_to_smallest"]
            rows += ["", f"Peak memory, largest input over smallest: {ratio:.2f} (target: flat within 10%)."]
    return "\n".join(rows) + "\n"


def throughput_cpu() -> str:
    return _throughput("bench/results.json", targets=True)


def throughput_gpu() -> str:
    return _throughput("bench/results-gpu.json", targets=False)


GENOME_BP = 3.1e9  # a human genome, rounded


def genome_estimates() -> str:
    """Hours for a whole genome at stride 50 (4x the windows of stride 200), from the benchmark's scan rates."""
    cpu, gpu = read_json("bench/results.json"), read_json("bench/results-gpu.json")
    rows = header("machine (report)", "scan", "bp/s measured", "at stride", "whole genome at stride 50, hours")

    def add(report: dict, path: str, label: str, bp_per_s: float, stride: int) -> None:
        hours = GENOME_BP / bp_per_s * (stride / 50) / 3600
        rows.append(f"| {report['device']} (`{path}`) | {label} | {bp_per_s:,.0f} | {stride} | {hours:,.1f} |")

    for report, path in ((cpu, "bench/results.json"), (gpu, "bench/results-gpu.json")):
        scan = report["scan"]
        for compiled in (False, True):
            runs = [run for run in scan["runs"] if run["compiled"] == compiled]
            sizes = sorted({run["bp"] for run in runs})
            if len(sizes) > 1:  # the rate between two input sizes: start-up and compiling cancel
                small, large = ([run["seconds"] for run in runs if run["bp"] == bp] for bp in (sizes[0], sizes[-1]))
                rate = (sizes[-1] - sizes[0]) / (sum(large) / len(large) - sum(small) / len(small))
                label = f"{'compiled' if compiled else 'eager'}, steady state ({sizes[0] / 1e6:g} to {sizes[-1] / 1e6:g} Mbp)"
            elif runs:
                rate = sum(run["bp_per_s"] for run in runs) / len(runs)
                label = f"{'compiled' if compiled else 'eager'}, {sizes[0] / 1e6:g} Mbp, start-up included"
            else:
                continue
            add(report, path, label, rate, scan["stride"])
    return "\n".join(rows) + "\n"


def compile_modes() -> str:
    report = read_json("bench/compile-modes.json")
    rows = [
        f"One k = {report['k']} member, batch {report['batch'][0]} x {report['batch'][1]} tokens, {report['dtype']}, torch {report['torch']}, {report['torch_threads']} threads; median of three rounds.",
        "",
    ]
    rows += header("mode", "ms per batch", "eager over mode", "first call, s")
    for mode, ms in report["ms_per_batch_median"].items():
        ratio = report["eager_over_mode"].get(mode)
        first = report["first_call_s"].get(mode)
        rows.append(
            f"| {mode} | {ms:.1f} | {'-' if ratio is None else f'{ratio:.2f}x'} | {'-' if first is None else f'{first:.1f}'} |"
        )
    return "\n".join(rows) + "\n"


def spectrum_cost() -> str:
    """The shipped layer-1 model with and without its spectrum member (`bench/spectrum_cost.py`)."""
    report = read_json("bench/spectrum-cost.json")
    rows = header("model", "sequences/s (median)")
    rows += [f"| {name} | {value:.1f} |" for name, value in report["sequences_per_second_median"].items()]
    return "\n".join(rows) + (
        f"\n\n{report['sequences']} test sequences, `predict_records`, {report['dtype']}, {report['torch_threads']} "
        f"threads of an {report['cpu']}, torch {report['torch']}; without over with: {report['without_over_with']:.2f}.\n"
    )


def allocator() -> str:
    rows = header(
        "report",
        "glibc keeps freed memory",
        "bf16 weights, sequences/s",
        "fp32 weights under bf16 autocast, sequences/s",
        "ratio to the usual way",
    )
    for path in sorted((REPO / "bench" / "allocator").glob("*.json")):
        report = read_json(path)
        predict = report["predict"]
        rows.append(
            f"| `{path.relative_to(REPO)}` | {'yes' if report['glibc_keeps_freed_memory'] else 'no'} | {predict['package_seq_per_s']:.1f} | "
            f"{predict['autocast_seq_per_s']:.1f} | {predict['speedup']:.2f}x |"
        )
    return "\n".join(rows) + "\n"


def attribution_speed() -> str:
    """First-order attributions against exact ISM, seconds a 200 bp sequence, one run (bench/attribution.py)."""
    report = read_json("bench/attribution.json")
    fast, ism = report["first_order"], report["ism"]
    rows = header("method", "sequences", "seconds", "seconds per sequence", "1,000 sequences")
    for name, found in (("first-order", fast), ("exact ISM", ism)):
        thousand = found["seconds_per_sequence"] * 1000 / 60
        rows.append(
            f"| {name} | {found['sequences']} | {found['seconds']:.0f} | {found['seconds_per_sequence']:.3f} | {thousand:.0f} min |"
        )
    note = (
        f"`{report['command']}` on {report['cpu']} ({report['torch_threads']} torch threads, fp32; load average "
        f"{report['load_average_after']:.1f} on 2 shared cores): ISM costs {report['ism_over_first_order']:.0f}x the "
        f"first-order method a sequence. Budget: {report['budget']}."
    )
    return "\n".join(rows) + "\n\n" + note + "\n"


def variants_speed() -> str:
    """Variants a second of `ienhancer-elm variants`, beside `predict` on the same windows (bench/variants.py)."""
    report = read_json("bench/variants.json")
    rows = header("", "per second")
    rows.append(f"| variants (`ienhancer-elm variants`, 2 windows each) | {report['variants_per_second_median']:.2f} |")
    rows.append(f"| their windows through `variants` | {report['windows_per_second_median']:.2f} |")
    rows.append(f"| the same windows through `predict` | {report['predict_windows_per_second_median']:.2f} |")
    note = (
        f"`{report['command']}`: {report['variants']} SNVs on {report['reference']}, {report['model']} in "
        f"{report['dtype'].removeprefix('torch.')}, batch {report['batch_size']}, on {report['cpu']} (load average "
        f"{report['load_average_at_start']:.1f} on 2 shared cores at the start). Reading the VCF and the reference "
        f"costs {100 * (1 / report['variants_windows_over_predict'] - 1):+.0f}% against `predict` alone."
    )
    return "\n".join(rows) + "\n\n" + note + "\n"


RENDERERS = {
    "attribution-speed": attribution_speed,
    "variants-speed": variants_speed,
    "throughput-cpu": throughput_cpu,
    "throughput-gpu": throughput_gpu,
    "genome-estimates": genome_estimates,
    "compile-modes": compile_modes,
    "allocator": allocator,
    "spectrum-cost": spectrum_cost,
}
