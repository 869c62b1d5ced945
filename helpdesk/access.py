"""The one scoping function: which tickets, messages and attachments a user may see.

Every page, search, export and API call goes through these; an object outside a user's
scope answers 404, never 403, so its existence is not revealed.
"""
from __future__ import annotations

from flask import abort
from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload

from helpdesk.extensions import db
from helpdesk.models import Attachment, Message, Ticket, User
from helpdesk.models.tickets import parse_reference


def visible_tickets(user: User | None) -> Select:
    """A SELECT of the tickets ``user`` may see (staff: all; customers: their own; else none)."""
    query = select(Ticket)
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return query.where(False)
    if user.is_staff:
        return query
    return query.where(Ticket.customer_id == user.id)


def can_see_ticket(user: User | None, ticket: Ticket) -> bool:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return user.is_staff or ticket.customer_id == user.id


def visible_messages(user: User, ticket: Ticket) -> list[Message]:
    """The conversation as ``user`` sees it: customers never see internal notes."""
    if not can_see_ticket(user, ticket):
        return []
    query = (select(Message).where(Message.ticket_id == ticket.id).order_by(Message.id)
             .options(selectinload(Message.attachments), selectinload(Message.author)))
    if not user.is_staff:
        query = query.where(Message.internal.is_(False))
    return list(db.session.scalars(query))


def ticket_or_404(user: User, reference: str) -> Ticket:
    ticket_id = parse_reference(reference)
    if ticket_id is None:
        abort(404)
    ticket = db.session.scalar(visible_tickets(user).where(Ticket.id == ticket_id))
    if ticket is None:
        abort(404)
    return ticket


def attachment_or_404(user: User, token: str) -> Attachment:
    attachment = db.session.scalar(select(Attachment).where(Attachment.token == token))
    if attachment is None:
        abort(404)
    message = attachment.message
    if not can_see_ticket(user, message.ticket) or (message.internal and not user.is_staff):
        abort(404)
    return attachment


def message_or_404(user: User, message_id: int) -> Message:
    """A message ``user`` may read (customers never read internal notes), else 404."""
    message = db.session.get(Message, message_id)
    if message is None or not can_see_ticket(user, message.ticket) or (message.internal and not user.is_staff):
        abort(404)
    return message


def customer_or_404(user: User, customer_id: int) -> User:
    """Customer records are visible to staff only."""
    customer = db.session.get(User, customer_id)
    if customer is None or not user.is_staff or customer.role != "customer":
        abort(404)
    return customer
