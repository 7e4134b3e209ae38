"""Throughput of ienhancer-elm against the way DNABERT models are usually run, measured side by side.

    python bench/throughput.py [--sequences 400] [--scan-mbp 1.0 2.3] [-o bench/results.json]
    python bench/throughput.py --device cuda --copies 20 --batch-size 256 -o bench/results-gpu.json

(a) this package: `predict_records` on the ensemble (vectorised k-mers, length buckets, weights cast to
    bf16 where the CPU has bf16 units, inference mode); also with fp32 weights under bf16 autocast.
    The whole run keeps freed memory as the command line does (`keep_freed_memory`), (b) included;
(b) the usual way: per k, k-mer strings built in Python, a stock `BertTokenizer` on DNABERT's vocab,
    a stock `BertModel` loaded from a DNABERT-layout folder, fp32, one model after another; the same
    member weights and heads, so the calls must be identical (a `BertForSequenceClassification` costs
    the same but its CLS head could not give the same labels);
(c) tokenization alone, this package against (b)'s;
(a') with `--compile`: (a) with the members compiled as `predict --compile` does (inductor, frozen
    weights, fused kernels; fixed batch shapes, all-ones masks dropped);
(d) `scan` in bp/s on slices of the hg38 chr2 slice, with peak memory, in fresh processes.
Weights are random (seeded) with the shipped member size; speed does not depend on them.
"""

from __future__ import annotations

import argparse
import copy
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
from transformers import BertModel, BertTokenizer
from transformers.utils import logging as transformers_logging

from ienhancer_elm import IEnhancerELMConfig, IEnhancerELMForSequenceClassification, KmerTokenizer
from ienhancer_elm.evaluation import load_split
from ienhancer_elm.hub_export import write_model_folder
from ienhancer_elm.modeling_ienhancer_elm import mean_of_kmer_states
from ienhancer_elm.predict import load_model, predict_records
from ienhancer_elm.release.publishing import export_member
from ienhancer_elm.runtime import bf16_supported, compile_for_inference, keep_freed_memory
from ienhancer_elm.sequences import Record

REPO = Path(__file__).resolve().parents[1]
MEMBER = dict(hidden_size=256, num_hidden_layers=4, num_attention_heads=4, intermediate_size=1024)
GENOME = REPO.parent / "shared" / "data" / "pretrain" / "hg38_chr2_1-2333275.fa.gz"


def random_ensemble(kmers, folder: Path) -> Path:
    torch.manual_seed(0)
    config = IEnhancerELMConfig(kmers=list(kmers), member_configs={str(k): MEMBER for k in kmers})
    return write_model_folder(IEnhancerELMForSequenceClassification(config).eval(), folder)


