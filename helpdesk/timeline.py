"""One timeline per customer: tickets, messages on every channel, notices, announcements,
and whatever plugins add through ``helpdesk_customer_timeline`` (survey answers, complaints,
kudos). Everything is scoped to the reader with the one scoping function.

Paging is by time: each source gives its newest ``limit`` entries before the cursor, the
merged list keeps ``limit`` of them, and the next page starts before the oldest one shown.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from flask_babel import lazy_gettext
from sqlalchemy import select

from helpdesk.access import scoped_to_tickets, visible_tickets
from helpdesk.contract import TimelineEntry
from helpdesk.extensions import db
from helpdesk.models import Announcement, AnnouncementRecipient, CustomerNotice, Message, Ticket, User
from helpdesk.models.tickets import format_reference
from helpdesk.plugin_manager import manager

CORE_KINDS = ("ticket", "message", "notice", "announcement")
# The core's kinds as the reader's language names them (the filter's value stays the key);
# a plugin's kind has no name in the contract, so it reads as its key.
KIND_NAMES = {"ticket": lazy_gettext("ticket"), "message": lazy_gettext("message"),
              "notice": lazy_gettext("notice"), "announcement": lazy_gettext("announcement")}


def kind_name(kind: str) -> str:
    name = KIND_NAMES.get(kind)
    return str(name) if name is not None else kind
MAX_LIMIT = 100


def _excerpt(text: str | None, size: int = 240) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= size else text[: size - 1] + "…"


def _core_entries(customer: User, user: User, before: datetime | None, limit: int,
                  kinds: set[str] | None) -> list[TimelineEntry]:
    entries: list[TimelineEntry] = []
    tickets = visible_tickets(user).where(Ticket.customer_id == customer.id)

    def want(kind: str) -> bool:
        return kinds is None or kind in kinds

    if want("ticket"):
        query = tickets.order_by(Ticket.created_at.desc()).limit(limit)
        if before is not None:
            query = query.where(Ticket.created_at < before)
        for t in db.session.scalars(query):
            entries.append(TimelineEntry(at=t.created_at, kind="ticket", title=f"Opened {t.reference}: {t.subject}",
                                         text=f"by {t.channel} · now {t.status}", ticket_reference=t.reference))
    if want("message"):
        ids = tickets.with_only_columns(Ticket.id)
        query = (select(Message, Ticket.channel, Ticket.id).join(Ticket, Ticket.id == Message.ticket_id)
                 .where(Message.ticket_id.in_(ids)).order_by(Message.created_at.desc(), Message.id.desc())
                 .limit(limit))
        if not user.is_backoffice:
            query = query.where(Message.internal.is_(False))
        if before is not None:
            query = query.where(Message.created_at < before)
        for message, channel, ticket_id in db.session.execute(query):
            from_customer = message.author_id == customer.id
            who = "Customer" if from_customer else (message.author.name if message.author else "System")
            what = "internal note" if message.internal else ("message" if from_customer else "reply")
            reference = format_reference(ticket_id)
            entries.append(TimelineEntry(at=message.created_at, kind="message",
                                         title=f"{who}: {what} on {reference} ({channel})",
                                         text=_excerpt(message.body), ticket_reference=reference))
    if want("notice"):
        query = (select(CustomerNotice).where(CustomerNotice.customer_id == customer.id,
                                              scoped_to_tickets(user, CustomerNotice.ticket_id))
                 .order_by(CustomerNotice.created_at.desc()).limit(limit))
        if before is not None:
            query = query.where(CustomerNotice.created_at < before)
        for notice in db.session.scalars(query):
            entries.append(TimelineEntry(
                at=notice.created_at, kind="notice", title=f"Notice {notice.status} by {notice.channel}: "
                                                           f"{notice.subject}",
                text=notice.reason or ""))
    if want("announcement") and user.is_staff:
        query = (select(AnnouncementRecipient, Announcement.subject).join(Announcement)
                 .where(AnnouncementRecipient.customer_id == customer.id)
                 .order_by(AnnouncementRecipient.created_at.desc()).limit(limit))
        if before is not None:
            query = query.where(AnnouncementRecipient.created_at < before)
        for row, subject in db.session.execute(query):
            entries.append(TimelineEntry(at=row.created_at, kind="announcement",
                                         title=f"Announcement {row.status}: {subject}", text=row.reason or ""))
    return entries


def customer_timeline(customer: User, user: User, *, before: datetime | None = None, limit: int = 25,
                      kinds: set[str] | None = None) -> tuple[list[TimelineEntry], datetime | None]:
    """The newest ``limit`` entries before ``before`` and the cursor of the next page (None: no more)."""
    limit = max(1, min(int(limit), MAX_LIMIT))
    entries = _core_entries(customer, user, before, limit + 1, kinds)
    for plugin, extra in manager().call_collect("helpdesk_customer_timeline", customer=customer, user=user,
                                                before=before, limit=limit + 1):
        for entry in extra or []:
            if isinstance(entry, TimelineEntry) and (kinds is None or entry.kind in kinds) and (
                    before is None or entry.at < before):
                entries.append(replace(entry, source=plugin))
    # Newest first; at the same moment a ticket's opening reads before (below) its first message.
    entries.sort(key=lambda e: (e.at, e.kind != "ticket"), reverse=True)
    page = entries[:limit]
    return page, (page[-1].at if len(entries) > limit and page else None)


def plugin_kinds(entries: list[TimelineEntry]) -> list[str]:
    return sorted({e.kind for e in entries} - set(CORE_KINDS))
