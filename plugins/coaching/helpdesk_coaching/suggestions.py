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

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from helpdesk.plugin_api import Ticket, User, db_session, get_setting, utcnow
from helpdesk_coaching.config import PLUGIN
from helpdesk_coaching.models import Rating, Reopen, Review
from helpdesk_coaching.people import SOLVED

LOW_CSAT, COMPLAINT, LONG, REOPENED, SAMPLE = "low_csat", "complaint", "long_resolution", "reopened", "sample"
REASON_LABELS = {LOW_CSAT: "Low CSAT", COMPLAINT: "Complaint", LONG: "Long resolution", REOPENED: "Reopened",
                 SAMPLE: "Weekly sample"}
LIMIT = 2000  # candidates looked at (the window keeps it far below this in practice)


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


def suggest(agents: list[User], now: datetime | None = None) -> list[Suggestion]:
    """Unreviewed solved tickets of ``agents`` from the window, each with why it is suggested."""
    if not agents:
        return []
    now = now or utcnow()
    since = now - timedelta(days=int(get_setting(PLUGIN, "window_days") or 30))
    by_id = {a.id: a for a in agents}
    reviewed = select(Review.ticket_id)
    tickets = list(db_session().scalars(
        select(Ticket).where(Ticket.status.in_(SOLVED), Ticket.assignee_id.in_(list(by_id)), Ticket.updated_at >= since,
                             Ticket.id.not_in(reviewed), Ticket.merged_into_id.is_(None))
        .options(selectinload(Ticket.tags)).order_by(Ticket.id).limit(LIMIT)))
    tickets = [t for t in tickets if solved_at(t) >= since]
    ids = [t.id for t in tickets]
    ratings: dict[int, int] = dict(db_session().execute(
        select(Rating.ticket_id, Rating.score).where(Rating.ticket_id.in_(ids))).all()) if ids else {}
    reopened = set(db_session().scalars(select(Reopen.ticket_id).where(Reopen.ticket_id.in_(ids)))) if ids else set()
    low = int(get_setting(PLUGIN, "low_csat") or 2)
    long_after = timedelta(hours=int(get_setting(PLUGIN, "long_resolution_hours") or 72))
    complaint = str(get_setting(PLUGIN, "complaint_tag") or "complaint").strip().lower()
    weeks: dict[tuple[int, str], list[int]] = {}
    for t in tickets:
        weeks.setdefault((t.assignee_id or 0, week_key(solved_at(t))), []).append(t.id)
    samples = {weekly_sample(agent_id, week, tids) for (agent_id, week), tids in weeks.items()}
    out = []
    for t in tickets:
        s = Suggestion(ticket=t, agent=by_id[t.assignee_id or 0], solved_at=solved_at(t), csat=ratings.get(t.id))
        if s.csat is not None and s.csat <= low:
            s.reasons.append(LOW_CSAT)
        if complaint and any(tag.name.lower() == complaint for tag in t.tags):
            s.reasons.append(COMPLAINT)
        if s.solved_at - t.created_at > long_after:
            s.reasons.append(LONG)
        if t.id in reopened:
            s.reasons.append(REOPENED)
        if t.id in samples:
            s.reasons.append(SAMPLE)
        if s.reasons:
            out.append(s)
    out.sort(key=lambda s: (-len([r for r in s.reasons if r != SAMPLE]), -s.solved_at.timestamp(), s.ticket.id))
    return out
