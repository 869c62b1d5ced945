"""Each provider: how its webhooks are verified and read, and how a reply is sent to its API.

Verification compares in constant time. A provider with no secret configured refuses every
webhook (403): an unconfigured channel must not be an open door.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from flask import Request

from helpdesk_messaging.config import setting

log = logging.getLogger(__name__)
TIMEOUT = 10


class Refused(Exception):
    """A webhook we do not accept: ``status`` 401 (no credentials) or 403 (wrong or stale)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


class Unknown(Exception):
    """A payload shape we do not understand (answered 400, logged)."""


class SendFailed(Exception):
    """The provider did not take the reply; the delivery job tries again later."""


@dataclass
class Inbound:
    """One customer message from a provider."""

    provider: str
    channel: str  # the ticket channel: sms, whatsapp, telegram, slack, social
    external_id: str
    identity: tuple[str, str]  # contact identity (kind, value) of the sender
    name: str
    text: str
    sent_at: float | None = None  # the provider's timestamp (epoch seconds), if it gives one
    reply: dict[str, Any] = field(default_factory=dict)  # where and how to answer


def _secret(name: str) -> str:
    value = setting(name) or ""
    if not value:
        raise Refused(403, f"{name} is not configured")
    return value


def _hex_hmac(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _check_hub_signature(request: Request, secret_name: str) -> None:
    header = request.headers.get("X-Hub-Signature-256", "")
    secret = _secret(secret_name)
    if not header:
        raise Refused(401, "no X-Hub-Signature-256")
    expected = "sha256=" + _hex_hmac(secret, request.get_data())
    if not hmac.compare_digest(expected, header.strip()):
        raise Refused(403, "X-Hub-Signature-256 does not match")


def _json(request: Request) -> dict:
    try:
        data = json.loads(request.get_data() or b"null")
    except ValueError as exc:
        raise Unknown("not JSON") from exc
    if not isinstance(data, dict):
        raise Unknown("not a JSON object")
    return data


# ------------------------------------------------------------------ SMS (Twilio-style)


def twilio_signature(token: str, url: str, params: dict[str, str]) -> str:
    """base64(HMAC-SHA1(auth token, URL + each POST parameter's name and value, sorted by name))."""
    payload = url + "".join(k + params[k] for k in sorted(params))
    return base64.b64encode(hmac.new(token.encode(), payload.encode(), hashlib.sha1).digest()).decode()


def sms_inbound(request: Request, url: str) -> list[Inbound]:
    token = _secret("twilio_auth_token")
    given = request.headers.get("X-Twilio-Signature", "")
    if not given:
        raise Refused(401, "no X-Twilio-Signature")
    params = {k: request.form[k] for k in request.form}
    if not hmac.compare_digest(twilio_signature(token, url, params), given):
        raise Refused(403, "X-Twilio-Signature does not match")
    sid, sender, body = params.get("MessageSid"), params.get("From"), params.get("Body")
    if not sid or not sender or body is None:
        raise Unknown("not an incoming message (MessageSid, From, Body)")
    number = "".join(c for c in sender if c.isdigit() or c == "+")
    return [Inbound("twilio", "sms", sid, ("phone", number), number, body, reply={"to": number})]


def voice_inbound(request: Request, url: str) -> list[Inbound]:
    """An incoming call (Twilio-style voice webhook, signed like SMS): one ticket message per call."""
    token = _secret("twilio_auth_token")
    given = request.headers.get("X-Twilio-Signature", "")
    if not given:
        raise Refused(401, "no X-Twilio-Signature")
    params = {k: request.form[k] for k in request.form}
    if not hmac.compare_digest(twilio_signature(token, url, params), given):
        raise Refused(403, "X-Twilio-Signature does not match")
    sid, sender = params.get("CallSid"), params.get("From")
    if not sid or not sender:
        raise Unknown("not an incoming call (CallSid, From)")
    number = "".join(c for c in sender if c.isdigit() or c == "+")
    return [Inbound("twilio-voice", "phone", sid, ("phone", number), number, f"Incoming call from {number}",
                    reply={"to": number})]


def sms_send(to: str, text: str, key: str) -> None:
    sid, token = setting("twilio_account_sid") or "", setting("twilio_auth_token") or ""
    url = f"{setting('twilio_base_url').rstrip('/')}/2010-04-01/Accounts/{sid}/Messages.json"
    auth = base64.b64encode(f"{sid}:{token}".encode()).decode()
    _post(url, form={"To": to, "From": setting("twilio_from") or "", "Body": text},
          headers={"Authorization": f"Basic {auth}", "Idempotency-Key": key})


# ------------------------------------------------------------------ Telegram-style bots


def telegram_inbound(request: Request) -> list[Inbound]:
    secret = _secret("telegram_secret_token")
    given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
    if not given:
        raise Refused(401, "no X-Telegram-Bot-Api-Secret-Token")
    if not hmac.compare_digest(secret, given):
        raise Refused(403, "X-Telegram-Bot-Api-Secret-Token does not match")
    data = _json(request)
    message = data.get("message")
    if not isinstance(message, dict) or not isinstance(message.get("text"), str) \
            or not isinstance(message.get("chat"), dict) or "update_id" not in data:
        raise Unknown("not a text message update")
    sender = message.get("from") or {}
    chat_id = message["chat"].get("id")
    name = " ".join(str(sender.get(k) or "") for k in ("first_name", "last_name")).strip() or "Telegram user"
    return [Inbound("telegram", "telegram", str(data["update_id"]), ("telegram", str(sender.get("id") or chat_id)),
                    name, message["text"], sent_at=_number(message.get("date")), reply={"chat_id": chat_id})]


def telegram_send(chat_id: Any, text: str, key: str) -> None:
    token = setting("telegram_bot_token") or ""
    _post(f"{setting('telegram_base_url').rstrip('/')}/bot{token}/sendMessage",
          body={"chat_id": chat_id, "text": text})


# ------------------------------------------------------------------ WhatsApp Cloud-style


def whatsapp_inbound(request: Request) -> list[Inbound]:
    _check_hub_signature(request, "whatsapp_app_secret")
    data = _json(request)
    if data.get("object") != "whatsapp_business_account" or not isinstance(data.get("entry"), list):
        raise Unknown("not a WhatsApp business account notification")
    found: list[Inbound] = []
    receipts = False
    for entry in data["entry"]:
        for change in (entry or {}).get("changes") or []:
            value = (change or {}).get("value") or {}
            names = {c.get("wa_id"): (c.get("profile") or {}).get("name") for c in value.get("contacts") or []}
            receipts = receipts or bool(value.get("statuses"))  # receipts of our own messages: nothing to take in
            for message in value.get("messages") or []:
                if message.get("type") != "text" or not message.get("id") or not message.get("from"):
                    raise Unknown(f"WhatsApp message of type {message.get('type')!r}")
                number = "+" + "".join(c for c in str(message["from"]) if c.isdigit())
                text = str((message.get("text") or {}).get("body") or "")
                found.append(Inbound("whatsapp", "whatsapp", message["id"], ("phone", number),
                                     names.get(message["from"]) or number, text,
                                     sent_at=_number(message.get("timestamp")), reply={"to": number.lstrip("+")}))
    if not found and not receipts:
        raise Unknown("no messages in the notification")
    return found


def whatsapp_send(to: str, text: str, key: str) -> None:
    url = f"{setting('whatsapp_base_url').rstrip('/')}/{setting('whatsapp_phone_number_id')}/messages"
    _post(url, body={"messaging_product": "whatsapp", "to": to, "type": "text", "text": {"body": text}},
          headers={"Authorization": f"Bearer {setting('whatsapp_access_token') or ''}"})


# ------------------------------------------------------------------ Slack-style events


def slack_signature(secret: str, timestamp: str, body: bytes) -> str:
    return "v0=" + _hex_hmac(secret, b"v0:" + timestamp.encode() + b":" + body)


def slack_verify(request: Request, window: int) -> None:
    secret = _secret("slack_signing_secret")
    stamp, given = request.headers.get("X-Slack-Request-Timestamp", ""), request.headers.get("X-Slack-Signature", "")
    if not stamp or not given:
        raise Refused(401, "no X-Slack-Signature or X-Slack-Request-Timestamp")
    if not stamp.isdigit() or abs(time.time() - int(stamp)) > window:
        raise Refused(403, "X-Slack-Request-Timestamp outside the replay window")
    if not hmac.compare_digest(slack_signature(secret, stamp, request.get_data()), given):
        raise Refused(403, "X-Slack-Signature does not match")


def slack_inbound(data: dict) -> list[Inbound]:
    event = data.get("event")
    if data.get("type") != "event_callback" or not isinstance(event, dict) or not data.get("event_id"):
        raise Unknown(f"Slack payload of type {data.get('type')!r}")
    if event.get("type") != "message":
        raise Unknown(f"Slack event of type {event.get('type')!r}")
    if event.get("bot_id") or event.get("subtype"):
        return []  # our own replies and edits come back as events: nothing to take in
    user, channel = event.get("user"), event.get("channel")
    if not user or not channel or not isinstance(event.get("text"), str):
        raise Unknown("Slack message without user, channel or text")
    return [Inbound("slack", "slack", str(data["event_id"]), ("slack", f"{data.get('team_id', '')}:{user}"),
                    f"Slack user {user}", event["text"], reply={"channel": channel})]


def slack_send(channel: str, text: str, key: str) -> None:
    answer = _post(f"{setting('slack_base_url').rstrip('/')}/chat.postMessage", body={"channel": channel, "text": text},
                   headers={"Authorization": f"Bearer {setting('slack_bot_token') or ''}"})
    if isinstance(answer, dict) and answer.get("ok") is False:
        raise SendFailed(f"Slack answered {answer.get('error')}")


# ------------------------------------------------------------------ social (Mastodon-style)


def social_inbound(request: Request) -> list[Inbound]:
    _check_hub_signature(request, "social_webhook_secret")
    data = _json(request)
    status = data.get("object")
    if data.get("event") not in ("mention", "direct_message", "status.created") or not isinstance(status, dict):
        raise Unknown(f"social event {data.get('event')!r}")
    account = status.get("account") or {}
    if not status.get("id") or not account.get("acct"):
        raise Unknown("social status without id or account")
    visibility = "direct" if status.get("visibility") == "direct" or data.get("event") == "direct_message" else "public"
    text = _strip_html(str(status.get("content") or ""))
    return [Inbound("social", "social", str(status["id"]), ("social:mastodon", account["acct"]),
                    account.get("display_name") or account["acct"], text,
                    sent_at=_iso(status.get("created_at")),
                    reply={"acct": account["acct"], "in_reply_to_id": str(status["id"]), "visibility": visibility})]


def social_send(reply: dict, text: str, key: str, *, private: bool) -> None:
    visibility = "direct" if private or reply.get("visibility") == "direct" else "public"
    _post(f"{setting('social_base_url').rstrip('/')}/api/v1/statuses",
          body={"status": f"@{reply['acct']} {text}", "in_reply_to_id": reply.get("in_reply_to_id"),
                "visibility": visibility},
          headers={"Authorization": f"Bearer {setting('social_access_token') or ''}", "Idempotency-Key": key})


# ------------------------------------------------------------------ helpers


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _iso(value: Any) -> float | None:
    from datetime import datetime

    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _strip_html(html: str) -> str:
    import html as html_lib
    import re

    text = re.sub(r"<br\s*/?>|</p>", "\n", html, flags=re.IGNORECASE)
    return html_lib.unescape(re.sub(r"<[^>]+>", "", text)).strip()


def _post(url: str, *, body: dict | None = None, form: dict | None = None,
          headers: dict[str, str] | None = None) -> Any:
    if form is not None:
        data, kind = urllib.parse.urlencode(form).encode(), "application/x-www-form-urlencoded"
    else:
        data, kind = json.dumps(body).encode(), "application/json"
    request = urllib.request.Request(url, data=data, method="POST",
                                     headers={"Content-Type": kind, **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310 - URL from admin settings
            raw = response.read()
    except urllib.error.HTTPError as exc:
        raise SendFailed(f"{urllib.parse.urlsplit(url).netloc} answered {exc.code}: "
                         f"{exc.read()[:200].decode(errors='replace')}") from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise SendFailed(f"{urllib.parse.urlsplit(url).netloc} unreachable: {exc}") from exc
    try:
        return json.loads(raw or b"null")
    except ValueError:
        return None
