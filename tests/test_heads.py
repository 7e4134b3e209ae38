"""Head refitting: graded scores on features with large norms, and the standardisation folded in exactly."""

import numpy as np
import torch

from ienhancer_elm.training.heads import HeadSettings, fit_head, fold_standardisation, head_probabilities, modal_share


def separable_features(n=600, width=64, seed=0):
    """Two overlapping classes whose features have norms in the tens, as the members' pooled states do."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, n)
    features = rng.normal(0, 1, (n, width)) * 4 + 20
    features[:, :8] += labels[:, None] * 2.5
    return features.astype(np.float32), labels


def test_a_refitted_head_gives_graded_scores_without_ties():
    features, labels = separable_features()
    head = fit_head(features[:400], labels[:400], hidden=25, settings=HeadSettings(steps=300))
    fresh, fresh_labels = separable_features(seed=1)
    scores = head_probabilities(head, fresh)
    assert modal_share(scores) < 0.01
    assert np.mean((scores > 0.5) == fresh_labels) > 0.7  # it learned the task (the best rule gets about 0.81)


def test_an_unregularised_head_on_raw_features_saturates():
    """The failure the refit fixes: large raw features drive the Tanh units to +-1 and the scores tie."""
    features, labels = separable_features()
    head = torch.nn.Sequential(torch.nn.Linear(64, 25), torch.nn.Tanh(), torch.nn.Linear(25, 1))
    optimizer = torch.optim.Adam(head.parameters(), lr=0.05)
    x, y = torch.as_tensor(features), torch.as_tensor(labels, dtype=torch.float32)
    for _ in range(300):
        loss = torch.nn.functional.binary_cross_entropy_with_logits(head(x).squeeze(-1), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        scores = torch.sigmoid(head(torch.as_tensor(separable_features(seed=1)[0])).squeeze(-1)).numpy()
    assert modal_share(scores) > 0.05


def test_folding_the_standardisation_keeps_the_outputs():
    generator = torch.Generator().manual_seed(0)
    head = torch.nn.Sequential(
        torch.nn.Dropout(0.3), torch.nn.Linear(8, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1)
    ).eval()
    x = torch.randn(20, 8, generator=generator) * 5 + 3
    mean, std = x.mean(dim=0), x.std(dim=0)
    with torch.no_grad():
        expected = head((x - mean) / std)
        folded = fold_standardisation(head, mean, std)(x)
    assert torch.allclose(folded, expected, atol=1e-5)


def test_the_encoder_fingerprint_follows_the_encoder_and_ignores_the_head():
    """Cached features (runs/nhlf) are keyed to it: a refitted encoder must change it, a refitted head not."""
    from ienhancer_elm.hub_export import tiny_model
    from ienhancer_elm.training.heads import encoder_fingerprint

    model = tiny_model((3,))
    member = model.member(3)
    before = encoder_fingerprint(member)
    with torch.no_grad():
        member.head[1].weight.add_(1.0)
    assert encoder_fingerprint(member) == before
    with torch.no_grad():
        member.bert.encoder.layer[0].output.dense.bias.add_(1e-3)
    assert encoder_fingerprint(member) != before
