"""The own-data path of docs/training.md ("Your own cell type") as a user runs it, on tiny data: `ienhancer-elm
dataset` from BED regions on a genome (negatives drawn from it, GC-matched), a member fine-tuned with `accelerate
launch`, the ensemble with its spectrum member, its genomic background, its evaluation on the held-out split and
its card."""

import json
import random
import subprocess
import sys

from .conftest import subprocess_env
from .test_training_runs import TINY_RUN, launch
from conftest import GATA_SITE, REPO, biased_dna

LENGTH = 100


def planted_genome(folder, chromosomes=("chr1", "chr2", "chr3"), bases=30_000, per_chromosome=25):
    """A genome whose GC share changes every 500 bp, and a BED of regions every 1,200 bp, each with three GATA
    sites planted in the 100 bp around its centre (what the members and the spectrum member can learn)."""
    rng = random.Random(11)
    genome, bed = [], []
    for chrom in chromosomes:
        pieces = [
            biased_dna(1, rng.uniform(0.35, 0.65), 500, seed=rng.randrange(10**6))[0] for _ in range(bases // 500)
        ]
        sequence = list("".join(pieces))
        for i in range(per_chromosome):
            start = 300 + 1200 * i
            for offset in (5, 40, 80):  # the centred window is [start + 25, start + 125)
                place = start + 25 + offset
                sequence[place : place + len(GATA_SITE)] = GATA_SITE
            bed.append(f"{chrom}\t{start}\t{start + 150}\tpeak{i}")
        text = "".join(sequence)
        genome.append(f">{chrom}\n" + "\n".join(text[i : i + 60] for i in range(0, len(text), 60)))
    (folder / "genome.fa").write_text("\n".join(genome) + "\n")
    (folder / "enhancers.bed").write_text("\n".join(bed) + "\n")
    return folder / "genome.fa", folder / "enhancers.bed"


def test_own_regions_become_a_fine_tuned_ensemble_with_background_evaluation_and_card(tmp_path):
    genome, bed = planted_genome(tmp_path)
    data, model = tmp_path / "data", tmp_path / "runs" / "model"
    command = ["ienhancer-elm", "dataset", str(bed), "--reference", str(genome), "-o", str(data)]
    command += ["--config", "mycells", "--length", str(LENGTH)]
    built = subprocess.run(command, env=subprocess_env(), capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr
    assert "120 training and 30 test sequences" in built.stderr
    record = json.loads((data / "mycells" / "dataset.json").read_text())
    assert record["counts"]["test"]["enhancer"]["rows"] == record["counts"]["test"]["non-enhancer"]["rows"] == 15

    run = tmp_path / "runs" / "finetune_k3"
    settings = {**TINY_RUN, "dataset": str(data), "config": "mycells", "output_dir": str(run)}
    launch("finetune.py", {**settings, "folds": 5, "only_fold": 0, "refit": False, "epochs": 1}, tmp_path)
    assert json.loads((run / "summary.json").read_text())["member"] == "fold0/best"
    assert len((run / "fold0" / "validation_predictions.tsv").read_text().splitlines()) == 1 + 24

    assembly = [sys.executable, str(REPO / "training" / "build_ensemble.py"), "--output_dir", str(model)]
    assembly += ["--members", str(run), "--spectrum", "true"]
    built = subprocess.run(assembly, env=subprocess_env(), capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr[-3000:]
    cv = json.loads((model / "cv_results.json").read_text())
    assert (cv["benchmark"], cv["config"], cv["dataset"]) == ("own", "mycells", str(data))
    assert cv["spectrum"]["choice"]["chosen"]["share"] > 0  # the planted sites are k-mers: the spectrum sees them
    config = json.loads((model / "config.json").read_text())
    assert config["labels"] == ["non-enhancer", "enhancer"] and config["spectrum_kmers"] == [3]

    from ienhancer_elm.cli import main

    window = ["--window", str(LENGTH), "--stride", str(LENGTH)]
    assert main(["background", str(model), str(genome), *window, "--no-progress"]) == 0
    background = json.loads((model / "background.json").read_text())
    assert background["windows"] == 3 * 30_000 // LENGTH and background["pieces"][0]["file"] == "genome.fa"
    report = tmp_path / "runs" / "test.json"
    evaluation = ["evaluate", "--model", str(model), "--dataset", str(data), "--config", "mycells"]
    assert main([*evaluation, "-o", str(report), "--resamples", "50", "--no-progress"]) == 0
    figures = json.loads(report.read_text())
    assert figures["dataset"]["config"] == "mycells" and figures["results"]["all"]["n"] == 30
    assert figures["results"]["all"]["AUC_ROC"]["value"] > 0.8
    widget = str(REPO / "examples" / "sample.fasta")
    card = ["release", "card", str(model), "--repo-id", "lab/mycells", "--evaluation", str(report), "--widget", widget]
    assert main(card) == 0
    text = (model / "README.md").read_text()
    assert f"Data: config `mycells` of the dataset folder `{data}`" in text
    assert "iEnhancer-2L" not in text.split("## Training data")[1] and "\ndatasets:" not in text
    assert "name: mycells (test)" in text and "| mycells test | all | 30 |" in text
    assert "`training/build_ensemble.py --spectrum true`" in text and "## Genomic background" in text
    assert "Fine-tuning started from random weights" in text
