"""Template filters, and ``external_url`` (from ``helpdesk.links``) for the web layer."""
from __future__ import annotations

from datetime import datetime

from flask import Flask
from flask_login import current_user
from markupsafe import Markup, escape

from helpdesk.links import external_url
from helpdesk.timezones import DEFAULT_FORMAT, format_local, localise_utc_text

__all__ = ["external_url", "register_filters"]


def _paragraphs(text: str) -> Markup:
    """Plain text → escaped HTML with line breaks kept."""
    return Markup("<br>").join(escape(line) for line in (text or "").split("\n"))


def _localtime(moment: datetime | None, fmt: str = DEFAULT_FORMAT) -> str:
    """``{{ when|localtime }}`` / ``{{ when|localtime("%d %b %Y") }}``: in the reader's zone."""
    user = current_user if getattr(current_user, "is_authenticated", False) else None
    return format_local(moment, user, fmt)


def _utc_text(value: object) -> object:
    """``{{ text|utc_text }}``: a stored "2030-01-15 12:00 UTC" in the reader's zone; other values as is."""
    user = current_user if getattr(current_user, "is_authenticated", False) else None
    return localise_utc_text(value, user)


def register_filters(app: Flask) -> None:
    app.jinja_env.filters["paragraphs"] = _paragraphs
    app.jinja_env.filters["localtime"] = _localtime
    app.jinja_env.filters["utc_text"] = _utc_text
