"""Automatic notices to customers (acknowledgements, survey invitations, follow-ups).

They are not agent replies: they never count as a first response and are not stored as
ticket messages. Each goes out through the ticket's channel (``Channel.notify``), by email
when there is no ticket or its channel cannot be found.

``notify_customer`` is the one door for all of them, whichever plugin sends: it holds a
notice back when the customer had ``notices_per_recipient_per_hour`` (site setting) of
them in the last hour, or when their address is one nobody reads (``noreply@``,
``mailer-daemon@``, ``postmaster@``...). A notice held back is recorded
(``customer_notices``, status ``held``) and said in the ticket's history, so an agent
sees why the customer heard nothing: a mail loop or a flood stays short.
"""
from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta

from sqlalchemy import func, select

from helpdesk.contract import Channel
from helpdesk.extensions import db
from helpdesk.models import CustomerNotice, Ticket, User
from helpdesk.models.base import utcnow
from helpdesk.plugin_manager import manager
from helpdesk.services.importing import is_importing
from helpdesk.services.mail import in_batch, queue_mail
from helpdesk.services.settings import site_setting
from helpdesk.services.tickets import audit

log = logging.getLogger(__name__)


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


# Local parts of addresses nobody reads: automatic notices to them only feed loops and bounces.
NO_REPLY = re.compile(
    r"^(?:.*[._+-])?(?:no[._-]?reply|do[._-]?not[._-]?reply|dont[._-]?reply|no[._-]?response)(?:[._+-].*)?$"
    r"|^(?:mailer[._-]?daemon|mail[._-]?daemon|postmaster|bounces?|bounce[._+-].*)$", re.IGNORECASE)


def is_no_reply_address(address: str | None) -> bool:
    """``noreply@``, ``no-reply+x@``, ``do-not-reply@``, ``mailer-daemon@``, ``postmaster@``..."""
    local = (address or "").rpartition("@")[0]
    return bool(local) and NO_REPLY.match(local) is not None


def notify_customer(customer: User, subject: str, text: str, *, ticket: Ticket | None = None,
                    html: str | None = None, headers: dict[str, str] | None = None,
                    now: datetime | None = None, channel_name: str | None = None) -> bool:
    """Send ``customer`` an automatic notice through ``ticket``'s channel (email without one).

    ``channel_name`` picks the channel when there is no ticket (an announcement through the
    customer's preferred channel); an unknown or disabled one means email.

    ``text`` must make sense on its own (SMS and chat channels send only the text);
    ``html`` is an optional richer version for email. Returns True when it was queued;
    False when the customer cannot be reached, history is being imported (``importing``),
    or the notice was held back (the hourly cap, or an address nobody reads: recorded).
    """
    if is_importing():
        return False
    now = now or utcnow()
    channels = manager().channels()
    channel = channels.get(ticket.channel) if ticket is not None else channels.get(channel_name or "")
    if channel is None:
        channel = channels["web"]
    customer_id, ticket_id = customer.id, (ticket.id if ticket is not None else None)
    held = _hold_reason(customer, channel, now)
    if held:
        db.session.add(_row(customer_id, ticket_id, channel.name, subject, "held", held, now))
        if ticket is not None:
            audit(ticket, None, "notice held back", None, None, subject[:200], reason=held)
        _commit()
        log.info("notice to customer %s held back: %s", customer_id, held)
        return False
    # Added first, so the channel's own commit (queue_mail's) writes it with the notice's mail.
    record = _row(customer_id, ticket_id, channel.name, subject, "sent", None, now)
    db.session.add(record)
    try:
        sent = bool(channel.notify(customer, subject, text, ticket=ticket, html=html, headers=headers))
    except NotImplementedError:  # the channel has no notice of its own (Channel's default): email
        sent = email_notice(customer, subject, text, ticket=ticket, html=html, headers=headers)
    except Exception:  # a broken channel must not break the caller's work; email is the fallback
        log.exception("channel %s could not send a notice; falling back to email", channel.name)
        sent = channel.name != "web" and email_notice(customer, subject, text, ticket=ticket, html=html,
                                                      headers=headers)
    if not sent:
        record.status, record.reason = "unreachable", "the customer cannot be reached on this channel"
    _commit()
    return sent


def _writes_by_email(channel: Channel) -> bool:
    return getattr(channel, "name", "") in ("web", "email") or type(channel).notify is Channel.notify


def _hold_reason(customer: User, channel: Channel, now: datetime) -> str | None:
    if _writes_by_email(channel):
        address = customer_address(customer)
        if is_no_reply_address(address):
            return f"not sent: {address} is an address nobody reads (no-reply)"
    limit = int(site_setting("notices_per_recipient_per_hour") or 0)
    sent = db.session.scalar(select(func.count()).select_from(CustomerNotice).where(
        CustomerNotice.customer_id == customer.id, CustomerNotice.status == "sent",
        CustomerNotice.created_at > now - timedelta(hours=1)))
    if sent >= limit:
        return (f"not sent: {customer.name or 'the customer'} had {sent} automatic notice(s) in the last hour "
                f"(the limit is {limit}, Admin → Settings)")
    return None


def _row(customer_id: int, ticket_id: int | None, channel: str, subject: str, status: str, reason: str | None,
         now: datetime) -> CustomerNotice:
    return CustomerNotice(customer_id=customer_id, ticket_id=ticket_id, channel=channel[:40], subject=subject[:200],
                          status=status, reason=reason[:300] if reason else None, created_at=now)


def _commit() -> None:
    """Commit, except inside ``batched_mail`` (the batch commits its mails and these rows together)."""
    if in_batch():
        db.session.flush()
    else:
        db.session.commit()
