"""Training a complaint model: scikit-learn's logistic regression over the features of
``helpdesk_complaints.detection.features``, exported as a ``LinearModel`` (JSON weights).

Used offline by ``scripts/train_builtin.py`` (the built-in model) and by the periodic job that
learns from the team's corrections (``helpdesk_complaints.learning``). scikit-learn is imported
here only, so classifying a message never loads it.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from helpdesk_complaints.detection import cues_fired, features, vader
from helpdesk_complaints.model import LinearModel


def featurize(texts: Sequence[str]) -> list[dict[str, float]]:
    """The features of each text, as the detector computes them."""
    out = []
    for text in texts:
        text = (text or "")[:5000]
        feats, _ = features(text, vader(text), cues_fired(text))
        out.append(feats)
    return out


@dataclass
class Scores:
    precision: float
    recall: float
    f1: float
    count: int

    def as_dict(self) -> dict:
        return {"precision": round(self.precision, 3), "recall": round(self.recall, 3), "f1": round(self.f1, 3),
                "count": self.count}


def scores(predicted: Sequence[bool], gold: Sequence[bool]) -> Scores:
    tp = sum(p and g for p, g in zip(predicted, gold, strict=True))
    fp = sum(p and not g for p, g in zip(predicted, gold, strict=True))
    fn = sum(g and not p for p, g in zip(predicted, gold, strict=True))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Scores(precision, recall, f1, len(gold))


def choose_cutoff(probabilities: Sequence[float], gold: Sequence[bool], min_precision: float = 0.85) -> float:
    """The cut-off with the best F1 among those keeping ``min_precision`` (the best F1 if none does)."""
    best, best_any = (-1.0, 0.5), (-1.0, 0.5)
    for step in range(10, 91):
        cut = step / 100
        s = scores([p >= cut for p in probabilities], gold)
        if s.f1 > best_any[0]:
            best_any = (s.f1, cut)
        if s.precision >= min_precision and s.f1 > best[0]:
            best = (s.f1, cut)
    return best[1] if best[0] >= 0 else best_any[1]


def _prune(rows: list[dict[str, float]], min_count: int) -> list[dict[str, float]]:
    counts = Counter(key for row in rows for key in row)
    return [{k: v for k, v in row.items() if counts[k] >= min_count or not k.startswith(("w:", "b:", "c:"))}
            for row in rows]


def fit(rows: list[dict[str, float]], gold: Sequence[bool], *, c: float = 1.0, min_count: int = 2,
        cutoff: float = 0.5, meta: dict | None = None) -> LinearModel:
    """A logistic regression over ``rows`` (feature dicts), as a ``LinearModel``."""
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    vectorizer = DictVectorizer()
    matrix = vectorizer.fit_transform(_prune(rows, min_count)).tocsr()
    matrix.indices = matrix.indices.astype("int32")  # liblinear takes 32-bit indices only
    matrix.indptr = matrix.indptr.astype("int32")
    classifier = LogisticRegression(C=c, max_iter=2000, class_weight="balanced", solver="liblinear")
    classifier.fit(matrix, [int(g) for g in gold])
    names = vectorizer.get_feature_names_out()
    weights = {str(name): float(w) for name, w in zip(names, classifier.coef_[0], strict=True) if abs(w) >= 1e-3}
    return LinearModel(bias=float(classifier.intercept_[0]), weights=weights, cutoff=cutoff, meta=dict(meta or {}))


def out_of_fold(rows: list[dict[str, float]], gold: Sequence[bool], *, c: float = 1.0, folds: int = 5,
                min_count: int = 2, seed: int = 0) -> list[float]:
    """Each row's probability from a model trained on the other folds (stratified, shuffled)."""
    import random

    order = list(range(len(rows)))
    random.Random(seed).shuffle(order)
    positives = [i for i in order if gold[i]]
    negatives = [i for i in order if not gold[i]]
    fold_of = {i: n % folds for n, i in enumerate(positives)} | {i: n % folds for n, i in enumerate(negatives)}
    probabilities = [0.0] * len(rows)
    for fold in range(folds):
        train = [i for i in order if fold_of[i] != fold]
        test = [i for i in order if fold_of[i] == fold]
        if not test or len({bool(gold[i]) for i in train}) < 2:
            continue
        model = fit([rows[i] for i in train], [gold[i] for i in train], c=c, min_count=min_count)
        for i in test:
            probabilities[i] = model.probability(rows[i])
    return probabilities
