"""Per-agent read marks: the queue shows a ticket unread (bold, a dot) until the agent opens it.

A mark is "the last message of this ticket I have seen" (``ticket_reads``). Nothing needs to
write when a message arrives: a ticket is unread for an agent while it has a message by
someone else (the customer, a colleague, the system) newer than the agent's mark, so a
customer's reply or a colleague's note makes it unread again for everyone but its author.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.exc import IntegrityError

from helpdesk.extensions import db
from helpdesk.models import Message, Ticket, TicketRead, User
from helpdesk.models.base import utcnow


def mark_seen(user: User, ticket: Ticket, up_to_message_id: int | None = None) -> int:
    """Record that ``user`` has read ``ticket`` up to a message (default: its latest); commits.

    The mark never moves backwards and never past the ticket's latest message; returns it.
    The caller has checked that ``user`` may see the ticket (``access.ticket_or_404``).
    """
    latest = db.session.scalar(select(func.max(Message.id)).where(Message.ticket_id == ticket.id)) or 0
    wanted = latest if up_to_message_id is None else max(0, min(up_to_message_id, latest))
    for _attempt in range(2):  # two tabs may insert the first mark at once: then update it
        mark = db.session.get(TicketRead, (user.id, ticket.id))
        if mark is not None:
            if wanted > mark.last_seen_message_id:
                mark.last_seen_message_id, mark.seen_at = wanted, utcnow()
            db.session.commit()
            return max(wanted, mark.last_seen_message_id)
        db.session.add(TicketRead(user_id=user.id, ticket_id=ticket.id, last_seen_message_id=wanted))
        try:
            db.session.commit()
            return wanted
        except IntegrityError:
            db.session.rollback()
    return wanted


def unread_column(user: User) -> Any:
    """``unread_ticket_ids`` as a column of a tickets query (a correlated EXISTS): no query of its own."""
    mark = TicketRead.__table__.alias("mark")
    return (select(Message.id)
            .outerjoin(mark, and_(mark.c.ticket_id == Message.ticket_id, mark.c.user_id == user.id))
            .where(Message.ticket_id == Ticket.id,
                   (Message.author_id.is_(None)) | (Message.author_id != user.id),
                   Message.id > func.coalesce(mark.c.last_seen_message_id, 0))
            .correlate(Ticket).exists())


def unread_ticket_ids(user: User, ticket_ids: Iterable[int]) -> set[int]:
    """Which of ``ticket_ids`` have a message by someone else that ``user`` has not seen (one query)."""
    ids = list(ticket_ids)
    if not ids:
        return set()
    mark = TicketRead.__table__.alias("mark")
    query = (select(Message.ticket_id).distinct()
             .outerjoin(mark, and_(mark.c.ticket_id == Message.ticket_id, mark.c.user_id == user.id))
             .where(Message.ticket_id.in_(ids),
                    (Message.author_id.is_(None)) | (Message.author_id != user.id),
                    Message.id > func.coalesce(mark.c.last_seen_message_id, 0)))
    return set(db.session.scalars(query))
