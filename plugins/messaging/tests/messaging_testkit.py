"""Helpers: a loopback HTTP server playing every provider's API, and webhook senders signing like each provider."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

EXTERNAL = "https://support.example.test"
SECRETS = {
    "TWILIO_ACCOUNT_SID": "AC123", "TWILIO_AUTH_TOKEN": "twilio-token", "TWILIO_FROM": "+15550001111",
    "TELEGRAM_BOT_TOKEN": "123:bot", "TELEGRAM_SECRET_TOKEN": "tg-secret",
    "WHATSAPP_APP_SECRET": "wa-secret", "WHATSAPP_VERIFY_TOKEN": "wa-verify", "WHATSAPP_ACCESS_TOKEN": "wa-access",
    "WHATSAPP_PHONE_NUMBER_ID": "10001",
    "SLACK_SIGNING_SECRET": "slack-secret", "SLACK_BOT_TOKEN": "xoxb-1",
    "SOCIAL_WEBHOOK_SECRET": "social-secret", "SOCIAL_ACCESS_TOKEN": "social-access",
}


class Provider:
    """Records each request (method, path, headers, body); answers ``statuses`` in turn, then 200."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.statuses: list[int] = []
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                provider.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                status = provider.statuses.pop(0) if provider.statuses else 200
                answer = json.dumps({"ok": status == 200, "sid": "SM1", "id": "1"}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def json(self, n: int = -1) -> dict:
        return json.loads(self.requests[n]["body"])


def twilio_post(client, params: dict, *, token: str = "twilio-token", signature: str | None = None):
    url = f"{EXTERNAL}/messaging/webhooks/sms"
    payload = url + "".join(k + params[k] for k in sorted(params))
    good = base64.b64encode(hmac.new(token.encode(), payload.encode(), hashlib.sha1).digest()).decode()
    headers = {} if signature == "" else {"X-Twilio-Signature": signature or good}
    return client.post("/messaging/webhooks/sms", data=params, headers=headers, csrf=False)


def sms(sid: str, sender: str, body: str) -> dict:
    return {"MessageSid": sid, "From": sender, "To": "+15550001111", "Body": body, "AccountSid": "AC123"}


def hub_post(client, path: str, payload: dict, secret: str, *, signature: str | None = None):
    body = json.dumps(payload).encode()
    good = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    headers = {"Content-Type": "application/json"}
    if signature != "":
        headers["X-Hub-Signature-256"] = signature or good
    return client.post(path, data=body, headers=headers, csrf=False)


def whatsapp_payload(message_id: str, sender: str, text: str, *, when: float | None = None) -> dict:
    return {"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp", "contacts": [{"wa_id": sender, "profile": {"name": "Wanda"}}],
        "messages": [{"from": sender, "id": message_id, "timestamp": str(int(when or time.time())),
                      "type": "text", "text": {"body": text}}]}}]}]}


def telegram_post(client, payload: dict, secret: str | None = "tg-secret"):
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    return client.post("/messaging/webhooks/telegram", data=json.dumps(payload), headers=headers, csrf=False)


def telegram_update(update_id: int, user_id: int, text: str, *, when: float | None = None) -> dict:
    return {"update_id": update_id, "message": {"message_id": update_id, "date": int(when or time.time()),
            "from": {"id": user_id, "first_name": "Tom", "last_name": "Grey"},
            "chat": {"id": user_id, "type": "private"}, "text": text}}


def slack_post(client, payload: dict, *, secret: str = "slack-secret", stamp: int | None = None,
               signature: str | None = None):
    body = json.dumps(payload).encode()
    stamp_text = str(stamp if stamp is not None else int(time.time()))
    good = "v0=" + hmac.new(secret.encode(), b"v0:" + stamp_text.encode() + b":" + body, hashlib.sha256).hexdigest()
    headers = {"Content-Type": "application/json", "X-Slack-Request-Timestamp": stamp_text}
    if signature != "":
        headers["X-Slack-Signature"] = signature or good
    return client.post("/messaging/webhooks/slack", data=body, headers=headers, csrf=False)


def slack_event(event_id: str, user: str, text: str) -> dict:
    return {"type": "event_callback", "team_id": "T1", "event_id": event_id,
            "event": {"type": "message", "user": user, "text": text, "channel": "D42", "ts": "1.2"}}
