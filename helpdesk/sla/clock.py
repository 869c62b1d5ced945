"""Business-time arithmetic: pure functions, no database.

A calendar is a weekly schedule in a time zone minus holidays (``BusinessHours``), or
``None`` for around the clock. Times go in and come out as naive UTC, the way the app
stores them (``helpdesk.models.base.utcnow``); the schedule is read in local time with
``zoneinfo``, so a working day across a daylight-saving change is as long as the clock on
the wall says (09:00-17:00 is eight real hours on both sides of the change).

The functions walk day by day over the working intervals, never minute by minute, and
each day's intervals in UTC are cached per calendar, so a clock of several weeks costs a
few dozen steps.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask_babel import gettext

# A business clock that finds no working time in this many days gives up (a calendar whose
# every day is a holiday): the due time is then this far away, which reads as "never".
MAX_DAYS = 3660
HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$|^24:00$")


class HoursLike(Protocol):
    """What the clock reads from ``BusinessHours`` (tests may pass any such object)."""

    @property
    def timezone(self) -> str: ...
    @property
    def schedule(self) -> Mapping[str, Any]: ...
    @property
    def holidays(self) -> Iterable[str]: ...


@dataclass(frozen=True)
class Calendar:
    """A compiled, hashable calendar: the zone, per ISO weekday the intervals in minutes
    since local midnight, and the holiday dates."""

    timezone: str
    week: tuple[tuple[tuple[int, int], ...], ...]  # index 0 = Monday
    holidays: frozenset[date]

    @property
    def always_open(self) -> bool:
        # A schedule without a single working minute would never be due; it means
        # "not configured", and around the clock is the safe reading of that.
        return not any(self.week)


def parse_hhmm(text: str) -> int:
    """``"09:30"`` → 570 minutes since midnight; ``"24:00"`` (end of day) → 1440."""
    text = text.strip()
    if not HHMM.match(text):
        raise ValueError(f"“{text}” is not a time of day (use HH:MM, 00:00 to 24:00)")
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def parse_intervals(pairs: Iterable[Iterable[str]]) -> tuple[tuple[int, int], ...]:
    """``[["09:00", "12:00"], ["13:00", "17:00"]]`` → minutes, sorted; refuses empty,
    backwards and overlapping intervals with a message an admin understands."""
    out = []
    for pair in pairs:
        start_text, end_text = list(pair)
        start, end = parse_hhmm(start_text), parse_hhmm(end_text)
        if start == 24 * 60:
            raise ValueError("an interval cannot start at 24:00")
        if end <= start:
            raise ValueError(f"“{start_text}-{end_text}”: the end must be after the start "
                             "(split a night shift at midnight: 22:00-24:00 and 00:00-06:00 the next day)")
        out.append((start, end))
    out.sort()
    for (_s1, e1), (s2, _e2) in zip(out, out[1:], strict=False):
        if s2 < e1:
            raise ValueError("intervals overlap")
    return tuple(out)


def parse_date(text: str) -> date:
    return date.fromisoformat(text.strip())


def compile_calendar(hours: HoursLike | None) -> Calendar | None:
    """``BusinessHours`` → ``Calendar``; ``None`` stays ``None`` (around the clock).

    Raises ``ValueError`` for an unknown time zone or a malformed schedule: the admin
    form refuses those, so this only fires on hand-edited data.
    """
    if hours is None:
        return None
    try:
        ZoneInfo(hours.timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {hours.timezone!r}") from exc
    schedule = hours.schedule or {}
    week = tuple(parse_intervals(schedule.get(str(day), ()) or ()) for day in range(1, 8))
    holidays = frozenset(parse_date(d) for d in (hours.holidays or ()) if str(d).strip())
    return Calendar(timezone=hours.timezone or "UTC", week=week, holidays=holidays)


def _calendar(hours: HoursLike | Calendar | None) -> Calendar | None:
    if hours is None or isinstance(hours, Calendar):
        return hours
    calendar = compile_calendar(hours)
    return None if calendar is None or calendar.always_open else calendar


@lru_cache(maxsize=16384)
def _day_intervals(calendar: Calendar, day: date) -> tuple[tuple[datetime, datetime], ...]:
    """The working intervals of one local date, as aware UTC datetimes (cached: queue pages
    and the engine ask for the same few days over and over)."""
    if day in calendar.holidays:
        return ()
    intervals = calendar.week[day.isoweekday() - 1]
    if not intervals:
        return ()
    zone = ZoneInfo(calendar.timezone)
    midnight = datetime.combine(day, time(0), tzinfo=zone)
    out = []
    for start, end in intervals:
        # Build each end from the local wall clock (not midnight + minutes): across a DST
        # change the day has 23 or 25 hours and the wall clock is what the team works by.
        out.append((_local(day, start, zone, midnight), _local(day, end, zone, midnight)))
    return tuple(out)


def _local(day: date, minutes: int, zone: ZoneInfo, midnight: datetime) -> datetime:
    if minutes >= 24 * 60:
        moment = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    else:
        moment = midnight.replace(hour=minutes // 60, minute=minutes % 60)
    return moment.astimezone(UTC)


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _naive(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


def add_business_minutes(start_utc: datetime, minutes: float, hours: HoursLike | Calendar | None) -> datetime:
    """The moment ``minutes`` of business time after ``start_utc`` (naive UTC in and out).

    ``hours=None`` (or a schedule with no working time) is around the clock. A start
    outside working hours counts from the next opening; a result that lands exactly on a
    closing time stays there rather than moving to the next morning.
    """
    calendar = _calendar(hours)
    if minutes <= 0:
        return start_utc
    if calendar is None:
        return start_utc + timedelta(minutes=minutes)
    remaining = timedelta(minutes=minutes)
    start = _aware(start_utc)
    day = start.astimezone(ZoneInfo(calendar.timezone)).date()
    for offset in range(MAX_DAYS):
        for open_at, close_at in _day_intervals(calendar, day + timedelta(days=offset)):
            if close_at <= start:
                continue
            begin = max(open_at, start)
            available = close_at - begin
            if remaining <= available:
                return _naive(begin + remaining)
            remaining -= available
    return _naive(start + timedelta(days=MAX_DAYS))


def business_minutes_between(a: datetime, b: datetime, hours: HoursLike | Calendar | None) -> float:
    """Business minutes from ``a`` to ``b`` (naive UTC); 0 when ``b`` is not after ``a``."""
    if b <= a:
        return 0.0
    calendar = _calendar(hours)
    if calendar is None:
        return (b - a).total_seconds() / 60
    start, end = _aware(a), _aware(b)
    zone = ZoneInfo(calendar.timezone)
    first, last = start.astimezone(zone).date(), end.astimezone(zone).date()
    total = timedelta(0)
    day = first
    while day <= last:
        for open_at, close_at in _day_intervals(calendar, day):
            begin, finish = max(open_at, start), min(close_at, end)
            if finish > begin:
                total += finish - begin
        day += timedelta(days=1)
    return total.total_seconds() / 60


def format_duration(delta: timedelta) -> str:
    """A short human duration: ``2d 4h``, ``2h 10m``, ``35m``, ``<1m`` (units in the reader's
    language: each shape is one message, so a translator can reorder or respell the units)."""
    minutes = int(abs(delta).total_seconds() // 60)
    if minutes < 1:
        return gettext("<1m")
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return gettext("%(days)sd %(hours)sh", days=days, hours=hours) if hours else gettext("%(days)sd", days=days)
    if hours:
        return gettext("%(hours)sh %(mins)sm", hours=hours, mins=mins) if mins else gettext("%(hours)sh", hours=hours)
    return gettext("%(mins)sm", mins=mins)
