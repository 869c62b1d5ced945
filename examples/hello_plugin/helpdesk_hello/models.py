"""The plugin's own table. Its name starts with the plugin name: ``hello_``."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.plugin_api import Model, Ticket, utcnow


class HelloGreeting(Model):
    """One greeting, written when a ticket is created."""

    __tablename__ = "hello_greetings"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    ticket: Mapped[Ticket] = relationship()
