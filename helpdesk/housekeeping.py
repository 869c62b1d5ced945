"""Clearing what sessions and throttles leave behind, hourly in the worker."""
from __future__ import annotations

import time
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete

from helpdesk import live
from helpdesk.extensions import db
from helpdesk.jobs import crontab, periodic_task
from helpdesk.models.base import utcnow
from helpdesk.models.sessions import RateLimitCounter, ThrottleCounter, UserSession

# Longer than any throttle's window + longest lockout + the calm day that forgets lockouts.
THROTTLE_KEEP = timedelta(days=2)


@periodic_task(crontab(minute="17"))
def purge_stale_security_rows() -> int:
    """Delete idle sessions, forgotten throttle counters and expired rate-limit windows."""
    now = utcnow()
    idle = timedelta(days=current_app.config["SESSION_IDLE_DAYS"])
    removed = db.session.execute(delete(UserSession).where(UserSession.last_seen_at < now - idle)).rowcount  # type: ignore[attr-defined]  # CursorResult
    removed += db.session.execute(delete(ThrottleCounter).where(  # type: ignore[attr-defined]  # CursorResult
        ThrottleCounter.updated_at < now - THROTTLE_KEEP)).rowcount
    removed += db.session.execute(delete(RateLimitCounter).where(RateLimitCounter.expires_at < time.time())).rowcount  # type: ignore[attr-defined]  # CursorResult
    db.session.commit()
    removed += live.prune()  # the live channel's old events and expired presence (also pruned as it runs)
    return removed
