"""The live channel in the browser: the server-sent event stream and ticket presence.

Registered as the always-enabled ``core.live_web`` (see ``helpdesk.live`` for the bus).

* ``GET /live/stream?topics=queue,ticket:12,user:3`` (staff only): a ``text/event-stream``.
  Each event is sent only if the scoping function lets this person see its ticket (checked
  per event, with their teams as they are now); customers get nothing here. A comment every
  ``HEARTBEAT`` seconds keeps proxies from closing an idle stream, and the stream ends after
  ``LIVE_STREAM_SECONDS`` so a sync worker is never pinned forever: ``EventSource``
  reconnects by itself, sending ``Last-Event-ID`` to resume where it left off. With the
  backend down (Redis unreachable) it answers 503 and ``live.js`` retries, more slowly each time.
* ``POST /live/tickets/<reference>/presence`` (CSRF, ``state`` = viewing, typing or left):
  the ticket page's heartbeat; answers who else is there. ``live.js`` sends it every few
  seconds, on typing, and with ``navigator.sendBeacon`` when the tab goes away. With the
  backend down: 503 and nobody shown.
"""
from __future__ import annotations

import json
import time
from collections.abc import Iterator

from flask import Blueprint, Response, abort, current_app, jsonify, request
from flask_login import current_user
from sqlalchemy import select

from helpdesk import live
from helpdesk.access import can_see_ticket, ticket_or_404
from helpdesk.extensions import db
from helpdesk.markers import hookimpl
from helpdesk.models import Ticket, User
from helpdesk.web.auth import backoffice_required

bp = Blueprint("live", __name__, url_prefix="/live")

HEARTBEAT = 15.0  # seconds between keep-alive comments
RETRY_MS = 3000  # how long a browser waits before reconnecting


@hookimpl
def helpdesk_blueprints() -> list[Blueprint]:
    return [bp]


def allowed_topics(user: User, requested: str) -> list[str]:
    """The requested topics this person may listen to (unknown or foreign ones are dropped)."""
    topics = []
    for topic in dict.fromkeys(t.strip() for t in requested.split(",")):
        if not live.valid_topic(topic):
            continue
        kind, _, ident = topic.partition(":")
        if kind == "user" and int(ident) != user.id:
            continue
        if kind == "ticket":
            ticket = db.session.get(Ticket, int(ident))
            if ticket is None or not can_see_ticket(user, ticket):
                continue
        topics.append(topic)
    return topics


def may_see(user: User, event: live.LiveEvent) -> bool:
    """Whether ``user`` may receive ``event``: every event about a ticket passes the scoping function."""
    if event.topic.startswith("user:") and event.topic != f"user:{user.id}":
        return False
    ticket_id = event.event.get("ticket_id")
    if ticket_id is None:
        return True
    ticket = db.session.get(Ticket, ticket_id) if isinstance(ticket_id, int) else None
    return ticket is not None and can_see_ticket(user, ticket)


def _frame(event: live.LiveEvent) -> str:
    data = json.dumps({**event.event, "topic": event.topic}, separators=(",", ":"))
    return f"id: {event.id}\ndata: {data}\n\n"


@bp.get("/stream")
@backoffice_required
def stream():
    requested = request.args.get("topics", "")
    if not requested.strip():
        return Response(status=204)  # nothing asked for: EventSource stops reconnecting on 204
    topics = allowed_topics(current_user, requested)
    if not topics:
        abort(404)
    last_id = (request.headers.get("Last-Event-ID") or request.args.get("last_id") or "")[:40] or None
    user_id = current_user.id
    app = current_app._get_current_object()  # the proxy's target
    lifetime = float(app.config["LIVE_STREAM_SECONDS"])
    try:
        subscription = live.subscribe(topics, last_id)
    except Exception:  # noqa: BLE001 - the backend is down: the page works on, the browser retries
        current_app.logger.warning("live stream refused: backend error", exc_info=True)
        return Response("The live channel is unavailable.", status=503, mimetype="text/plain",
                        headers={"Retry-After": "10"})

    def generate() -> Iterator[str]:
        yield f"retry: {RETRY_MS}\n: connected\n\n"
        deadline = time.monotonic() + lifetime
        with app.app_context():
            while (left := deadline - time.monotonic()) > 0:
                try:
                    events = subscription.wait(min(HEARTBEAT, left))
                except Exception:  # noqa: BLE001 - backend gone: end; the browser reconnects
                    current_app.logger.warning("live stream ended: backend error", exc_info=True)
                    return
                if not events:
                    yield ": keep-alive\n\n"
                    continue
                try:
                    user = db.session.get(User, user_id)  # as they are now: teams, disabled
                    if user is None or not user.is_active or not user.is_backoffice:
                        return
                    frames = [_frame(e) for e in events if may_see(user, e)]
                finally:
                    db.session.remove()  # no connection held while waiting
                yield "".join(frames) if frames else ": keep-alive\n\n"

    response = Response(generate(), mimetype="text/event-stream")
    response.headers["Cache-Control"] = "no-cache, no-store"
    response.headers["X-Accel-Buffering"] = "no"  # nginx: pass each event on at once
    return response


def _present(ticket: Ticket, me: int) -> list[dict]:
    here = live.presence(ticket.id)
    others = {uid: state for uid, state in here.items() if uid != me}
    if not others:
        return []
    users = db.session.scalars(select(User).where(User.id.in_(others)).order_by(User.name))
    return [{"user_id": u.id, "name": u.name, "state": others[u.id]} for u in users
            if u.is_active and can_see_ticket(u, ticket)]


@bp.post("/tickets/<reference>/presence")
@backoffice_required
def presence(reference: str):
    ticket = ticket_or_404(current_user, reference)
    state = request.form.get("state", "viewing")
    if state not in (*live.STATES, "left"):
        abort(400)
    try:
        if live.set_presence(ticket.id, current_user.id, state):
            live.publish(f"ticket:{ticket.id}", {"type": "presence", "ticket_id": ticket.id,
                                                  "present": _present(ticket, 0)})
        present = _present(ticket, current_user.id)
    except Exception:  # noqa: BLE001 - the backend is down: nobody is shown, the page works on
        db.session.rollback()
        current_app.logger.warning("presence not recorded: backend error", exc_info=True)
        return jsonify(present=[]), 503
    return jsonify(present=present)
