"""The widget's script and its JSON API (``/chat/...``), answered only to allowed origins.

The API carries no cookies: a visitor is the signed token the widget keeps in the embedding
page's ``localStorage`` and sends as ``X-Chat-Token`` (the live stream, an ``EventSource``,
takes it as ``?token=``). Every answer except the script itself is refused (403) to a page
whose ``Origin`` is not in the plugin's allowed origins, and only allowed origins get the
``Access-Control-Allow-Origin`` header that lets their page read it. There is no session
cookie to forge requests with, so the API is exempt from the CSRF token.
"""
from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

from flask import Blueprint, Response, current_app, jsonify, request, send_file
from sqlalchemy import select

from helpdesk.plugin_api import (
    Message,
    NewAttachment,
    PermissionDenied,
    ServiceError,
    Ticket,
    User,
    csrf,
    db_session,
    gettext,
    human_size,
    live,
    safe_filename,
    services,
    throttle,
    utcnow,
)
from helpdesk_chat import bot, config, visitors
from helpdesk_chat.models import ChatRating, ChatVisitor

bp = Blueprint("chat", __name__, url_prefix="/chat", template_folder="templates")
csrf.exempt(bp)

STATIC = Path(__file__).parent / "static"
HEARTBEAT = 15.0
NEW_VISITORS = throttle.Limit("chat-new-visitor", attempts=30, window=timedelta(hours=1),
                              lockout=timedelta(minutes=5))
SUGGEST_LIMIT = throttle.Limit("chat-suggest", attempts=120, window=timedelta(minutes=1),
                               lockout=timedelta(minutes=1))


def request_origin() -> str:
    return (request.headers.get("Origin") or "").strip().rstrip("/").lower()


def origin_allowed() -> bool:
    origin = request_origin()
    return bool(origin) and origin in config.allowed_origins()


@bp.before_request
def only_allowed_origins():  # noqa: ANN201 - a response or None
    if request.endpoint in ("chat.widget_js", "chat.static"):
        return None
    if not origin_allowed():
        current_app.logger.info("chat: refused origin %r", request_origin()[:200])
        return jsonify(error=gettext("This website may not use the chat.")), 403
    if request.method == "OPTIONS":
        return Response(status=204)
    return None


@bp.after_request
def cors(response: Response) -> Response:
    if request.endpoint not in ("chat.widget_js", "chat.static") and origin_allowed():
        response.headers["Access-Control-Allow-Origin"] = request_origin()
        response.headers["Access-Control-Allow-Headers"] = "Content-Type, X-Chat-Token"
        response.headers["Access-Control-Allow-Methods"] = "GET, POST"
        response.headers["Access-Control-Max-Age"] = "600"
        response.headers["Cache-Control"] = "no-store"
    response.headers.add("Vary", "Origin")
    return response


def error(message: str, status: int = 400, field: str | None = None) -> tuple[Response, int]:
    return jsonify(error=message, field=field), status


def _visitor() -> ChatVisitor | None:
    token = request.headers.get("X-Chat-Token") or request.args.get("token")
    visitor = visitors.visitor_for(token)
    if visitor is not None and visitor.origin and visitor.origin != request_origin():
        return None  # a token is good on the site that made it only
    return visitor


def _body() -> dict:
    data = request.get_json(silent=True)
    return data if isinstance(data, dict) else {}


def _str(data: dict, name: str, limit: int = 400) -> str | None:
    value = data.get(name)
    return value[:limit] if isinstance(value, str) else None


@bp.get("/widget.js")
def widget_js():
    response = send_file(STATIC / "widget.js", mimetype="text/javascript", max_age=300)
    response.headers["Access-Control-Allow-Origin"] = "*"  # a script, no data: any page may load it
    return response


@bp.route("/api/config", methods=["GET", "OPTIONS"])
def widget_config():
    return jsonify(color=config.color(), greeting=config.setting("greeting") or "",
                   open=config.is_open(utcnow()), offline_message=config.setting("offline_message") or "",
                   prechat=config.setting("prechat") or "optional",
                   max_chars=int(config.setting("max_chars") or 2000),
                   max_file_bytes=int(current_app.config["MAX_ATTACHMENT_BYTES"]),
                   texts=widget_texts())


