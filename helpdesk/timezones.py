"""Times as people read them: stored times are naive UTC, shown in the reader's time zone
(their own, else the site's). The web layer's ``localtime`` filter and mail use this."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from helpdesk.services.settings import site_timezone

DEFAULT_FORMAT = "%Y-%m-%d %H:%M"


def user_zone(user: Any) -> ZoneInfo:
    """The user's own time zone, else the helpdesk's (also for anonymous visitors)."""
    name = getattr(user, "timezone", None) if user is not None else None
    try:
        return ZoneInfo(name) if name else site_timezone()
    except (ValueError, KeyError):
        return site_timezone()


def to_local(moment: datetime, user: Any) -> datetime:
    """A stored naive-UTC time as an aware time in the user's zone."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(user_zone(user))


def format_local(moment: datetime | None, user: Any, fmt: str = DEFAULT_FORMAT) -> str:
    """``moment`` formatted with ``fmt`` in the user's zone; "" for no time."""
    if moment is None:
        return ""
    return to_local(moment, user).strftime(fmt)
