"""Server-side sign-in sessions.

Each sign-in creates a record (a database row, or a Redis hash with ``REDIS_URL``) keyed by
the SHA-256 of a random key. Flask-Login's user id, kept in the session cookie and the
remember-me cookie, is ``"<user id>:<session version>:<key>"``; the user loader accepts it
only while the record exists. So:

* logging out deletes that record: copies of that browser's cookies open nothing;
* a password change or disabling the account bumps ``users.session_version`` (older records
  stop counting) and deletes the records: every session ends;
* the profile page lists the records and can delete one or all but the current one.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app, request
from sqlalchemy import delete, select, update

from helpdesk.extensions import db
from helpdesk.models.base import utcnow
from helpdesk.models.sessions import UserSession
from helpdesk.models.users import User
from helpdesk.shared_store import KEY_PREFIX, redis_client

# last_seen_at is written at most this often, not on every request.
TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class SessionInfo:
    """One signed-in browser, as the profile page shows it."""

    key_hash: str
    user_id: int
    session_version: int
    remember: bool
    user_agent: str
    address: str
    created_at: datetime
    last_seen_at: datetime


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _idle_limit() -> timedelta:
    return timedelta(days=current_app.config["SESSION_IDLE_DAYS"])


# ----------------------------------------------------------------- storage


class _DatabaseStore:
    def add(self, info: SessionInfo) -> None:
        db.session.add(UserSession(**info.__dict__))
        db.session.commit()

    def get(self, hashed: str) -> SessionInfo | None:
        row = db.session.scalar(select(UserSession).where(UserSession.key_hash == hashed))
        return None if row is None else _info(row)

    def touch(self, hashed: str, now: datetime, address: str) -> None:
        db.session.execute(update(UserSession).where(UserSession.key_hash == hashed)
                           .values(last_seen_at=now, address=address))
        db.session.commit()

    def delete(self, user_id: int, hashes: list[str]) -> int:
        if not hashes:
            return 0
        count = db.session.execute(delete(UserSession).where(  # type: ignore[attr-defined]  # CursorResult
            UserSession.user_id == user_id, UserSession.key_hash.in_(hashes))).rowcount
        db.session.commit()
        return count

    def for_user(self, user_id: int) -> list[SessionInfo]:
        return [_info(row) for row in db.session.scalars(
            select(UserSession).where(UserSession.user_id == user_id))]


def _info(row: UserSession) -> SessionInfo:
    return SessionInfo(row.key_hash, row.user_id, row.session_version, row.remember, row.user_agent,
                       row.address, row.created_at, row.last_seen_at)


class _RedisStore:
    """``helpdesk:session:<hash>`` (a hash that expires when idle) and ``helpdesk:user-sessions:<id>``."""

    def __init__(self, client) -> None:
        self.redis = client

    @staticmethod
    def _key(hashed: str) -> str:
        return f"{KEY_PREFIX}session:{hashed}"

    @staticmethod
    def _index(user_id: int) -> str:
        return f"{KEY_PREFIX}user-sessions:{user_id}"

    def add(self, info: SessionInfo) -> None:
        ttl = int(_idle_limit().total_seconds())
        fields = {"user_id": info.user_id, "session_version": info.session_version,
                  "remember": int(info.remember), "user_agent": info.user_agent, "address": info.address,
                  "created_at": info.created_at.isoformat(), "last_seen_at": info.last_seen_at.isoformat()}
        with self.redis.pipeline() as pipe:
            pipe.hset(self._key(info.key_hash), mapping=fields)
            pipe.expire(self._key(info.key_hash), ttl)
            pipe.sadd(self._index(info.user_id), info.key_hash)
            pipe.expire(self._index(info.user_id), ttl)
            pipe.execute()

    def get(self, hashed: str) -> SessionInfo | None:
        fields = self.redis.hgetall(self._key(hashed))
        if not fields:
            return None
        return SessionInfo(hashed, int(fields["user_id"]), int(fields["session_version"]),
                           fields["remember"] == "1", fields["user_agent"], fields["address"],
                           datetime.fromisoformat(fields["created_at"]),
                           datetime.fromisoformat(fields["last_seen_at"]))

    # Only if it still exists: a touch must never bring back a session revoked meanwhile.
    # The user's index lives as long as their most recently used session.
    _TOUCH = """
    if redis.call('exists', KEYS[1]) == 1 then
        redis.call('hset', KEYS[1], 'last_seen_at', ARGV[1], 'address', ARGV[2])
        redis.call('expire', KEYS[1], ARGV[3])
        redis.call('expire', ARGV[4] .. redis.call('hget', KEYS[1], 'user_id'), ARGV[3])
    end"""

    def touch(self, hashed: str, now: datetime, address: str) -> None:
        self.redis.eval(self._TOUCH, 1, self._key(hashed), now.isoformat(), address,
                        int(_idle_limit().total_seconds()), f"{KEY_PREFIX}user-sessions:")

    def delete(self, user_id: int, hashes: list[str]) -> int:
        if not hashes:
            return 0
        with self.redis.pipeline() as pipe:
            pipe.delete(*[self._key(h) for h in hashes])
            pipe.srem(self._index(user_id), *hashes)
            count, _ = pipe.execute()
        return count

    def for_user(self, user_id: int) -> list[SessionInfo]:
        found = []
        for hashed in self.redis.smembers(self._index(user_id)):
            info = self.get(hashed)
            if info is None:  # expired on its own: drop it from the index too
                self.redis.srem(self._index(user_id), hashed)
            else:
                found.append(info)
        return found


def _store() -> _DatabaseStore | _RedisStore:
    client = redis_client()
    return _RedisStore(client) if client is not None else _DatabaseStore()


# ----------------------------------------------------------------- API


def _client_details() -> tuple[str, str]:
    from flask import has_request_context

    if not has_request_context():
        return "", ""
    return (request.headers.get("User-Agent", "") or "")[:300], (request.remote_addr or "")[:64]


def open_session(user: User, *, remember: bool = False, user_agent: str | None = None,
                 address: str | None = None) -> str:
    """Record a new sign-in for ``user``; return the Flask-Login id to put in the session."""
    key = secrets.token_urlsafe(32)
    agent, addr = _client_details()
    now = utcnow()
    _store().add(SessionInfo(key_hash(key), user.id, user.session_version, remember,
                             agent if user_agent is None else user_agent[:300],
                             addr if address is None else address[:64], now, now))
    user.session_key = key
    return user.get_id()


def load_user(flask_login_id: str) -> User | None:
    """Flask-Login's user loader: the user, only while this browser's session is alive."""
    ident, _, rest = flask_login_id.partition(":")
    version, _, key = rest.partition(":")
    if not ident.isdigit() or not key:
        return None  # also ids from before server-side sessions: sign in again
    store = _store()
    hashed = key_hash(key)
    # One statement: the user, their session row (database store) and the configuration
    # version (helpdesk.config_cache), which every page needs next.
    from helpdesk.config_cache import prefetched, version_column

    query = select(User, version_column()).where(User.id == int(ident))
    if isinstance(store, _DatabaseStore):
        query = query.add_columns(UserSession).outerjoin(
            UserSession, (UserSession.key_hash == hashed) & (UserSession.user_id == User.id))
    row = db.session.execute(query).first()
    if row is None:
        return None
    user, config_version = row[0], row[1]
    prefetched(config_version)
    if not user.is_active or str(user.session_version) != version:
        return None  # disabled, merged or password changed: the old session is dead
    if isinstance(store, _DatabaseStore):
        info = None if row[2] is None else _info(row[2])
    else:
        info = store.get(hashed)
    now = utcnow()
    if info is None or info.user_id != user.id or info.session_version != user.session_version:
        return None
    if now - info.last_seen_at > _idle_limit():
        store.delete(user.id, [hashed])
        return None
    agent, address = _client_details()
    if now - info.last_seen_at >= TOUCH_EVERY or (address and address != info.address):
        store.touch(hashed, now, address or info.address)
    user.session_key = key
    return user


def current_key_hash(user: User) -> str | None:
    key = getattr(user, "session_key", None)
    return key_hash(key) if key else None


def active_sessions(user: User) -> list[SessionInfo]:
    """The user's live sessions, most recently used first; stale ones are cleared on the way."""
    store = _store()
    live, stale = [], []
    limit = utcnow() - _idle_limit()
    for info in store.for_user(user.id):
        if info.session_version != user.session_version or info.last_seen_at < limit:
            stale.append(info.key_hash)
        else:
            live.append(info)
    store.delete(user.id, stale)
    return sorted(live, key=lambda s: s.last_seen_at, reverse=True)


def end_session(user: User, hashed: str) -> bool:
    """End one of ``user``'s sessions (by its stored hash). False if it was not theirs or is gone."""
    return _store().delete(user.id, [hashed]) == 1


def end_current_session(user: User) -> None:
    hashed = current_key_hash(user)
    if hashed:
        _store().delete(user.id, [hashed])
    user.session_key = None


def end_all_sessions(user: User, *, keep_current: bool = False) -> int:
    """End every session of ``user`` (but the current browser's with ``keep_current``)."""
    keep = current_key_hash(user) if keep_current else None
    store = _store()
    return store.delete(user.id, [s.key_hash for s in store.for_user(user.id) if s.key_hash != keep])
