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

Days are the reader's (their own time zone, else the site's: ``plugin_api.local_day_start``),
as on the core reports page: an answer at 23:30 UTC counts on the next day in Berlin. The
rows keep the UTC day (``day``, ``sent_day``) for the index; each UTC day has one instant
where the reader's next day begins (``LocalDays``), so the figures of each UTC day and of its
smaller part (read again by time) are enough to give every row its local day.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Date, DateTime, and_, case, column, func, literal, select, values
from sqlalchemy.orm import aliased

from helpdesk.plugin_api import Team, User, db_session, local_day_start, local_to_utc, scoped_to_tickets
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

    def add(self, other: Tally) -> None:  # spelt out: called some 10,000 times per report
        self.csat_n += other.csat_n
        self.csat_good += other.csat_good
        self.nps_n += other.nps_n
        self.promoters += other.promoters
        self.detractors += other.detractors
        self.sent += other.sent
        self.answered += other.answered

    def minus(self, other: Tally) -> Tally:
        return Tally(self.csat_n - other.csat_n, self.csat_good - other.csat_good, self.nps_n - other.nps_n,
                     self.promoters - other.promoters, self.detractors - other.detractors,
                     self.sent - other.sent, self.answered - other.answered)

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


MINUTES_A_DAY = 24 * 60


class LocalDays:
    """The reader's days over the UTC days ``first``..``last`` (the rows' ``day`` column).

    Each UTC day holds the start of one local day, at some minute of it (none for a reader on
    UTC): the rows before it belong to one local day, the rows from it on to the next.
    ``windows()`` gives the smaller of the two parts of each UTC day as a time range, so a
    report reads each day's figures whole (by its day index) and only those ranges again (by
    the time index), and takes one from the other for the larger part.
    """

    def __init__(self, first: date, last: date, viewer: User | None) -> None:
        self.viewer = viewer
        self.split: dict[date, int] = {}  # UTC day → the minute the next local day begins
        day = first
        while day <= last:
            midnight = datetime.combine(day, time())
            local_next = local_day_start(midnight, viewer) + timedelta(days=1)
            minutes = (local_to_utc(local_next, viewer) - midnight) // timedelta(minutes=1)
            if 0 < minutes < MINUTES_A_DAY:
                self.split[day] = minutes
            day += timedelta(days=1)
        self._named: dict[tuple[date, bool], date] = {}

    def smaller_is_later(self, day: date) -> bool:
        """Whether the smaller part of ``day`` is the one from the split on (a zone east of UTC)."""
        return self.split.get(day, 0) > MINUTES_A_DAY // 2

    def windows(self) -> list[tuple[date, datetime, datetime]]:
        """(UTC day, start, stop) of the smaller part of each UTC day that holds a split."""
        out = []
        for day, minutes in sorted(self.split.items()):
            midnight = datetime.combine(day, time())
            split = midnight + timedelta(minutes=minutes)
            out.append((day, split, midnight + timedelta(days=1)) if self.smaller_is_later(day)
                       else (day, midnight, split))
        return out

    def local_day(self, day: date, later: bool) -> date:
        """The local day of the part of UTC ``day`` before its split, or (``later``) from it on."""
        key = (day, later)
        named = self._named.get(key)
        if named is None:
            moment = datetime.combine(day, time())
            if later:
                moment += timedelta(minutes=self.split[day])
            named = self._named[key] = local_day_start(moment, self.viewer).date()
        return named


