"""Times as people read them: stored times are naive UTC, shown in the reader's time zone
(their own, else the site's). The web layer's ``localtime`` filter and mail use this."""
from __future__ import annotations

import re
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


WITH_ZONE = "%Y-%m-%d %H:%M %Z"


def mail_time(moment: datetime | None, recipient: Any, fmt: str = WITH_ZONE) -> str:
    """A time for a mail to ``recipient`` (a customer or an agent): in *their* zone (their own,
    else the site's), with the zone's abbreviation by default ("2030-01-15 13:00 CET").

    Mail is composed in a worker or in someone else's request, so never use the page's
    ``localtime`` filter (the signed-in reader's zone) for a mail; pass the recipient here.
    """
    return format_local(moment, recipient, fmt)


def local_day_start(moment: datetime, user: Any) -> datetime:
    """Midnight of the day ``moment`` (naive UTC) falls on in the user's zone, as a naive
    local time: charts that count per day use it so a far-away reader sees their own days."""
    return to_local(moment, user).replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)


def local_to_utc(local: datetime, user: Any) -> datetime:
    """A naive local time of the user's zone back as naive UTC (for querying stored times)."""
    return local.replace(tzinfo=user_zone(user)).astimezone(UTC).replace(tzinfo=None)


_UTC_TEXT = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d) UTC$")


def localise_utc_text(value: Any, user: Any) -> Any:
    """A stored text that is a time written as "2030-01-15 12:00 UTC" (as the audit trail keeps
    an SLA target's due time) in the user's zone: "2030-01-15 21:00 JST"; anything else as is."""
    match = _UTC_TEXT.match(value) if isinstance(value, str) else None
    if match is None:
        return value
    return format_local(datetime.strptime(match.group(1), "%Y-%m-%d %H:%M"), user, WITH_ZONE)
