"""Motifs from attributions (issue 34, item 2): planted GATA and AP-1 sites, learnt by a small model, come back
as MoDISco patterns matched to their JASPAR families. An integration test: MoDISco takes minutes here."""

import json
import random

import pytest
import torch

from conftest import write_synthetic_dataset

AP1_SITE = "TGAGTCA"
GATA_SITE = "AGATAAGG"


def two_site_sequences(n: int, length: int, seed: int):
    """Random DNA; positives carry three copies of a GATA site (even positives) or of an AP-1 site (odd ones)."""
    rng = random.Random(seed)
    sequences, labels = [], []
    for i in range(n):
        sequence = [rng.choice("ACGT") for _ in range(length)]
        label = i % 2
        if label:
            site = GATA_SITE if (i // 2) % 2 == 0 else AP1_SITE
            for _ in range(3):
                start = rng.randrange(0, length - len(site))
                sequence[start : start + len(site)] = site
        sequences.append("".join(sequence))
        labels.append(label)
    return sequences, labels


@pytest.fixture(scope="module")
def two_site_model(tmp_path_factory):
    from ienhancer_elm.hub_export import tiny_model, write_model_folder
    from ienhancer_elm.tokenization_ienhancer_elm import KmerTokenizer

    torch.manual_seed(0)
    model = tiny_model(kmers=(3,)).train()
    tokenizer = KmerTokenizer(kmers=(3,))
    sequences, labels = two_site_sequences(768, 100, seed=11)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    for _ in range(5):
        order = torch.randperm(len(sequences)).tolist()
        for start in range(0, len(order), 32):
            batch = order[start : start + 32]
            inputs = tokenizer([sequences[i] for i in batch], return_tensors="pt")
            model(**inputs, labels=torch.tensor([labels[i] for i in batch])).loss.backward()
            optimizer.step()
            optimizer.zero_grad()
    return write_model_folder(model.eval(), tmp_path_factory.mktemp("two-sites") / "model")


def test_planted_gata_and_ap1_sites_come_back_as_matched_motifs(two_site_model, tmp_path):
    for module in ("pyjaspar", "memelite", "modiscolite"):
        pytest.importorskip(module, reason="the motifs extra is not installed")
    from datasets import Dataset

    from ienhancer_elm.cli import main
    from ienhancer_elm.release.dataset_repo import features_for

    dataset = write_synthetic_dataset(tmp_path / "data", n_train=8, n_test=4, length=100)
    sequences, labels = two_site_sequences(1200, 200, seed=3)  # MoDISco's seqlets (41 bp) want room around sites
    n = len(sequences)
    table = {
        "id": [str(i) for i in range(n)],
        "sequence": sequences,
        "label": labels,
        "group": ["s"] * n,
        "header": [""] * n,
        "in_train": [False] * n,
    }
    Dataset.from_dict(table, features=features_for("layer1")).to_parquet(dataset / "layer1" / "train.parquet")
    out = tmp_path / "motifs"
    command = ["motifs", "--method", "attribution", "--model", str(two_site_model), "--dataset", str(dataset)]
    assert main([*command, "-o", str(out), "--no-progress"]) == 0
    summary = json.loads((out / "motifs.json").read_text())
    raising = [m for m in summary["motifs"] if m["id"].startswith("pos") and m["matched"]]
    gata = [m for m in raising if "GATA" in m["best_match"]["name"].upper()]
    assert gata and ("GATA" in gata[0]["consensus"] or "TATC" in gata[0]["consensus"]), summary["motifs"]
    # the AP-1 pattern keeps wide flanks after trimming, so its best JASPAR hit may be a longer motif: an AP-1
    # family member must be among its matches at q < 0.05
    ap1 = [m for m in raising if "TGACTCA" in m["consensus"] or "TGAGTCA" in m["consensus"]]
    family = ("FOS", "JUN", "BATF", "ATF", "BACH", "NFE2", "MAF")
    assert ap1, summary["motifs"]
    assert any(hit["name"].upper().startswith(family) and hit["q"] < 0.05 for hit in ap1[0]["top_matches"]), ap1
    report = (out / "report.md").read_text()
    assert report.startswith("# Motifs from attributions") and "support" in report
    assert (out / "motifs.meme").read_text().startswith("MEME version")
