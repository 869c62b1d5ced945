"""The channels this plugin answers through: sms, whatsapp, telegram, slack, social.

``deliver`` runs in the core's durable delivery job: it raises when the provider does not
take the reply, and the job tries again later (up to the core's limit, then the agent sees
the reply marked failed). It answers the address of the customer's latest message on this
channel in the ticket (kept in that message's ``meta["messaging"]``). Text longer than the
channel allows is split into numbered parts (WhatsApp, Telegram, Slack) or shortened with a
short link to the whole reply (SMS, social posts).
"""
from __future__ import annotations

import hashlib
import re
import secrets

from flask import current_app
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import select

from helpdesk.plugin_api import Channel, Message, Ticket, User, db_session, external_url, lazy_gettext
from helpdesk_messaging import providers
from helpdesk_messaging.models import MessagingLink

LIMITS = {"sms": 1600, "phone": 1600, "whatsapp": 4096, "telegram": 4096, "slack": 4000, "social": 480}
SHORTENED = {"sms", "phone", "social"}  # the rest are split into parts
URL = re.compile(r"https?://\S{30,}")
READ_SALT = "helpdesk-messaging-read"
PRIVATE_TAG = "private-reply"


def short_link(url: str) -> str:
    code = secrets.token_urlsafe(6)
    db_session().add(MessagingLink(code=code, url=url))
    db_session().flush()
    return external_url("messaging.short", link_code=code)


def shorten_links(text: str) -> str:
    """Long links in a notice become ``/m/<code>`` links (SMS has no room for signed URLs)."""
    return URL.sub(lambda m: short_link(m.group(0)), text)


def read_link(message: Message) -> str:
    token = URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=READ_SALT).dumps(message.id)
    return short_link(external_url("messaging.read", read_token=token))


def split(text: str, limit: int) -> list[str]:
    """Parts of at most ``limit`` characters, cut at a paragraph, line or word where possible,
    numbered "(1/3)" when there is more than one."""
    if len(text) <= limit:
        return [text]
    room = limit - 8  # " (12/12)"
    parts, rest = [], text
    while rest:
        if len(rest) <= room:
            parts.append(rest)
            break
        cut = max(rest.rfind("\n\n", 0, room), rest.rfind("\n", 0, room), rest.rfind(" ", 0, room))
        cut = cut if cut > room // 2 else room
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    return [f"{part} ({n}/{len(parts)})" for n, part in enumerate(parts, 1)]


def fit(channel: str, text: str, message: Message | None) -> list[str]:
    limit = LIMITS[channel]
    if len(text) <= limit:
        return [text]
    if channel in SHORTENED:
        link = read_link(message) if message is not None else ""
        keep = limit - len(link) - 2
        cut = text.rfind(" ", 0, keep)
        return [text[:cut if cut > keep // 2 else keep].rstrip() + "… " + link]
    return split(text, limit)


def last_customer_message(ticket: Ticket, channel: str | None = None) -> Message | None:
    query = select(Message).where(Message.ticket_id == ticket.id, Message.author_id == ticket.customer_id,
                                  Message.internal.is_(False))
    if channel is not None:
        query = query.where(Message.channel == channel)
    return db_session().scalar(query.order_by(Message.id.desc()).limit(1))


def send(channel: str, reply: dict, text: str, key: str, *, private: bool = False) -> None:
    if channel in ("sms", "phone"):  # a phone ticket is answered by text to the caller's number
        providers.sms_send(reply["to"], text, key)
    elif channel == "whatsapp":
        providers.whatsapp_send(reply["to"], text, key)
    elif channel == "telegram":
        providers.telegram_send(reply["chat_id"], text, key)
    elif channel == "slack":
        providers.slack_send(reply["channel"], text, key)
    elif channel == "social":
        providers.social_send(reply, text, key, private=private)
    else:  # pragma: no cover - the channels are fixed
        raise ValueError(channel)


class MessagingChannel(Channel):
    def deliver(self, ticket: Ticket, message: Message) -> None:
        last = last_customer_message(ticket, self.name)
        reply = dict((last.meta or {}).get("messaging") or {}) if last is not None else {}
        if not reply:
            raise providers.SendFailed(f"{ticket.reference} has no {self.label} message to answer")
        private = any(tag.name == PRIVATE_TAG for tag in ticket.tags)
        for n, part in enumerate(fit(self.name, message.body, message), 1):
            send(self.name, reply, part, f"helpdesk-{message.id}-{n}", private=private)

    def notify(self, customer: User, subject: str, text: str, *, ticket: Ticket | None = None,
               html: str | None = None, headers: dict[str, str] | None = None) -> bool:
        """A notice (acknowledgement, survey invitation) as a short text with short links.

        Without a ticket (an announcement through the customer's preferred channel) it goes to
        where the customer last wrote from on this channel, else to their phone number (SMS,
        WhatsApp). A notice with a Message-ID (an announcement's copy for one customer) has the
        same provider key each time, so a copy sent again is one message at the provider."""
        last = last_customer_message(ticket, self.name) if ticket is not None else latest_from(customer, self.name)
        reply = dict((last.meta or {}).get("messaging") or {}) if last is not None else {}
        if not reply and ticket is None and self.name in ("sms", "whatsapp"):
            phone = next((i.value for i in customer.identities if i.kind == "phone"), None)
            reply = {"to": phone} if phone else {}
        if not reply:
            return False
        fixed = next((v for k, v in (headers or {}).items() if k.lower() == "message-id"), None)
        stem = hashlib.sha256(fixed.encode()).hexdigest()[:16] if fixed else secrets.token_hex(6)
        body = shorten_links(text.strip())
        for n, part in enumerate(fit(self.name, body, None), 1):
            send(self.name, reply, part, f"helpdesk-notice-{stem}-{n}", private=True)
        return True


def latest_from(customer: User, channel: str) -> Message | None:
    """The customer's latest message on ``channel`` in any ticket (where to write to them)."""
    return db_session().scalar(select(Message).where(
        Message.author_id == customer.id, Message.channel == channel, Message.internal.is_(False))
        .order_by(Message.id.desc()).limit(1))


CHANNELS = [MessagingChannel(name="sms", label=lazy_gettext("SMS"), plugin="messaging"),
            MessagingChannel(name="whatsapp", label=lazy_gettext("WhatsApp"), plugin="messaging"),
            MessagingChannel(name="telegram", label=lazy_gettext("Telegram"), plugin="messaging"),
            MessagingChannel(name="slack", label=lazy_gettext("Slack"), plugin="messaging"),
            MessagingChannel(name="social", label=lazy_gettext("Social"), plugin="messaging"),
            MessagingChannel(name="phone", label=lazy_gettext("Phone"), plugin="messaging")]
NAMES = {c.name for c in CHANNELS}
