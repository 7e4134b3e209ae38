"""Motifs from attention, as in iEnhancer-ELM (after DNABERT), compared with JASPAR by TOMTOM.

1. Per-base attention of one member ([CLS] row of the last layer, heads summed) on every positive
   sequence the model calls positive; high-attention regions as in DNABERT.
2. Candidates: the seeds (substrings of `seed_length`) inside those regions. Whole regions, as DNABERT
   counts them, rarely recur letter for letter in 200 bp benchmarks; fixed-length seeds do.
3. Enrichment: a hypergeometric test of how many positive against negative sequences contain a seed
   (either strand), Benjamini-Hochberg across seeds; seeds with q below `q_cutoff` found in at least
   `min_instances` positive sequences are kept.
4. Merging: kept seeds that overlap one another inside high-attention regions are grouped; each
   group's instances, widened to `window` bases around their centre and put on one strand, make a
   count matrix, trimmed to its informative core.
5. TOMTOM (memelite) against JASPAR CORE vertebrates (pyjaspar's bundled release, offline).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .sequences import reverse_complement

BASES = "ACGT"


class MotifError(ValueError):
    pass


def _setting(default, help: str):
    return field(default=default, metadata={"help": help})


@dataclass
class MotifSettings:
    member: int = _setting(3, "k of the member whose attention is mined")
    min_region: int = _setting(5, "shortest high-attention region, in bases (DNABERT's min_len)")
    region_ratio: float = _setting(1.0, "a base is high above this times the sequence's mean attention ...")
    region_over_minimum: float = _setting(10.0, "... and above this many times its minimum")
    seed_length: int = _setting(6, "length of the candidate seeds")
    q_cutoff: float = _setting(0.005, "BH q-value a seed's enrichment must be below (DNABERT's pval_cutoff)")
    min_instances: int = _setting(3, "positive sequences a kept seed must occur in (DNABERT's min_n_motif)")
    window: int = _setting(24, "bases around each instance that make a motif's matrix (DNABERT's window_size)")
    trim_information: float = _setting(0.3, "flanking columns below this many bits are trimmed")
    match_q: float = _setting(0.05, "a TOMTOM q-value below this counts as a JASPAR match")
    jaspar_release: str = _setting("JASPAR2024", "pyjaspar's bundled release to match against")

    def __post_init__(self):
        counts = ("member", "min_region", "seed_length", "min_instances", "window")
        problems = [
            f"{name} must be at least 1, got {getattr(self, name)}" for name in counts if getattr(self, name) < 1
        ]
        problems += [
            f"{name} must not be negative, got {getattr(self, name)}"
            for name in ("region_ratio", "region_over_minimum", "trim_information")
            if getattr(self, name) < 0
        ]
        problems += [
            f"{name} must be above 0 and at most 1, got {getattr(self, name)}"
            for name in ("q_cutoff", "match_q")
            if not 0 < getattr(self, name) <= 1
        ]
        if self.window < self.seed_length:
            problems.append(f"window ({self.window}) must cover a seed ({self.seed_length} bases)")
        if problems:
            raise MotifError("motif settings: " + "; ".join(problems))


@dataclass
class Motif:
    id: str
    counts: np.ndarray  # (4, width), rows A C G T
    instances: int
    seeds: list[str]
    p_value: float
    q_value: float
    matches: list[dict] = field(default_factory=list)

    @property
    def consensus(self) -> str:
        return "".join(BASES[i] for i in self.counts.argmax(axis=0))

    @property
    def probabilities(self) -> np.ndarray:
        return (self.counts + 0.25) / (self.counts.sum(axis=0, keepdims=True) + 1.0)


def seed_enrichment(regions_by_sequence, positives, negatives, settings: MotifSettings) -> dict[str, tuple]:
    """seed -> (positive sequences with it, all sequences with it, p, q) for seeds of high-attention regions."""
    from scipy.stats import false_discovery_control, hypergeom  # the `motifs` extra

    seeds = {
        sequence[start : start + settings.seed_length]
        for sequence, regions in regions_by_sequence
        for region_start, region_end in regions
        for start in range(region_start, region_end - settings.seed_length + 1)
    }
    seeds = sorted(s for s in seeds if set(s) <= set(BASES))
    if not seeds:
        return {}
    population, successes = len(positives) + len(negatives), len(positives)
    rows = []
    for seed in seeds:
        in_positives = sum(_contains(s, seed) for s in positives)
        in_all = in_positives + sum(_contains(s, seed) for s in negatives)
        rows.append((seed, in_positives, in_all, hypergeom.sf(in_positives - 1, population, successes, in_all)))
    q_values = false_discovery_control([row[3] for row in rows], method="bh")
    return {seed: (hits, total, p, q) for (seed, hits, total, p), q in zip(rows, q_values)}


def _contains(sequence: str, seed: str) -> bool:
    return seed in sequence or reverse_complement(seed) in sequence


def group_seeds(kept: list[str], regions_by_sequence, settings: MotifSettings) -> list[list[tuple[str, int, int]]]:
    """Instances (sequence index, start, strand) of kept seeds inside high-attention regions, grouped
    where they overlap on the same sequence (union-find over seeds)."""
    parent = {seed: seed for seed in kept}

    def root(seed):
        while parent[seed] != seed:
            parent[seed] = parent[parent[seed]]
            seed = parent[seed]
        return seed

    instances = []
    for index, (sequence, regions) in enumerate(regions_by_sequence):
        found = []
        for region_start, region_end in regions:
            for start in range(region_start, region_end - settings.seed_length + 1):
                word = sequence[start : start + settings.seed_length]
                if word in parent:
                    found.append((word, start, +1))
                elif reverse_complement(word) in parent:
                    found.append((reverse_complement(word), start, -1))
        for (a, start_a, _), (b, start_b, _) in zip(found, found[1:]):
            if start_b - start_a < settings.seed_length:
                parent[root(a)] = root(b)
        instances += [(index, word, start, strand) for word, start, strand in found]
    groups: dict[str, list] = {}
    for index, word, start, strand in instances:
        groups.setdefault(root(word), []).append((index, word, start, strand))
    return list(groups.values())


def count_matrix(anchor: str, sites: list[tuple[int, int]], sequences, settings: MotifSettings) -> np.ndarray:
    """Counts over `window` bases centred on each occurrence of the group's anchor seed (the most
    enriched), read on the anchor's strand, so that every site is aligned the same way."""
    counts = np.zeros((4, settings.window))
    for index, start in sites:
        sequence = sequences[index]
        forward = sequence[start : start + len(anchor)] == anchor
        begin = start + len(anchor) // 2 - settings.window // 2
        if begin < 0 or begin + settings.window > len(sequence):
            continue
        piece = sequence[begin : begin + settings.window]
        for column, base in enumerate(piece if forward else reverse_complement(piece)):
            if base in BASES:
                counts[BASES.index(base), column] += 1
    return counts


