"""Per-ticket facts for the reports (``ticket_facts``), derived from the ticket's own data.

``refresh(ids)`` recomputes the rows of some tickets from their source (status and times
on the ticket, public replies, status changes in the audit trail, SLA targets): the event
hooks call it for one ticket after each commit, ``backfill()`` for every ticket in
batches. One code path, so a backfilled row and a row kept by the hooks never differ.
"""
from __future__ import annotations

from collections import namedtuple
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import IntegrityError

from helpdesk.extensions import db
from helpdesk.models import AuditEvent, Message, SlaPolicy, SlaTarget, Ticket, TicketFacts, User
from helpdesk.models.base import utcnow
from helpdesk.models.tickets import OPEN_STATUSES
from helpdesk.sla.clock import Calendar, business_minutes_between, compile_calendar

BATCH = 500
_TicketRow = namedtuple("_TicketRow", "id created_at status resolved_at closed_at first_response_at")
SOLVED = ("resolved", "closed")
STAFF_ROLES = ("agent", "admin")


def refresh(ticket_ids: Iterable[int]) -> int:
    """Recompute the facts of these tickets (in the caller's transaction; not committed).
    Returns the number of rows written."""
    ids = sorted(set(ticket_ids))
    written = 0
    for start in range(0, len(ids), BATCH):
        written += _refresh_batch(ids[start:start + BATCH])
    return written


def refresh_one(ticket_id: int) -> None:
    """Refresh one ticket's facts and commit (the event hooks' entry point). Two workers
    refreshing the same new ticket at once: the second insert loses, and retries once."""
    for _attempt in range(2):
        try:
            refresh([ticket_id])
            db.session.commit()
            return
        except IntegrityError:
            db.session.rollback()


def refresh_new(ticket: Ticket) -> None:
    """The facts of a ticket being created, in its transaction (``helpdesk_ticket_created``).

    The same computation as ``refresh``, minus what a ticket nobody else has seen yet cannot
    have: a facts row to replace, reopenings in its audit trail; and its own columns come from
    the object in hand. Three statements fewer on every new ticket (issue 19).
    """
    row = (ticket.id, ticket.created_at, ticket.status, ticket.resolved_at, ticket.closed_at,
           ticket.first_response_at)
    _refresh_batch([ticket.id], new=[row])


def backfill(batch: int = 2000, after_id: int = 0) -> int:
    """Rebuild the facts of every ticket (with an id above ``after_id``), committing per
    batch; returns the tickets done."""
    done, last = 0, after_id
    while True:
        ids = list(db.session.scalars(select(Ticket.id).where(Ticket.id > last).order_by(Ticket.id).limit(batch)))
        if not ids:
            return done
        refresh(ids)
        db.session.commit()
        done += len(ids)
        last = ids[-1]


def _refresh_batch(ids: Sequence[int], new: Sequence[tuple] | None = None) -> int:
    """``new``: the rows of tickets being created (id, created_at, status, resolved_at,
    closed_at, first_response_at), which have no facts and no audit trail of reopenings yet."""
    if not ids:
        return 0
    tickets: Sequence[Any] = [_TicketRow(*row) for row in new] if new is not None else db.session.execute(
        select(Ticket.id, Ticket.created_at, Ticket.status, Ticket.resolved_at, Ticket.closed_at,
               Ticket.first_response_at).where(Ticket.id.in_(ids))).all()
    replies = dict(db.session.execute(
        select(Message.ticket_id, func.count()).join(User, User.id == Message.author_id)
        .where(Message.ticket_id.in_(ids), Message.internal.is_(False), User.role.in_(STAFF_ROLES))
        .group_by(Message.ticket_id)).all())
    reopens = {} if new is not None else dict(db.session.execute(
        select(AuditEvent.ticket_id, func.count())
        .where(AuditEvent.ticket_id.in_(ids), AuditEvent.field == "status",
               AuditEvent.old_value.in_(SOLVED), AuditEvent.new_value.in_(OPEN_STATUSES))
        .group_by(AuditEvent.ticket_id)).all())
    targets: dict[int, list] = {}
    for row in db.session.execute(
            select(SlaTarget.ticket_id, SlaTarget.policy_id, SlaTarget.due_at, SlaTarget.met_at,
                   SlaTarget.breached_at).where(SlaTarget.ticket_id.in_(ids))).all():
        targets.setdefault(row.ticket_id, []).append(row)
    calendars = _calendars({r.policy_id for rows in targets.values() for r in rows if r.policy_id})
    now = utcnow()
    values = []
    for t in tickets:
        rows = targets.get(t.id, [])
        policy_id = next((r.policy_id for r in rows if r.policy_id), None)
        calendar = calendars.get(policy_id) if policy_id else None
        solved_at = (t.resolved_at or t.closed_at) if t.status in SOLVED else None
        values.append({
            "ticket_id": t.id, "solved_at": solved_at,
            "first_response_minutes": _minutes(t.created_at, t.first_response_at, calendar),
            "resolution_minutes": _minutes(t.created_at, solved_at, calendar),
            "business_hours": calendar is not None,
            "reopen_count": reopens.get(t.id, 0), "agent_replies": replies.get(t.id, 0),
            "sla_met": _sla_met(rows), "refreshed_at": now,
        })
    if new is None:
        db.session.execute(delete(TicketFacts).where(TicketFacts.ticket_id.in_(ids)))
    if values:
        db.session.execute(insert(TicketFacts), values)
    return len(values)


def _calendars(policy_ids: set[int]) -> dict[int, Calendar]:
    """Each policy's compiled business hours (policies around the clock are left out)."""
    if not policy_ids:
        return {}
    out = {}
    for policy in db.session.scalars(select(SlaPolicy).where(SlaPolicy.id.in_(policy_ids))):
        try:
            calendar = compile_calendar(policy.business_hours)
        except ValueError:  # hand-edited hours the admin form would refuse: count wall-clock time
            calendar = None
        if calendar is not None and not calendar.always_open:
            out[policy.id] = calendar
    return out


def _minutes(start: datetime, end: datetime | None, calendar: Calendar | None) -> float | None:
    if end is None:
        return None
    return round(business_minutes_between(start, end, calendar), 2)


def _sla_met(rows: list) -> bool | None:
    """True when every decided target was met in time, False when one was missed (breached,
    or met after its due time), None when none is decided yet."""
    decided = [r for r in rows if r.met_at is not None or r.breached_at is not None]
    if not decided:
        return None
    return not any(r.breached_at is not None or (r.due_at is not None and r.met_at > r.due_at) for r in decided)
