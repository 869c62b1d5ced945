"""Throttling with growing lockouts, counted where every process sees it.

A ``Limit`` allows ``attempts`` within ``window``; the attempt that reaches the limit locks
the subject (an account, an IP address, a target address, a survey link) for ``lockout``,
and each further lockout doubles the delay up to ``max_lockout``. A calm day forgets past
lockouts. Counters live in the ``throttle_counters`` table, or in Redis when ``REDIS_URL``
is configured; updates are compare-and-set, so gunicorn workers on one or many machines
share one count and never lose each other's attempts. Each lockout writes a warning to
the ``helpdesk.throttle`` log.

    LOGIN = Limit("login-account", attempts=10, window=timedelta(minutes=15), lockout=timedelta(minutes=1))
    if wait := attempt(LOGIN, email):   # counts the attempt before it is made, atomically
        ...answer 429 "try again in {wait} seconds"
    ...
    reset(LOGIN, email)                 # e.g. after a successful sign-in
    give_back(LOGIN_PER_IP, address)    # an attempt that should not count after all

Counting before acting (rather than checking, acting, then counting) is what keeps the
limit exact when many processes try at once: of 2 × 10 simultaneous guesses, 10 are tried.
"""
from __future__ import annotations

import hashlib
import logging
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import ngettext
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from helpdesk.extensions import db
from helpdesk.models.base import utcnow
from helpdesk.models.sessions import ThrottleCounter
from helpdesk.shared_store import KEY_PREFIX, redis_client

log = logging.getLogger("helpdesk.throttle")

MAX_TRIES = 50  # compare-and-set retries under contention


@dataclass(frozen=True)
class Limit:
    """At most ``attempts`` per ``window``; then locked for ``lockout``, doubling per lockout."""

    name: str
    attempts: int
    window: timedelta
    lockout: timedelta
    max_lockout: timedelta = timedelta(hours=1)
    forget_after: timedelta = timedelta(days=1)

    def delay(self, lockouts: int) -> timedelta:
        return min(self.lockout * (2 ** max(lockouts - 1, 0)), self.max_lockout)


@dataclass
class _State:
    attempts: int
    window_start: datetime
    lockouts: int
    locked_until: datetime | None


def _step(state: _State, limit: Limit, now: datetime) -> tuple[_State, bool]:
    """One more attempt (the subject is not locked); the new state and whether it locks now."""
    lockouts = state.lockouts
    if state.locked_until is not None and now - state.locked_until > limit.forget_after:
        lockouts = 0
    attempts, window_start = state.attempts, state.window_start
    if now - window_start >= limit.window:
        attempts, window_start = 0, now
    attempts += 1
    if attempts >= limit.attempts:
        lockouts += 1
        return _State(0, now, lockouts, now + limit.delay(lockouts)), True
    return _State(attempts, window_start, lockouts, state.locked_until), False


def _attempt(state: _State, limit: Limit, now: datetime) -> tuple[_State, tuple[int, _State | None]]:
    """Refuse while locked (counting nothing); else count. Result: (seconds refused, state if it locked now)."""
    if state.locked_until is not None and state.locked_until > now:
        return state, (_seconds_left(state.locked_until, now), None)
    new, locked = _step(state, limit, now)
    return new, (0, new if locked else None)


def _give_back(state: _State, limit: Limit, now: datetime) -> tuple[_State, None]:
    return _State(max(state.attempts - 1, 0), state.window_start, state.lockouts, state.locked_until), None


def _key(limit: Limit, subject: str) -> str:
    # Hashed: the table and Redis hold no addresses or survey tokens, and keys stay short.
    return f"{limit.name}:{hashlib.sha256(subject.strip().lower().encode()).hexdigest()[:40]}"


def _seconds_left(locked_until: datetime | None, now: datetime) -> int:
    if locked_until is None or locked_until <= now:
        return 0
    return max(1, math.ceil((locked_until - now).total_seconds()))


# ----------------------------------------------------------------- database


def _db_read(key: str) -> tuple[_State, int] | None:
    with db.engine.connect() as conn:
        row = conn.execute(select(ThrottleCounter.attempts, ThrottleCounter.window_start,
                                  ThrottleCounter.lockouts, ThrottleCounter.locked_until,
                                  ThrottleCounter.version).where(ThrottleCounter.key == key)).first()
    return None if row is None else (_State(row[0], row[1], row[2], row[3]), row[4])


