"""Per-agent read marks: how far each agent has read each ticket (the queue's unread dots)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.extensions import Model
from helpdesk.models.base import utcnow


class TicketRead(Model):
    """The last message of a ticket an agent has seen (one row per agent and ticket).

    A ticket is unread for an agent while it has a message, written by someone else, with
    a higher id than ``last_seen_message_id`` (or any such message and no row at all).
    """

    __tablename__ = "ticket_reads"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True,
                                           index=True)
    last_seen_message_id: Mapped[int] = mapped_column(default=0)
    seen_at: Mapped[datetime] = mapped_column(default=utcnow)