def build_report(start: datetime, end: datetime, bucket: str = "week", viewer: User | None = None) -> Report:
    """Every figure of the reports page for responses and invitations of the days [start, end).

    ``start`` and ``end`` are midnights of the reader's days (their zone, else the site's;
    ``viewer`` None: the site's). With ``viewer``, only answers and invitations about tickets
    the viewer may see count (a team-scoped agent's report covers their teams' tickets;
    answers about no ticket, such as relationship NPS, only count for people who see every
    ticket).
    """
    report = Report(start=start, end=end, bucket=bucket)
    since, until = local_to_utc(start, viewer), local_to_utc(end, viewer)
    first, last = start.date(), end.date()
    # The UTC days that hold some of the reader's days; the parts of the first and last UTC
    # day that fall outside the period are left out by their local day below.
    days = LocalDays(since.date(), until.date(), viewer)
    ranges = days.windows()
    # On SQLite written into the SQL as literals (dates and times made here, not typed by
    # anyone): a few hundred bound parameters cost more to prepare than the query takes. Not on
    # PostgreSQL, where an untyped literal would be text.
    inline = db_session().get_bind().dialect.name == "sqlite"
    windows = values(column("day", Date), column("start", DateTime), column("stop", DateTime),
                     name="windows", literal_binds=inline).data(ranges).cte() if ranges else None

    # Summed per period, agent, team and channel first (a few hundred), then into the report's tables.
    combined: dict[tuple, Tally] = defaultdict(Tally)

    def add(day: date, later: bool, tally: Tally, agent_id: Any, team_id: Any, channel: Any) -> None:
        local = days.local_day(day, later) if day in days.split else day
        if first <= local < last:
            combined[(bucket_of(local, bucket), agent_id, team_id, channel)].add(tally)

    def place(whole: dict[tuple, Tally], smaller: dict[tuple, Tally]) -> None:
        """Each UTC day's figures into local days: its smaller part as read, the rest by difference."""
        for key, tally in whole.items():
            day, agent_id, team_id, channel = _as_date(key[0]), *key[-3:]
            part = smaller.get(key)
            later = days.smaller_is_later(day)
            if part is not None:
                add(day, later, part, agent_id, team_id, channel)
                tally = tally.minus(part)
            add(day, not later, tally, agent_id, team_id, channel)

    # Grouped by UTC day, not by week or month: each GROUP BY follows an index in its own
    # order (no sort, no table reads); the few thousand day rows are put into local days,
    # weeks or months here.
    r, i = SurveyResponse, SurveyInvitation
    answers = _scope(viewer, r.ticket_id)
    place(_responses_by_day(r.day >= since.date(), r.day <= until.date(), *answers),
          _responses_by_day(*answers, windows=windows) if windows is not None else {})
    sent = _scope(viewer, i.ticket_id)
    place(_invitations_by_day(i.sent_day >= since.date(), i.sent_day <= until.date(), *sent),
          _invitations_by_day(*sent, windows=windows) if windows is not None else {})
    for (period, agent_id, team_id, channel), tally in combined.items():
        _spread(report, tally, agent_id, team_id, channel, period)
    report.agent_names = _names(User, report.by_agent)
    report.team_names = _names(Team, report.by_team)
    report.recovered, report.resurveyed = recovered_detractors(since, until, viewer)
    return report


def _responses_by_day(*where: Any, windows: Any = None) -> dict[tuple, Tally]:
    """CSAT and NPS figures per (UTC day, kind, agent, team, channel) of the answers ``where``
    (and inside the time ranges ``windows``, read by the time index, if given)."""
    r = SurveyResponse
    # Inside windows, the window's day is the row's: the time index holds no ``day``.
    day = r.day if windows is None else windows.c.day
    query = (select(day, r.kind, r.agent_id, r.team_id, r.channel, func.count(),
                    func.sum(case((r.score >= 4, 1), else_=0)), func.sum(case((r.score >= 9, 1), else_=0)),
                    func.sum(case((r.score <= 6, 1), else_=0)))
             .where(r.kind.in_(("csat", "nps")), r.score.is_not(None), *where)
             .group_by(day, r.kind, r.agent_id, r.team_id, r.channel))
    if windows is not None:
        query = query.select_from(windows).join(r, and_(r.created_at >= windows.c.start,
                                                        r.created_at < windows.c.stop))
    out = {}
    for day, kind, agent_id, team_id, channel, n, good, promoters, detractors in db_session().execute(query):
        out[(day, kind, agent_id, team_id, channel)] = (
            Tally(csat_n=n, csat_good=good or 0) if kind == "csat"
            else Tally(nps_n=n, promoters=promoters or 0, detractors=detractors or 0))
    return out


def _invitations_by_day(*where: Any, windows: Any = None) -> dict[tuple, Tally]:
    """Invitations sent and answered per (UTC day, agent, team, channel) of those ``where``
    (and sent inside the time ranges ``windows``, if given)."""
    i = SurveyInvitation
    day = i.sent_day if windows is None else windows.c.day
    query = (select(day, i.agent_id, i.team_id, i.channel, func.count(), func.count(i.answered_at))
             .where(*where).group_by(day, i.agent_id, i.team_id, i.channel))
    if windows is not None:
        query = query.select_from(windows).join(i, and_(i.sent_at >= windows.c.start, i.sent_at < windows.c.stop))
    return {(day, agent_id, team_id, channel): Tally(sent=sent, answered=answered)
            for day, agent_id, team_id, channel, sent, answered in db_session().execute(query)}


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
