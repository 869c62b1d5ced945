"""Coaching's own tables (all prefixed ``coaching_``)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.plugin_api import Message, Model, Ticket, User, utcnow


class ScorecardItem(Model):
    """One thing a review rates ("Clear language"). Archived items stay on old reviews."""

    __tablename__ = "coaching_scorecard_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(40), unique=True)
    label: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(String(500), default="")
    position: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Review(Model):
    """A reviewer's review of one agent's work on one solved ticket."""

    __tablename__ = "coaching_reviews"
    __table_args__ = (
        UniqueConstraint("ticket_id", "reviewer_id", "agent_id", name="uq_coaching_reviews_once"),
        Index("ix_coaching_reviews_agent", "agent_id", "created_at"),
        Index("ix_coaching_reviews_reviewer", "reviewer_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    agent_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    overall: Mapped[str] = mapped_column(Text, default="")
    suggestion: Mapped[str] = mapped_column(Text, default="")
    # The focus agreed with the agent when the review was written (shown beside it).
    focus_text: Mapped[str] = mapped_column(String(700), default="")
    disputed: Mapped[bool] = mapped_column(default=False)
    read_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    ticket: Mapped[Ticket] = relationship()
    agent: Mapped[User] = relationship(foreign_keys=[agent_id])
    reviewer: Mapped[User | None] = relationship(foreign_keys=[reviewer_id])
    scores: Mapped[list[ReviewScore]] = relationship(back_populates="review", cascade="all, delete-orphan",
                                                     order_by="ReviewScore.id")
    replies: Mapped[list[ReviewReply]] = relationship(back_populates="review", cascade="all, delete-orphan",
                                                      order_by="ReviewReply.id")

    @property
    def percent(self) -> int | None:
        rated = [s.score for s in self.scores if s.score is not None]
        return round(100 * sum(rated) / (2 * len(rated))) if rated else None


class ReviewScore(Model):
    __tablename__ = "coaching_review_scores"
    __table_args__ = (UniqueConstraint("review_id", "item_id", name="uq_coaching_review_scores_item"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("coaching_reviews.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(ForeignKey("coaching_scorecard_items.id", ondelete="CASCADE"))
    score: Mapped[int | None]  # 2 met, 1 partly, 0 missed, None not applicable
    comment: Mapped[str] = mapped_column(Text, default="")
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"))

    review: Mapped[Review] = relationship(back_populates="scores")
    item: Mapped[ScorecardItem] = relationship()
    message: Mapped[Message | None] = relationship()


class ReviewReply(Model):
    __tablename__ = "coaching_review_replies"

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("coaching_reviews.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    dispute: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    review: Mapped[Review] = relationship(back_populates="replies")
    author: Mapped[User | None] = relationship()


class Focus(Model):
    """A focus agreed between a lead and an agent, with a check-in date."""

    __tablename__ = "coaching_focus"
    __table_args__ = (Index("ix_coaching_focus_agent", "agent_id", "closed_at"),
                      Index("ix_coaching_focus_checkin", "checkin_on", "reminded_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    item_id: Mapped[int | None] = mapped_column(ForeignKey("coaching_scorecard_items.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(String(500), default="")
    checkin_on: Mapped[date | None]
    reminded_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    agent: Mapped[User] = relationship(foreign_keys=[agent_id])
    lead: Mapped[User | None] = relationship(foreign_keys=[lead_id])
    item: Mapped[ScorecardItem | None] = relationship()

    @property
    def text(self) -> str:
        label = self.item.label if self.item else ""
        return " — ".join(part for part in (label, self.note) if part)


class Rating(Model):
    """A customer's CSAT rating of a ticket, as the ``helpdesk_feedback_received`` hook told it."""

    __tablename__ = "coaching_ratings"

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    score: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Reopen(Model):
    """A solved ticket that was opened again (``helpdesk_ticket_changed``)."""

    __tablename__ = "coaching_reopens"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
