from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.extensions import Model
from helpdesk.models.base import utcnow


class TicketFacts(Model):
    """What the reports need to know about one ticket, derived from its messages, audit
    trail and service-level clocks (``helpdesk.reports.facts.refresh``), so a report over
    100,000 tickets reads one row per ticket instead of walking their histories.

    Kept in step after every commit by the ``core.reports`` event hooks; ``helpdesk reports
    backfill`` rebuilds every row (after an import, or to repair drift). Times are naive UTC;
    durations are minutes, in the business hours of the ticket's SLA policy when it has one.
    """

    __tablename__ = "ticket_facts"
    __table_args__ = (Index("ix_ticket_facts_solved", "solved_at"),)

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True)
    # When the ticket was last resolved or closed, if it is resolved or closed now.
    solved_at: Mapped[datetime | None]
    first_response_minutes: Mapped[float | None] = mapped_column(Float)
    resolution_minutes: Mapped[float | None] = mapped_column(Float)
    # Whether the two durations are business minutes (an SLA policy with business hours applies).
    business_hours: Mapped[bool] = mapped_column(default=False)
    reopen_count: Mapped[int] = mapped_column(default=0)
    # Public replies by agents and admins (one-touch: solved with exactly one).
    agent_replies: Mapped[int] = mapped_column(default=0)
    # Every decided SLA target met in time (True), one missed (False), none decided (None).
    sla_met: Mapped[bool | None]
    refreshed_at: Mapped[datetime] = mapped_column(default=utcnow)
