"""Absolute links for mail, built from EXTERNAL_URL (never from the request's Host header).

Below the web layer (it needs only Flask's URL map), so services and jobs can put a link to a
page in a mail without importing ``helpdesk.web``.
"""
from __future__ import annotations

from typing import Any

from flask import current_app, url_for


def external_url(endpoint: str, **values: Any) -> str:
    base = current_app.config["EXTERNAL_URL"].rstrip("/")
    with current_app.test_request_context(base_url=base):
        return url_for(endpoint, _external=True, **values)
