"""The REST API's tables: personal API tokens, webhook endpoints and their deliveries."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.extensions import Model
from helpdesk.models.base import utcnow
from helpdesk.models.users import User

# Each scope includes the ones before it: write may read, admin may write and read.
API_SCOPES = ("read", "write", "admin")


class ApiToken(Model):
    """A personal API token. Only the SHA-256 of the secret part is stored; the token is
    shown once when it is made. ``prefix`` (the public first characters) finds the row, the
    hash is then compared in constant time."""

    __tablename__ = "api_tokens"
    __table_args__ = (Index("ix_api_tokens_prefix", "prefix", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64))
    scope: Mapped[str] = mapped_column(String(10), default="read")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()

    def allows(self, needed: str) -> bool:
        return API_SCOPES.index(self.scope) >= API_SCOPES.index(needed)

    def state(self, now: datetime | None = None) -> str:
        now = now or utcnow()
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active"


class WebhookEndpoint(Model):
    """A URL an admin registered to receive events, signed with its own secret (encrypted)."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str] = mapped_column(String(200), default="")
    events: Mapped[list] = mapped_column(JSON, default=list)
    secret: Mapped[str] = mapped_column(String(500))  # "fernet:…", encrypted with the secrets key
    active: Mapped[bool] = mapped_column(default=True)
    # Failed attempts in a row; at WEBHOOK_DISABLE_AFTER the endpoint is switched off.
    consecutive_failures: Mapped[int] = mapped_column(default=0)
    disabled_reason: Mapped[str | None] = mapped_column(String(300))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebhookDelivery(Model):
    """One event for one endpoint: the row is the source of truth, jobs carry only its id.

    ``status``: pending (a job or the sweeper will send it), delivered, failed (out of
    attempts or the endpoint was disabled). ``claim``/``lease_until`` as for mail: a job
    claims the row for a lease; a killed worker's row is handed to a new job after it."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_due", "status", "lease_until"),
                      Index("ix_webhook_deliveries_endpoint", "endpoint_id", "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(80))
    payload: Mapped[str] = mapped_column(Text)  # the exact JSON body that is signed and sent
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    claim: Mapped[str | None] = mapped_column(String(40))
    lease_until: Mapped[datetime | None]
    response_code: Mapped[int | None]
    duration_ms: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_attempt_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]

    endpoint: Mapped[WebhookEndpoint] = relationship()