def _js(text: str) -> str:
    """``%(name)s`` → ``{name}``, the placeholders widget.js fills in."""
    return re.sub(r"%\((\w+)\)[sd]", r"{\1}", text)


def widget_texts() -> dict[str, str]:
    """Every word the widget shows, in the visitor's language: the API carries no cookies, so
    this is the browser's ``Accept-Language``, else the site's language (helpdesk.i18n)."""
    return {
        "launch": gettext("Chat with us"), "dialog": gettext("Chat"),
        "name": gettext("Your name"), "email": gettext("Email address"),
        "placeholder": gettext("Write a message…"), "message": gettext("Message"),
        "attach": gettext("Attach a file"), "send": gettext("Send"),
        "ask_email": gettext("Your email, so we can answer if you go"), "your_email": gettext("Your email"),
        "save": gettext("Save"), "support": gettext("Support"),
        "how": gettext("How did we do?"), "rate": _js(gettext("Rate %(score)s of 5")),
        "thanks": gettext("Thank you for your rating!"), "solved": gettext("This solved it"),
        "human": gettext("No, talk to a human"), "glad": gettext("Glad that helped. No conversation was opened."),
        "may_help": gettext("These articles may help:"), "typing": gettext("Support is typing…"),
        "too_large": _js(gettext("%(name)s is too large.")),
        "offered": gettext("Maybe one of these answers your question. If not, a person will help you."),
    }


def _state(visitor: ChatVisitor, token: str | None = None) -> dict:
    ticket = visitors.current_ticket(visitor)
    rated = ticket is not None and db_session().scalar(
        select(ChatRating.id).where(ChatRating.ticket_id == ticket.id)) is not None
    return {"token": token, "name": visitor.name or "", "email": visitor.email or "",
            "verified": bool(visitor.verified_user),
            "status": ticket.status if ticket else None, "rated": rated,
            "messages": visitors.public_messages(ticket) if ticket else []}


@bp.route("/api/session", methods=["POST", "OPTIONS"])
def session():
    """Resume the visitor of the token, or start a new one (a verified identity if the site signed one)."""
    data = _body()
    visitor = _visitor()
    user_id, user_hash = _str(data, "user_id", 200), _str(data, "user_hash", 200)
    if user_id and user_hash and not visitors.verify_identity(user_id, user_hash):
        return error(gettext("The website's sign-in could not be verified."), 403)
    if visitor is not None and user_id and visitor.verified_user != user_id:
        visitor = None  # another signed-in user on this browser: their own chat
    if visitor is None:
        if wait := throttle.attempt(NEW_VISITORS, request.remote_addr or "?"):
            return error(gettext("Too many new chats from your network: try again in %(wait)s.",
                                 wait=throttle.wait_text(wait)), 429)
        try:
            visitor = visitors.start(name=_str(data, "name"), email=_str(data, "email"), origin=request_origin(),
                                     user_id=user_id, user_hash=user_hash)
        except ServiceError as exc:
            return error(str(exc), 400, exc.field)
    else:
        visitors.seen(visitor)
    return jsonify(_state(visitor, visitors.make_token(visitor)))


@bp.route("/api/details", methods=["POST", "OPTIONS"])
def details():
    visitor = _visitor()
    if visitor is None:
        return error(gettext("Your chat has expired: reload the page."), 401)
    data = _body()
    try:
        visitors.update_details(visitor, name=_str(data, "name"), email=_str(data, "email"))
    except ServiceError as exc:
        return error(str(exc), 400, exc.field)
    return jsonify(ok=True, name=visitor.name or "", email=visitor.email or "")


