from __future__ import annotations

from datetime import datetime

from flask import current_app
from sqlalchemy import JSON, Column, ForeignKey, Index, String, Table, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from helpdesk.extensions import Model, db
from helpdesk.models.base import utcnow
from helpdesk.models.users import Team, User

STATUSES = ("new", "open", "pending", "resolved", "closed")
PRIORITIES = ("low", "normal", "high", "urgent")
PRIORITY_RANK = {p: i for i, p in enumerate(PRIORITIES)}
OPEN_STATUSES = ("new", "open", "pending")

ticket_tags = Table(
    "ticket_tags",
    db.metadata,
    Column("ticket_id", ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Tag(Model):
    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)


class Ticket(Model):
    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_updated", "updated_at", "id"),
        Index("ix_tickets_status_updated", "status", "updated_at"),
        Index("ix_tickets_assignee_updated", "assignee_id", "updated_at"),
        Index("ix_tickets_team_updated", "team_id", "updated_at"),
        Index("ix_tickets_customer_updated", "customer_id", "updated_at"),
        Index("ix_tickets_priority_updated", "priority", "updated_at"),
        Index("ix_tickets_channel_updated", "channel", "updated_at"),
        Index("ix_tickets_sla_due", "sla_due_at", "id"),
        Index("ix_tickets_created", "created_at", "id"),
        Index("ix_tickets_priority_rank", "priority_rank", "updated_at"),
        # Partial: they serve "merged into / split from this ticket" and can never tempt the
        # planner for the queue's "merged_into_id IS NULL" (true for nearly every ticket).
        Index("ix_tickets_merged_into_id", "merged_into_id", sqlite_where=text("merged_into_id IS NOT NULL"),
              postgresql_where=text("merged_into_id IS NOT NULL")),
        Index("ix_tickets_linked_ticket_id", "linked_ticket_id", sqlite_where=text("linked_ticket_id IS NOT NULL"),
              postgresql_where=text("linked_ticket_id IS NOT NULL")),
        # ix_tickets_sla_sort, an expression index for the "time left" sort, is made by migration core_0004.
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subject: Mapped[str] = mapped_column(String(250))
    status: Mapped[str] = mapped_column(String(20), default="new")
    priority: Mapped[str] = mapped_column(String(20), default="normal")
    # low 0 … urgent 3, kept in step with ``priority`` (see ``_rank``) so the queue's
    # "priority" sort walks an index instead of sorting every ticket.
    priority_rank: Mapped[int] = mapped_column(default=1)
    channel: Mapped[str] = mapped_column(String(40), default="web")
    customer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    # A ticket split from, or opened after a reply to, another ("closed means closed").
    linked_ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    # The nearest unmet service-level due time (denormalised so the queue sorts by it cheaply).
    sla_due_at: Mapped[datetime | None]
    message_count: Mapped[int] = mapped_column(default=0)
    # Bumped by every change of the ticket's fields (status, priority, assignee, team, tags,
    # subject, merge): a form carries the version it showed, and a save from an older one is
    # refused (``services.update_ticket(..., expected_version=)``).
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    first_response_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    # Values of the admin's ticket custom fields (``models.customers.CustomField``), on the
    # row itself so the ticket page shows them without another query.
    custom_fields: Mapped[dict | None] = mapped_column(JSON)

    customer: Mapped[User] = relationship(foreign_keys=[customer_id])
    linked_ticket: Mapped[Ticket | None] = relationship(foreign_keys=[linked_ticket_id], remote_side=[id])
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    team: Mapped[Team | None] = relationship()
    tags: Mapped[list[Tag]] = relationship(secondary=ticket_tags, order_by="Tag.name")
    messages: Mapped[list[Message]] = relationship(
        back_populates="ticket", order_by="Message.id", cascade="all, delete-orphan"
    )

    @validates("priority")
    def _rank(self, _key: str, value: str) -> str:
        self.priority_rank = PRIORITY_RANK.get(value, 1)
        return value

    @property
    def reference(self) -> str:
        return format_reference(self.id)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def __repr__(self) -> str:
        return f"<Ticket {self.reference} {self.status}>"


MAX_TICKET_ID = 2**31 - 1  # PostgreSQL's integer: a larger number would be an error, not "no such ticket"


def format_reference(ticket_id: int) -> str:
    return f"{current_app.config['TICKET_PREFIX']}-{ticket_id}"


def parse_reference(reference: str) -> int | None:
    """``HD-42`` (any case, or a bare ``42``) → 42; anything else → None."""
    text = (reference or "").strip()
    prefix = current_app.config["TICKET_PREFIX"].lower() + "-"
    if text.lower().startswith(prefix):
        text = text[len(prefix):]
    if not (text.isascii() and text.isdigit() and len(text) < 12):
        return None
    number = int(text)
    return number if 0 < number <= MAX_TICKET_ID else None


class Message(Model):
    """One entry in a ticket's conversation: a public reply or an internal note."""

    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_ticket", "ticket_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    internal: Mapped[bool] = mapped_column(default=False)
    body: Mapped[str] = mapped_column(Text)
    # Sanitised HTML (nh3) kept beside the text, for channels such as email.
    body_html: Mapped[str | None] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(40), default="web")
    external_id: Mapped[str | None] = mapped_column(String(500), index=True)
    needs_review: Mapped[bool] = mapped_column(default=False)
    meta: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    ticket: Mapped[Ticket] = relationship(back_populates="messages")
    author: Mapped[User | None] = relationship()
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="message", order_by="Attachment.id", cascade="all, delete-orphan"
    )


