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
from helpdesk.i18n import gettext, lazy_gettext, priority_name, status_name
from helpdesk.models import AuditEvent, Message, Ticket, User
from helpdesk.models.base import utcnow

WATCHED_FIELDS = {"status": lazy_gettext("Status"), "assignee_id": lazy_gettext("Assignee"),
                  "team_id": lazy_gettext("Team"), "priority": lazy_gettext("Priority")}
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
    """``20 s ago``, ``3 min ago``, ``2 h ago`` (the same words as ``live.js`` writes)."""
    seconds = max(0, int(((now or utcnow()) - when).total_seconds()))
    if seconds < 5:
        return gettext("just now")
    if seconds < 60:
        return gettext("%(seconds)s s ago", seconds=seconds)
    if seconds < 3600:
        return gettext("%(minutes)s min ago", minutes=seconds // 60)
    return gettext("%(hours)s h ago", hours=seconds // 3600)


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
        name = author.name if author else gettext("Someone")
        if author is not None and not author.is_backoffice and author.id == ticket.customer_id:
            name = gettext("The customer (%(name)s)", name=name)
        when = ago(message.created_at, now)
        text = (gettext("%(name)s added an internal note %(ago)s.", name=name, ago=when) if message.internal
                else gettext("%(name)s replied %(ago)s.", name=name, ago=when))
        news.append(News(text, message.created_at, f"message-{message.id}"))
    if ticket.version == version:  # the version counts every change of the ticket's fields
        return news
    changes = db.session.scalars(
        select(AuditEvent).where(AuditEvent.ticket_id == ticket.id, AuditEvent.id > last_audit,
                                 AuditEvent.action == "changed", AuditEvent.field.in_(WATCHED_FIELDS))
        .options(selectinload(AuditEvent.actor)).order_by(AuditEvent.id))
    for event in changes:
        if event.actor_id == user.id:
            continue
        value = _ID_SUFFIX.sub("", event.new_value or "")
        if event.field == "status":
            value = status_name(value)
        elif event.field == "priority":
            value = priority_name(value)
        by = event.actor.name if event.actor else gettext("System")
        text = gettext("%(field)s changed to %(value)s by %(name)s %(ago)s.", field=WATCHED_FIELDS[event.field or ""],
                       value=value or gettext("nobody"), name=by, ago=ago(event.created_at, now))
        news.append(News(text, event.created_at))
    return sorted(news, key=lambda n: n.at)
