"""Helpers for the insights tests: the generated corpus, seeding texts, finding themes."""
from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

CORPUS = Path(__file__).with_name("data") / "corpus.csv"


def corpus() -> list[tuple[str, str]]:
    with CORPUS.open(encoding="utf-8") as handle:
        return [(row["theme"], row["text"]) for row in csv.DictReader(handle)]


def seed_texts(customers, rows, *, when: datetime | None = None, per_customer: int = 1) -> list[int]:
    """Texts in the plugin's own table (as if customers had written them), returns their ids.

    ``customers`` empty: texts of nobody in particular (no follow-up goes to them)."""
    from helpdesk_insights import engine
    from helpdesk_insights.models import InsightsText

    from helpdesk.plugin_api import db_session, utcnow

    made = []
    for index, (_theme, text) in enumerate(rows):
        customer = customers[(index // per_customer) % len(customers)] if customers else None
        row = InsightsText(reference=f"seed:{index}", source="portal", customer_id=customer.id if customer else None,
                           channel="web",
                           text=text, sentiment=engine.sentiment(text), created_at=when or utcnow())
        db_session().add(row)
        made.append(row)
    db_session().commit()
    return [r.id for r in made]


def theme_of(true_theme: str):
    """The theme holding most of the seeded corpus texts of ``true_theme`` (following merges)."""
    from collections import Counter

    from helpdesk_insights.models import InsightsText, InsightsTheme
    from sqlalchemy import select

    from helpdesk.plugin_api import db_session

    wanted = {f"seed:{i}" for i, (theme, _) in enumerate(corpus()) if theme == true_theme}
    counts = Counter(theme_id for ref, theme_id in db_session().execute(
        select(InsightsText.reference, InsightsText.theme_id).where(InsightsText.reference.like("seed:%")))
        if ref in wanted and theme_id is not None)
    assert counts, f"no theme holds {true_theme!r}"
    return db_session().get(InsightsTheme, counts.most_common(1)[0][0])
