"""The insights plugin's tables, all prefixed ``insights_``.

A *text* is one thing a customer said (a ticket's subject and first message, a survey
comment, portal feedback); a *theme* groups texts that say the same; a *signal* is one
negative event about a customer (a complaint, a low score, a reopened ticket) for the
at-risk list; a *follow-up* is one "you said, we did" notice to one customer.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.plugin_api import Model, Ticket, User, utcnow

SOURCES = ("ticket", "survey", "portal", "complaint")
SIGNALS = ("complaint", "low_score", "reopened", "negative")


class InsightsTheme(Model):
    __tablename__ = "insights_themes"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    named_by_hand: Mapped[bool] = mapped_column(default=False)
    key_phrases: Mapped[list] = mapped_column(JSON, default=list)
    # The centroid in the current model's TF-IDF space, kept sparse: {term: weight}.
    centroid: Mapped[dict] = mapped_column(JSON, default=dict)
    hidden: Mapped[bool] = mapped_column(default=False)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("insights_themes.id", ondelete="SET NULL"))
    pinned_tag: Mapped[str | None] = mapped_column(String(50))
    action: Mapped[str | None] = mapped_column(String(500))
    action_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    merged_into: Mapped[InsightsTheme | None] = relationship(remote_side=[id])


class InsightsText(Model):
    __tablename__ = "insights_texts"
    __table_args__ = (
        UniqueConstraint("reference", name="uq_insights_texts_reference"),
        Index("ix_insights_texts_theme_created", "theme_id", "created_at"),
        Index("ix_insights_texts_customer", "customer_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Where it came from, unique: "ticket:12", "survey:42", "feedback:3:2026-..."
    reference: Mapped[str] = mapped_column(String(120))
    source: Mapped[str] = mapped_column(String(20))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    channel: Mapped[str] = mapped_column(String(40), default="web")
    text: Mapped[str] = mapped_column(Text)
    score: Mapped[int | None]
    sentiment: Mapped[float] = mapped_column(Float, default=0.0)
    complaint: Mapped[bool] = mapped_column(default=False)
    theme_id: Mapped[int | None] = mapped_column(ForeignKey("insights_themes.id", ondelete="SET NULL"))
    similarity: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    theme: Mapped[InsightsTheme | None] = relationship()
    ticket: Mapped[Ticket | None] = relationship()
    customer: Mapped[User | None] = relationship()


class InsightsModel(Model):
    """The fitted vocabulary (term → idf) the themes' centroids live in; the newest row is used."""

    __tablename__ = "insights_models"

    id: Mapped[int] = mapped_column(primary_key=True)
    idf: Mapped[dict] = mapped_column(JSON, default=dict)
    threshold: Mapped[float] = mapped_column(Float, default=0.2)
    texts: Mapped[int] = mapped_column(default=0)
    themes: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class InsightsSignal(Model):
    __tablename__ = "insights_signals"
    __table_args__ = (
        UniqueConstraint("reference", name="uq_insights_signals_reference"),
        Index("ix_insights_signals_customer_created", "customer_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(120))
    customer_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(20))
    detail: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    ticket: Mapped[Ticket | None] = relationship()


class InsightsAlert(Model):
    """A rising theme noticed for one week: raised (and the lead notified) once."""

    __tablename__ = "insights_alerts"
    __table_args__ = (UniqueConstraint("theme_id", "week", name="uq_insights_alerts_theme_week"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    theme_id: Mapped[int] = mapped_column(ForeignKey("insights_themes.id", ondelete="CASCADE"))
    week: Mapped[str] = mapped_column(String(10))
    recent: Mapped[int] = mapped_column(default=0)
    baseline: Mapped[float] = mapped_column(Float, default=0.0)
    notified: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class InsightsFollowUp(Model):
    """One "you said, we did" notice to one customer about one theme (never twice)."""

    __tablename__ = "insights_followups"
    __table_args__ = (UniqueConstraint("theme_id", "customer_id", name="uq_insights_followups_theme_customer"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    theme_id: Mapped[int] = mapped_column(ForeignKey("insights_themes.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    channel: Mapped[str] = mapped_column(String(40), default="web")
    status: Mapped[str] = mapped_column(String(20))  # sent, held (cap / unreachable: may be sent again)
    reason: Mapped[str | None] = mapped_column(String(300))
    action: Mapped[str] = mapped_column(String(500), default="")
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
    answered_at: Mapped[datetime | None]

    customer: Mapped[User] = relationship(foreign_keys=[customer_id])
    ticket: Mapped[Ticket | None] = relationship()


class InsightsOptOut(Model):
    """A customer who asked for no more "you said, we did" notices."""

    __tablename__ = "insights_optouts"

    customer_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
