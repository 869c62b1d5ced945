"""Customers at risk: repeated negative signals (complaints, low scores, reopened tickets) in a window."""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from helpdesk.plugin_api import User, db_session, utcnow
from helpdesk_insights.config import setting
from helpdesk_insights.models import InsightsSignal

LABELS = {"complaint": "complaint", "low_score": "low score", "reopened": "reopened ticket",
          "sla_breach": "missed target"}
NEGATIVE = tuple(LABELS)


@dataclass
class AtRisk:
    customer: User
    signals: list[InsightsSignal] = field(default_factory=list)

    @property
    def summary(self) -> str:
        counts = Counter(s.kind for s in self.signals)
        return ", ".join(f"{n} {LABELS.get(k, k)}{'s' if n != 1 else ''}" for k, n in counts.most_common())


def at_risk(now: datetime | None = None, limit: int = 200) -> list[AtRisk]:
    """Customers with at least ``risk_min_signals`` signals in the last ``risk_days`` days, most first."""
    now = now or utcnow()
    since = now - timedelta(days=setting("risk_days") or 30)
    least = setting("risk_min_signals") or 3
    window = (InsightsSignal.created_at >= since, InsightsSignal.created_at <= now, InsightsSignal.kind.in_(NEGATIVE))
    ids = [cid for cid, _n in db_session().execute(
        select(InsightsSignal.customer_id, func.count()).where(*window).group_by(InsightsSignal.customer_id)
        .having(func.count() >= least).order_by(func.count().desc(), InsightsSignal.customer_id).limit(limit))]
    if not ids:
        return []
    found: dict[int, AtRisk] = {}
    customers = {u.id: u for u in db_session().scalars(select(User).where(User.id.in_(ids)))}
    by_customer: dict[int, list[InsightsSignal]] = defaultdict(list)
    for signal in db_session().scalars(select(InsightsSignal).where(InsightsSignal.customer_id.in_(ids), *window)
                                       .options(selectinload(InsightsSignal.ticket))
                                       .order_by(InsightsSignal.created_at.desc())):
        by_customer[signal.customer_id].append(signal)
    for cid in ids:
        if cid in customers:
            found[cid] = AtRisk(customers[cid], by_customer[cid])
    return list(found.values())
