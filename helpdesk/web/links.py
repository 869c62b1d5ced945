"""Template filters, and ``external_url`` (from ``helpdesk.links``) for the web layer."""
from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import Flask, g
from flask_login import current_user
from markupsafe import Markup, escape

from helpdesk.i18n import gettext, priority_name, status_name
from helpdesk.links import external_url
from helpdesk.models.base import utcnow
from helpdesk.timezones import DEFAULT_FORMAT, localise_utc_text, user_zone

__all__ = ["external_url", "register_filters"]


def _paragraphs(text: str) -> Markup:
    """Plain text → escaped HTML with line breaks kept."""
    return Markup("<br>").join(escape(line) for line in (text or "").split("\n"))


def _reader_zone() -> ZoneInfo:
    """The signed-in reader's zone (else the site's), worked out once per request."""
    zone = g.get("_helpdesk_reader_zone")
    if zone is None:
        user = current_user if getattr(current_user, "is_authenticated", False) else None
        zone = g._helpdesk_reader_zone = user_zone(user)
    return zone


def _localtime(moment: datetime | None, fmt: str = DEFAULT_FORMAT) -> str:
    """``{{ when|localtime }}`` / ``{{ when|localtime("%d %b %Y") }}``: in the reader's zone."""
    if moment is None:
        return ""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(_reader_zone()).strftime(fmt)


# The badges and times of _macros.html as plain functions: list pages call them once per row,
# and a Jinja macro call costs several times a function call. The macros call these too.
STATUS_CLASSES = {"new": "text-bg-primary", "open": "text-bg-info", "pending": "text-bg-warning",
                  "resolved": "text-bg-success", "closed": "text-bg-secondary"}
PRIORITY_CLASSES = {"urgent": "text-bg-danger", "high": "text-bg-warning", "normal": "bg-light text-dark border",
                    "low": "bg-light text-secondary border"}


def badge_status(status: str) -> Markup:
    text = escape(status)
    return Markup(f'<span class="badge badge-status {escape(STATUS_CLASSES.get(status, "text-bg-light border"))}" '
                  f'data-status="{text}">{escape(status_name(status))}</span>')


def badge_priority(priority: str) -> Markup:
    text = escape(priority)
    return Markup(f'<span class="badge badge-priority '
                  f'{escape(PRIORITY_CLASSES.get(priority, "bg-light text-dark border"))}" '
                  f'data-priority="{text}">{escape(priority_name(priority))}</span>')


def _ago(value: datetime | None) -> str:
    """``{{ when|ago }}``: "3h ago", "in 2d", "just now"."""
    if value is None:
        return ""
    seconds = int((utcnow() - value).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if abs(seconds) >= size:
            return _short(unit, seconds > 0, abs(seconds) // size)
    return gettext("just now")


def _short(unit: str, past: bool, count: int) -> str:
    """"3h ago" / "in 2d" in the reader's language (each text whole, for the translator)."""
    if past:
        return (gettext("%(count)sd ago", count=count) if unit == "d" else
                gettext("%(count)sh ago", count=count) if unit == "h" else gettext("%(count)sm ago", count=count))
    return (gettext("in %(count)sd", count=count) if unit == "d" else
            gettext("in %(count)sh", count=count) if unit == "h" else gettext("in %(count)sm", count=count))


def time_ago(moment: datetime | None) -> Markup:
    """``<time>`` with the UTC stamp, the local time as its title and "3h ago" as its text."""
    if not moment:
        return Markup("")
    return Markup(f'<time datetime="{escape(moment.isoformat())}Z" '
                  f'title="{escape(_localtime(moment, "%Y-%m-%d %H:%M %Z"))}">{escape(_ago(moment))}</time>')


def _utc_text(value: object) -> object:
    """``{{ text|utc_text }}``: a stored "2030-01-15 12:00 UTC" in the reader's zone; other values as is."""
    user = current_user if getattr(current_user, "is_authenticated", False) else None
    return localise_utc_text(value, user)


def register_filters(app: Flask) -> None:
    app.jinja_env.filters["paragraphs"] = _paragraphs
    app.jinja_env.filters["localtime"] = _localtime
    app.jinja_env.globals.update(badge_status=badge_status, badge_priority=badge_priority, time_ago=time_ago)
    app.jinja_env.filters["utc_text"] = _utc_text
