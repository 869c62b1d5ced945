"""Template filters, and ``external_url`` (from ``helpdesk.links``) for the web layer."""
from __future__ import annotations

from flask import Flask
from markupsafe import Markup, escape

from helpdesk.links import external_url

__all__ = ["external_url", "register_filters"]


def _paragraphs(text: str) -> Markup:
    """Plain text → escaped HTML with line breaks kept."""
    return Markup("<br>").join(escape(line) for line in (text or "").split("\n"))


def register_filters(app: Flask) -> None:
    app.jinja_env.filters["paragraphs"] = _paragraphs
