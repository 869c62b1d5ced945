"""How well themes recover known groups: adjusted Rand index and purity (bench and tests)."""
from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence


def purity(truth: Sequence[str], labels: Sequence[int]) -> float:
    """Share of texts whose theme's most common true group is their own (no theme counts as wrong)."""
    groups: dict[int, Counter] = defaultdict(Counter)
    for t, label in zip(truth, labels, strict=True):
        if label >= 0:
            groups[label][t] += 1
    return sum(c.most_common(1)[0][1] for c in groups.values()) / max(len(truth), 1)


def adjusted_rand(truth: Sequence[str], labels: Sequence[int]) -> float:
    """scikit-learn's ARI; texts without a theme each count as a group of their own."""
    from sklearn.metrics import adjusted_rand_score

    fixed = [label if label >= 0 else -(i + 1) for i, label in enumerate(labels)]
    return float(adjusted_rand_score(list(truth), fixed))
