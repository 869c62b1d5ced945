"""Server-side records of sign-in sessions and of throttled attempts (the database storage;
with ``REDIS_URL`` both live in Redis instead, see ``helpdesk.sessions`` and ``helpdesk.throttle``)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.extensions import Model
from helpdesk.models.base import utcnow


class UserSession(Model):
    """One signed-in browser. The cookie carries a random key; only its SHA-256 is stored,
    so a copy of this table opens nobody's account."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # The user's session_version when signed in: a password change or disabling bumps it.
    session_version: Mapped[int] = mapped_column(default=1)
    remember: Mapped[bool] = mapped_column(default=False)
    user_agent: Mapped[str] = mapped_column(String(300), default="")
    address: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)


class ThrottleCounter(Model):
    """Attempts counted for one subject (an account, an address, a survey link) and its lockout.

    ``version`` makes updates compare-and-set, so two processes never lose each other's counts."""

    __tablename__ = "throttle_counters"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    attempts: Mapped[int] = mapped_column(default=0)
    window_start: Mapped[datetime] = mapped_column(default=utcnow)
    lockouts: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class RateLimitCounter(Model):
    """Flask-Limiter's fixed-window counters when no Redis is configured (``helpdesk-db://``)."""

    __tablename__ = "rate_limit_counters"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    count: Mapped[int] = mapped_column(default=0)
    expires_at: Mapped[float] = mapped_column(index=True)  # seconds since the epoch
