"""Measures for the leaderboard and the profiles, side by side: there is no single score.

* kudos received: from colleagues and customers (a customer's counts once per ticket);
* five-star ratings: CSAT 5 credited to the agents who worked the ticket;
* tickets resolved: assigned to the agent, resolved in the period and not reopened since
  (a reopened ticket has status open and no ``resolved_at``; resolved again, it counts
  in the period of its last resolution);
* median first-response time: of the tickets the agent answered first in the period. It
  is shown, never rewarded: no badge and no rank is given for speed.
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import case, func, select

from helpdesk.plugin_api import (
    Message,
    Ticket,
    User,
    db_session,
    gettext,
    lazy_gettext,
    local_day_start,
    local_to_utc,
)
from helpdesk_recognition.milestones import RESOLVED
from helpdesk_recognition.models import Kudos, Rating
from helpdesk_recognition.privacy import visible_to

PERIODS = {"week": lazy_gettext("Week"), "month": lazy_gettext("Month"), "quarter": lazy_gettext("Quarter")}
STAFF_ROLES = ("agent", "admin")


@dataclass(frozen=True)
class Period:
    kind: str
    start: datetime  # naive UTC, for queries
    end: datetime
    local_start: datetime | None = None  # the same bounds in the viewer's calendar, for the label
    local_end: datetime | None = None

    @property
    def label(self) -> str:
        start, end = self.local_start or self.start, self.local_end or self.end
        if self.kind == "week":
            last = end - timedelta(days=1)
            return gettext("Week of %(start)s – %(end)s", start=format(start, "%d %b %Y"),
                           end=format(last, "%d %b %Y"))
        if self.kind == "month":
            return f"{start:%B %Y}"
        return f"Q{(start.month - 1) // 3 + 1} {start.year}"


def viewers_period(kind: str, now: datetime, back: int, viewer: object) -> Period:
    """``period_bounds`` in the viewer's calendar (their zone, else the site's): a lead in Tokyo
    sees their own Monday-to-Sunday week; the bounds are converted back to UTC for the queries."""
    local = period_bounds(kind, local_day_start(now, viewer), back)
    return Period(kind, local_to_utc(local.start, viewer), local_to_utc(local.end, viewer), local.start, local.end)


def period_bounds(kind: str, now: datetime, back: int = 0) -> Period:
    """The calendar week (from Monday), month or quarter containing ``now``, ``back`` periods ago."""
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if kind == "week":
        start = day - timedelta(days=day.weekday()) - timedelta(weeks=back)
        return Period(kind, start, start + timedelta(days=7))
    months = 1 if kind == "month" else 3
    first_month = (day.month - 1) // months * months  # 0-based month index of the period's start
    index = day.year * 12 + first_month - back * months
    start = day.replace(year=index // 12, month=index % 12 + 1, day=1)
    index += months
    return Period(kind, start, start.replace(year=index // 12, month=index % 12 + 1))


@dataclass
class Row:
    user: User
    kudos: int = 0
    five_star: int = 0
    resolved: int = 0
    first_response_minutes: list[float] = field(default_factory=list)

    @property
    def median_first_response(self) -> float | None:
        """Minutes, or None without any first response in the period."""
        return statistics.median(self.first_response_minutes) if self.first_response_minutes else None


def leaderboard(viewer: User, period: Period) -> list[Row]:
    """One row per active agent ``viewer`` may see (opted-out agents: only themselves and their lead)."""
    people = db_session().scalars(select(User).where(
        User.role.in_(STAFF_ROLES), User.active.is_(True), User.merged_into_id.is_(None),
        visible_to(viewer, User.id)).order_by(User.name))
    rows = {u.id: Row(u) for u in people}
    if not rows:
        return []
    ids = list(rows)
    in_period = (period.start, period.end)

    for user_id, count in db_session().execute(
            select(Kudos.recipient_id, func.count()).where(
                Kudos.recipient_id.in_(ids), Kudos.created_at >= in_period[0], Kudos.created_at < in_period[1])
            .group_by(Kudos.recipient_id)):
        rows[user_id].kudos = count
    for user_id, count in db_session().execute(
            select(Rating.user_id, func.count()).where(
                Rating.user_id.in_(ids), Rating.kind == "csat", Rating.score == 5,
                Rating.created_at >= in_period[0], Rating.created_at < in_period[1]).group_by(Rating.user_id)):
        rows[user_id].five_star = count
    for user_id, count in db_session().execute(
            select(Ticket.assignee_id, func.count()).where(
                Ticket.assignee_id.in_(ids), Ticket.status.in_(RESOLVED),
                Ticket.resolved_at >= in_period[0], Ticket.resolved_at < in_period[1]).group_by(Ticket.assignee_id)):
        rows[user_id].resolved = count
    # The first public staff reply is the message written at the ticket's first_response_at.
    seen: set[int] = set()
    for ticket_id, author_id, created, answered in db_session().execute(
            select(Ticket.id, Message.author_id, Ticket.created_at, Ticket.first_response_at)
            .join(Message, (Message.ticket_id == Ticket.id) & (Message.created_at == Ticket.first_response_at))
            .where(Ticket.first_response_at >= in_period[0], Ticket.first_response_at < in_period[1],
                   Message.internal.is_(False), Message.author_id.in_(ids))
            .order_by(Message.id)):
        if ticket_id in seen:
            continue
        seen.add(ticket_id)
        rows[author_id].first_response_minutes.append(max((answered - created).total_seconds(), 0) / 60)
    return list(rows.values())


SORTS = {
    "kudos": ("Kudos received", lambda r: (-r.kudos, r.user.name)),
    "five_star": ("Five-star ratings", lambda r: (-r.five_star, r.user.name)),
    "resolved": ("Tickets resolved", lambda r: (-r.resolved, r.user.name)),
    "name": ("Name", lambda r: r.user.name.lower()),
}


def format_minutes(minutes: float | None) -> str:
    if minutes is None:
        return "—"
    if minutes < 60:
        return f"{minutes:.0f} min"
    if minutes < 48 * 60:
        return f"{minutes / 60:.1f} h"
    return f"{minutes / 1440:.1f} d"


@dataclass(frozen=True)
class ProfileStats:
    kudos_total: int
    kudos_from_customers: int
    kudos_from_colleagues: int
    csat_average: float | None
    csat_count: int
    five_star: int


def profile_stats(user: User) -> ProfileStats:
    counts = dict(db_session().execute(select(Kudos.source, func.count()).where(
        Kudos.recipient_id == user.id).group_by(Kudos.source)).all())
    average, count, five = db_session().execute(select(
        func.avg(Rating.score), func.count(), func.coalesce(func.sum(case((Rating.score == 5, 1), else_=0)), 0))
        .where(Rating.user_id == user.id, Rating.kind == "csat")).one()
    peer = counts.get("peer", 0)
    total = sum(counts.values())
    return ProfileStats(kudos_total=total, kudos_from_customers=total - peer, kudos_from_colleagues=peer,
                        csat_average=float(average) if average is not None else None, csat_count=count or 0,
                        five_star=int(five or 0))