def _db_update(key: str, limit: Limit, now: datetime, change):
    """Apply ``change(state, limit, now) -> (state, result)`` with compare-and-set; return result."""
    table = ThrottleCounter.__table__
    # Its own connection: the count stays even if the request's transaction rolls back.
    for _ in range(MAX_TRIES):
        found = _db_read(key)
        with db.engine.connect() as conn:
            if found is None:
                state, result = change(_State(0, now, 0, None), limit, now)
                try:
                    conn.execute(insert(table).values(key=key, version=1, updated_at=now, **state.__dict__))
                    conn.commit()
                except IntegrityError:  # another process counted the first attempt
                    conn.rollback()
                    continue
                return result
            old, version = found
            state, result = change(old, limit, now)
            changed = conn.execute(update(table).where(table.c.key == key, table.c.version == version)
                                   .values(version=version + 1, updated_at=now, **state.__dict__)).rowcount
            conn.commit()
            if changed == 1:
                return result
    raise RuntimeError(f"throttle counter {key} kept changing under us")


# ----------------------------------------------------------------- Redis


def _redis_state(fields: dict) -> _State | None:
    if not fields:
        return None
    until = fields.get("locked_until") or None
    return _State(int(fields["attempts"]), datetime.fromisoformat(fields["window_start"]),
                  int(fields["lockouts"]), datetime.fromisoformat(until) if until else None)


def _redis_update(client, key: str, limit: Limit, now: datetime, change):
    from redis.exceptions import WatchError

    name = f"{KEY_PREFIX}throttle:{key}"
    ttl = int((limit.window + limit.max_lockout + limit.forget_after).total_seconds())
    with client.pipeline() as pipe:
        for _ in range(MAX_TRIES):
            try:
                pipe.watch(name)
                old = _redis_state(pipe.hgetall(name)) or _State(0, now, 0, None)
                state, result = change(old, limit, now)
                pipe.multi()
                pipe.hset(name, mapping={
                    "attempts": state.attempts, "window_start": state.window_start.isoformat(),
                    "lockouts": state.lockouts,
                    "locked_until": state.locked_until.isoformat() if state.locked_until else ""})
                pipe.expire(name, ttl)
                pipe.execute()
                return result
            except WatchError:  # another process counted meanwhile: read again
                continue
    raise RuntimeError(f"throttle counter {key} kept changing under us")


def _update(limit: Limit, subject: str, change):
    key, now = _key(limit, subject), utcnow()
    client = redis_client()
    if client is not None:
        return _redis_update(client, key, limit, now, change)
    return _db_update(key, limit, now, change)


# ----------------------------------------------------------------- API


def retry_after(limit: Limit, subject: str) -> int:
    """Seconds until ``subject`` may try again (0: it may now)."""
    key, now = _key(limit, subject), utcnow()
    client = redis_client()
    if client is not None:
        state = _redis_state(client.hgetall(f"{KEY_PREFIX}throttle:{key}"))
    else:
        found = _db_read(key)
        state = found[0] if found else None
    return _seconds_left(state.locked_until if state else None, now)


def attempt(limit: Limit, subject: str, *, label: str | None = None) -> int:
    """Count an attempt by ``subject`` before it is made. 0: go ahead; otherwise it is refused
    (and not counted) and the number is the seconds to wait.

    ``label`` names the subject in the log when it gets locked (never put a secret token there)."""
    refused, locked = _update(limit, subject, _attempt)
    if locked is not None:
        seconds = _seconds_left(locked.locked_until, utcnow())
        log.warning("throttle %s: %s locked for %d s after %d attempts (lockout %d in a row)",
                    limit.name, label or _key(limit, subject), seconds, limit.attempts, locked.lockouts)
    return refused


def give_back(limit: Limit, subject: str) -> None:
    """Un-count one attempt (it turned out fine, e.g. a correct password from a shared address)."""
    _update(limit, subject, _give_back)


def reset(limit: Limit, subject: str) -> None:
    """Forget ``subject``'s attempts and lockouts (a successful sign-in)."""
    key = _key(limit, subject)
    client = redis_client()
    if client is not None:
        client.delete(f"{KEY_PREFIX}throttle:{key}")
    else:
        with db.engine.begin() as conn:
            conn.execute(delete(ThrottleCounter).where(ThrottleCounter.key == key))


def wait_text(seconds: int) -> str:
    """"2 minutes", "45 seconds": how long to wait, for a person, in the reader's language.

    Callers put it into a sentence of their own (``gettext("... try again in %(wait)s.",
    wait=wait_text(wait))``). ``flask_babel`` directly: ``helpdesk.i18n`` imports the
    services, which import this module."""
    if seconds >= 90:
        minutes = math.ceil(seconds / 60)
        return ngettext("%(num)d minute", "%(num)d minutes", minutes)
    if seconds > 45:
        return ngettext("%(num)d minute", "%(num)d minutes", 1)
    return ngettext("%(num)d second", "%(num)d seconds", seconds)
