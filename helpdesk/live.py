"""The live channel: a small event bus shared by every web process, and ticket presence.

Public, stable API (plugins and the core's own features use it)::

    from helpdesk.live import publish
    publish("user:42", {"type": "notification", "count": 3})

* ``publish(topic, event)``: send ``event`` (a JSON-serialisable dict) to everyone listening
  to ``topic``. Call it **after** your transaction committed (the event says something
  happened; it must never announce a change that is rolled back). It writes on its own
  connection, never through ``db.session``.
* ``subscribe(topics, last_id)``: a ``Subscription`` whose ``wait(seconds)`` returns the new
  events of those topics (``LiveEvent`` tuples: ``id``, ``topic``, ``event``); ``last_id``
  resumes after an event id a browser saw (``Last-Event-ID``).

Topics: ``queue`` (tickets created or updated), ``ticket:<id>`` (a ticket's messages,
changes and presence), ``user:<id>`` (one person: notifications). Events about a ticket carry
``ticket_id``; the stream (``helpdesk.web.live``) passes each through the scoping function,
so a publisher never decides who may see an event.

Backends: with ``REDIS_URL`` one Redis stream (``helpdesk:live``, ``XADD``/``XREAD``: a
pub/sub that also keeps the last ~10,000 events, so a reconnecting browser resumes where it
left off); otherwise the ``live_events`` table, which streams poll by increasing id
(``LIVE_POLL_MS``) and from which rows older than two minutes are pruned.

Presence (who is viewing a ticket, who is typing a reply) lives in Redis hashes or the
``live_presence`` table and expires ``LIVE_PRESENCE_SECONDS`` after the browser's last
heartbeat.

The core publishes ticket events from its own after-commit hooks (registered as the
always-enabled ``core.live``), so services need not know about the live channel.
"""
from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Iterable
from datetime import timedelta
from typing import Any, NamedTuple

from flask import current_app
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from helpdesk import after_commit
from helpdesk.extensions import db
from helpdesk.markers import hookimpl
from helpdesk.models import Message, Ticket, User
from helpdesk.models.base import utcnow
from helpdesk.models.live import LiveEvent as LiveEventRow
from helpdesk.models.live import LivePresence
from helpdesk.shared_store import KEY_PREFIX, redis_client

log = logging.getLogger(__name__)

STREAM_KEY = f"{KEY_PREFIX}live"
STREAM_MAXLEN = 10_000
EVENT_KEEP = timedelta(minutes=2)  # database backend: how long an event row lives
PRUNE_EVERY = 30.0  # seconds between two prunes by one process
BLOCK_SECONDS = 15.0  # Redis backend: the longest blocking read
LOOKBACK = 100  # ids below the newest seen that are read again (PostgreSQL commits out of order)
TOPIC = re.compile(r"^(queue|ticket:\d{1,12}|user:\d{1,12})$")
STATES = ("viewing", "typing")

_last_prune = 0.0
_prune_lock = threading.Lock()


class LiveEvent(NamedTuple):
    """One event as a stream delivers it: ``id`` (the SSE id), ``topic``, ``event`` (the dict)."""

    id: str
    topic: str
    event: dict


def valid_topic(topic: str) -> bool:
    """``queue``, ``ticket:<id>`` or ``user:<id>``."""
    return bool(TOPIC.match(topic))


# ------------------------------------------------------------------ publishing


def publish(topic: str, event: dict[str, Any]) -> None:
    """Send ``event`` to the listeners of ``topic``; call it after your commit.

    A failure (Redis down, database busy) is logged and swallowed: the live channel is a
    convenience, never a reason for a saved change to look failed.
    """
    if not valid_topic(topic):
        raise ValueError(f"unknown live topic {topic!r}")
    if after_commit.defer(publish, topic, event):  # inside an event hook's transaction: after its commit
        return
    data = json.dumps(event, default=str)
    try:
        client = redis_client()
        if client is not None:
            client.xadd(STREAM_KEY, {"topic": topic, "data": data}, maxlen=STREAM_MAXLEN, approximate=True)
            return
        with db.engine.begin() as conn:
            conn.execute(insert(LiveEventRow).values(topic=topic, payload=json.loads(data), created_at=utcnow()))
        _maybe_prune()
    except Exception:  # noqa: BLE001 - see the docstring
        log.exception("live event for %s not published", topic)


def _maybe_prune() -> None:
    global _last_prune
    now = time.monotonic()
    with _prune_lock:
        if now - _last_prune < PRUNE_EVERY:
            return
        _last_prune = now
    prune()


