"""Complaint detection: precision / recall / F1 per source of the plugin's own evaluation set,
for the detector and for plain VADER (compound <= -0.05); time per message; retraining on
5,000 labels.

    .venv/bin/python bench/bench_complaints.py [--no-retrain]

The evaluation set (plugins/complaints/helpdesk_complaints/data/eval.jsonl) was written by hand
for the project; the detector was never trained or tuned on it (see plugins/complaints/DATA.md).
"""
from __future__ import annotations

import json
import os
import random
import sys
import time
from pathlib import Path

from helpdesk_complaints.detection import detect, sentiment
from helpdesk_complaints.training import featurize, fit, scores

EVAL = Path(__file__).resolve().parent.parent / "plugins/complaints/helpdesk_complaints/data/eval.jsonl"
TRAIN = EVAL.parent / "train.jsonl"
SOURCES = {"brand": "messages to brands (social media)", "airline": "airline / travel customers",
           "survey": "survey comments", "review": "review sentences", "letter": "long formal letters",
           "multilingual": "de / fr / es messages", "english": "all English"}


def load_eval() -> list[dict]:
    return [json.loads(line) for line in EVAL.read_text(encoding="utf-8").splitlines() if line.strip()]


def evaluate(rows: list[dict]) -> dict[str, dict]:
    """Per source: the detector's and plain VADER's scores."""
    out = {}
    groups = {s: [r for r in rows if r["source"] == s] for s in dict.fromkeys(r["source"] for r in rows)}
    groups["english"] = [r for r in rows if r["lang"] == "en"]
    for source, subset in groups.items():
        gold = [bool(r["label"]) for r in subset]
        ours = [detect(r["text"]).complaint for r in subset]
        plain = [sentiment(r["text"]) <= -0.05 for r in subset]
        out[source] = {"detector": scores(ours, gold), "vader": scores(plain, gold)}
    return out


def main() -> None:
    rows = load_eval()
    results = evaluate(rows)
    print(f"evaluation set: {len(rows)} messages ({sum(r['label'] for r in rows)} complaints)\n")
    print(f"{'source':40} {'n':>4}  detector P / R / F1     VADER P / R / F1")
    for source, pair in results.items():
        d, v = pair["detector"], pair["vader"]
        print(f"{SOURCES.get(source, source):40} {d.count:4}  {d.precision:.2f} / {d.recall:.2f} / {d.f1:.2f}"
              f"       {v.precision:.2f} / {v.recall:.2f} / {v.f1:.2f}")
    texts = [r["text"] for r in rows]
    detect("warm-up")
    started, cpu = time.perf_counter(), time.process_time()
    rounds = 5
    for _ in range(rounds):
        for text in texts:
            detect(text)
    per = (time.perf_counter() - started) / (rounds * len(texts))
    per_cpu = (time.process_time() - cpu) / (rounds * len(texts))
    print(f"\nclassification: {per * 1000:.3f} ms per message wall clock, {per_cpu * 1000:.3f} ms CPU "
          f"(mean over {rounds * len(texts)}; load average {os.getloadavg()[0]:.1f})")
    if "--no-retrain" in sys.argv:
        return
    train = [json.loads(line) for line in TRAIN.read_text(encoding="utf-8").splitlines() if line.strip()]
    rng = random.Random(5)
    labels = [rng.choice(train) for _ in range(5000)]  # 5,000 corrections (repeats allowed)
    started = time.perf_counter()
    feats = featurize([r["text"] for r in labels])
    model = fit(feats, [bool(r["label"]) for r in labels])
    print(f"retraining on {len(labels)} labels: {time.perf_counter() - started:.1f} s "
          f"(featurise + logistic regression), {len(model.weights)} weights")
    from helpdesk_complaints.learning import train_from_labels

    started = time.perf_counter()
    result = train_from_labels([r["text"] for r in labels], [bool(r["label"]) for r in labels])
    print(f"the periodic job's full training on {len(labels)} labels (with 5-fold cross-validation against "
          f"the built-in detector): {time.perf_counter() - started:.1f} s; learned F1 {result.learned.f1:.3f} "
          f"vs built-in {result.builtin.f1:.3f}")


if __name__ == "__main__":
    main()
