"""The ``email`` channel: agents' replies and automatic notices as properly threaded mail.

Everything goes through the core's outbox (``queue_mail``: a job sends it, with retries).
Each mail carries our HMAC-signed Message-ID, In-Reply-To the customer's last mail,
References with the ticket's chain, Reply-To the support address and the ticket reference
in the subject, so the customer's mail client threads it and their reply comes back to the
right ticket. Agents' replies are not marked automatic; notices are ``Auto-Submitted:
auto-replied``.
"""
from __future__ import annotations

import re

from flask import current_app, url_for
from sqlalchemy import select

from helpdesk.plugin_api import (
    Channel,
    Message,
    Ticket,
    User,
    customer_address,
    db_session,
    lazy_gettext,
    queue_mail,
    reply_mail_html,
    site_setting,
)
from helpdesk_email import msgids
from helpdesk_email.classify import loop_token
from helpdesk_email.models import EmailMessageId

REFERENCES_KEPT = 20
_REPLY_PREFIX = re.compile(r"^\s*((re|aw|sv|antw|fw|fwd|wg)\s*:\s*)+", re.IGNORECASE)


def reply_subject(ticket: Ticket) -> str:
    """``[HD-5] Re: <subject>``, without stacking prefixes or references."""
    subject = ticket.subject.replace(f"[{ticket.reference}]", "").strip()
    subject = _REPLY_PREFIX.sub("", subject).strip() or "(no subject)"
    return f"[{ticket.reference}] Re: {subject}"


def threading_headers(ticket_id: int, message_id: str) -> dict[str, str]:
    """Message-ID, In-Reply-To (the customer's last mail), References and Reply-To for a mail on a ticket."""
    rows = list(db_session().execute(
        select(EmailMessageId.message_id_header, EmailMessageId.direction)
        .where(EmailMessageId.ticket_id == ticket_id).order_by(EmailMessageId.id.desc()).limit(200)))
    rows.reverse()
    usable = [(header, direction) for header, direction in rows if _usable(header)]
    chain = [header for header, _direction in usable]
    received = [header for header, direction in usable if direction == "in"]
    headers = {"Message-ID": f"<{message_id}>", "Reply-To": msgids.support_address(),
               "X-Helpdesk-Loop": loop_token(), "X-Auto-Response-Suppress": "All"}
    parent = received[-1] if received else (chain[-1] if chain else None)
    if parent:
        headers["In-Reply-To"] = f"<{parent}>"
        kept = chain[:1] + chain[1:][-(REFERENCES_KEPT - 1):] if len(chain) > REFERENCES_KEPT else chain
        headers["References"] = " ".join(f"<{h}>" for h in kept)
    return headers


def _usable(header: str) -> bool:
    """A received id we can repeat in a header: printable ASCII, not our hash stand-in."""
    return not header.startswith("sha256:") and header.isascii() and header.isprintable() and " " not in header


def _record_outbound(ticket_id: int, message_id: str, message: Message | None) -> None:
    db_session().add(EmailMessageId(msgid_hash=msgids.hash_id(message_id), message_id_header=message_id,
                                  ticket_id=ticket_id, message_id=message.id if message else None, direction="out"))


def _external(endpoint: str, **values: object) -> str:
    base = current_app.config["EXTERNAL_URL"].rstrip("/")
    with current_app.test_request_context(base_url=base):
        return url_for(endpoint, _external=True, **values)


class EmailChannel(Channel):
    """Tickets opened by mail (``channel="email"``) are answered by mail."""

    def __init__(self) -> None:
        super().__init__(name="email", label=lazy_gettext("Email"))

    def deliver(self, ticket: Ticket, message: Message) -> None:
        already = db_session().scalar(select(EmailMessageId.id).where(
            EmailMessageId.message_id == message.id, EmailMessageId.direction == "out"))
        if already is not None:  # the job ran before: the mail is in the outbox already
            return
        address = customer_address(ticket.customer)
        if not address:
            return
        message_id = msgids.make_message_id(ticket.id, message.id)
        headers = threading_headers(ticket.id, message_id)
        headers["Auto-Submitted"] = ""  # a person wrote this reply: no "auto-generated" marker
        author = message.author.name if message.author else site_setting("helpdesk_name")
        lines = [message.body.rstrip()]
        if message.attachments:  # the outbox sends no files: the customer downloads them after signing in
            lines += ["", "Attachments (sign in to download):"] + [
                f"- {item.filename}: {_external('agent.attachment', token=item.token)}" for item in message.attachments]
        lines += ["", "-- ", author, site_setting("helpdesk_name"), "",
                  f"Reference {ticket.reference}: reply to this mail to answer."]
        _record_outbound(ticket.id, message_id, message)
        html = reply_mail_html(message, lines[1:]) if message.body_html else None
        queue_mail(address, reply_subject(ticket), "\n".join(lines) + "\n", html=html, headers=headers,
                   ticket_id=ticket.id)

    def notify(self, customer: User, subject: str, text: str, *, ticket: Ticket | None = None,
               html: str | None = None, headers: dict[str, str] | None = None) -> bool:
        if ticket is None:
            return super().notify(customer, subject, text, ticket=ticket, html=html, headers=headers)
        address = customer_address(customer)
        if not address:
            return False
        if ticket.reference not in subject:
            subject = f"[{ticket.reference}] {subject}"
        queue_notice(ticket.id, ticket.reference, address, subject, text, html=html,
                     headers={"Auto-Submitted": "auto-replied", **(headers or {})})
        return True


def queue_notice(ticket_id: int, reference: str, address: str, subject: str, text: str, *,
                 html: str | None = None, headers: dict[str, str] | None = None) -> None:
    """Queue an automatic notice about a ticket, threaded with its mail (commits the session)."""
    message_id = msgids.make_message_id(ticket_id)
    merged = threading_headers(ticket_id, message_id)
    merged["Auto-Submitted"] = "auto-replied"
    for name, value in (headers or {}).items():
        if name.lower() not in {"message-id", "in-reply-to", "references"}:
            merged[name] = value
    _record_outbound(ticket_id, message_id, None)
    queue_mail(address, subject, text, html=html, headers=merged, ticket_id=ticket_id)