def prune() -> int:
    """Delete old event rows and expired presence (database backend); returns how many."""
    now = utcnow()
    with db.engine.begin() as conn:
        removed = conn.execute(delete(LiveEventRow).where(LiveEventRow.created_at < now - EVENT_KEEP)).rowcount
        removed += conn.execute(delete(LivePresence).where(LivePresence.expires_at < now)).rowcount
    return removed


# ------------------------------------------------------------------ subscribing


class Subscription:
    """New events of some topics, from a starting point on (see ``subscribe``)."""

    def __init__(self, topics: Iterable[str]) -> None:
        self.topics = [t for t in dict.fromkeys(topics) if valid_topic(t)]

    def wait(self, seconds: float) -> list[LiveEvent]:  # pragma: no cover - overridden
        raise NotImplementedError


class _RedisSubscription(Subscription):
    def __init__(self, client: Any, topics: Iterable[str], last_id: str | None) -> None:
        super().__init__(topics)
        self.redis = client
        if last_id and re.match(r"^\d{1,20}-\d{1,20}$", last_id):
            self.cursor = last_id
        else:
            newest = client.xrevrange(STREAM_KEY, count=1)
            self.cursor = newest[0][0] if newest else "0-0"

    def wait(self, seconds: float) -> list[LiveEvent]:
        block = max(1, int(min(seconds, BLOCK_SECONDS) * 1000))
        found = self.redis.xread({STREAM_KEY: self.cursor}, count=200, block=block)
        events = []
        for _key, entries in found or []:
            for entry_id, fields in entries:
                self.cursor = entry_id
                if fields.get("topic") in self.topics:
                    events.append(LiveEvent(entry_id, fields["topic"], json.loads(fields.get("data") or "{}")))
        return events


class _DatabaseSubscription(Subscription):
    def __init__(self, topics: Iterable[str], last_id: str | None, poll_seconds: float) -> None:
        super().__init__(topics)
        self.poll = poll_seconds
        if last_id and last_id.isdigit() and len(last_id) < 19:
            self.start = int(last_id)
        else:
            with db.engine.connect() as conn:
                self.start = conn.execute(select(func.max(LiveEventRow.id))).scalar() or 0
        self.newest = self.start
        self.seen: set[int] = set()

    def _read(self) -> list[LiveEvent]:
        floor = max(self.start, self.newest - LOOKBACK)
        with db.engine.connect() as conn:
            rows = conn.execute(
                select(LiveEventRow.id, LiveEventRow.topic, LiveEventRow.payload)
                .where(LiveEventRow.id > floor, LiveEventRow.topic.in_(self.topics))
                .order_by(LiveEventRow.id).limit(200)).all()
        events = []
        for row_id, topic, payload in rows:
            if row_id in self.seen:
                continue
            self.seen.add(row_id)
            self.newest = max(self.newest, row_id)
            events.append(LiveEvent(str(row_id), topic, payload or {}))
        floor = max(self.start, self.newest - LOOKBACK)
        self.seen = {i for i in self.seen if i > floor}
        return events

    def wait(self, seconds: float) -> list[LiveEvent]:
        deadline = time.monotonic() + seconds
        while True:
            events = self._read() if self.topics else []
            left = deadline - time.monotonic()
            if events or left <= 0:
                return events
            time.sleep(min(self.poll, left))


def _blocking_client() -> Any:
    """A Redis pool for the streams' blocking reads: the shared one's read timeout (a few
    seconds by default in redis-py) is shorter than a read that waits for the next event."""
    client = current_app.extensions.get("helpdesk_redis_live")
    if client is None:
        from redis import Redis  # lazily, as in shared_store: redis is an optional dependency

        client = current_app.extensions["helpdesk_redis_live"] = Redis.from_url(
            current_app.config["REDIS_URL"], decode_responses=True, socket_timeout=BLOCK_SECONDS * 4)
    return client


def subscribe(topics: Iterable[str], last_id: str | None = None) -> Subscription:
    """Listen to ``topics`` from now on, or from just after event ``last_id`` when the backend
    still has it. Invalid topics are ignored (the caller checks who may listen to what)."""
    if redis_client() is not None:
        return _RedisSubscription(_blocking_client(), topics, last_id)
    return _DatabaseSubscription(topics, last_id, current_app.config["LIVE_POLL_MS"] / 1000)


# ------------------------------------------------------------------ presence


def _presence_ttl() -> timedelta:
    return timedelta(seconds=current_app.config["LIVE_PRESENCE_SECONDS"])


def _presence_key(ticket_id: int) -> str:
    return f"{KEY_PREFIX}presence:{ticket_id}"