def anchor_sites(anchor: str, group, regions_by_sequence, seed_length: int) -> list[tuple[int, int]]:
    """(sequence index, start) of the anchor, either strand, inside the group's high-attention stretches."""
    targets = {anchor, reverse_complement(anchor)}
    sites = set()
    for index, _, start, _ in group:
        sequence = regions_by_sequence[index][0]
        for shift in range(-seed_length + 1, seed_length):
            position = start + shift
            if 0 <= position and sequence[position : position + len(anchor)] in targets:
                sites.add((index, position))
    return sorted(sites)


def _anchor(seeds, group, regions, settings: MotifSettings):
    """The most enriched seed of a group seen in high-attention stretches of at least `min_instances`
    sequences, with its sites; None when no seed is. (Overlapping seeds chain long regions into one
    group, where the most enriched seed may sit in a single sequence: a matrix from one site is no motif.)"""
    for seed in seeds:
        sites = anchor_sites(seed, group, regions, settings.seed_length)
        if len({index for index, _ in sites}) >= settings.min_instances:
            return seed, sites
    return None


def trim(counts: np.ndarray, min_bits: float) -> np.ndarray:
    """Drop flanking columns whose information content is below `min_bits`."""
    probabilities = (counts + 0.25) / (counts.sum(axis=0, keepdims=True) + 1.0)
    information = 2 + (probabilities * np.log2(probabilities)).sum(axis=0)
    informative = np.flatnonzero(information >= min_bits)
    if not len(informative):
        return counts[:, :0]
    return counts[:, informative[0] : informative[-1] + 1]


