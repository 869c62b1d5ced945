"""The one scoping function: which tickets, messages and attachments a user may see.

Every page, search, export, count, plugin page and job that shows tickets to a person goes
through these; an object outside a user's scope answers 404, never 403, so its existence is
not revealed.

Who sees what:

- admins: every ticket (the "my teams only" setting does not apply to them);
- agents and light agents: every ticket, or, with "sees only tickets of my teams"
  (``User.team_scoped``), the tickets of their teams plus the tickets assigned to them.
  A ticket with **no team** is not shown to team-scoped people: an unrouted ticket may
  be anyone's case (an HR matter not yet routed must not reach billing), so unscoped
  agents triage it, and it appears to a team once it is routed there;
- light agents see internal notes like agents, but may only add notes (the services
  refuse anything else);
- customers: their own tickets, without internal notes; in an organisation whose admin set
  "members see each other's tickets" (``Organisation.shared_tickets``), also the tickets of
  the organisation's other members (read-only in the portal: only the ticket's own customer
  replies or closes it).
"""
from __future__ import annotations

from typing import Any

from flask import abort
from sqlalchemy import ColumnElement, Select, false, or_, select, true
from sqlalchemy.orm import joinedload

from helpdesk.extensions import db
from helpdesk.models import Attachment, Message, Organisation, Ticket, User, team_members
from helpdesk.models.tickets import parse_reference


def _signed_in(user: User | None) -> bool:
    return user is not None and getattr(user, "is_authenticated", False) and user.is_active


def ticket_scope(user: User | None) -> ColumnElement[bool]:
    """The WHERE clause of the tickets ``user`` may see (for queries that start elsewhere)."""
    if not _signed_in(user):
        return false()
    if user.is_admin or (user.is_backoffice and not user.team_scoped):
        return Ticket.id.is_not(None)
    if user.is_backoffice:
        my_teams = select(team_members.c.team_id).where(team_members.c.user_id == user.id)
        return or_(Ticket.team_id.in_(my_teams), Ticket.assignee_id == user.id)
    if user.organisation_id is not None:
        colleagues = (select(User.id).join(Organisation, Organisation.id == User.organisation_id)
                      .where(User.organisation_id == user.organisation_id, Organisation.shared_tickets.is_(True)))
        return or_(Ticket.customer_id == user.id, Ticket.customer_id.in_(colleagues))
    return Ticket.customer_id == user.id


def sees_every_ticket(user: User | None) -> bool:
    """Admins, and agents or light agents without "sees only tickets of my teams"."""
    return _signed_in(user) and (user.is_admin or (user.is_backoffice and not user.team_scoped))


def scoped_to_tickets(user: User | None, ticket_id_column: Any) -> ColumnElement[bool]:
    """A WHERE clause for a plugin's rows that point at a ticket (``ticket_id``, may be NULL).

    Rows about a ticket follow the ticket's visibility; rows about no ticket at all (a
    relationship survey, a customer-level note) are for people who see every ticket, the
    same choice as for tickets without a team.
    """
    if sees_every_ticket(user):
        return true()
    return ticket_id_column.in_(visible_tickets(user).with_only_columns(Ticket.id))


def visible_tickets(user: User | None) -> Select:
    """A SELECT of the tickets ``user`` may see (see the module's docstring for the rules)."""
    query = select(Ticket)
    if not _signed_in(user):
        return query.where(false())
    if sees_every_ticket(user):
        return query
    return query.where(ticket_scope(user))


def can_see_ticket(user: User | None, ticket: Ticket) -> bool:
    """Whether ``user`` may see ``ticket`` (the same rule as ``visible_tickets``, for one loaded ticket)."""
    if not _signed_in(user):
        return False
    if user.is_admin or (user.is_backoffice and not user.team_scoped):
        return True
    if user.is_backoffice:
        return ticket.assignee_id == user.id or (
            ticket.team_id is not None and ticket.team_id in {t.id for t in user.teams})
    return ticket.customer_id == user.id or shares_organisation(user, ticket)


def shares_organisation(user: User, ticket: Ticket) -> bool:
    """Whether a customer sees ``ticket`` as a colleague: same organisation, which shares tickets."""
    return (user.organisation_id is not None and ticket.customer_id != user.id
            and ticket.customer.organisation_id == user.organisation_id
            and user.organisation is not None and user.organisation.shared_tickets)


def visible_messages(user: User, ticket: Ticket) -> list[Message]:
    """The conversation as ``user`` sees it: customers never see internal notes."""
    if not can_see_ticket(user, ticket):
        return []
    query = (select(Message).where(Message.ticket_id == ticket.id).order_by(Message.id)
             .options(joinedload(Message.attachments), joinedload(Message.author)))  # one statement
    if not user.is_backoffice:
        query = query.where(Message.internal.is_(False))
    return list(db.session.scalars(query).unique())


def ticket_or_404(user: User, reference: str, *options: Any) -> Ticket:
    """The ticket if ``user`` may see it (else 404); ``options`` eager-load what the page shows."""
    ticket_id = parse_reference(reference)
    if ticket_id is None:
        abort(404)
    query = visible_tickets(user).where(Ticket.id == ticket_id)
    ticket = db.session.execute(query.options(*options)).unique().scalar_one_or_none() if options \
        else db.session.scalar(query)
    if ticket is None:
        abort(404)
    return ticket


def attachment_or_404(user: User, token: str) -> Attachment:
    attachment = db.session.scalar(select(Attachment).where(Attachment.token == token))
    if attachment is None:
        abort(404)
    message = attachment.message
    if not can_see_ticket(user, message.ticket) or (message.internal and not user.is_backoffice):
        abort(404)
    return attachment


def message_or_404(user: User, message_id: int) -> Message:
    """A message ``user`` may read (customers never read internal notes), else 404."""
    message = db.session.get(Message, message_id)
    if message is None or not can_see_ticket(user, message.ticket) or (message.internal and not user.is_backoffice):
        abort(404)
    return message


def visible_customers(user: User | None) -> Select:
    """A SELECT of the customer records ``user`` may open: agents and admins (not light agents);
    a team-scoped agent only customers with a ticket they may see (a billing agent does not
    browse the people who wrote to HR)."""
    query = select(User).where(User.role == "customer")
    if not _signed_in(user) or not user.is_staff:
        return query.where(false())
    if sees_every_ticket(user):
        return query
    return query.where(User.id.in_(select(Ticket.customer_id).where(ticket_scope(user))))


def customer_or_404(user: User, customer_id: int) -> User:
    """A customer record ``user`` may open (see ``visible_customers``), else 404."""
    customer = db.session.scalar(visible_customers(user).where(User.id == customer_id))
    if customer is None:
        abort(404)
    return customer