def cpu_model() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    lines = cpuinfo.read_text().splitlines() if cpuinfo.is_file() else []
    names = [line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")]
    return names[0] if names else platform.processor()


def timed(function, repeat=1):
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    return best, result


def run_package(model, tokenizer, sequences, batch_size, precision="auto"):
    records = [Record(str(i), s) for i, s in enumerate(sequences)]
    return [row.probability for row in predict_records(model, tokenizer, records, batch_size, precision)]


def python_kmers(sequence: str, k: int) -> str:
    return " ".join(sequence[i : i + k] for i in range(len(sequence) - k + 1))


@torch.inference_mode()
def run_naive(members: dict, heads: dict, sequences, batch_size):
    """The usual script: for each k in turn, strings -> BertTokenizer -> BertModel (fp32) -> head."""
    per_member = []
    for k, (tokenizer, encoder) in members.items():
        probabilities = []
        for start in range(0, len(sequences), batch_size):
            texts = [python_kmers(s, k) for s in sequences[start : start + batch_size]]
            batch = tokenizer(texts, padding=True, return_tensors="pt").to(encoder.device)
            states = encoder(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).last_hidden_state
            logits = heads[k](mean_of_kmer_states(states, batch["attention_mask"])).squeeze(-1)
            probabilities.append(torch.sigmoid(logits))
        per_member.append(torch.cat(probabilities))
    return torch.stack(per_member, -1).mean(-1).tolist()


def compiled_run(model, tokenizer, sequences, batch_size, eager_s, eager_probabilities) -> dict:
    """(a) with `--compile` (`compile_for_inference`): the first pass, which compiles, and the steady state."""
    compiled = compile_for_inference(copy.deepcopy(model), batch_size)
    first_s, _ = timed(lambda: run_package(compiled, tokenizer, sequences, batch_size))
    steady_s, probabilities = timed(lambda: run_package(compiled, tokenizer, sequences, batch_size), repeat=2)
    return {
        "first_pass_s": first_s,
        "seq_per_s": len(sequences) / steady_s,
        "over_eager": eager_s / steady_s,
        "max_difference_to_eager": max(abs(a - b) for a, b in zip(probabilities, eager_probabilities)),
    }


def tokenization_times(sequences, kmers, stock_tokenizers):
    ours = KmerTokenizer(kmers=kmers)
    ours_time, _ = timed(lambda: ours(sequences, padding=True, return_tensors="pt"), repeat=3)
    naive_time, _ = timed(
        lambda: [stock_tokenizers[k]([python_kmers(s, k) for s in sequences], padding=True) for k in kmers]
    )
    return ours_time, naive_time


def forward_flops(sequences, kmers) -> float:
    """Matrix-multiply FLOPs of one ensemble pass: dense layers plus attention, per member and token."""
    h, i, layers = MEMBER["hidden_size"], MEMBER["intermediate_size"], MEMBER["num_hidden_layers"]
    total = 0.0
    for sequence in sequences:
        for k in kmers:
            tokens = len(sequence) - k + 3
            total += layers * (2 * tokens * (4 * h * h + 2 * h * i) + 4 * tokens * tokens * h)
    return total


def matmul_peak(dtype, device) -> float:
    a, b = (torch.randn(8192, 8192, dtype=dtype, device=device) for _ in range(2))
    synchronised = (lambda: (a @ b).sum().item()) if device.type == "cuda" else (lambda: a @ b)
    synchronised()
    seconds, _ = timed(synchronised, repeat=3)
    return 2 * 8192**3 / seconds


def device_name(device) -> str:
    return torch.cuda.get_device_name(device) if device.type == "cuda" else cpu_model()


def scan_run(model_dir: Path, megabases: float, workdir: Path, args, compiled: bool = False) -> dict:
    """Scan `megabases` of the hg38 slice (repeated past its 2.3 Mbp) in a fresh process; bp/s, peak memory.

    The time includes the process start and, with `compiled`, the compilation."""
    from ienhancer_elm.sequences import read_fasta

    bases = int(megabases * 1e6)
    genome = read_fasta(GENOME)[0][2][10_000:]  # past the leading run of N
    sequence = (genome * -(-bases // len(genome)))[:bases]  # repeated where more is asked for than it holds
    fasta = workdir / f"slice_{megabases}.fa"
    fasta.write_text(">chr2\n" + "\n".join(sequence[i : i + 60] for i in range(0, len(sequence), 60)) + "\n")
    arguments = ["scan", str(fasta), "--model", str(model_dir), "-o", str(workdir / "out.bed"), "--no-progress"]
    arguments += ["--stride", str(args.scan_stride), "--device", args.device, "--batch-size", str(args.batch_size)]
    arguments += ["--compile"] if compiled else []
    # VmHWM, not ru_maxrss: the latter keeps the peak of the process forked from this one before exec.
    code = (
        "import re, sys, time; from ienhancer_elm.cli import main; t = time.perf_counter(); "
        f"main({arguments!r}); seconds = time.perf_counter() - t; "
        "print(seconds, re.search(r'VmHWM:\\s+(\\d+) kB', open('/proc/self/status').read()).group(1))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    seconds, peak_kib = done.stdout.split()
    return {
        "compiled": compiled,
        "bp": bases,
        "seconds": float(seconds),
        "bp_per_s": bases / float(seconds),
        "peak_mib": int(peak_kib) / 1024,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sequences", type=int, default=400, help="layer-1 test sequences to classify")
    parser.add_argument("--kmers", type=int, nargs="+", default=[3, 4, 5, 6])
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--copies", type=int, default=1, help="repeat the sequences, for devices 400 cannot fill")
    parser.add_argument("--device", default="cpu", help="cpu, cuda, ... (tokenization always runs on the CPU)")
    parser.add_argument("--scan-mbp", type=float, nargs="*", default=[1.0, 2.3])
    parser.add_argument("--scan-stride", type=int, default=200, help="window stride of the scan runs")
    parser.add_argument("--scan-repeats", type=int, default=2, help="runs of each scan size (memory varies by run)")
    parser.add_argument("--compile", action="store_true", help="also time (a) and the scans with --compile")
    parser.add_argument(
        "--default-allocator", action="store_true", help="leave glibc's malloc settings as they are (for comparison)"
    )
    parser.add_argument("-o", "--output", default="bench/results.json")
    args = parser.parse_args()
    transformers_logging.disable_progress_bar()
    torch.manual_seed(0)
    allocator_tuned = not args.default_allocator and keep_freed_memory()  # as the CLI does; (b) runs under it too
    sequences = load_split(REPO / "hub_configs/datasets/ienhancer-benchmarks", "layer1", "test")["sequence"]
    distinct = list(sequences)[: args.sequences]
    sequences = distinct * args.copies
    device = torch.device(args.device)
    results = {
        "device": device_name(device),
        "torch_threads": torch.get_num_threads(),
        "bf16_units": bf16_supported(device),
        "glibc_keeps_freed_memory": allocator_tuned,
        "member": MEMBER,
        "kmers": args.kmers,
        "sequences": len(sequences),
        "batch_size": args.batch_size,
    }
    with tempfile.TemporaryDirectory() as tmp:
        folder = random_ensemble(args.kmers, Path(tmp) / "ensemble")
        model, tokenizer = load_model(folder, device, precision="auto")
        fp32_model, _ = load_model(folder, device, precision="fp32")  # (b) and the autocast variant start from fp32
        member_dirs = {k: export_member(fp32_model, k, Path(tmp) / f"member_k{k}") for k in args.kmers}
        stock = {k: BertTokenizer.from_pretrained(path, do_lower_case=False) for k, path in member_dirs.items()}
        members = {
            k: (
                stock[k],
                BertModel.from_pretrained(path, add_pooling_layer=False, dtype=torch.float32).to(device).eval(),
            )
            for k, path in member_dirs.items()
        }
        heads = {k: fp32_model.member(k).head for k in args.kmers}
        run_package(model, tokenizer, sequences[:8], args.batch_size)  # warm-up
        package_s, ours = timed(lambda: run_package(model, tokenizer, sequences, args.batch_size), repeat=2)
        run_package(fp32_model, tokenizer, sequences[:8], args.batch_size, "bf16")
        autocast_s, _ = timed(lambda: run_package(fp32_model, tokenizer, sequences, args.batch_size, "bf16"), repeat=2)
        naive_s, theirs = timed(lambda: run_naive(members, heads, sequences, args.batch_size))
        threshold = model.config.threshold
        flops = forward_flops(sequences, args.kmers)
        results["predict"] = {
            "package_seq_per_s": len(sequences) / package_s,
            "naive_seq_per_s": len(sequences) / naive_s,
            "autocast_seq_per_s": len(sequences) / autocast_s,
            "bf16_weights_over_autocast": autocast_s / package_s,
            "speedup": naive_s / package_s,
            "labels_identical": [p > threshold for p in ours] == [p > threshold for p in theirs],
            "max_probability_difference": max(abs(a - b) for a, b in zip(ours, theirs)),
            "package_gflop_per_s": flops / package_s / 1e9,
            "measured_matmul_peak_gflop_per_s": {
                "fp32": matmul_peak(torch.float32, device) / 1e9,
                "bf16": matmul_peak(torch.bfloat16, device) / 1e9,
            },
        }
        peak = results["predict"]["measured_matmul_peak_gflop_per_s"]["bf16" if results["bf16_units"] else "fp32"]
        results["predict"]["fraction_of_matmul_peak"] = results["predict"]["package_gflop_per_s"] / peak
        if args.compile:
            results["compiled"] = compiled_run(model, tokenizer, sequences, args.batch_size, package_s, ours)
            results["compiled"]["over_naive"] = results["compiled"]["seq_per_s"] / results["predict"]["naive_seq_per_s"]
        ours_tok, naive_tok = tokenization_times(distinct * 10, tuple(args.kmers), stock)
        results["tokenization"] = {
            "sequences": len(distinct) * 10,
            "package_s": ours_tok,
            "naive_s": naive_tok,
            "speedup": naive_tok / ours_tok,
        }
        if GENOME.is_file() and args.scan_mbp:
            scans = [scan_run(folder, mbp, Path(tmp), args) for _ in range(args.scan_repeats) for mbp in args.scan_mbp]
            if args.compile:
                scans += [scan_run(folder, mbp, Path(tmp), args, compiled=True) for mbp in args.scan_mbp]
            # Peaks vary by several percent between runs of one size (allocator timing): compare each size's highest.
            eager = [run for run in scans if not run["compiled"]]
            peaks = [max(run["peak_mib"] for run in eager if run["bp"] == int(mbp * 1e6)) for mbp in args.scan_mbp]
            results["scan"] = {
                "window": 200,
                "stride": args.scan_stride,
                "runs": scans,
                "memory_ratio_largest_to_smallest": peaks[-1] / peaks[0],
            }
    Path(args.output).write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
