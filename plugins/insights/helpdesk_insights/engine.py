"""Themes from short texts, offline: TF-IDF, k-means on a reduced space, nearest centroid.

No database here: ``fit`` groups a list of texts, ``vectorize`` and ``nearest`` assign one
new text to the themes a fit left (in well under a millisecond: plain Python over the few
terms of one text), ``key_phrases`` names a theme. Centroids are kept as ``{term: weight}``
so themes fitted with different vocabularies can still be compared (re-clustering keeps
a theme's name, pin and action by matching old centroids to new ones).
"""
from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

# numpy (about 16 MiB and 85 modules) is imported by the functions that fit or split
# themes, which run in jobs: a web process that only assigns one text never loads it.
if TYPE_CHECKING:
    import numpy as np

# Words that carry no theme in support messages (on top of scikit-learn's English list).
SUPPORT_STOP_WORDS = frozenset("""
hi hello hey dear thanks thank regards cheers best kind please help team support ticket hope
today yesterday tomorrow week just really need want would could get got also still one two
sir madam im ive dont cant wont didnt doesnt isnt hasnt havent ok okay yes asap urgent
""".split())
TOKEN = r"(?u)\b[^\W\d_][^\W\d_]+\b"
TOP_TERMS = 300  # terms kept per centroid
SAMPLE = 3000  # texts grouped (every text is then assigned to the nearest group)
DIMS = 30  # LSA dimensions the groups are formed in
DISTANCE = 0.9  # average-linkage cosine distance under which groups join (see DATA.md)


