"""Taking a provider message in: a ticket, or a message on the sender's open ticket on that channel."""
from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from helpdesk.plugin_api import Message, ServiceError, Ticket, db_session, find_customer, services
from helpdesk_messaging.config import setting
from helpdesk_messaging.models import MessagingReceived
from helpdesk_messaging.providers import Inbound

log = logging.getLogger(__name__)


def already_received(item: Inbound) -> bool:
    return db_session().scalar(select(MessagingReceived.id).where(
        MessagingReceived.provider == item.provider,
        MessagingReceived.external_id == item.external_id[:200])) is not None


def open_ticket(customer_id: int, channel: str) -> Ticket | None:
    return db_session().scalar(select(Ticket).where(
        Ticket.customer_id == customer_id, Ticket.channel == channel, Ticket.status != "closed",
        Ticket.merged_into_id.is_(None)).order_by(Ticket.id.desc()).limit(1))


def take_in(item: Inbound) -> Message | None:
    """The message ``item`` became, or None when it was a duplicate of one taken in before."""
    if already_received(item):
        return None
    kind, value = item.identity
    customer = find_customer(kind, value) or services.find_or_create_customer(kind, value, name=item.name)
    body = item.text.strip() or "(empty message)"
    meta = {"messaging": {"provider": item.provider, **item.reply}}

    def record(ticket: Ticket, message: Message) -> None:
        db_session().add(MessagingReceived(provider=item.provider, external_id=item.external_id[:200],
                                           ticket_id=ticket.id, message_id=message.id))

    try:
        ticket = open_ticket(customer.id, item.channel)
        if ticket is not None:
            try:
                return services.add_message(ticket, customer, body, channel=item.channel, meta=meta,
                                            external_id=item.external_id[:200], before_commit=record)
            except ServiceError:
                db_session().rollback()  # resolved too long ago: a new ticket, as the core advises
        first_line = body.splitlines()[0][:80] if body else item.channel
        created = services.create_ticket(customer, first_line, body, channel=item.channel, meta=meta,
                                         external_id=item.external_id[:200], team_id=setting("team"),
                                         before_commit=record)
        return created.messages[0]
    except IntegrityError:
        db_session().rollback()  # the same provider message, taken in meanwhile by another worker
        log.info("%s message %s arrived twice at once; kept once", item.provider, item.external_id)
        return None
