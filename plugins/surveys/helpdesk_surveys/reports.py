"""Satisfaction arithmetic, aggregated in SQL.

* CSAT % = answers 4–5 ÷ all CSAT answers × 100.
* NPS = % promoters (9–10) − % detractors (0–6), from −100 to +100; passives (7–8)
  count in the total only.
* Response rate = invitations answered ÷ invitations sent (by the time they were sent).
* Recovered detractors = closed cases whose re-survey came back satisfied/promoter ÷
  closed cases whose re-survey was answered.

No answers gives ``None`` (shown as "—"), never 0: "nobody answered" is not "everyone
was unhappy". One GROUP BY over the period's responses (an index holds every column it
reads) and one over its invitations; everything else is summed in Python from those
few hundred rows.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import case, func, literal, select
from sqlalchemy.orm import aliased

from helpdesk.plugin_api import Team, User, db_session, scoped_to_tickets
from helpdesk_surveys.models import SurveyFollowUp, SurveyInvitation, SurveyResponse


@dataclass
class Tally:
    csat_n: int = 0
    csat_good: int = 0
    nps_n: int = 0
    promoters: int = 0
    detractors: int = 0
    sent: int = 0
    answered: int = 0

    def add(self, other: Tally) -> None:
        for name in ("csat_n", "csat_good", "nps_n", "promoters", "detractors", "sent", "answered"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def passives(self) -> int:
        return self.nps_n - self.promoters - self.detractors

    @property
    def csat(self) -> float | None:
        return 100.0 * self.csat_good / self.csat_n if self.csat_n else None

    @property
    def nps(self) -> float | None:
        return 100.0 * (self.promoters - self.detractors) / self.nps_n if self.nps_n else None

    @property
    def rate(self) -> float | None:
        return 100.0 * self.answered / self.sent if self.sent else None


def csat_percent(scores: list[int]) -> float | None:
    """CSAT % of a list of 1–5 scores (for checks and small lists)."""
    return 100.0 * sum(1 for s in scores if s >= 4) / len(scores) if scores else None


def nps_value(scores: list[int]) -> float | None:
    """NPS of a list of 0–10 scores."""
    if not scores:
        return None
    return 100.0 * (sum(1 for s in scores if s >= 9) - sum(1 for s in scores if s <= 6)) / len(scores)


def fmt_percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f} %"


def fmt_nps(value: float | None) -> str:
    if value is None:
        return "—"
    rounded = round(value)
    return f"+{rounded}" if rounded > 0 else str(rounded)


def bucket_of(day: date, bucket: str) -> str:
    """The first day of the week (Monday) or of the month that ``day`` falls in, as ISO text."""
    if bucket == "month":
        return day.replace(day=1).isoformat()
    return (day - timedelta(days=day.weekday())).isoformat()


def _as_date(value) -> date:
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


@dataclass
class Report:
    start: datetime
    end: datetime
    bucket: str
    total: Tally = field(default_factory=Tally)
    by_agent: dict = field(default_factory=lambda: defaultdict(Tally))
    by_team: dict = field(default_factory=lambda: defaultdict(Tally))
    by_channel: dict = field(default_factory=lambda: defaultdict(Tally))
    by_period: dict = field(default_factory=lambda: defaultdict(Tally))
    agent_names: dict = field(default_factory=dict)
    team_names: dict = field(default_factory=dict)
    recovered: int = 0
    resurveyed: int = 0

    @property
    def recovered_rate(self) -> float | None:
        return 100.0 * self.recovered / self.resurveyed if self.resurveyed else None

    def periods(self) -> list[tuple[str, Tally]]:
        return sorted(self.by_period.items())

    def rows(self, dimension: str) -> list[tuple[str, Tally]]:
        data = getattr(self, f"by_{dimension}")
        names = {"agent": self.agent_names, "team": self.team_names}.get(dimension, {})
        labelled = [(names.get(key, key) if key is not None else "(none)", tally) for key, tally in data.items()]
        return sorted(labelled, key=lambda pair: (pair[0] == "(none)", str(pair[0]).lower()))


def build_report(start: datetime, end: datetime, bucket: str = "week", viewer: User | None = None) -> Report:
    """Every figure of the reports page for responses and invitations in [start, end).

    With ``viewer``, only answers and invitations about tickets the viewer may see count (a
    team-scoped agent's report covers their teams' tickets; answers about no ticket, such as
    relationship NPS, only count for people who see every ticket).
    """
    report = Report(start=start, end=end, bucket=bucket)
    first, last = start.date(), end.date()  # the page asks for whole days (UTC)
    r = SurveyResponse
    # Grouped by day, not by week or month: the GROUP BY then follows ix_surveys_responses_day
    # (no sort); the few thousand day rows are put into weeks or months here.
    rows = db_session().execute(
        select(r.day, r.kind, r.agent_id, r.team_id, r.channel, func.count().label("n"),
               func.sum(case((r.score >= 4, 1), else_=0)).label("good"),
               func.sum(case((r.score >= 9, 1), else_=0)).label("promoters"),
               func.sum(case((r.score <= 6, 1), else_=0)).label("detractors"))
        .where(r.day >= first, r.day < last, r.kind.in_(("csat", "nps")), r.score.is_not(None),
               *_scope(viewer, r.ticket_id))
        .group_by(r.day, r.kind, r.agent_id, r.team_id, r.channel))
    for day, kind, agent_id, team_id, channel, n, good, promoters, detractors in rows:
        tally = Tally()
        if kind == "csat":
            tally.csat_n, tally.csat_good = n, good or 0
        else:
            tally.nps_n, tally.promoters, tally.detractors = n, promoters or 0, detractors or 0
        _spread(report, tally, agent_id, team_id, channel, bucket_of(_as_date(day), bucket))
    i = SurveyInvitation
    rows = db_session().execute(
        select(i.sent_day, i.agent_id, i.team_id, i.channel, func.count().label("sent"),
               func.count(i.answered_at).label("answered"))
        .where(i.sent_day >= first, i.sent_day < last, *_scope(viewer, i.ticket_id))
        .group_by(i.sent_day, i.agent_id, i.team_id, i.channel))
    for day, agent_id, team_id, channel, sent, answered in rows:
        _spread(report, Tally(sent=sent, answered=answered), agent_id, team_id, channel,
                bucket_of(_as_date(day), bucket))
    report.agent_names = _names(User, report.by_agent)
    report.team_names = _names(Team, report.by_team)
    report.recovered, report.resurveyed = recovered_detractors(start, end, viewer)
    return report


def _scope(viewer: User | None, ticket_id_column: Any) -> tuple:
    return () if viewer is None else (scoped_to_tickets(viewer, ticket_id_column),)


def _spread(report: Report, tally: Tally, agent_id, team_id, channel, period: str) -> None:
    report.total.add(tally)
    report.by_agent[agent_id].add(tally)
    report.by_team[team_id].add(tally)
    report.by_channel[channel].add(tally)
    report.by_period[period].add(tally)


def _names(model, keys) -> dict:
    ids = [k for k in keys if k is not None]
    if not ids:
        return {}
    return dict(db_session().execute(select(model.id, model.name).where(model.id.in_(ids))).all())


def recovered_detractors(start: datetime, end: datetime, viewer: User | None = None) -> tuple[int, int]:
    """(re-surveys that came back satisfied/promoter, re-surveys answered) for cases opened in the period."""
    again = aliased(SurveyResponse)
    good = case(((again.kind == "csat") & (again.score >= 4), 1),
                ((again.kind == "nps") & (again.score >= 9), 1), else_=0)
    row = db_session().execute(
        select(func.count(again.id), func.coalesce(func.sum(good), literal(0)))
        .select_from(SurveyFollowUp)
        .join(again, again.invitation_id == SurveyFollowUp.resurvey_invitation_id)
        .where(SurveyFollowUp.created_at >= start, SurveyFollowUp.created_at < end,
               again.score.is_not(None), *_scope(viewer, again.ticket_id))).one()
    return int(row[1] or 0), int(row[0] or 0)


def month_start(now: datetime) -> datetime:
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def default_range(now: datetime, days: int = 90) -> tuple[datetime, datetime]:
    end = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return end - timedelta(days=days), end
