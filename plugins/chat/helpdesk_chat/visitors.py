"""Visitors: signed tokens, verified identities, and the chat's tickets and messages."""
from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select

from helpdesk.plugin_api import (
    Message,
    NewAttachment,
    ServiceError,
    Team,
    Ticket,
    User,
    db_session,
    gettext,
    services,
    throttle,
    utcnow,
)
from helpdesk_chat import config
from helpdesk_chat.models import ChatVisitor

TOKEN_DAYS = 180  # a returning visitor finds the conversation for this long
SALT = "helpdesk-chat-visitor"
IDENTITY = "chat"  # contact identity kind of an anonymous visitor's customer record
VERIFIED = "chat_user"  # contact identity kind of the embedding site's signed-in user


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def make_token(visitor: ChatVisitor) -> str:
    return _serializer().dumps({"v": visitor.key})


def visitor_for(token: str | None) -> ChatVisitor | None:
    """The visitor a token names; None for a token that is forged, expired or unknown."""
    if not token or len(token) > 400:
        return None
    try:
        data = _serializer().loads(token, max_age=TOKEN_DAYS * 86400)
    except BadSignature:
        return None
    key = data.get("v") if isinstance(data, dict) else None
    if not isinstance(key, str):
        return None
    return db_session().scalar(select(ChatVisitor).where(ChatVisitor.key == key))


def verify_identity(user_id: str, user_hash: str) -> bool:
    """Whether the embedding site signed ``user_id``: HMAC-SHA256(identity secret, user id), hex."""
    secret = config.setting("identity_secret") or ""
    if not secret or not user_id or not user_hash or len(user_id) > 200:
        return False
    expected = hmac.new(secret.encode(), user_id.encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, user_hash.strip().lower())


def _clean(value: str | None, limit: int) -> str | None:
    value = " ".join((value or "").split())[:limit]
    return value or None


def start(*, name: str | None, email: str | None, origin: str, user_id: str | None = None,
          user_hash: str | None = None) -> ChatVisitor:
    """A new visitor. With a verified identity the chat joins that site user's customer record;
    otherwise a fresh customer record whose only identity is the visitor's random key. A typed
    email is kept on the visitor (for replies when they left) and never used to find anyone."""
    key = secrets.token_urlsafe(24)
    name = _clean(name, 200)
    verified = user_id if user_id and user_hash and verify_identity(user_id, user_hash) else None
    if verified:
        customer = services.find_or_create_customer(VERIFIED, verified, name=name or "Website user")
    else:
        customer = services.find_or_create_customer(IDENTITY, key, name=name or "Website visitor")
    visitor = ChatVisitor(key=key, customer_id=customer.id, name=name, email=_email(email),
                          verified_user=verified, origin=origin[:200])
    db_session().add(visitor)
    db_session().commit()
    return visitor


def _email(value: str | None) -> str | None:
    value = (value or "").strip()
    if not value:
        return None
    if len(value) > 320 or "@" not in value or any(c.isspace() for c in value):
        raise ServiceError(gettext("That email address does not look right."), field="email")
    return value.lower()


def update_details(visitor: ChatVisitor, *, name: str | None, email: str | None) -> None:
    if name is not None and _clean(name, 200):
        visitor.name = _clean(name, 200)
    if email is not None and email.strip():
        visitor.email = _email(email)
    db_session().commit()


def seen(visitor: ChatVisitor) -> None:
    visitor.last_seen_at = utcnow()
    db_session().commit()


def is_away(visitor: ChatVisitor) -> bool:
    return utcnow() - visitor.last_seen_at > timedelta(seconds=int(config.setting("away_seconds") or 60))


def customer_of(visitor: ChatVisitor) -> User:
    customer = db_session().get(User, visitor.customer_id)
    while customer.merged_into_id:  # an agent merged the visitor into a known customer
        customer = db_session().get(User, customer.merged_into_id)
    return customer


def current_ticket(visitor: ChatVisitor) -> Ticket | None:
    if visitor.ticket_id is None:
        return None
    ticket = db_session().get(Ticket, visitor.ticket_id)
    while ticket is not None and ticket.merged_into_id:
        ticket = db_session().get(Ticket, ticket.merged_into_id)
    return ticket


def team_id(name: str | None) -> int | None:
    if name:
        team = db_session().scalar(select(Team).where(Team.name == name[:100]))
        if team is not None:
            return team.id
    return config.setting("team")


class TooFast(ServiceError):
    """The visitor's messages came faster than the per-minute limit (answered 429, whatever the language)."""


def _check_rate(visitor: ChatVisitor) -> None:
    per_minute = int(config.setting("per_minute") or 20)
    limit = throttle.Limit(f"chat-visitor-messages-{per_minute}", attempts=per_minute,
                           window=timedelta(minutes=1), lockout=timedelta(seconds=30))
    if wait := throttle.attempt(limit, visitor.key):
        raise TooFast(gettext("You are writing very fast: please wait %(wait)s.", wait=throttle.wait_text(wait)))


def write(visitor: ChatVisitor, body: str, *, team: str | None = None,
          attachments: list[NewAttachment] | None = None) -> Message:
    """The visitor's message: a new chat ticket, or a message on their open one."""
    body = (body or "").strip()
    limit = int(config.setting("max_chars") or 2000)
    if len(body) > limit:
        length, most = f"{len(body):,}", f"{limit:,}"
        raise ServiceError(gettext("Your message is too long (%(length)s characters; at most %(most)s).",
                                   length=length, most=most), field="body")
    if not body and not attachments:
        raise ServiceError(gettext("Write a message first."), field="body")
    _check_rate(visitor)
    customer = customer_of(visitor)
    ticket = current_ticket(visitor)
    files = attachments or []
    if ticket is not None and ticket.status != "closed":
        message = services.add_message(ticket, customer, body, channel="chat", attachments=files)
        landed = message.ticket
    else:
        first_line = (body.splitlines()[0] if body else files[0].filename)[:80]
        ticket = services.create_ticket(customer, f"Chat: {first_line}", body or "(a file)", channel="chat",
                                        team_id=team_id(team), attachments=files,
                                        meta={"origin": visitor.origin or ""})
        landed = ticket
        message = ticket.messages[0]
    if visitor.ticket_id != landed.id:
        visitor.ticket_id = landed.id
    visitor.last_seen_at = utcnow()
    db_session().commit()
    return message


def public_messages(ticket: Ticket, after: int = 0) -> list[dict]:
    rows = db_session().scalars(select(Message).where(
        Message.ticket_id == ticket.id, Message.internal.is_(False), Message.needs_review.is_(False),
        Message.id > after).order_by(Message.id).limit(500))
    return [as_json(m, ticket) for m in rows]


def as_json(message: Message, ticket: Ticket) -> dict:
    author = message.author
    from_agent = author is not None and author.is_staff
    return {"id": message.id, "body": message.body, "from": "agent" if from_agent else "visitor",
            "author": (author.first_name if from_agent and author else ""),
            "at": message.created_at.isoformat() + "Z",
            "files": [{"name": a.filename, "size": a.size} for a in message.attachments]}
