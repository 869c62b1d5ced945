"""The numbers of the core reports page, computed from ``tickets`` and ``ticket_facts``.

Two reads of one row per ticket (tickets created in the period, tickets solved in it),
one count (the backlog when the period starts) and one read of tag names; everything
else is counted in Python in one pass, in the reader's time zone. Every query goes
through ``access.ticket_scope``. The exact definitions are in ``docs/reports.md``.
"""
from __future__ import annotations

import math
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, false, func, or_, select

from helpdesk.access import ticket_scope
from helpdesk.contract import ReportFilters
from helpdesk.extensions import db
from helpdesk.languages import N_
from helpdesk.models import Tag, Team, Ticket, TicketFacts, User, ticket_tags

DIMENSIONS = {"team": N_("Team"), "agent": N_("Agent"), "channel": N_("Channel"), "tag": N_("Tag"),
              "priority": N_("Priority")}
# Stored in the report's rows as English (CSV keeps them); the page translates them.
NONE_LABELS = {"team": N_("(no team)"), "agent": N_("(unassigned)"), "channel": N_("(none)"), "tag": N_("(no tag)"),
               "priority": N_("(none)")}
WEEKDAYS = (N_("Mon"), N_("Tue"), N_("Wed"), N_("Thu"), N_("Fri"), N_("Sat"), N_("Sun"))


def percentile(values: list[float], share: float) -> float | None:
    """Nearest rank: the smallest value with at least ``share`` of the values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(math.ceil(share * len(ordered)), 1) - 1]


def median(values: list[float]) -> float | None:
    """The middle value (the mean of the two middle ones for an even count)."""
    return statistics.median(values) if values else None


def ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass
class Stats:
    """The counts behind one row of a report (the whole period, or one team, agent, ...)."""

    created: int = 0
    solved: int = 0
    first_response: list[float] = field(default_factory=list)
    resolution: list[float] = field(default_factory=list)
    sla_decided: int = 0
    sla_met: int = 0
    reopened: int = 0
    one_touch: int = 0

    def add(self, other: Stats) -> None:
        """Count ``other``'s tickets in here too."""
        self.created += other.created
        self.solved += other.solved
        self.first_response.extend(other.first_response)
        self.resolution.extend(other.resolution)
        self.sla_decided += other.sla_decided
        self.sla_met += other.sla_met
        self.reopened += other.reopened
        self.one_touch += other.one_touch

    @property
    def frt_median(self) -> float | None:
        return median(self.first_response)

    @property
    def frt_p90(self) -> float | None:
        return percentile(self.first_response, 0.9)

    @property
    def resolution_median(self) -> float | None:
        return median(self.resolution)

    @property
    def resolution_p90(self) -> float | None:
        return percentile(self.resolution, 0.9)

    @property
    def sla_attainment(self) -> float | None:
        return ratio(self.sla_met, self.sla_decided)

    @property
    def reopen_rate(self) -> float | None:
        return ratio(self.reopened, self.solved)

    @property
    def one_touch_rate(self) -> float | None:
        return ratio(self.one_touch, self.solved)


@dataclass
class Bucket:
    start: date
    created: int = 0
    solved: int = 0
    backlog: int = 0


@dataclass
class Report:
    filters: ReportFilters
    total: Stats
    series: list[Bucket]
    by: dict[str, list[tuple[str, Stats]]]
    heatmap: list[list[int]]  # [weekday 0 = Monday][hour] tickets created, in the reader's zone
    backlog_start: int = 0
    business_hours: bool = False  # some durations are business minutes (an SLA policy applies)

    @property
    def empty(self) -> bool:
        return not (self.total.created or self.total.solved or self.backlog_start)


