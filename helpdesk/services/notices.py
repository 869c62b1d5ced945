"""Automatic notices to customers (acknowledgements, survey invitations, follow-ups).

They are not agent replies: they never count as a first response and are not stored as
ticket messages. Each goes out through the ticket's channel (``Channel.notify``), by email
when there is no ticket or its channel cannot be found.
"""
from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from helpdesk.models import Ticket, User
from helpdesk.plugin_manager import manager
from helpdesk.services.mail import queue_mail

log = logging.getLogger(__name__)

_importing: ContextVar[bool] = ContextVar("helpdesk_importing", default=False)


@contextmanager
def importing() -> Iterator[None]:
    """Write history without writing to anyone: inside, no notice is sent and agents' replies
    are not delivered (an mbox import, a migration from another helpdesk).

        with services.importing():
            for raw in mailbox:
                ingest(raw)

    Plugins need do nothing: ``notify_customer`` answers False and delivery is skipped.
    """
    token = _importing.set(True)
    try:
        yield
    finally:
        _importing.reset(token)


def is_importing() -> bool:
    return _importing.get()


def customer_address(customer: User) -> str | None:
    """The address to write to: the account's, else a verified-or-not identity that is not bouncing."""
    if customer.email and not any(i.bouncing for i in customer.identities
                                  if i.kind == "email" and i.value == customer.email):
        return customer.email
    return next((i.value for i in customer.identities if i.kind == "email" and not i.bouncing), None)


def email_notice(customer: User, subject: str, text: str, *, ticket: Ticket | None = None,
                 html: str | None = None, headers: dict[str, str] | None = None) -> bool:
    """Queue a notice by email; False when the customer has no address we may write to."""
    address = customer_address(customer)
    if not address:
        return False
    queue_mail(address, subject, text, html=html, headers=headers, ticket_id=ticket.id if ticket else None)
    return True


def notify_customer(customer: User, subject: str, text: str, *, ticket: Ticket | None = None,
                    html: str | None = None, headers: dict[str, str] | None = None) -> bool:
    """Send ``customer`` an automatic notice through ``ticket``'s channel (email without one).

    ``text`` must make sense on its own (SMS and chat channels send only the text);
    ``html`` is an optional richer version for email. Returns True when it was queued;
    False when the customer cannot be reached or history is being imported (``importing``).
    """
    if is_importing():
        return False
    channels = manager().channels()
    channel = channels.get(ticket.channel) if ticket is not None else None
    if channel is None:
        channel = channels["web"]
    try:
        return bool(channel.notify(customer, subject, text, ticket=ticket, html=html, headers=headers))
    except NotImplementedError:  # the channel has no notice of its own (Channel's default): email
        return email_notice(customer, subject, text, ticket=ticket, html=html, headers=headers)
    except Exception:  # a broken channel must not break the caller's work; email is the fallback
        log.exception("channel %s could not send a notice; falling back to email", channel.name)
        if channel.name == "web":
            return False
        return email_notice(customer, subject, text, ticket=ticket, html=html, headers=headers)
