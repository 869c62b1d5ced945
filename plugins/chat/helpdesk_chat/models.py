"""The chat plugin's own tables (prefix ``chat_``)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.plugin_api import Model, utcnow


class ChatVisitor(Model):
    """One browser that opened the widget (identified by the signed token it keeps).

    ``key`` is the random value inside the token and the ``chat`` contact identity of the
    customer record the visitor writes as. ``email`` is what the visitor typed: used only to
    write to them when they left, never to look up a known customer. ``verified_user`` is the
    embedding site's user id when the site signed it (HMAC with the per-site secret).
    """

    __tablename__ = "chat_visitors"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"), index=True)
    name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    verified_user: Mapped[str | None] = mapped_column(String(200))
    origin: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)


class ChatRating(Model):
    """The visitor's one-click rating of a chat (also handed to ``record_feedback``)."""

    __tablename__ = "chat_ratings"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), unique=True)
    score: Mapped[int] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