def local_day_bounds(start: date, end: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The naive-UTC instants of local midnight on ``start`` and after ``end``."""
    def utc(day: date) -> datetime:
        return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC).replace(tzinfo=None)
    return utc(start), utc(end + timedelta(days=1))


class LocalClock:
    """Naive UTC → where it falls for the reader: (local day's bucket, weekday, hour).

    Cached per UTC hour, so each of 100,000 tickets costs a dict lookup. An hour whose offset
    is not whole or changes inside it (India, Nepal, Newfoundland's clock change at 05:30 UTC)
    is cached per quarter hour instead: exact for every zone whose offsets are quarter hours."""

    def __init__(self, zone: ZoneInfo, buckets: dict[date, Bucket], weekly: bool) -> None:
        self.zone = zone
        self.buckets = buckets
        self.weekly = weekly
        self.places: dict[int, tuple[Bucket | None, int, int] | None] = {}
        self.quarters: dict[int, tuple[Bucket | None, int, int]] = {}

    def place(self, moment: datetime) -> tuple[Bucket | None, int, int]:
        key = moment.toordinal() * 24 + moment.hour
        try:
            found = self.places[key]
        except KeyError:
            hour = moment.replace(minute=0, second=0, microsecond=0)
            offset = self.offset(hour)
            found = self.places[key] = self.where(hour + offset) \
                if offset % HOUR == ZERO and self.offset(hour + LAST_MINUTE) == offset else None
        if found is None:  # per quarter hour
            quarter = key * 4 + moment.minute // 15
            found = self.quarters.get(quarter)
            if found is None:
                start = moment.replace(minute=moment.minute - moment.minute % 15, second=0, microsecond=0)
                found = self.quarters[quarter] = self.where(start + self.offset(start))
        return found

    def offset(self, moment: datetime) -> timedelta:
        return moment.replace(tzinfo=UTC).astimezone(self.zone).utcoffset() or ZERO

    def where(self, local: datetime) -> tuple[Bucket | None, int, int]:
        day = local.date()
        bucket = self.buckets.get(day - timedelta(days=day.weekday()) if self.weekly else day)
        return bucket, local.weekday(), local.hour


HOUR, ZERO, LAST_MINUTE = timedelta(hours=1), timedelta(0), timedelta(minutes=59)


def _filtered(user: Any, filters: ReportFilters) -> Select:
    query = (select(Ticket.id).select_from(Ticket).outerjoin(TicketFacts, TicketFacts.ticket_id == Ticket.id)
             .where(ticket_scope(user), Ticket.merged_into_id.is_(None)))
    if filters.team_id is not None:
        query = query.where(Ticket.team_id == filters.team_id)
    if filters.agent_id is not None:
        query = query.where(Ticket.assignee_id == filters.agent_id)
    if filters.channel:
        query = query.where(Ticket.channel == filters.channel)
    if filters.priority:
        query = query.where(Ticket.priority == filters.priority)
    if filters.tag:
        query = query.where(Ticket.id.in_(select(ticket_tags.c.ticket_id).join(Tag, Tag.id == ticket_tags.c.tag_id)
                                          .where(Tag.name == filters.tag)))
    if filters.organisation_id is not None:  # the customers' organisation
        query = query.where(Ticket.customer_id.in_(select(User.id).where(
            User.organisation_id == filters.organisation_id)))
    return query


def build_report(user: Any, filters: ReportFilters) -> Report:
    """Every number of the page for ``user`` (scoped by ``access.ticket_scope``)."""
    zone = ZoneInfo(filters.timezone)
    base = _filtered(user, filters)
    if user is None:
        base = base.where(false())
    dims = (Ticket.id, Ticket.team_id, Ticket.assignee_id, Ticket.channel, Ticket.priority, TicketFacts.business_hours)
    # Each read fetches only what its loop uses (parsing SQLite's text times is the costly part).
    created_q = base.where(Ticket.created_at >= filters.since, Ticket.created_at < filters.until).with_only_columns(
        *dims, Ticket.created_at, TicketFacts.first_response_minutes, TicketFacts.sla_met)
    solved_q = base.where(TicketFacts.solved_at >= filters.since, TicketFacts.solved_at < filters.until
                          ).with_only_columns(*dims, TicketFacts.solved_at, TicketFacts.resolution_minutes,
                                              TicketFacts.reopen_count, TicketFacts.agent_replies)
    connection = db.session.connection()
    created = connection.execute(created_q).all()
    solved = connection.execute(solved_q).all()
    backlog_start = connection.execute(
        base.where(Ticket.created_at < filters.since,
                   or_(TicketFacts.solved_at.is_(None), TicketFacts.solved_at >= filters.since))
        .with_only_columns(func.count()).order_by(None)).scalar() or 0
    tags = _tags(created_q, solved_q)

    buckets = {day: Bucket(day) for day in _bucket_starts(filters)}
    place = LocalClock(zone, buckets, filters.interval == "week").place
    heatmap = [[0] * 24 for _ in range(7)]
    business = False
    # The hot loops (a year of a busy helpdesk is 100,000 rows): positional fields, no calls
    # but the clock's. Rows are first counted per combination of team, agent, channel,
    # priority and tags (a few thousand at most), then each combination is added to its rows
    # of the report: one dict lookup per ticket instead of six updates.
    combos: dict[tuple, Stats] = {}
    no_tag = (None,)
    for ticket_id, team_id, assignee_id, channel, priority, hours, created_at, frt, sla_met in created:
        key = (team_id, assignee_id, channel, priority, tags.get(ticket_id, no_tag))
        stats = combos.get(key)
        if stats is None:
            stats = combos[key] = Stats()
        stats.created += 1
        if frt is not None:
            stats.first_response.append(frt)
        if sla_met is not None:
            stats.sla_decided += 1
            if sla_met:
                stats.sla_met += 1
        bucket, weekday, hour = place(created_at)
        if bucket is not None:
            bucket.created += 1
        heatmap[weekday][hour] += 1
        if hours:
            business = True
    for ticket_id, team_id, assignee_id, channel, priority, hours, solved_at, res, reopens, replies in solved:
        key = (team_id, assignee_id, channel, priority, tags.get(ticket_id, no_tag))
        stats = combos.get(key)
        if stats is None:
            stats = combos[key] = Stats()
        stats.solved += 1
        if res is not None:
            stats.resolution.append(res)
        if reopens:
            stats.reopened += 1
        if replies == 1:
            stats.one_touch += 1
        bucket = place(solved_at)[0]
        if bucket is not None:
            bucket.solved += 1
        if hours:
            business = True

    total = Stats()
    groups: dict[str, dict[Any, Stats]] = {name: defaultdict(Stats) for name in DIMENSIONS}
    by_team, by_agent, by_channel, by_priority, by_tag = (groups[name] for name in
                                                          ("team", "agent", "channel", "priority", "tag"))
    for (team_id, assignee_id, channel, priority, names), stats in combos.items():
        for into in (total, by_team[team_id], by_agent[assignee_id], by_channel[channel], by_priority[priority],
                     *(by_tag[name] for name in names)):
            into.add(stats)
    backlog = backlog_start
    for bucket in buckets.values():
        backlog += bucket.created - bucket.solved
        bucket.backlog = backlog
    return Report(filters=filters, total=total, series=list(buckets.values()), by=_named(groups),
                  heatmap=heatmap, backlog_start=backlog_start, business_hours=business)


def _tags(*queries: Select) -> dict[int, tuple[str, ...]]:
    """Each ticket's tag names, for the tickets of any of ``queries`` (untagged ones left out).
    One read: a ticket in two of the queries is still listed once."""
    ids = [query.with_only_columns(Ticket.id).order_by(None) for query in queries]
    out: dict[int, list[str]] = defaultdict(list)
    for ticket_id, name in db.session.connection().execute(
            select(ticket_tags.c.ticket_id, Tag.name).join(Tag, Tag.id == ticket_tags.c.tag_id)
            .where(or_(*(ticket_tags.c.ticket_id.in_(each) for each in ids)))):
        out[ticket_id].append(name)
    return {ticket_id: tuple(names) for ticket_id, names in out.items()}


def _named(groups: dict[str, dict[Any, Stats]]) -> dict[str, list[tuple[str, Stats]]]:
    """Group keys as names people read (teams and agents by name), busiest first."""
    team_ids = [k for k in groups["team"] if k is not None]
    agent_ids = [k for k in groups["agent"] if k is not None]
    teams = dict(db.session.execute(select(Team.id, Team.name).where(Team.id.in_(team_ids))).all()) if team_ids else {}
    agents = dict(db.session.execute(select(User.id, User.name).where(User.id.in_(agent_ids))).all()) \
        if agent_ids else {}
    names = {"team": teams, "agent": agents}
    out = {}
    for dimension, stats in groups.items():
        rows = []
        for key, value in stats.items():
            if key is None:
                label = NONE_LABELS[dimension]
            else:
                label = str(names[dimension].get(key, f"#{key}")) if dimension in names else str(key)
            rows.append((label, value))
        rows.sort(key=lambda item: (-item[1].created - item[1].solved, item[0].lower()))
        out[dimension] = rows
    return out


def _bucket(day: date, interval: str) -> date:
    return day - timedelta(days=day.weekday()) if interval == "week" else day


def _bucket_starts(filters: ReportFilters) -> list[date]:
    day, out = _bucket(filters.start, filters.interval), []
    step = timedelta(days=7 if filters.interval == "week" else 1)
    while day <= filters.end:
        out.append(day)
        day += step
    return out
