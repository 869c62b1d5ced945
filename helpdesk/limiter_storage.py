"""A Flask-Limiter (``limits``) storage in the helpdesk's own database: ``helpdesk-db://``.

Without Redis, Flask-Limiter would count in each process's memory, so four gunicorn workers
would allow four times the limit. This storage keeps fixed-window counters in the
``rate_limit_counters`` table, incremented with one atomic ``UPDATE … RETURNING``. It is the
default ``RATELIMIT_STORAGE_URI``; with ``REDIS_URL`` Redis is used instead."""
from __future__ import annotations

import time

from limits.storage import Storage
from sqlalchemy import case, delete, insert, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from helpdesk.models.sessions import RateLimitCounter

SCHEME = "helpdesk-db"


def _engine():
    from helpdesk.extensions import db

    return db.engine  # the current app's database (limits are checked inside a request)


class DatabaseStorage(Storage):
    STORAGE_SCHEME = [SCHEME]

    @property
    def base_exceptions(self) -> type[Exception]:
        return SQLAlchemyError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        table = RateLimitCounter.__table__
        for _ in range(10):
            now = time.time()
            expired = table.c.expires_at <= now
            with _engine().begin() as conn:
                count = conn.execute(
                    update(table).where(table.c.key == key).values(
                        count=case((expired, amount), else_=table.c.count + amount),
                        expires_at=case((expired, now + expiry), else_=table.c.expires_at))
                    .returning(table.c.count)).scalar()
            if count is not None:
                return count
            try:
                with _engine().begin() as conn:
                    conn.execute(insert(table).values(key=key, count=amount, expires_at=now + expiry))
                return amount
            except IntegrityError:  # another process created it first: increment that one
                continue
        raise RuntimeError(f"rate limit counter {key} could not be written")

    def get(self, key: str) -> int:
        with _engine().connect() as conn:
            count = conn.execute(select(RateLimitCounter.count).where(
                RateLimitCounter.key == key, RateLimitCounter.expires_at > time.time())).scalar()
        return count or 0

    def get_expiry(self, key: str) -> float:
        with _engine().connect() as conn:
            expiry = conn.execute(select(RateLimitCounter.expires_at).where(RateLimitCounter.key == key)).scalar()
        return expiry if expiry is not None else time.time()

    def check(self) -> bool:
        try:
            with _engine().connect() as conn:
                conn.execute(select(1))
        except SQLAlchemyError:
            return False
        return True

    def reset(self) -> int | None:
        with _engine().begin() as conn:
            return conn.execute(delete(RateLimitCounter)).rowcount

    def clear(self, key: str) -> None:
        with _engine().begin() as conn:
            conn.execute(delete(RateLimitCounter).where(RateLimitCounter.key == key))
