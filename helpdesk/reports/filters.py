"""The reports page's filters: query-string text → ``ReportFilters``, with a message for
each value that is wrong (the page keeps what was typed and shows the message)."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

from helpdesk.contract import ReportFilters
from helpdesk.i18n import gettext
from helpdesk.models.tickets import PRIORITIES
from helpdesk.numbers import parse_id
from helpdesk.reports.metrics import local_day_bounds
from helpdesk.timezones import user_zone

DEFAULT_DAYS = 30
MAX_DAYS = 731
INTERVALS = ("day", "week")


def parse_filters(args: Mapping[str, str], user: Any,
                  today: date | None = None) -> tuple[ReportFilters, dict[str, str]]:
    """The filters from ``args`` (``start``, ``end``, ``interval``, ``team``, ``agent``,
    ``channel``, ``tag``, ``priority``, ``organisation``); a wrong value is left out and explained in the
    returned errors (field → message). Days are the reader's (``timezones.user_zone``)."""
    zone = user_zone(user)
    today = today or datetime.now(zone).date()
    errors: dict[str, str] = {}
    end = _date(args.get("end"), "end", errors) or today
    start = _date(args.get("start"), "start", errors) or end - timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        errors["start"] = gettext("The first day (%(start)s) is after the last day (%(end)s).",
                                  start=start.isoformat(), end=end.isoformat())
        start = end - timedelta(days=DEFAULT_DAYS - 1)
    if (end - start).days >= MAX_DAYS:
        errors["start"] = gettext("A report covers at most %(num)s days; choose a later first day.", num=MAX_DAYS)
        start = end - timedelta(days=MAX_DAYS - 1)
    interval = (args.get("interval") or "day").strip()
    if interval not in INTERVALS:
        errors["interval"] = gettext("Choose per day or per week.")
        interval = "day"
    team_id = _id(args.get("team"), "team", gettext("Choose a team from the list."), errors)
    agent_id = _id(args.get("agent"), "agent", gettext("Choose an agent from the list."), errors)
    priority = (args.get("priority") or "").strip() or None
    if priority is not None and priority not in PRIORITIES:
        errors["priority"] = gettext("“%(priority)s” is not a priority (use %(choices)s).",
                                     priority=priority, choices=", ".join(PRIORITIES))
        priority = None
    channel = (args.get("channel") or "").strip()[:40] or None
    tag = (args.get("tag") or "").strip().lower()[:60] or None
    organisation_id = _id(args.get("organisation"), "organisation", gettext("Choose an organisation from the list."),
                          errors)
    since, until = local_day_bounds(start, end, zone)
    return ReportFilters(start=start, end=end, since=since, until=until, timezone=zone.key, interval=interval,
                         team_id=team_id, agent_id=agent_id, channel=channel, tag=tag, priority=priority,
                         organisation_id=organisation_id), errors


def _date(text: str | None, field: str, errors: dict[str, str]) -> date | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        errors[field] = gettext("“%(text)s” is not a date (use YYYY-MM-DD, e.g. 2026-12-04).", text=text[:40])
        return None


def _id(text: str | None, field: str, message: str, errors: dict[str, str]) -> int | None:
    text = (text or "").strip()
    if not text:
        return None
    ident = parse_id(text)
    if ident is None:
        errors[field] = message
    return ident
