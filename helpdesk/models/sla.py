from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.extensions import Model
from helpdesk.models.base import utcnow

SLA_KINDS = ("first_response", "next_response", "periodic_update", "resolution")


class BusinessHours(Model):
    """When a team works: weekly hours in a time zone, minus holidays.

    ``schedule`` maps ISO weekday numbers ("1" = Monday … "7" = Sunday) to a list of
    ``["09:00", "17:00"]`` intervals; ``holidays`` is a list of ``"YYYY-MM-DD"`` dates.
    """

    __tablename__ = "business_hours"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    schedule: Mapped[dict] = mapped_column(JSON, default=dict)
    holidays: Mapped[list] = mapped_column(JSON, default=list)


class SlaPolicy(Model):
    """Targets (in business minutes) for tickets of a team, priority and/or tag.

    The first active policy, by ``position``, whose team, priority and tag match (empty =
    any) applies. Statuses in ``pause_statuses`` stop the clock. A tag lets plugins give a
    kind of ticket its own clock (the complaints plugin tags complaints ``complaint``).
    """

    __tablename__ = "sla_policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    position: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    priority: Mapped[str | None] = mapped_column(String(20))
    tag: Mapped[str | None] = mapped_column(String(60))
    business_hours_id: Mapped[int | None] = mapped_column(ForeignKey("business_hours.id", ondelete="SET NULL"))
    first_response_minutes: Mapped[int | None]
    next_response_minutes: Mapped[int | None]
    periodic_update_minutes: Mapped[int | None]
    resolution_minutes: Mapped[int | None]
    warn_before_minutes: Mapped[int] = mapped_column(default=30)
    pause_statuses: Mapped[str] = mapped_column(String(200), default="pending")

    business_hours: Mapped[BusinessHours | None] = relationship()


class SlaTarget(Model):
    """One clock of one ticket: due, paused, met, warned and breached times.

    Recurring targets (next response, periodic update) are re-armed in place; ``cycle``
    counts the arming, so warnings and breaches fire once per cycle.
    """

    __tablename__ = "sla_targets"
    __table_args__ = (
        UniqueConstraint("ticket_id", "kind"),
        Index("ix_sla_targets_open_due", "met_at", "breached_at", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    policy_id: Mapped[int | None] = mapped_column(ForeignKey("sla_policies.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(30))
    cycle: Mapped[int] = mapped_column(default=1)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    due_at: Mapped[datetime | None]
    paused_at: Mapped[datetime | None]
    met_at: Mapped[datetime | None]
    warned_at: Mapped[datetime | None]
    breached_at: Mapped[datetime | None]

    policy: Mapped[SlaPolicy | None] = relationship()