class Attachment(Model):
    """A file on a message. Served only by its unguessable ``token``, as a download."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(120))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    message: Mapped[Message] = relationship(back_populates="attachments")


class AuditEvent(Model):
    """Who changed what on a ticket, and when (and why, for automatic changes)."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_ticket", "ticket_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(40))
    field: Mapped[str | None] = mapped_column(String(40))
    old_value: Mapped[str | None] = mapped_column(String(500))
    new_value: Mapped[str | None] = mapped_column(String(500))
    reason: Mapped[str | None] = mapped_column(String(500))  # in English
    # {"msgid": ..., "params": {...}} when the reason was given as lazy_gettext(...): read in
    # each reader's language (``reason_text``); ``reason`` stays English for search and exports.
    reason_words: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    actor: Mapped[User | None] = relationship()

    @property
    def reason_text(self) -> str | None:
        """The reason in the current language (the stored English without a message id)."""
        from helpdesk.stored_words import words_text  # at read time: the models stay free of Flask at import

        return words_text(self.reason_words, self.reason)


class Delivery(Model):
    """An agent's public reply promised to the customer: the durable record of a hand-off.

    Written in the same transaction as the reply; the ``deliver_reply`` job carries only
    its id. A job claims the row for a lease (``lease_until``, ``claim``); a job killed
    before it finished leaves the lease to expire and the sweeper hands the row to another
    (``helpdesk.services.delivery.sweep``). ``pending`` → ``done`` (the channel has it, e.g.
    the mail is in the outbox) → ``failed`` when the channel or the mail gave up.
    """

    __tablename__ = "deliveries"
    __table_args__ = (Index("ix_deliveries_status_lease", "status", "lease_until"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), unique=True)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    # Nobody takes it before then: a job's claim (the lease), or the wait before a retry.
    # Past it, the sweeper hands the row to a new job.
    lease_until: Mapped[datetime | None]
    # The claiming job's token (None: a job is on its way and may take it at once).
    claim: Mapped[str | None] = mapped_column(String(32))
    last_error: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    done_at: Mapped[datetime | None]

    message: Mapped[Message] = relationship()


class CannedReply(Model):
    __tablename__ = "canned_replies"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(120), unique=True)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SavedView(Model):
    """A named queue filter an agent keeps (the query string of the queue page)."""

    __tablename__ = "saved_views"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    query: Mapped[str] = mapped_column(String(1000))
