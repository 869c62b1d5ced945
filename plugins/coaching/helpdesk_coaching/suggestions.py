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

from sqlalchemy import func, select

from helpdesk.plugin_api import Tag, Ticket, User, db_session, get_setting, utcnow
from helpdesk_coaching.config import PLUGIN
from helpdesk_coaching.models import Rating, Reopen, Review
from helpdesk_coaching.people import SOLVED

LOW_CSAT, COMPLAINT, LONG, REOPENED, SAMPLE = "low_csat", "complaint", "long_resolution", "reopened", "sample"
REASON_LABELS = {LOW_CSAT: "Low CSAT", COMPLAINT: "Complaint", LONG: "Long resolution", REOPENED: "Reopened",
                 SAMPLE: "Weekly sample"}
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
    many there are in all. The rules run over light rows (ids and times) and three small
    queries (ratings, complaint tags, reopenings) limited by the same conditions in SQL, so
    the page stays quick with tens of thousands of solved tickets in the window.
    """
    if not agents:
        return [], 0
    now = now or utcnow()
    since = now - timedelta(days=int(get_setting(PLUGIN, "window_days") or 30))
    by_id = {a.id: a for a in agents}
    candidates = select(Ticket.id).where(
        Ticket.status.in_(SOLVED), Ticket.assignee_id.in_(list(by_id)), Ticket.updated_at >= since,
        Ticket.id.not_in(select(Review.ticket_id)), Ticket.merged_into_id.is_(None))
    rows = db_session().execute(select(Ticket.id, Ticket.assignee_id, Ticket.created_at, Ticket.resolved_at,
                                       Ticket.closed_at, Ticket.updated_at).where(Ticket.id.in_(candidates))).all()
    solved = {r.id: (r.resolved_at or r.closed_at or r.updated_at) for r in rows}
    rows = [r for r in rows if solved[r.id] >= since]
    low = int(get_setting(PLUGIN, "low_csat") or 2)
    ratings: dict[int, int] = {tid: score for tid, score in db_session().execute(
        select(Rating.ticket_id, Rating.score).where(Rating.ticket_id.in_(candidates), Rating.score <= low))}
    complaint = str(get_setting(PLUGIN, "complaint_tag") or "complaint").strip().lower()
    complaints = set(db_session().scalars(
        select(Ticket.id).join(Ticket.tags).where(func.lower(Tag.name) == complaint, Ticket.id.in_(candidates)))) \
        if complaint else set()
    reopened = set(db_session().scalars(select(Reopen.ticket_id).where(Reopen.ticket_id.in_(candidates))))
    long_after = timedelta(hours=int(get_setting(PLUGIN, "long_resolution_hours") or 72))
    weeks: dict[tuple[int, str], list[int]] = {}
    for r in rows:
        weeks.setdefault((r.assignee_id, week_key(solved[r.id])), []).append(r.id)
    samples = {weekly_sample(agent_id, week, tids) for (agent_id, week), tids in weeks.items()}
    found: list[tuple[int, int, list[str]]] = []
    for r in rows:
        reasons = []
        if r.id in ratings:
            reasons.append(LOW_CSAT)
        if r.id in complaints:
            reasons.append(COMPLAINT)
        if solved[r.id] - r.created_at > long_after:
            reasons.append(LONG)
        if r.id in reopened:
            reasons.append(REOPENED)
        if r.id in samples:
            reasons.append(SAMPLE)
        if reasons:
            found.append((r.id, r.assignee_id, reasons))
    found.sort(key=lambda f: (-len([x for x in f[2] if x != SAMPLE]), -solved[f[0]].timestamp(), f[0]))
    shown = found[:limit]
    tickets = {t.id: t for t in db_session().scalars(select(Ticket).where(Ticket.id.in_([f[0] for f in shown])))}
    return [Suggestion(ticket=tickets[tid], agent=by_id[agent_id], solved_at=solved[tid], reasons=reasons,
                       csat=ratings.get(tid)) for tid, agent_id, reasons in shown], len(found)