@bp.route("/api/messages", methods=["GET", "POST", "OPTIONS"])
def messages():
    visitor = _visitor()
    if visitor is None:
        return error(gettext("Your chat has expired: reload the page."), 401)
    after = request.args.get("after", "0")
    after_id = int(after) if after.isdigit() and len(after) < 12 else 0
    if request.method == "POST":
        data = _body()
        body = _str(data, "body", 100_000) or ""
        if data.get("human") is not True and visitors.current_ticket(visitor) is None:
            # The answer bot: before the first message opens a chat, articles that answer it well.
            if wait := throttle.attempt(SUGGEST_LIMIT, str(visitor.id)):
                return error(gettext("Too many messages: try again in %(wait)s.", wait=throttle.wait_text(wait)), 429)
            answers = bot.offer(body, bot.clean_language(data.get("language")))
            if answers:
                return jsonify(messages=[], status=None, answers=answers)
        if not config.is_open(utcnow()) and not visitor.email:
            return error(gettext("We're away: leave your email address so we can answer."), 400, "email")
        if config.setting("prechat") == "required" and not (visitor.name and visitor.email):
            return error(gettext("Please tell us your name and email address first."), 400,
                         "name" if not visitor.name else "email")
        try:
            visitors.write(visitor, body, team=_str(data, "team", 100))
        except (ServiceError, PermissionDenied) as exc:
            return error(str(exc), 429 if isinstance(exc, visitors.TooFast) else 400, getattr(exc, "field", None))
    else:
        visitors.seen(visitor)
    ticket = visitors.current_ticket(visitor)
    return jsonify(messages=visitors.public_messages(ticket, after_id) if ticket else [],
                   status=ticket.status if ticket else None)


@bp.route("/api/suggest", methods=["GET", "OPTIONS"])
def suggest():
    """Help-centre articles matching what the visitor is typing (before the first message)."""
    visitor = _visitor()
    if visitor is None:
        return error(gettext("Your chat has expired: reload the page."), 401)
    if wait := throttle.attempt(SUGGEST_LIMIT, str(visitor.id)):
        return error(gettext("Too many searches: try again in %(wait)s.", wait=throttle.wait_text(wait)), 429)
    text = (request.args.get("q") or "")[:2000]
    return jsonify(answers=bot.suggestions(text, bot.clean_language(request.args.get("language"))))


@bp.route("/api/solved", methods=["POST", "OPTIONS"])
def solved():
    """"This solved it": counted once per attempt; no chat is opened."""
    visitor = _visitor()
    if visitor is None:
        return error(gettext("Your chat has expired: reload the page."), 401)
    data = _body()
    if not isinstance(data.get("article_id"), int) or not isinstance(data.get("attempt"), str):
        return error(gettext("Choose one of the suggested articles."), 400, "article_id")
    counted = bot.solved(visitor.id, data["article_id"], data["attempt"], _str(data, "text", 500) or "")
    return jsonify(ok=True, counted=counted)


@bp.route("/api/upload", methods=["POST", "OPTIONS"])
def upload():
    visitor = _visitor()
    if visitor is None:
        return error(gettext("Your chat has expired: reload the page."), 401)
    file = request.files.get("file")
    if file is None or not file.filename:
        return error(gettext("Choose a file."), 400, "file")
    limit = int(current_app.config["MAX_ATTACHMENT_BYTES"])
    content = file.read(limit + 1)
    if len(content) > limit:
        return error(gettext("%(name)s is too large (at most %(limit)s).", name=safe_filename(file.filename),
                             limit=human_size(limit)), 413, "file")
    attachment = NewAttachment(safe_filename(file.filename), content,
                               file.mimetype or "application/octet-stream")
    try:
        visitors.write(visitor, "", attachments=[attachment])
    except (ServiceError, PermissionDenied) as exc:
        return error(str(exc), 400, "file")
    ticket = visitors.current_ticket(visitor)
    return jsonify(messages=visitors.public_messages(ticket) if ticket else [])


@bp.route("/api/typing", methods=["POST", "OPTIONS"])
def typing():
    """The visitor is typing (or stopped): shown to agents on the ticket page like a colleague's."""
    visitor = _visitor()
    ticket = visitors.current_ticket(visitor) if visitor is not None else None
    if ticket is None:
        return error(gettext("No conversation yet."), 404)
    state = "typing" if _body().get("typing") else "viewing"
    customer = visitors.customer_of(visitor)
    if live.set_presence(ticket.id, customer.id, state):
        here = live.presence(ticket.id)
        people = db_session().scalars(select(User).where(User.id.in_(here))) if here else []
        live.publish(f"ticket:{ticket.id}", {"type": "presence", "ticket_id": ticket.id, "present": [
            {"user_id": u.id, "name": u.name, "state": here[u.id]} for u in people if u.is_active]})
    return jsonify(ok=True)


