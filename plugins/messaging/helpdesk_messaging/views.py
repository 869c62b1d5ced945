"""Provider webhooks (``/messaging/webhooks/<provider>``), short links and the read page.

Webhooks are authenticated by each provider's signature, never by a session, so they are
exempt from the CSRF token. Wrong or missing signature: 401/403 and nothing is created;
a provider timestamp outside the replay window: 403; a payload we do not understand: 400,
logged; the same provider message id twice: one message.
"""
from __future__ import annotations

import logging
import time

from flask import Blueprint, Response, abort, current_app, jsonify, redirect, render_template, request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select

from helpdesk.plugin_api import Message, Ticket, csrf, db_session, external_url, lazy_gettext, notify_agents
from helpdesk_messaging import providers
from helpdesk_messaging.channels import READ_SALT
from helpdesk_messaging.config import setting
from helpdesk_messaging.inbound import take_in
from helpdesk_messaging.models import MessagingLink, MessagingReceived

bp = Blueprint("messaging", __name__, template_folder="templates")
csrf.exempt(bp)
log = logging.getLogger(__name__)
READ_DAYS = 30


def _window() -> int:
    return int(setting("replay_window_seconds") or 300)


def _take(items: list[providers.Inbound]) -> int:
    window = _window()
    for item in items:
        if item.sent_at is not None and abs(time.time() - item.sent_at) > window:
            raise providers.Refused(403, f"{item.provider} message {item.external_id} is outside the replay window")
    return sum(take_in(item) is not None for item in items)


def _handle(provider: str, read) -> Response | tuple:  # noqa: ANN001 - a callable returning Inbound items
    try:
        taken = _take(read())
    except providers.Refused as exc:
        log.warning("messaging: %s webhook refused (%s)", provider, exc)
        return jsonify(error="refused"), exc.status
    except providers.Unknown as exc:
        log.warning("messaging: %s webhook with an unknown payload: %s", provider, exc)
        return jsonify(error=f"unknown payload: {exc}"), 400
    return jsonify(ok=True, taken=taken)


@bp.post("/messaging/webhooks/sms")
def sms():
    answer = _handle("sms", lambda: providers.sms_inbound(request, external_url("messaging.sms")))
    if isinstance(answer, tuple):
        return answer
    return Response("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response></Response>", mimetype="text/xml")


@bp.post("/messaging/webhooks/voice")
def voice():
    """An incoming call opens (or adds to) the caller's phone ticket and alerts the agents at once."""
    taken: list = []

    def read() -> list[providers.Inbound]:
        items = providers.voice_inbound(request, external_url("messaging.voice"))
        taken.extend(items)
        return items

    answer = _handle("voice", read)
    if isinstance(answer, tuple):
        return answer
    if answer.json and answer.json.get("taken"):
        _alert_agents(taken[0])
    return Response("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response></Response>", mimetype="text/xml")


def _alert_agents(item: providers.Inbound) -> None:
    from helpdesk_messaging.contacts import agents_to_alert

    received = db_session().scalar(select(MessagingReceived).where(
        MessagingReceived.provider == item.provider, MessagingReceived.external_id == item.external_id))
    ticket = db_session().get(Ticket, received.ticket_id) if received and received.ticket_id else None
    if ticket is not None:  # a lazy text: each agent's notification is written in their language
        notify_agents("messaging.incoming_call", agents_to_alert(), ticket=ticket,
                      text=lazy_gettext("Incoming call from %(caller)s: %(reference)s", caller=item.name,
                                        reference=ticket.reference))


@bp.post("/messaging/webhooks/telegram")
def telegram():
    return _handle("telegram", lambda: providers.telegram_inbound(request))


@bp.get("/messaging/webhooks/whatsapp")
def whatsapp_handshake():
    """The provider's subscription check: echo ``hub.challenge`` when the verify token matches."""
    expected = setting("whatsapp_verify_token") or ""
    if not expected or request.args.get("hub.mode") != "subscribe" \
            or request.args.get("hub.verify_token") != expected:
        abort(403)
    return Response(request.args.get("hub.challenge", "")[:200], mimetype="text/plain")


@bp.post("/messaging/webhooks/whatsapp")
def whatsapp():
    return _handle("whatsapp", lambda: providers.whatsapp_inbound(request))


@bp.post("/messaging/webhooks/slack")
def slack():
    try:
        providers.slack_verify(request, _window())
    except providers.Refused as exc:
        log.warning("messaging: slack webhook refused (%s)", exc)
        return jsonify(error="refused"), exc.status
    data = request.get_json(silent=True)
    if isinstance(data, dict) and data.get("type") == "url_verification" and isinstance(data.get("challenge"), str):
        return jsonify(challenge=data["challenge"])
    return _handle("slack", lambda: providers.slack_inbound(data if isinstance(data, dict) else {}))


@bp.post("/messaging/webhooks/social")
def social():
    return _handle("social", lambda: providers.social_inbound(request))


@bp.get("/m/<link_code>")
def short(link_code: str):
    link = db_session().scalar(select(MessagingLink).where(MessagingLink.code == link_code[:16]))
    if link is None or not link.url.startswith(current_app.config.get("EXTERNAL_URL") or "http"):
        abort(404)
    return redirect(link.url)


@bp.get("/messaging/read/<read_token>")
def read(read_token: str):
    """The whole of a reply that was shortened for SMS or a social post (a signed, expiring link)."""
    try:
        message_id = URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=READ_SALT).loads(
            read_token, max_age=READ_DAYS * 86400)
    except BadSignature:
        abort(404)
    message = db_session().get(Message, message_id) if isinstance(message_id, int) else None
    if message is None or message.internal:
        abort(404)
    return render_template("messaging/read.html", message=message, ticket=message.ticket)