def discover(sequences_with_attention, negatives, settings: MotifSettings) -> list[Motif]:
    """Motifs from positive sequences (with their per-base attention) against negative sequences."""
    from .attention import high_attention_regions

    positives = [sequence for sequence, _ in sequences_with_attention]
    regions = [
        (
            sequence,
            high_attention_regions(scores, settings.min_region, settings.region_ratio, settings.region_over_minimum),
        )
        for sequence, scores in sequences_with_attention
    ]
    enrichment = seed_enrichment(regions, positives, negatives, settings)
    kept = [s for s, (hits, _, _, q) in enrichment.items() if q < settings.q_cutoff and hits >= settings.min_instances]
    motifs = []
    for group in group_seeds(kept, regions, settings):
        seeds = sorted({word for _, word, _, _ in group}, key=lambda s: enrichment[s][3])
        anchored = _anchor(seeds, group, regions, settings)
        if anchored is None:
            continue
        anchor, sites = anchored
        counts = trim(count_matrix(anchor, sites, positives, settings), settings.trim_information)
        if counts.shape[1] < settings.min_region:
            continue
        best = enrichment[anchor]
        motifs.append(Motif("", counts, len({index for index, _ in sites}), seeds, best[2], best[3]))
    motifs.sort(key=lambda motif: (motif.q_value, -motif.instances))
    for number, motif in enumerate(motifs, start=1):
        motif.id = f"motif_{number}"
    return motifs


def jaspar_vertebrates(release: str):
    """(id, name, probability matrix (4, width)) of JASPAR CORE vertebrate motifs from pyjaspar's bundled database."""
    from pyjaspar import jaspardb

    motifs = jaspardb(release=release).fetch_motifs(collection="CORE", tax_group=["vertebrates"])
    targets = []
    for motif in motifs:
        counts = np.array([motif.counts[base] for base in BASES], dtype=float)
        targets.append((motif.matrix_id, motif.name, counts / counts.sum(axis=0, keepdims=True)))
    return targets


def match_jaspar(motifs: list[Motif], settings: MotifSettings, top: int = 3) -> None:
    """Fill each motif's `matches`: the best JASPAR hits by TOMTOM p-value, with per-query BH q-values."""
    from memelite import tomtom
    from scipy.stats import false_discovery_control

    if not motifs:
        return
    targets = jaspar_vertebrates(settings.jaspar_release)
    p_values = tomtom([m.probabilities for m in motifs], [t[2] for t in targets], n_jobs=1)[0]
    for motif, row in zip(motifs, p_values):
        q_values = false_discovery_control(np.clip(row, 0, 1), method="bh")
        for target in np.argsort(row)[:top]:
            matrix_id, name, _ = targets[target]
            motif.matches.append({"id": matrix_id, "name": name, "p": float(row[target]), "q": float(q_values[target])})


def motifs_from_model(model, tokenizer, sequences, labels, settings: MotifSettings, batch_size=32, progress=None):
    """The whole procedure on labelled sequences: attention on the true positives the model calls
    positive, seeds against all negatives, JASPAR matches. Returns the motifs and a run summary."""
    from .attention import base_attention
    from .predict import predict_records
    from .sequences import Record

    if settings.member not in model.config.kmers:
        raise MotifError(f"the model has no k={settings.member} member (it has {model.config.kmers})")
    records = [Record(str(i), s) for i, s in enumerate(sequences)]
    rows = list(predict_records(model, tokenizer, progress(records) if progress else records, batch_size))
    called = [s for s, y, row in zip(sequences, labels, rows) if y == 1 and row.label == model.config.id2label[1]]
    negatives = [s for s, y in zip(sequences, labels) if y == 0]
    attention = base_attention(model, called, settings.member, batch_size)
    motifs = discover(list(zip(called, attention)), negatives, settings)
    match_jaspar(motifs, settings)
    summary = {"positives called positive": len(called), "negatives": len(negatives), "member": f"k={settings.member}"}
    return motifs, summary