def _stop_words() -> list[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return sorted(set(ENGLISH_STOP_WORDS) | SUPPORT_STOP_WORDS)


def make_vectorizer(min_df: int | float = 2, max_features: int = 20000):
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(stop_words=_stop_words(), token_pattern=TOKEN, ngram_range=(1, 2), min_df=min_df,
                           max_df=0.5, sublinear_tf=True, max_features=max_features, lowercase=True,
                           dtype=np.float32)


@lru_cache(maxsize=1)
def _analyzer() -> Callable[[str], list[str]]:
    return make_vectorizer(min_df=1).build_analyzer()


def vectorize(text: str, idf: dict[str, float]) -> dict[str, float]:
    """One text as an L2-normalised TF-IDF vector over ``idf``'s terms (as ``fit`` made them)."""
    counts = Counter(term for term in _analyzer()(text or "") if term in idf)
    weights = {term: (1.0 + math.log(n)) * idf[term] for term, n in counts.items()}
    norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
    return {term: w / norm for term, w in weights.items()}


def cosine(a: dict[str, float], b: dict[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    dot = sum(w * b.get(t, 0.0) for t, w in a.items())
    na = math.sqrt(sum(w * w for w in a.values())) or 1.0
    nb = math.sqrt(sum(w * w for w in b.values())) or 1.0
    return dot / (na * nb)


def nearest(vector: dict[str, float], centroids: Sequence[tuple[int, dict[str, float]]],
            threshold: float) -> tuple[int | None, float]:
    """The id of the closest centroid and the similarity; ``None`` when none reaches ``threshold``."""
    best, best_sim = None, 0.0
    if not vector:
        return None, 0.0
    for ident, centroid in centroids:
        sim = sum(w * centroid.get(t, 0.0) for t, w in vector.items())  # both unit length
        if sim > best_sim:
            best, best_sim = ident, sim
    return (best, best_sim) if best_sim >= threshold else (None, best_sim)


def key_phrases(centroid: dict[str, float], count: int = 3) -> list[str]:
    """The theme's strongest terms, two-word phrases first, no word said twice."""
    ranked = sorted(centroid.items(), key=lambda kv: -kv[1])[:12]
    top = ranked[0][1] if ranked else 0.0
    phrases: list[str] = []
    used: set[str] = set()
    # A two-word phrase nearly as strong as the top word reads better than the word alone.
    for term, weight in ranked:
        if " " in term and weight >= 0.45 * top and not (set(term.split()) & used):
            phrases.append(term)
            used.update(term.split())
        if len(phrases) == count:
            return phrases
    for term, _weight in ranked:
        if " " not in term and term not in used:
            phrases.append(term)
            used.add(term)
        if len(phrases) == count:
            break
    return phrases


def theme_name(phrases: Sequence[str]) -> str:
    return (" · ".join(phrases[:3]) or "Unnamed theme")[:120].capitalize()


def sparse_centroid(row: np.ndarray, terms: Sequence[str], top: int = TOP_TERMS) -> dict[str, float]:
    """The ``top`` heaviest terms of a dense centroid, re-normalised to unit length."""
    import numpy as np

    order = np.argsort(-row)[:top]
    kept = {terms[i]: float(row[i]) for i in order if row[i] > 0}
    norm = math.sqrt(sum(w * w for w in kept.values())) or 1.0
    return {t: round(w / norm, 6) for t, w in kept.items()}


@dataclass
class Fit:
    idf: dict[str, float]
    centroids: list[dict[str, float]]
    labels: list[int]  # per text: index into centroids, -1 for "no theme"
    similarities: list[float]
    sizes: list[int] = field(default_factory=list)


def fit(texts: Sequence[str], *, max_themes: int = 40, threshold: float = 0.1, min_size: int = 3,
        distance: float = DISTANCE, seed: int = 0, progress: Callable[[str, int], None] | None = None) -> Fit:
    """Group ``texts`` into themes (as many as the data holds, the ``max_themes`` largest kept).

    A sample of at most ``SAMPLE`` texts is reduced to ``DIMS`` dimensions (LSA) and grouped
    by average linkage; every text then goes to the nearest group's centroid.

    Texts whose best similarity is under ``threshold`` get no theme (-1); themes smaller than
    ``min_size`` are dropped (their texts go to the next best theme or none).
    """
    import numpy as np
    from sklearn.cluster import AgglomerativeClustering
    from sklearn.decomposition import TruncatedSVD
    from sklearn.preprocessing import normalize

    def step(what: str, pct: int) -> None:
        if progress is not None:
            progress(what, pct)

    n = len(texts)
    if n < max(2 * min_size, 6):
        return Fit({}, [], [-1] * n, [0.0] * n)
    step("vectorising", 5)
    vectorizer = make_vectorizer(min_df=2 if n >= 50 else 1)
    try:
        X = vectorizer.fit_transform(texts)
    except ValueError:  # nothing but stop words
        return Fit({}, [], [-1] * n, [0.0] * n)
    terms = vectorizer.get_feature_names_out()
    idf = {str(t): round(float(w), 5) for t, w in zip(terms, vectorizer.idf_, strict=True)}
    rng = np.random.default_rng(seed)
    sample = np.sort(rng.choice(n, size=min(n, SAMPLE), replace=False))
    Xs = X[sample]
    step("reducing", 20)
    dims = max(2, min(DIMS, Xs.shape[1] - 1, len(sample) - 1))
    reduced = normalize(TruncatedSVD(n_components=dims, random_state=seed).fit_transform(Xs))
    step("grouping", 40)
    # Average-linkage on the reduced space: texts join while their groups stay within
    # ``distance`` (cosine); the number of themes follows from the data.
    groups = AgglomerativeClustering(n_clusters=None, distance_threshold=distance, metric="cosine",
                                     linkage="average").fit_predict(reduced)
    sizes = np.bincount(groups)
    order = [c for c in np.argsort(-sizes) if sizes[c] >= min_size][:max_themes]
    if not order:
        return Fit(idf, [], [-1] * n, [0.0] * n)
    k = len(order)
    # Centroids back in TF-IDF space: the mean of each group's members.
    dense = np.zeros((k, X.shape[1]), dtype=np.float64)
    for i, c in enumerate(order):
        dense[i] = np.asarray(Xs[groups == c].mean(axis=0)).ravel()
    dense = normalize(dense)
    step("assigning every text", 75)
    labels, sims = _assign_all(X, dense, threshold)
    # Final centroids from every member (not only the sample), kept sparse.
    step("naming themes", 90)
    centroids = []
    for c in range(dense.shape[0]):
        members = X[labels == c]
        row = np.asarray(members.mean(axis=0)).ravel() if members.shape[0] else dense[c]
        centroids.append(sparse_centroid(row, terms))
    sizes = np.bincount(labels[labels >= 0], minlength=len(centroids))
    step("done", 100)
    return Fit(idf, centroids, [int(x) for x in labels], [round(float(s), 4) for s in sims],
               [int(s) for s in sizes])


def _assign_all(X, dense: np.ndarray, threshold: float, chunk: int = 20000) -> tuple[np.ndarray, np.ndarray]:
    import numpy as np

    labels = np.empty(X.shape[0], dtype=np.int64)
    sims = np.empty(X.shape[0], dtype=np.float64)
    for start in range(0, X.shape[0], chunk):
        scores = np.asarray(X[start:start + chunk] @ dense.T)
        best = scores.argmax(axis=1)
        value = scores[np.arange(scores.shape[0]), best]
        labels[start:start + chunk] = np.where(value >= threshold, best, -1)
        sims[start:start + chunk] = value
    return labels, sims


def split(texts: Sequence[str], idf: dict[str, float], parts: int = 2, seed: int = 0) -> tuple[list[int],
                                                                                             list[dict[str, float]]]:
    """Split one theme's texts in ``parts`` (k-means in the model's space): labels and centroids."""
    import numpy as np
    from sklearn.cluster import KMeans
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.preprocessing import normalize

    vectors = [vectorize(t, idf) for t in texts]
    dv = DictVectorizer()
    X = normalize(dv.fit_transform(vectors))
    labels = KMeans(n_clusters=parts, n_init=4, random_state=seed).fit_predict(X)
    names = dv.get_feature_names_out()
    centroids = []
    for c in range(parts):
        row = np.asarray(X[labels == c].mean(axis=0)).ravel()
        centroids.append(sparse_centroid(row, [str(t) for t in names]))
    return [int(x) for x in labels], centroids


def blend(a: dict[str, float], wa: float, b: dict[str, float], wb: float) -> dict[str, float]:
    """The centroid of two themes merged (weighted by their sizes), unit length, top terms kept."""
    terms = set(a) | set(b)
    row = {t: wa * a.get(t, 0.0) + wb * b.get(t, 0.0) for t in terms}
    top = sorted(row.items(), key=lambda kv: -kv[1])[:TOP_TERMS]
    norm = math.sqrt(sum(w * w for _, w in top)) or 1.0
    return {t: round(w / norm, 6) for t, w in top}


_VADER = None


def sentiment(text: str) -> float:
    """VADER's compound score, -1 (angry) .. 1 (delighted)."""
    global _VADER
    if _VADER is None:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        _VADER = SentimentIntensityAnalyzer()
    return round(float(_VADER.polarity_scores((text or "")[:2000])["compound"]), 3)


def clean(text: str, limit: int = 2000) -> str:
    """Quoted replies and signatures cut, whitespace collapsed."""
    lines = []
    for line in (text or "").splitlines():
        if line.startswith(">") or re.match(r"^On .+ wrote:$", line.strip()) or line.strip() == "--":
            break
        lines.append(line)
    return re.sub(r"\s+", " ", " ".join(lines)).strip()[:limit]
