"""What to review: solved tickets suggested by fair, stated rules, not picked by hand.

Each suggested ticket carries its reasons: a low CSAT rating, a complaint, a long time to
solve, reopened, or the week's random sample for its agent. The sample is one solved
ticket per agent and ISO week, drawn with a seed made of the agent and the week, so every
lead sees the same pick all week and nobody can re-roll it.
"""
from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import exists, func, literal, select

from helpdesk.plugin_api import Tag, Ticket, User, db_session, get_setting, lazy_gettext, utcnow
from helpdesk_coaching.config import PLUGIN
from helpdesk_coaching.models import Rating, Reopen, Review
from helpdesk_coaching.people import SOLVED

LOW_CSAT, COMPLAINT, LONG, REOPENED, SAMPLE = "low_csat", "complaint", "long_resolution", "reopened", "sample"
# Shown on the suggestions page; lazy: built once, read in each reader's language.
REASON_LABELS = {LOW_CSAT: lazy_gettext("Low CSAT"), COMPLAINT: lazy_gettext("Complaint"),
                 LONG: lazy_gettext("Long resolution"), REOPENED: lazy_gettext("Reopened"),
                 SAMPLE: lazy_gettext("Weekly sample")}
SHOWN = 200  # suggestions listed on the page, rules first; the page says how many more there are


@dataclass
class Suggestion:
    ticket: Ticket
    agent: User
    solved_at: datetime
    reasons: list[str] = field(default_factory=list)
    csat: int | None = None


def solved_at(ticket: Ticket) -> datetime:
    return ticket.resolved_at or ticket.closed_at or ticket.updated_at


def week_key(when: datetime) -> str:
    year, week, _ = when.isocalendar()
    return f"{year}-W{week:02d}"


def weekly_sample(agent_id: int, week: str, ticket_ids: list[int]) -> int | None:
    """The week's sample among ``ticket_ids``: the same answer for the same agent, week and tickets."""
    if not ticket_ids:
        return None
    seed = int(hashlib.sha256(f"coaching:{agent_id}:{week}".encode()).hexdigest()[:16], 16)
    return random.Random(seed).choice(sorted(ticket_ids))


def suggest(agents: list[User], now: datetime | None = None, limit: int = SHOWN) -> tuple[list[Suggestion], int]:
    """Unreviewed solved tickets of ``agents`` from the window, each with why it is suggested.

    Returns the first ``limit`` suggestions (tickets with a rule first, newest first) and how
    many there are in all. One query reads light rows (ids, two times, and per rule an
    index lookup: a low rating, a complaint tag, a reopening), so the page stays quick with
    tens of thousands of solved tickets in the window (bench/bench_coaching.py).
    """
    if not agents:
        return [], 0
    now = now or utcnow()
    since = now - timedelta(days=int(get_setting(PLUGIN, "window_days") or 30))
    by_id = {a.id: a for a in agents}
    low = int(get_setting(PLUGIN, "low_csat") or 2)
    complaint = str(get_setting(PLUGIN, "complaint_tag") or "complaint").strip().lower()
    solved_col = func.coalesce(Ticket.resolved_at, Ticket.closed_at, Ticket.updated_at)
    # One pass over the candidates; each rule is an index lookup per row (correlated subqueries).
    low_rating = select(Rating.score).where(Rating.ticket_id == Ticket.id, Rating.score <= low).scalar_subquery()
    is_complaint = Ticket.tags.any(func.lower(Tag.name) == complaint) if complaint else literal(False)
    was_reopened = exists().where(Reopen.ticket_id == Ticket.id)
    rows = db_session().execute(
        select(Ticket.id, Ticket.assignee_id, Ticket.created_at, solved_col, low_rating, is_complaint, was_reopened)
        .where(Ticket.status.in_(SOLVED), Ticket.assignee_id.in_(list(by_id)), Ticket.updated_at >= since,
               Ticket.id.not_in(select(Review.ticket_id)), Ticket.merged_into_id.is_(None))).all()
    rows = [r for r in rows if r[3] >= since]
    long_after = timedelta(hours=int(get_setting(PLUGIN, "long_resolution_hours") or 72))
    weeks: dict[tuple[int, str], list[int]] = {}
    for tid, agent_id, _created, solved_at_, *_rest in rows:
        weeks.setdefault((agent_id, week_key(solved_at_)), []).append(tid)
    samples = {weekly_sample(agent_id, week, tids) for (agent_id, week), tids in weeks.items()}
    solved: dict[int, datetime] = {}
    ratings: dict[int, int] = {}
    found: list[tuple[int, int, list[str]]] = []
    for tid, agent_id, created, solved_at_, rating, complained, reopened in rows:
        reasons = []
        if rating is not None:
            reasons.append(LOW_CSAT)
            ratings[tid] = rating
        if complained:
            reasons.append(COMPLAINT)
        if solved_at_ - created > long_after:
            reasons.append(LONG)
        if reopened:
            reasons.append(REOPENED)
        if tid in samples:
            reasons.append(SAMPLE)
        if reasons:
            found.append((tid, agent_id, reasons))
            solved[tid] = solved_at_
    found.sort(key=lambda f: (-len([x for x in f[2] if x != SAMPLE]), -solved[f[0]].timestamp(), f[0]))
    shown = found[:limit]
    tickets = {t.id: t for t in db_session().scalars(select(Ticket).where(Ticket.id.in_([f[0] for f in shown])))}
    return [Suggestion(ticket=tickets[tid], agent=by_id[agent_id], solved_at=solved[tid], reasons=reasons,
                       csat=ratings.get(tid)) for tid, agent_id, reasons in shown], len(found)
