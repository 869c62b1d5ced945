"""Absolute links for mail, built from EXTERNAL_URL (never from the request's Host header)."""
from __future__ import annotations

from flask import Flask, current_app, url_for
from markupsafe import Markup, escape


def external_url(endpoint: str, **values) -> str:
    base = current_app.config["EXTERNAL_URL"].rstrip("/")
    with current_app.test_request_context(base_url=base):
        return url_for(endpoint, _external=True, **values)


def _paragraphs(text: str) -> Markup:
    """Plain text → escaped HTML with line breaks kept."""
    return Markup("<br>").join(escape(line) for line in (text or "").split("\n"))


def register_filters(app: Flask) -> None:
    app.jinja_env.filters["paragraphs"] = _paragraphs