def set_presence(ticket_id: int, user_id: int, state: str) -> bool:
    """``user_id`` is ``viewing`` or ``typing`` on the ticket for the next few seconds, or has
    ``left``. Returns whether that is news (someone arrived, left or started or stopped typing)."""
    if state not in (*STATES, "left"):
        raise ValueError(f"unknown presence state {state!r}")
    now = utcnow()
    expires = now + _presence_ttl()
    client = redis_client()
    if client is not None:
        key, field = _presence_key(ticket_id), str(user_id)
        old = client.hget(key, field)
        old_state = _redis_state(old, now.timestamp())
        if state == "left":
            client.hdel(key, field)
        else:
            with client.pipeline() as pipe:
                pipe.hset(key, field, f"{state}|{expires.timestamp()}")
                pipe.expire(key, int(_presence_ttl().total_seconds()) * 2)
                pipe.execute()
        return old_state != (None if state == "left" else state)
    row = db.session.get(LivePresence, (ticket_id, user_id))
    old_state = row.state if row is not None and row.expires_at > now else None
    if state == "left":
        db.session.execute(delete(LivePresence).where(
            LivePresence.ticket_id == ticket_id, LivePresence.user_id == user_id))
    elif row is None:
        db.session.add(LivePresence(ticket_id=ticket_id, user_id=user_id, state=state, expires_at=expires))
    else:
        db.session.execute(update(LivePresence).where(
            LivePresence.ticket_id == ticket_id, LivePresence.user_id == user_id)
            .values(state=state, expires_at=expires))
    try:
        db.session.commit()
    except IntegrityError:  # the same person's other tab inserted it a moment ago
        db.session.rollback()
    return old_state != (None if state == "left" else state)


def _redis_state(value: Any, now: float) -> str | None:
    if not value:
        return None
    state, _, until = value.partition("|")
    try:
        return state if float(until) > now else None
    except ValueError:
        return None


def presence(ticket_id: int) -> dict[int, str]:
    """Who is on the ticket now: user id → ``viewing`` or ``typing``."""
    now = utcnow()
    client = redis_client()
    if client is not None:
        key = _presence_key(ticket_id)
        found, expired = {}, []
        for field, value in client.hgetall(key).items():
            state = _redis_state(value, now.timestamp())
            if state is None:
                expired.append(field)
            else:
                found[int(field)] = state
        if expired:
            client.hdel(key, *expired)
        return found
    return {user_id: state for user_id, state in db.session.execute(
        select(LivePresence.user_id, LivePresence.state).where(
            LivePresence.ticket_id == ticket_id, LivePresence.expires_at > now))}


# ------------------------------------------------------------------ the core's events


def _name(user: User | None) -> str:
    return user.name if user is not None else "System"


@hookimpl(tryfirst=True)
def helpdesk_ticket_created(ticket: Ticket, message: Message) -> None:
    publish("queue", {"type": "ticket_created", "ticket_id": ticket.id, "reference": ticket.reference})


@hookimpl(tryfirst=True)
def helpdesk_message_added(ticket: Ticket, message: Message) -> None:
    author = message.author
    publish(f"ticket:{ticket.id}", {
        "type": "message", "ticket_id": ticket.id, "reference": ticket.reference, "message_id": message.id,
        "author_id": message.author_id, "author_name": _name(author), "internal": message.internal,
        "from_customer": author is not None and not author.is_backoffice})
    publish("queue", {"type": "ticket_updated", "ticket_id": ticket.id, "reference": ticket.reference})


# The changed fields the browser is told about, as keys (not words: one event goes to every
# viewer, whatever their language; the page's script names them for its reader).
LIVE_FIELDS = {"status": "status", "priority": "priority", "assignee_id": "assignee", "team_id": "team",
               "tags": "tags", "subject": "subject"}


@hookimpl(tryfirst=True)
def helpdesk_ticket_changed(ticket: Ticket, changes: dict[str, tuple], actor: User | None) -> None:
    shown = {}
    for field, (_old, new) in changes.items():
        if field not in LIVE_FIELDS:
            continue
        if field == "assignee_id":
            # No assignee / no team: empty, worded by the reader's page (live.js, shownValue).
            new = _name(db.session.get(User, new)) if new else ""
        elif field == "team_id":
            new = ticket.team.name if ticket.team else ""
        shown[LIVE_FIELDS[field]] = "" if new is None else str(new)
    if not shown:
        return
    publish(f"ticket:{ticket.id}", {
        "type": "changed", "ticket_id": ticket.id, "reference": ticket.reference,
        "actor_id": actor.id if actor else None, "actor_name": _name(actor), "changes": shown})
    publish("queue", {"type": "ticket_updated", "ticket_id": ticket.id, "reference": ticket.reference})
