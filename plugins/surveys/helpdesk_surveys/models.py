"""The surveys plugin's tables, all prefixed ``surveys_``.

An invitation is one survey sent (or about to be sent) to one customer; a response is one
answer, with or without an invitation (feedback from other plugins and the portal form
has none); a follow-up case is the work that a low score starts.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from helpdesk.plugin_api import Model, Ticket, User, utcnow

KINDS = ("csat", "nps")
SCALES = {"csat": (1, 5), "nps": (0, 10)}
TRIGGERS = ("resolution", "relationship")
# scheduled → sending (claimed by one worker) → sent; or skipped / cancelled / failed.
# A sent invitation becomes "invalidated" when its ticket is reopened: its link stops working.
INVITATION_STATUSES = ("scheduled", "sending", "sent", "skipped", "cancelled", "failed", "invalidated")


class SurveyType(Model):
    """One kind of survey (CSAT or NPS) as the admin configured it.

    Without a row the defaults in ``helpdesk_surveys.config.DEFAULT_TYPES`` apply.
    """

    __tablename__ = "surveys_types"

    kind: Mapped[str] = mapped_column(String(10), primary_key=True)
    enabled: Mapped[bool] = mapped_column(default=True)
    trigger: Mapped[str] = mapped_column(String(20), default="resolution")
    delay_minutes: Mapped[int] = mapped_column(default=60)
    interval_days: Mapped[int] = mapped_column(default=90)
    active_days: Mapped[int] = mapped_column(default=90)
    team_ids: Mapped[list] = mapped_column(JSON, default=list)
    channels: Mapped[list] = mapped_column(JSON, default=list)
    question: Mapped[str] = mapped_column(String(300))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class SurveyContact(Model):
    """What the plugin knows about a customer: time zone, opt-out, last survey (the throttle)."""

    __tablename__ = "surveys_contacts"

    customer_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    timezone: Mapped[str | None] = mapped_column(String(64))
    unsubscribed_at: Mapped[datetime | None]
    last_surveyed_at: Mapped[datetime | None]


class SurveyInvitation(Model):
    __tablename__ = "surveys_invitations"
    __table_args__ = (
        Index("ix_surveys_invitations_due", "status", "send_after"),
        Index("ix_surveys_invitations_customer", "customer_id", "kind", "created_at"),
        # The reports' GROUP BY walks this index in its own order: no sort, no table reads.
        Index("ix_surveys_invitations_sent_day", "sent_day", "agent_id", "team_id", "channel", "answered_at"),
        # The reports read the part of a UTC day that is the reader's next (or previous) day by
        # time, index-only (surveys_0002).
        Index("ix_surveys_invitations_sent", "sent_at", "agent_id", "team_id", "channel", "answered_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    # resolution (CSAT after a ticket), relationship (periodic NPS) or resurvey (a closed case)
    purpose: Mapped[str] = mapped_column(String(20), default="resolution")
    customer_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"), index=True)
    # The ticket's agent, team and channel when the invitation was made (reports count sends by them).
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    channel: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20), default="scheduled")
    reason: Mapped[str | None] = mapped_column(String(300))
    send_after: Mapped[datetime]
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    sent_day: Mapped[date | None]  # the UTC day of sent_at, kept in step by the model (for the reports' index)
    expires_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    customer: Mapped[User] = relationship(foreign_keys=[customer_id])
    ticket: Mapped[Ticket | None] = relationship()
    response: Mapped[SurveyResponse | None] = relationship(back_populates="invitation", uselist=False)

    @validates("sent_at")
    def _sent_day(self, _key: str, value: datetime | None) -> datetime | None:
        self.sent_day = value.date() if value is not None else None
        return value


class SurveyResponse(Model):
    """One answer. ``invitation_id`` is unique: a later click updates the answer."""

    __tablename__ = "surveys_responses"
    __table_args__ = (
        # The reports read every response of a period in one GROUP BY that walks this index
        # in its own order: every column they need is in it, so no sort and no table reads.
        Index("ix_surveys_responses_day", "day", "kind", "agent_id", "team_id", "channel", "score"),
        # By time, with what the reports count: they read the part of a UTC day that is the
        # reader's next (or previous) day by time, index-only (surveys_0002).
        Index("ix_surveys_responses_created", "created_at", "kind", "agent_id", "team_id", "channel", "score"),
        Index("ix_surveys_responses_agent", "agent_id", "created_at"),
        Index("ix_surveys_responses_team", "team_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    invitation_id: Mapped[int | None] = mapped_column(
        ForeignKey("surveys_invitations.id", ondelete="SET NULL"), unique=True)
    kind: Mapped[str] = mapped_column(String(10))  # csat, nps or comment
    score: Mapped[int | None]
    comment: Mapped[str] = mapped_column(Text, default="")
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"), index=True)
    # The ticket's agent, team and channel when the customer answered (for the reports).
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    channel: Mapped[str | None] = mapped_column(String(40))
    source: Mapped[str] = mapped_column(String(40), default="survey")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    day: Mapped[date] = mapped_column(default=lambda: utcnow().date())  # the UTC day of created_at
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    invitation: Mapped[SurveyInvitation | None] = relationship(back_populates="response")

    @validates("created_at")
    def _day(self, _key: str, value: datetime) -> datetime:
        self.day = value.date()
        return value
    customer: Mapped[User | None] = relationship(foreign_keys=[customer_id])
    ticket: Mapped[Ticket | None] = relationship()
    agent: Mapped[User | None] = relationship(foreign_keys=[agent_id])


class SurveyFollowUp(Model):
    """A low score's follow-up case: an owner, a due time, steps, and a re-survey when closed."""

    __tablename__ = "surveys_followups"
    __table_args__ = (
        Index("ix_surveys_followups_status_due", "status", "due_at"),
        Index("ix_surveys_followups_owner", "owner_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("surveys_responses.id", ondelete="CASCADE"), unique=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(20), default="open")  # open, closed
    due_at: Mapped[datetime]
    contacted_at: Mapped[datetime | None]
    remedy: Mapped[str] = mapped_column(Text, default="")
    outcome: Mapped[str] = mapped_column(Text, default="")
    closed_at: Mapped[datetime | None]
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    resurvey_invitation_id: Mapped[int | None] = mapped_column(
        ForeignKey("surveys_invitations.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    response: Mapped[SurveyResponse] = relationship()
    customer: Mapped[User | None] = relationship(foreign_keys=[customer_id])
    ticket: Mapped[Ticket | None] = relationship()
    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])
    closed_by: Mapped[User | None] = relationship(foreign_keys=[closed_by_id])
    resurvey: Mapped[SurveyInvitation | None] = relationship(foreign_keys=[resurvey_invitation_id])
