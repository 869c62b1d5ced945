"""The messaging plugin's own tables (prefix ``messaging_``)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.plugin_api import Model, utcnow


class MessagingReceived(Model):
    """One provider message taken in: the same provider id delivered twice makes one message.

    Written in the transaction of the ticket or message it became (``before_commit``), so a
    crash leaves neither; the unique constraint turns a concurrent duplicate into a no-op.
    """

    __tablename__ = "messaging_received"
    __table_args__ = (UniqueConstraint("provider", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(200))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class MessagingLink(Model):
    """A short link (``/m/<code>``) for text channels: SMS and social posts have little room."""

    __tablename__ = "messaging_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    url: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
