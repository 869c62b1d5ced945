"""The database storage of the live channel (``helpdesk.live``), used when no Redis is configured:
recent events that every web process's streams poll, and who is viewing or typing on a ticket."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.extensions import Model
from helpdesk.models.base import utcnow


class LiveEvent(Model):
    """One published event. The increasing ``id`` is the stream's cursor (``Last-Event-ID``);
    rows are deleted after ``LIVE_EVENT_KEEP_SECONDS``."""

    __tablename__ = "live_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    topic: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class LivePresence(Model):
    """Someone has a ticket open (``viewing``) or is writing on it (``typing``) until ``expires_at``."""

    __tablename__ = "live_presence"
    __table_args__ = (Index("ix_live_presence_expires_at", "expires_at"),)

    ticket_id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(primary_key=True)
    state: Mapped[str] = mapped_column(String(10), default="viewing")
    expires_at: Mapped[datetime] = mapped_column(default=utcnow)
