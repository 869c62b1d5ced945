"""Numbers about themes: sizes, customers, sentiment, channels, weekly trend, rising themes."""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, select

from helpdesk.plugin_api import db_session, utcnow
from helpdesk_insights.config import setting
from helpdesk_insights.models import InsightsText, InsightsTheme

WEEK = timedelta(days=7)
# Survey comments by the CSAT score given with them.
CSAT_BANDS = {"unhappy": (1, 2), "neutral": (3, 3), "happy": (4, 5)}
BASELINE_WEEKS = 4


@dataclass
class ThemeStats:
    theme: InsightsTheme
    texts: int = 0
    tickets: int = 0
    customers: int = 0
    sentiment: float = 0.0
    complaints: int = 0
    channels: Counter = field(default_factory=Counter)
    recent: int = 0  # texts in the last 7 days
    baseline: float = 0.0  # weekly average of the 4 weeks before
    rising: bool = False

    @property
    def mood(self) -> str:
        return "negative" if self.sentiment <= -0.2 else "positive" if self.sentiment >= 0.2 else "mixed"

    @property
    def growth(self) -> str:
        if self.baseline == 0:
            return "new this week" if self.recent else "—"
        return f"{self.recent / self.baseline:.1f}× the usual"


def is_rising(recent: int, baseline: float) -> bool:
    """Clearly faster than its own baseline: enough texts, and at least the set share of the baseline.

    A theme with no history needs only enough texts (the baseline counts as one a week).
    """
    return recent >= (setting("rising_min_count") or 1) and recent * 100 >= (setting("rising_percent") or 200) * max(
        baseline, 1.0)


def theme_stats(*, now: datetime | None = None, include_hidden: bool = False, since: datetime | None = None,
                until: datetime | None = None, channel: str | None = None, team_id: int | None = None,
                csat: str | None = None, theme_ids: list[int] | None = None) -> list[ThemeStats]:
    """Every live theme with its numbers (largest first); four grouped queries in all."""
    now = now or utcnow()
    query = select(InsightsTheme).where(InsightsTheme.merged_into_id.is_(None))
    if not include_hidden:
        query = query.where(InsightsTheme.hidden.is_(False))
    if theme_ids is not None:
        query = query.where(InsightsTheme.id.in_(theme_ids))
    themes = {t.id: ThemeStats(t) for t in db_session().scalars(query)}
    if not themes:
        return []
    conditions: list[ColumnElement[bool]] = [InsightsText.theme_id.in_(list(themes))]
    if since is not None:
        conditions.append(InsightsText.created_at >= since)
    if until is not None:
        conditions.append(InsightsText.created_at < until)
    if channel:
        conditions.append(InsightsText.channel == channel)
    if team_id is not None:
        conditions.append(InsightsText.team_id == team_id)
    if csat in CSAT_BANDS:
        low, high = CSAT_BANDS[csat]
        conditions.append(InsightsText.score.between(low, high))
    recent_start, base_start = now - WEEK, now - WEEK * (BASELINE_WEEKS + 1)
    for theme_id, texts, tickets, customers, mood, complaints, recent, base in db_session().execute(
            select(InsightsText.theme_id, func.count(), func.count(InsightsText.ticket_id.distinct()),
                   func.count(InsightsText.customer_id.distinct()), func.avg(InsightsText.sentiment),
                   func.count().filter(InsightsText.complaint.is_(True)),
                   func.count().filter(InsightsText.created_at >= recent_start, InsightsText.created_at < now),
                   func.count().filter(InsightsText.created_at >= base_start,
                                       InsightsText.created_at < recent_start))
            .where(*conditions).group_by(InsightsText.theme_id)).all():
        stats = themes[theme_id]
        stats.texts, stats.tickets, stats.customers = texts, tickets, customers
        stats.sentiment, stats.complaints = round(float(mood or 0.0), 2), complaints
        stats.recent, stats.baseline = recent, base / BASELINE_WEEKS
        stats.rising = is_rising(stats.recent, stats.baseline)
    for theme_id, channel_name, count in db_session().execute(
            select(InsightsText.theme_id, InsightsText.channel, func.count()).where(*conditions)
            .group_by(InsightsText.theme_id, InsightsText.channel)).all():
        themes[theme_id].channels[channel_name] = count
    found = [s for s in themes.values() if s.texts]
    return sorted(found, key=lambda s: (not s.rising, -s.texts, s.theme.id))


def rising_themes(now: datetime | None = None) -> list[ThemeStats]:
    return [s for s in theme_stats(now=now) if s.rising]


def weekly(theme_id: int, *, now: datetime | None = None, weeks: int = 12) -> list[tuple[datetime, int]]:
    """Texts per week for the last ``weeks`` weeks (oldest first); each week ends ``now`` minus n×7 days."""
    now = now or utcnow()
    start = now - WEEK * weeks
    counts: dict[int, int] = defaultdict(int)
    for (created,) in db_session().execute(select(InsightsText.created_at).where(
            InsightsText.theme_id == theme_id, InsightsText.created_at >= start, InsightsText.created_at < now)):
        counts[min(int((created - start) / WEEK), weeks - 1)] += 1
    return [(start + WEEK * i, counts[i]) for i in range(weeks)]


def quotes(theme_id: int, limit: int = 5) -> list[InsightsText]:
    """The texts closest to the theme's centre (the most typical), newest first among equals."""
    return list(db_session().scalars(
        select(InsightsText).where(InsightsText.theme_id == theme_id)
        .order_by(InsightsText.similarity.desc().nulls_last(), InsightsText.id.desc()).limit(limit)))
