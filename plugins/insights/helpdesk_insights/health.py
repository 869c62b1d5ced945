"""A customer's health: 100 minus what went wrong lately, with every reason shown.

From the last ``risk_days`` days: complaints (−20 each), low survey scores (−15), reopened
tickets (−10), missed service-level targets (−10), contacts beyond three (−5 each); good
scores (CSAT ≥ 4, NPS ≥ 9) give +5 each. Clamped to 0–100: 80 and up is good, under 50 at risk.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select

from helpdesk.plugin_api import db_session, utcnow
from helpdesk_insights.config import setting
from helpdesk_insights.models import InsightsSignal, InsightsText

POINTS = {"complaint": -20, "low_score": -15, "reopened": -10, "sla_breach": -10, "good_score": 5}
USUAL_CONTACTS = 3
CONTACT_POINTS = -5


@dataclass
class Health:
    score: int
    days: int
    reasons: list[tuple[int, str]] = field(default_factory=list)  # (points, what happened)

    @property
    def band(self) -> str:
        return "good" if self.score >= 80 else "watch" if self.score >= 50 else "at risk"


def health(customer_id: int, now: datetime | None = None) -> Health:
    now = now or utcnow()
    days = setting("risk_days") or 30
    since = now - timedelta(days=days)
    result = Health(100, days)
    for signal in db_session().scalars(select(InsightsSignal).where(
            InsightsSignal.customer_id == customer_id, InsightsSignal.created_at >= since,
            InsightsSignal.created_at <= now).order_by(InsightsSignal.created_at.desc())):
        points = POINTS.get(signal.kind, 0)
        result.reasons.append((points, signal.detail))
    contacts = db_session().scalar(select(func.count()).select_from(InsightsText).where(
        InsightsText.customer_id == customer_id, InsightsText.source.in_(("ticket", "complaint")),
        InsightsText.created_at >= since, InsightsText.created_at <= now)) or 0
    if contacts > USUAL_CONTACTS:
        result.reasons.append((CONTACT_POINTS * (contacts - USUAL_CONTACTS), f"{contacts} tickets in {days} days"))
    result.score = max(0, min(100, 100 + sum(p for p, _ in result.reasons)))
    return result