@bp.route("/api/rate", methods=["POST", "OPTIONS"])
def rate():
    """The one-click rating after the chat: one per chat, handed on as CSAT feedback."""
    visitor = _visitor()
    ticket = visitors.current_ticket(visitor) if visitor is not None else None
    if ticket is None:
        return error(gettext("No conversation to rate."), 404)
    score = _body().get("score")
    if not isinstance(score, int) or not 1 <= score <= 5:
        return error(gettext("Choose a score from 1 to 5."), 400, "score")
    if db_session().scalar(select(ChatRating.id).where(ChatRating.ticket_id == ticket.id)) is not None:
        return error(gettext("Thanks, this chat was already rated."), 409)
    db_session().add(ChatRating(ticket_id=ticket.id, score=score))
    db_session().commit()
    customer = db_session().get(User, ticket.customer_id)
    services.record_feedback(customer, "csat", score=score, ticket=ticket, source="chat",
                             reference=f"chat:{ticket.id}")
    return jsonify(ok=True)


def _frame(payload: dict, event_id: str | None = None) -> str:
    head = f"id: {event_id}\n" if event_id else ""
    return f"{head}data: {json.dumps(payload, separators=(',', ':'))}\n\n"


@bp.route("/api/stream", methods=["GET", "OPTIONS"])
def stream():
    """Server-sent events for the visitor's conversation: agents' replies, their typing, the end."""
    visitor = _visitor()
    ticket = visitors.current_ticket(visitor) if visitor is not None else None
    if ticket is None:
        return Response(status=204)  # nothing to follow yet; EventSource stops on 204
    visitor_id, ticket_id, customer_id = visitor.id, ticket.id, ticket.customer_id
    last_id = (request.headers.get("Last-Event-ID") or "")[:40] or None
    app = current_app._get_current_object()
    lifetime = float(app.config["LIVE_STREAM_SECONDS"])
    subscription = live.subscribe([f"ticket:{ticket_id}"], last_id)

    def translate(event: live.LiveEvent) -> dict | None:
        data = event.event
        if data.get("type") == "message" and not data.get("internal"):
            message = db_session().get(Message, data.get("message_id"))
            if message is None or message.internal or message.needs_review or message.ticket_id != ticket_id:
                return None
            return {"type": "message", "message": visitors.as_json(message, message.ticket)}
        if data.get("type") == "presence":
            typing = any(p.get("state") == "typing" and p.get("user_id") != customer_id
                         for p in data.get("present") or [])
            return {"type": "typing", "on": typing}
        if data.get("type") == "changed" and "status" in (data.get("changes") or {}):
            return {"type": "status", "status": data["changes"]["status"]}
        return None

    def generate() -> Iterator[str]:
        yield "retry: 2000\n: connected\n\n"
        deadline = time.monotonic() + lifetime
        with app.app_context():
            while (left := deadline - time.monotonic()) > 0:
                try:
                    events = subscription.wait(min(HEARTBEAT, left))
                    frames = []
                    for event in events:
                        payload = translate(event)
                        if payload is not None:
                            frames.append(_frame(payload, event.id))
                    visitor = db_session().get(ChatVisitor, visitor_id)
                    if visitor is None or db_session().get(Ticket, ticket_id) is None:
                        return
                    visitors.seen(visitor)
                except Exception:  # noqa: BLE001 - backend gone: end; the browser reconnects
                    current_app.logger.warning("chat stream ended", exc_info=True)
                    return
                finally:
                    db_session().remove()
                yield "".join(frames) if frames else ": keep-alive\n\n"

    response = Response(generate(), mimetype="text/event-stream")
    response.headers["X-Accel-Buffering"] = "no"
    return response
