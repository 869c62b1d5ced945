"""A linear complaint model kept as plain JSON: features, weights, cut-off.

The features of a message (``features``) are the same when a model is trained (with
scikit-learn, in ``helpdesk_complaints.training``) and when it is applied (here, in pure Python):

* words and word pairs (``w:refund``, ``b:still no``), lower-cased, digits folded to 0;
* character 3- and 4-grams inside words (``c:ref``), which catch typos and word forms;
* VADER sentiment (``s:compound``, ``s:neg``, ``s:pos``, ``s:negative``, ``s:very_negative``);
* the detector's cues that fired (``cue:still not``) and how much cue weight fired in all;
* the shape of the message: ``??``, ``!!``, shouting, addressed to an @handle, length.

Each group is scaled to unit length, so a long letter does not outvote a tweet by its length.
A model is ``{"bias": b, "weights": {feature: w}, "cutoff": p, ...}``: loading it runs no code
(unlike a pickle), and it is small enough to keep in the database.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

BUILTIN_PATH = Path(__file__).parent / "data" / "builtin_model.json"
WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)?", re.UNICODE)
DIGITS = re.compile(r"\d")
EMOJI_BAD = set("😡🤬😤🙄👎😠😒😞😩😫💩")
EMOJI_GOOD = set("😊🙏👍❤🎉😍🥰⭐😀😁😄😂😅🥂🔥👏")


READABLE = {"s:compound": "sentiment score", "s:neg": "negative words (VADER)", "s:pos": "positive words (VADER)",
            "s:negative": "negative sentiment", "s:very_negative": "very negative sentiment",
            "s:very_positive": "very positive sentiment", "cue:total": "the cues together", "x:??": '"??"',
            "x:!!": '"!!"', "x:shouting": "capitals", "x:@handle": "addressed to an @handle",
            "x:emoji-": "an angry emoji", "x:emoji+": "a happy emoji", "x:long": "a long message",
            "x:short": "a short message"}


def tokens(text: str) -> list[str]:
    """Lower-cased words, digits folded to 0 (order numbers should not count)."""
    return WORD.findall(DIGITS.sub("0", text.lower()))


def _scaled(group: dict[str, float]) -> dict[str, float]:
    norm = math.sqrt(sum(v * v for v in group.values())) or 1.0
    return {k: v / norm for k, v in group.items()}


@lru_cache(maxsize=20000)
def char_grams(word: str) -> tuple[str, ...]:
    """The character 3- and 4-grams of one word, with a space marking its start and end."""
    padded = f" {word} "
    return tuple(dict.fromkeys(f"c:{padded[i:i + n]}" for n in (3, 4) for i in range(len(padded) - n + 1)))


def text_features(words: list[str]) -> dict[str, float]:
    """Words, word pairs and character n-grams, each group scaled to unit length."""
    unigrams = {f"w:{w}": 1.0 for w in words}
    bigrams = {f"b:{a} {b}": 1.0 for a, b in zip(words, words[1:], strict=False)}
    chars = {gram: 1.0 for w in set(words) for gram in char_grams(w)}
    return {**_scaled(unigrams), **_scaled(bigrams), **{k: v * 0.7 for k, v in _scaled(chars).items()}}


def shape_features(text: str, words: list[str]) -> dict[str, float]:
    feats: dict[str, float] = {}
    if "??" in text:
        feats["x:??"] = 1.0
    if "!!" in text:
        feats["x:!!"] = 1.0
    caps = [w for w in re.findall(r"[A-Za-z]{3,}", text) if w.isupper()]
    if len(caps) >= 2 or (caps and len(words) <= 4):
        feats["x:shouting"] = 1.0
    if text.lstrip().startswith("@") or re.search(r"(?<!\w)@\w", text):
        feats["x:@handle"] = 1.0
    if any(ch in EMOJI_BAD for ch in text):
        feats["x:emoji-"] = 1.0
    if any(ch in EMOJI_GOOD for ch in text):
        feats["x:emoji+"] = 1.0
    feats["x:long"] = 1.0 if len(words) > 60 else 0.0
    feats["x:short"] = 1.0 if len(words) <= 6 else 0.0
    return {k: v for k, v in feats.items() if v}


def sentiment_features(vader: dict[str, float]) -> dict[str, float]:
    compound = vader.get("compound", 0.0)
    feats = {"s:compound": compound, "s:neg": vader.get("neg", 0.0), "s:pos": vader.get("pos", 0.0)}
    if compound <= -0.05:
        feats["s:negative"] = 1.0
    if compound <= -0.5:
        feats["s:very_negative"] = 1.0
    if compound >= 0.5:
        feats["s:very_positive"] = 1.0
    return feats


def cue_features(cues: list[tuple[str, float]]) -> dict[str, float]:
    feats = {f"cue:{name}": 1.0 for name, _ in cues}
    total = sum(weight for _, weight in cues)
    if total:
        feats["cue:total"] = max(-1.0, min(total, 3.0)) / 3
    return feats


@dataclass
class LinearModel:
    """Weights over named features; ``probability`` is the logistic of their sum."""

    bias: float
    weights: dict[str, float]
    cutoff: float = 0.5
    meta: dict = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: dict | str) -> LinearModel:
        raw = json.loads(data) if isinstance(data, str) else data
        weights = {str(k): float(v) for k, v in (raw.get("weights") or {}).items()}
        cutoff = float(raw.get("cutoff", 0.5))
        if not 0.0 < cutoff < 1.0:
            raise ValueError("cutoff must lie between 0 and 1")
        return cls(bias=float(raw.get("bias", 0.0)), weights=weights, cutoff=cutoff, meta=dict(raw.get("meta") or {}))

    def to_json(self) -> dict:
        return {"bias": round(self.bias, 5), "cutoff": round(self.cutoff, 5), "meta": self.meta,
                "weights": {k: round(v, 5) for k, v in sorted(self.weights.items())}}

    def logit(self, feats: dict[str, float]) -> float:
        get = self.weights.get
        return self.bias + sum(get(k, 0.0) * v for k, v in feats.items())

    def probability(self, feats: dict[str, float]) -> float:
        return sigmoid(self.logit(feats))

    def contributions(self, feats: dict[str, float], words: list[str], top: int = 4) -> list[tuple[str, float]]:
        """The strongest readable reasons: words (with their character n-grams), word pairs, other features."""
        per: dict[str, float] = {}
        get = self.weights.get
        for key, value in feats.items():
            weight = get(key, 0.0) * value
            if not weight:
                continue
            kind, _, name = key.partition(":")
            if kind == "c":
                continue
            label = READABLE.get(key) or {"w": f'word "{name}"', "b": f'words "{name}"',
                                          "cue": f'cue "{name}"'}.get(kind, key)
            per[label] = per.get(label, 0.0) + weight
        for word in set(words):  # character n-grams count towards the word they come from
            share = sum(get(g, 0.0) * feats.get(g, 0.0) for g in char_grams(word))
            if share:
                label = f'word "{word}"'
                per[label] = per.get(label, 0.0) + share
        ranked = sorted(per.items(), key=lambda kv: kv[1], reverse=True)
        return [(label, value) for label, value in ranked[:top] if value > 0.05]

    def top_words(self, count: int = 15) -> list[tuple[str, float]]:
        """The words and word pairs weighing most towards a complaint."""
        words = [(k.partition(":")[2], v) for k, v in self.weights.items() if k[:2] in ("w:", "b:")]
        return sorted(words, key=lambda kv: kv[1], reverse=True)[:count]


def sigmoid(z: float) -> float:
    if z < -30:
        return 0.0
    if z > 30:
        return 1.0
    return 1.0 / (1.0 + math.exp(-z))


def logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


@lru_cache(maxsize=1)
def builtin() -> LinearModel:
    """The model shipped with the plugin (trained by scripts/train_builtin.py)."""
    return LinearModel.from_json(BUILTIN_PATH.read_text(encoding="utf-8"))
