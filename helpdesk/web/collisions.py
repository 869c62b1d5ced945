"""Never reply blind: what happened on a ticket since the agent's page was rendered.

The reply form carries ``seen`` = ``"<last message id>:<ticket version>:<last audit id>"``
as the page showed them. When the reply is sent, ``reply_news`` lists what is new since then
(a customer's or a colleague's message, a change of status, assignee, team or priority by
someone else); if anything is, the reply is not sent: the ticket page is shown again with the
typed text kept, a panel listing the news and a "Send anyway" button (the re-rendered form
carries the new marks, so sending again goes through unless something new happened again).
This works without JavaScript; ``live.js`` additionally shows the news as it happens.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from helpdesk.access import visible_messages
from helpdesk.extensions import db
from helpdesk.models import AuditEvent, Message, Ticket, User
from helpdesk.models.base import utcnow

WATCHED_FIELDS = {"status": "Status", "assignee_id": "Assignee", "team_id": "Team", "priority": "Priority"}
_ID_SUFFIX = re.compile(r" \(#\d+\)$")


@dataclass(frozen=True)
class News:
    """One thing that happened since the page was shown, in words (``text``) and where (``anchor``)."""

    text: str
    at: datetime
    anchor: str = ""


def seen_mark(ticket: Ticket, messages: list[Message], audit_trail: list[AuditEvent]) -> str:
    """The mark a freshly rendered ticket page puts in its reply form."""
    return f"{messages[-1].id if messages else 0}:{ticket.version}:{audit_trail[-1].id if audit_trail else 0}"


def _parse(mark: str | None) -> tuple[int, int, int] | None:
    parts = (mark or "").split(":")
    if len(parts) != 3 or not all(p.isdigit() and len(p) < 12 for p in parts):
        return None
    return int(parts[0]), int(parts[1]), int(parts[2])


def ago(when: datetime, now: datetime | None = None) -> str:
    """``20 s ago``, ``3 min ago``, ``2 h ago``."""
    seconds = max(0, int(((now or utcnow()) - when).total_seconds()))
    if seconds < 5:
        return "just now"
    if seconds < 60:
        return f"{seconds} s ago"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    return f"{seconds // 3600} h ago"


def reply_news(ticket: Ticket, user: User, mark: str | None) -> list[News]:
    """What ``user`` has not seen on ``ticket`` since the page that carried ``mark``.

    A missing or malformed mark (an API client, a page from before this feature) means no
    check. Only what ``user`` may see counts (``visible_messages``), and never their own doing.
    """
    parsed = _parse(mark)
    if parsed is None:
        return []
    last_message, version, last_audit = parsed
    now = utcnow()
    news = []
    for message in visible_messages(user, ticket):
        if message.id <= last_message or message.author_id == user.id:
            continue
        author = message.author
        name = author.name if author else "Someone"
        did = "added an internal note" if message.internal else "replied"
        if author is not None and not author.is_backoffice:
            name = f"The customer ({name})" if author.id == ticket.customer_id else name
        news.append(News(f"{name} {did} {ago(message.created_at, now)}", message.created_at,
                         f"message-{message.id}"))
    if ticket.version == version:  # the version counts every change of the ticket's fields
        return news
    changes = db.session.scalars(
        select(AuditEvent).where(AuditEvent.ticket_id == ticket.id, AuditEvent.id > last_audit,
                                 AuditEvent.action == "changed", AuditEvent.field.in_(WATCHED_FIELDS))
        .options(selectinload(AuditEvent.actor)).order_by(AuditEvent.id))
    for event in changes:
        if event.actor_id == user.id:
            continue
        value = _ID_SUFFIX.sub("", event.new_value or "") or "nobody"
        by = event.actor.name if event.actor else "the system"
        news.append(News(f"{WATCHED_FIELDS[event.field or '']} changed to {value} by {by} "
                         f"{ago(event.created_at, now)}", event.created_at))
    return sorted(news, key=lambda n: n.at)
