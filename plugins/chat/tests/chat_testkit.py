"""Helpers for the chat plugin's tests: the site, its secret, a client speaking like the widget."""
from __future__ import annotations

import hashlib
import hmac

SITE = "https://shop.example.test"
SECRET = "site-secret-for-tests"


def signed(user_id: str) -> str:
    return hmac.new(SECRET.encode(), user_id.encode(), hashlib.sha256).hexdigest()


class Widget:
    """What the widget script sends: JSON with the site's Origin and the visitor token."""

    def __init__(self, client, origin: str = SITE) -> None:
        self.client, self.origin, self.token = client, origin, None

    def headers(self) -> dict:
        headers = {"Origin": self.origin}
        if self.token:
            headers["X-Chat-Token"] = self.token
        return headers

    def get(self, path: str, **kwargs):
        return self.client.get(f"/chat/api/{path}", headers=self.headers(), **kwargs)

    def post(self, path: str, json=None, **kwargs):
        return self.client.post(f"/chat/api/{path}", json=json, headers=self.headers(), csrf=False, **kwargs)

    def start(self, **body):
        answer = self.post("session", json=body)
        assert answer.status_code == 200, answer.text
        self.token = answer.json["token"]
        return answer.json

    def say(self, body: str, **extra):
        return self.post("messages", json={"body": body, **extra})
