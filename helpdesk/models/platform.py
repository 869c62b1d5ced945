from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.extensions import Model
from helpdesk.models.base import utcnow


class SiteSetting(Model):
    """Admin-editable settings of the core (helpdesk name, reply-from address, reopen window)."""

    __tablename__ = "site_settings"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[dict | list | str | int | bool | None] = mapped_column(JSON)


class PluginState(Model):
    """Whether an installed plugin is enabled, and its settings. Shared by every process."""

    __tablename__ = "plugin_states"

    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    enabled: Mapped[bool] = mapped_column(default=True)
    settings: Mapped[dict] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class PluginError(Model):
    """An exception a plugin raised, kept for the admin's plugin page."""

    __tablename__ = "plugin_errors"
    __table_args__ = (Index("ix_plugin_errors_plugin_created", "plugin", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plugin: Mapped[str] = mapped_column(String(80))
    hook: Mapped[str] = mapped_column(String(80))
    message: Mapped[str] = mapped_column(String(1000))
    traceback: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OutboxMail(Model):
    """Every email the helpdesk sends, queued first and delivered by a job with retries."""

    __tablename__ = "outbox_mail"
    __table_args__ = (Index("ix_outbox_mail_status", "status", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    to_addr: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(500))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    headers: Mapped[dict] = mapped_column(JSON, default=dict)
    # queued → sent, or kept (no SMTP configured), or failed (a permanent 5xx refusal, or
    # the last retry)
    status: Mapped[str] = mapped_column(String(20), default="queued")
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(String(1000))
    # Nobody sends it before then: a job's claim (the lease), or the wait before a retry.
    lease_until: Mapped[datetime | None]
    claim: Mapped[str | None] = mapped_column(String(32))  # as for ``Delivery.claim``
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    # The agent's reply this mail carries, if it is one (its failure marks the reply).
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]


class AdminAuditEntry(Model):
    """One configuration change: who, when, from which address, what, before → after.

    Written by ``helpdesk.services.admin_audit.record`` (plugins: ``plugin_api.record_config_change``)
    in the same transaction as the change itself. Secrets are masked before they get here.
    """

    __tablename__ = "admin_audit"
    __table_args__ = (
        Index("ix_admin_audit_created", "created_at", "id"),
        Index("ix_admin_audit_kind_created", "kind", "created_at"),
        Index("ix_admin_audit_actor_created", "actor_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # The name as it was: the log must still read right after the account is renamed or removed.
    actor_name: Mapped[str] = mapped_column(String(200), default="")
    ip_address: Mapped[str | None] = mapped_column(String(45))
    kind: Mapped[str] = mapped_column(String(80))  # plugin, user, team, tag, sla_policy, complaints.rule, …
    action: Mapped[str] = mapped_column(String(40))  # created, changed, deleted, enabled, disabled
    target: Mapped[str] = mapped_column(String(300), default="")  # in English (CSV, search)
    # {"msgid": ..., "params": {...}} when the target was given as lazy_gettext(...): read in each
    # admin's language (``target_text``), see helpdesk.stored_words.
    target_words: Mapped[dict | None] = mapped_column(JSON)
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)

    @property
    def target_text(self) -> str:
        """The target in the current language (the stored English without words)."""
        from helpdesk.stored_words import words_text  # at read time: the models stay free of Flask at import

        return words_text(self.target_words, self.target) or ""


class CustomerNotice(Model):
    """An automatic notice to a customer (acknowledgement, survey invitation, follow-up), sent or held back.

    ``notify_customer`` counts the ``sent`` ones per customer for the hourly cap and writes a
    ``held`` row (with the reason, and an entry in the ticket's history) for each it holds back
    (``unreachable``: the channel could not reach the customer).
    """

    __tablename__ = "customer_notices"
    __table_args__ = (Index("ix_customer_notices_customer_created", "customer_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    channel: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(12))  # "sent", "held" or "unreachable"
    reason: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
