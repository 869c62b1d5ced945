"""Agents' notifications, their per-kind preferences, and who follows which ticket.

Written only by ``helpdesk.services.notifications``.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.extensions import Model
from helpdesk.models.base import utcnow
from helpdesk.models.tickets import Ticket
from helpdesk.models.users import User

# ``email`` of a notification: what happens to it by mail.
EMAIL_NONE = "none"  # bell only (preference "app"), or the agent has no address
EMAIL_PENDING = "pending"  # to be mailed at once (claimed by exactly one job: -> "sent")
EMAIL_SENT = "sent"
EMAIL_DIGEST = "digest"  # waits for the agent's daily digest (-> "digested", or "skipped" if read first)
EMAIL_DIGESTED = "digested"
EMAIL_SKIPPED = "skipped"


class Notification(Model):
    """One thing an agent should know about (shown under the bell, maybe mailed)."""

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_recipient_read", "recipient_id", "read_at", "id"),
        Index("ix_notifications_email", "email", "recipient_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(80))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]
    email: Mapped[str] = mapped_column(String(12), default=EMAIL_NONE)
    emailed_at: Mapped[datetime | None]

    recipient: Mapped[User] = relationship(foreign_keys=[recipient_id])
    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])
    ticket: Mapped[Ticket | None] = relationship()


class NotificationPreference(Model):
    """An agent's choice for one kind: ``immediately``, ``digest``, ``app`` or ``off``."""

    __tablename__ = "notification_preferences"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(80), primary_key=True)
    delivery: Mapped[str] = mapped_column(String(12))


class TicketFollower(Model):
    """An agent who follows a ticket: told when the customer replies."""

    __tablename__ = "ticket_followers"
    __table_args__ = (Index("ix_ticket_followers_user", "user_id"),)

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
