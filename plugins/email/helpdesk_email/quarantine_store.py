"""How quarantined mail is kept: compressed, within a storage budget, for a retention period.

Two 41.6 MB rows from one test showed what an unbounded quarantine costs. Each original is
zlib-compressed; while the quarantine's stored bytes stay under ``quarantine_budget_mb``
the whole mail is kept. Over the budget only the header block is kept (compressed), with
the SHA-256 of the whole mail, and the quarantine page says how many entries lost their
body. A daily job deletes entries older than ``quarantine_retention_days``.
"""
from __future__ import annotations

import hashlib
import re
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select

from helpdesk.plugin_api import crontab, db_session, get_setting, periodic_task, utcnow
from helpdesk_email.models import EmailQuarantine

PLUGIN = "email"
_HEADER_END = re.compile(rb"\r?\n\r?\n")
MAX_HEADER_BYTES = 256 * 1024


@dataclass(frozen=True)
class StorageStatus:
    """What the quarantine page shows about storage."""

    used_bytes: int
    budget_bytes: int
    headers_only: int  # entries whose body was not kept (the budget was used up)
    retention_days: int

    @property
    def percent(self) -> int:
        return min(100, round(100 * self.used_bytes / self.budget_bytes)) if self.budget_bytes else 100


def budget_bytes() -> int:
    return int(get_setting(PLUGIN, "quarantine_budget_mb") or 500) * 1024 * 1024


def header_block(raw: bytes) -> bytes:
    end = _HEADER_END.search(raw, 0, MAX_HEADER_BYTES)
    return raw[:end.end()] if end else raw[:MAX_HEADER_BYTES]


def store_original(row: EmailQuarantine, raw: bytes) -> None:
    """Put ``raw`` on ``row`` compressed, or only its headers when the budget has no room for it."""
    packed = zlib.compress(raw, 6)
    used = db_session().scalar(select(func.coalesce(func.sum(EmailQuarantine.stored_size), 0))) or 0
    storage = "zlib"
    if used + len(packed) > budget_bytes():
        packed, storage = zlib.compress(header_block(raw), 6), "headers"
    row.raw, row.storage, row.stored_size = packed, storage, len(packed)
    row.raw_sha256 = hashlib.sha256(raw).hexdigest()


def status() -> StorageStatus:
    used, headers_only = db_session().execute(select(
        func.coalesce(func.sum(EmailQuarantine.stored_size), 0),
        func.count().filter(EmailQuarantine.storage == "headers"))).one()
    return StorageStatus(int(used or 0), budget_bytes(), int(headers_only or 0),
                         int(get_setting(PLUGIN, "quarantine_retention_days") or 90))


def purge_expired(now: datetime | None = None) -> int:
    """Delete quarantine entries older than the retention period; returns how many."""
    days = int(get_setting(PLUGIN, "quarantine_retention_days") or 90)
    cutoff = (now or utcnow()) - timedelta(days=days)
    deleted = db_session().execute(delete(EmailQuarantine).where(EmailQuarantine.created_at < cutoff)).rowcount  # type: ignore[attr-defined]  # CursorResult
    db_session().commit()
    return deleted or 0


@periodic_task(crontab(minute="17", hour="3"), plugin="email")
def purge_quarantine() -> int:
    """Daily: apply the quarantine's retention period."""
    return purge_expired()
