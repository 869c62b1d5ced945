"""Recognition's own tables (all prefixed ``recognition_``)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.plugin_api import Model, Ticket, User, utcnow

# Where a kudos came from. Customer sources count once per ticket and agent.
PEER, RATING, THANKS = "peer", "rating", "thanks"
CUSTOMER_SOURCES = (RATING, THANKS)


class Kudos(Model):
    """Praise for one agent: from a colleague, or from a customer's rating or thank-you."""

    __tablename__ = "recognition_kudos"
    __table_args__ = (
        Index("ix_recognition_kudos_created", "created_at", "id"),
        Index("ix_recognition_kudos_recipient", "recipient_id", "created_at"),
        Index("ix_recognition_kudos_ticket_id", "ticket_id"),
        # A customer's kudos counts once per ticket and agent, whichever way it came (a
        # rating and a thank-you on the same ticket): the second insert fails here.
        Index("uq_recognition_kudos_customer_ticket", "ticket_id", "recipient_id", unique=True,
              sqlite_where=text("source <> 'peer'"), postgresql_where=text("source <> 'peer'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # The colleague, or the customer whose words are quoted.
    giver_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    source: Mapped[str] = mapped_column(String(20))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    message: Mapped[str] = mapped_column(Text)
    value_tag: Mapped[str | None] = mapped_column(String(60))
    score: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    recipient: Mapped[User] = relationship(foreign_keys=[recipient_id])
    giver: Mapped[User | None] = relationship(foreign_keys=[giver_id])
    ticket: Mapped[Ticket | None] = relationship()
    reactions: Mapped[list[Reaction]] = relationship(back_populates="kudos", cascade="all, delete-orphan",
                                                     order_by="Reaction.id")

    @property
    def from_customer(self) -> bool:
        return self.source in CUSTOMER_SOURCES


class Reaction(Model):
    """One person's emoji on a kudos; the same emoji again takes it back."""

    __tablename__ = "recognition_reactions"
    __table_args__ = (UniqueConstraint("kudos_id", "user_id", "emoji", name="uq_recognition_reactions_once"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kudos_id: Mapped[int] = mapped_column(ForeignKey("recognition_kudos.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    emoji: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    kudos: Mapped[Kudos] = relationship(back_populates="reactions")


class Rating(Model):
    """A customer's rating credited to an agent who worked the ticket (CSAT average, five-star counts).

    One row per ticket, agent and kind: a customer who rates again replaces the score.
    """

    __tablename__ = "recognition_ratings"
    __table_args__ = (
        UniqueConstraint("ticket_id", "user_id", "kind", name="uq_recognition_ratings_once"),
        Index("ix_recognition_ratings_user", "user_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10))
    score: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Award(Model):
    """A milestone badge, awarded once per (person, badge, period)."""

    __tablename__ = "recognition_awards"
    __table_args__ = (
        UniqueConstraint("user_id", "badge", "period", name="uq_recognition_awards_once"),
        Index("ix_recognition_awards_created", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    badge: Mapped[str] = mapped_column(String(40))
    # "" for once-ever badges, "2025-03" for a calendar month's.
    period: Mapped[str] = mapped_column(String(20), default="")
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    detail: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship()
    ticket: Mapped[Ticket | None] = relationship()


class BadgeConfig(Model):
    """An admin's choice for one milestone badge; a badge without a row uses its defaults."""

    __tablename__ = "recognition_badges"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    enabled: Mapped[bool] = mapped_column(default=True)
    threshold: Mapped[int]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Notification(Model):
    """"You received kudos" / "you earned a badge", shown on the agent's dashboard until read."""

    __tablename__ = "recognition_notifications"
    __table_args__ = (Index("ix_recognition_notifications_user", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kudos_id: Mapped[int | None] = mapped_column(ForeignKey("recognition_kudos.id", ondelete="CASCADE"))
    award_id: Mapped[int | None] = mapped_column(ForeignKey("recognition_awards.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]

    kudos: Mapped[Kudos | None] = relationship()
    award: Mapped[Award | None] = relationship()


class Preference(Model):
    """An agent's choices: public or private recognition, email notices, the weekly digest."""

    __tablename__ = "recognition_preferences"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    public: Mapped[bool] = mapped_column(default=True)
    email_notifications: Mapped[bool] = mapped_column(default=False)
    digest: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class DigestSent(Model):
    """One weekly digest per recipient and ISO week ("2025-W10"): the claim that makes it once-only."""

    __tablename__ = "recognition_digests"
    __table_args__ = (UniqueConstraint("user_id", "week", name="uq_recognition_digests_once"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    week: Mapped[str] = mapped_column(String(10))
    items: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
