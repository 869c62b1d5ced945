"""Knowing the customer: organisations (matched by email domain), admin-defined custom
fields, and announcements sent to a segment of customers.

The per-person preferences (preferred name, language, channel, consent, custom field
values) are columns of ``users``; a ticket's custom field values are a JSON column of
``tickets`` so the ticket page shows them without another query.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.extensions import Model
from helpdesk.models.base import utcnow
from helpdesk.models.users import User

FIELD_KINDS = ("text", "number", "date", "choice")
FIELD_TARGETS = ("customer", "ticket", "organisation")
CONSENT_KINDS = ("service", "surveys", "updates")
CONSENT_LABELS = {"service": "Service messages (replies, acknowledgements)", "surveys": "Surveys",
                  "updates": "Announcements and updates"}


class Organisation(Model):
    """A company its customers belong to; new customers join by their address's domain."""

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    notes: Mapped[str] = mapped_column(Text, default="")
    # use_alter: users point here too (the cycle is broken for table sorting)
    account_owner_id: Mapped[int | None] = mapped_column(ForeignKey(
        "users.id", ondelete="SET NULL", use_alter=True, name="fk_organisations_account_owner_id_users"))
    # Members see each other's tickets in the portal (``access.ticket_scope``).
    shared_tickets: Mapped[bool] = mapped_column(default=False, server_default=false())
    custom_fields: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    account_owner: Mapped[User | None] = relationship(foreign_keys=[account_owner_id])
    domains: Mapped[list[OrganisationDomain]] = relationship(
        back_populates="organisation", cascade="all, delete-orphan", order_by="OrganisationDomain.domain")


class OrganisationDomain(Model):
    """``example.com``: customers writing from it (or a subdomain) join the organisation."""

    __tablename__ = "organisation_domains"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    domain: Mapped[str] = mapped_column(String(253), unique=True)

    organisation: Mapped[Organisation] = relationship(back_populates="domains")


class CustomField(Model):
    """A field the admin defines for customers, tickets or organisations."""

    __tablename__ = "custom_fields"
    __table_args__ = (UniqueConstraint("applies_to", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    applies_to: Mapped[str] = mapped_column(String(20))  # customer, ticket, organisation
    key: Mapped[str] = mapped_column(String(60))  # the placeholder name: {{ customer.fields.<key> }}
    label: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(10), default="text")  # text, number, date, choice
    choices: Mapped[list] = mapped_column(JSON, default=list)
    position: Mapped[int] = mapped_column(default=0)


class Announcement(Model):
    """A proactive message to a segment of customers (a change, an outage, a new feature)."""

    __tablename__ = "announcements"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    # {"organisation_id": 3} | {"tag": "billing"} | {"open_tickets": true} | {"field": "plan", "value": "pro"}
    segment: Mapped[dict] = mapped_column(JSON, default=dict)
    # Shown on every portal page while set (an ongoing incident).
    banner: Mapped[bool] = mapped_column(default=False, server_default=false())
    banner_until: Mapped[datetime | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]

    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])


class AnnouncementRecipient(Model):
    """One row per customer an announcement was meant for: sent, skipped (and why)."""

    __tablename__ = "announcement_recipients"
    __table_args__ = (UniqueConstraint("announcement_id", "customer_id"),
                      Index("ix_announcement_recipients_customer", "customer_id", "created_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    announcement_id: Mapped[int] = mapped_column(ForeignKey("announcements.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(40), default="")
    status: Mapped[str] = mapped_column(String(20))  # sent, held, no_consent, unreachable
    reason: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    announcement: Mapped[Announcement] = relationship()
    customer: Mapped[User] = relationship()
