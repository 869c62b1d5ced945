"""Knowing the customer: admin-defined custom fields and announcements sent to a segment of
customers. Organisations live beside users (``models/users.py``: they point at each other).

The per-person preferences (preferred name, language, channel, consent, custom field
values) are columns of ``users``; a ticket's custom field values are a JSON column of
``tickets`` so the ticket page shows them without another query.
"""
from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext
from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.extensions import Model
from helpdesk.languages import N_
from helpdesk.models.base import utcnow
from helpdesk.models.users import Organisation, OrganisationDomain, User

__all__ = ["Announcement", "AnnouncementRecipient", "CustomField", "Organisation", "OrganisationDomain",
           "TextTranslation"]

FIELD_KINDS = ("text", "number", "date", "choice")
FIELD_TARGETS = ("customer", "ticket", "organisation")
# What the admin reads for each kind and target (the stored values stay these keys).
FIELD_KIND_NAMES = {"text": lazy_gettext("text"), "number": lazy_gettext("number"), "date": lazy_gettext("date"),
                    "choice": lazy_gettext("choice")}
FIELD_TARGET_NAMES = {"customer": lazy_gettext("customer"), "ticket": lazy_gettext("ticket"),
                      "organisation": lazy_gettext("organisation")}
CONSENT_KINDS = ("service", "surveys", "updates")
# English (marked for the catalogue); the pages translate them where they show them.
CONSENT_LABELS = {"service": N_("Service messages (replies, acknowledgements)"), "surveys": N_("Surveys"),
                  "updates": N_("Announcements and updates")}


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
    # The sending job (``services.announcements.send_job``): the segment's size when it was
    # started, when it started and when it finished (progress on the announcement's page).
    send_total: Mapped[int | None]
    send_started_at: Mapped[datetime | None]
    send_finished_at: Mapped[datetime | None]

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
    status: Mapped[str] = mapped_column(String(20))  # sending, sent, held, no_consent, unreachable
    reason: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Last change: a row "sending" whose sender has not touched it for a while was left by a
    # sender that died (``services.announcements.SENDING_LEASE``).
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    announcement: Mapped[Announcement] = relationship()
    customer: Mapped[User] = relationship()


TRANSLATABLE_KINDS = ("canned_reply", "macro", "announcement")


class TextTranslation(Model):
    """One text per language for a canned reply, a macro's reply or an announcement.

    The item's own ``body`` (and ``subject``) is the text in the site's default language;
    a row here is the same text in another language (``helpdesk.canned.text_for`` picks the
    customer's). ``owner_id`` is the item's id in the table ``kind`` names (no foreign key:
    the services delete the rows with the item).
    """

    __tablename__ = "text_translations"
    __table_args__ = (UniqueConstraint("kind", "owner_id", "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # canned_reply, macro, announcement
    owner_id: Mapped[int]
    language: Mapped[str] = mapped_column(String(10))
    subject: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text, default="")
