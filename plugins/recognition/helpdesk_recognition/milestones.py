"""Milestone badges: checked after the event that may earn them, awarded exactly once.

"Once" is the unique constraint (user, badge, period): two workers that see the same
threshold reached at the same moment both insert, one insert fails with IntegrityError and
that worker announces nothing. Counting happens after the event's own row is committed, so
whichever of two simultaneous events commits last sees both.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import distinct, func, select
from sqlalchemy.exc import IntegrityError

from helpdesk.plugin_api import Tag, Ticket, User, db_session, gettext, local_date, ngettext, utcnow
from helpdesk_recognition.config import BADGES, Badge
from helpdesk_recognition.models import Award, BadgeConfig, Kudos, Rating
from helpdesk_recognition.notices import notify

COMPLAINT_TAG = "complaint"  # the complaints plugin's tag
RESOLVED = ("resolved", "closed")


def badge_settings() -> dict[str, tuple[bool, int]]:
    """key → (enabled, threshold), the admin's choice or the badge's default."""
    rows = {row.key: row for row in db_session().scalars(select(BadgeConfig))}
    out = {}
    for key, badge in BADGES.items():
        row = rows.get(key)
        out[key] = (row.enabled, row.threshold) if row else (True, badge.default_threshold)
    return out


def describe(badge: Badge, threshold: int) -> str:
    return str(badge.description).format(n=threshold)


# What a badge was earned for is written twice: into the stored Award row in English (a
# language-neutral record, shown to everyone who reads the feed), and into the winner's
# notification in the winner's language. A detail is therefore built by a function taking
# the words to use: ``ENGLISH`` for the row, ``LOCAL`` (gettext, under the winner's locale
# set by ``notify``) for the notification. Callers write ``t.gettext``/``t.ngettext`` so that
# pybabel extracts the msgids.
class Words:
    english = False

    def gettext(self, text: str, **params: object) -> str:
        return gettext(text, **params)

    def ngettext(self, singular: str, plural: str, num: int, **params: object) -> str:
        return ngettext(singular, plural, num, **params)


class _English(Words):
    english = True

    def gettext(self, text: str, **params: object) -> str:
        return text % params if params else text

    def ngettext(self, singular: str, plural: str, num: int, **params: object) -> str:
        return (singular if num == 1 else plural) % {"num": num, **params}


ENGLISH, LOCAL = _English(), Words()
Detail = Callable[[Words], str]


def award(user: User, key: str, *, period: str = "", ticket_id: int | None = None,
          detail: Detail | None = None) -> Award | None:
    """Award a badge unless this (user, badge, period) already has it; None when it had."""
    db_session().commit()  # start the claim in a transaction of its own
    stored = detail(ENGLISH) if detail else ""
    row = Award(user_id=user.id, badge=key, period=period, ticket_id=ticket_id, detail=stored[:300])
    db_session().add(row)
    try:
        db_session().commit()
    except IntegrityError:
        db_session().rollback()
        return None
    badge = BADGES[key]

    def line() -> str:
        name = str(badge.name)
        return gettext("You earned the “%(badge)s” badge: %(detail)s.", badge=name,
                       detail=detail(LOCAL) if detail else name)

    notify(user, line, award=row)
    return row


# The details ``award`` stores, as (singular, plural or None): ``detail_label`` finds which one
# a stored English detail was written from and shows it in the reader's language.
_DETAILS = (
    ("your first five-star rating", None),
    ("%(num)s five-star rating", "%(num)s five-star ratings"),
    ("a complaint (%(reference)s) turned into a five-star rating", None),
    ("%(num)s complaint turned into a five-star rating", "%(num)s complaints turned into five-star ratings"),
    ("%(num)s ticket resolved", "%(num)s tickets resolved"),
    ("%(num)s kudos in %(month)s", "%(num)s kudos in %(month)s"),
)


def _pattern(msgid: str) -> re.Pattern[str]:
    parts = re.split(r"%\((\w+)\)s", msgid)
    return re.compile("".join(f"(?P<{p}>.+?)" if i % 2 else re.escape(p) for i, p in enumerate(parts)), re.S)


def detail_label(detail: str) -> str:
    """A stored (English) award detail in the reader's language; an unknown one as stored."""
    for singular, plural in _DETAILS:
        for form in (singular, plural) if plural else (singular,):
            match = _pattern(form).fullmatch(detail or "")
            if match is None:
                continue
            params: dict[str, str] = match.groupdict()
            if "month" in params:
                try:
                    params["month"] = local_date(datetime.strptime(params["month"], "%B %Y"), "MMMM yyyy")
                except ValueError:
                    pass  # an unexpected month: kept as stored
            if plural is None:
                return gettext(singular, **params)
            num = params.pop("num")
            if not num.isdigit():
                continue
            return ngettext(singular, plural, int(num), **params)
    return detail


def _enabled(key: str) -> int | None:
    enabled, threshold = badge_settings()[key]
    return threshold if enabled else None


def check_five_star(user: User) -> Award | None:
    threshold = _enabled("five_star")
    if threshold is None:
        return None
    count = db_session().scalar(select(func.count()).select_from(Rating).where(
        Rating.user_id == user.id, Rating.kind == "csat", Rating.score == 5)) or 0
    if count < threshold:
        return None
    def detail(t: Words) -> str:
        # threshold 1 reads differently from "1 five-star rating", hence not ngettext alone.
        return t.gettext("your first five-star rating") if threshold == 1 else t.ngettext(
            "%(num)s five-star rating", "%(num)s five-star ratings", threshold)

    return award(user, "five_star", detail=detail)


def check_complaint_turned(user: User, ticket: Ticket) -> Award | None:
    threshold = _enabled("complaint_turned")
    if threshold is None or not any(tag.name == COMPLAINT_TAG for tag in ticket.tags):
        return None
    count = db_session().scalar(
        select(func.count(distinct(Rating.ticket_id))).where(
            Rating.user_id == user.id, Rating.kind == "csat", Rating.score == 5,
            Rating.ticket_id.in_(select(Ticket.id).where(Ticket.tags.any(Tag.name == COMPLAINT_TAG))))) or 0
    if count < threshold:
        return None
    def detail(t: Words) -> str:
        return (t.gettext("a complaint (%(reference)s) turned into a five-star rating", reference=ticket.reference)
                if threshold == 1 else t.ngettext("%(num)s complaint turned into a five-star rating",
                                                  "%(num)s complaints turned into five-star ratings", threshold))

    return award(user, "complaint_turned", ticket_id=ticket.id, detail=detail)


def check_resolved(user: User) -> Award | None:
    threshold = _enabled("resolved")
    if threshold is None:
        return None
    # Still resolved (or closed after it): a reopened ticket has status open and no resolved_at.
    count = db_session().scalar(select(func.count()).select_from(Ticket).where(
        Ticket.assignee_id == user.id, Ticket.status.in_(RESOLVED), Ticket.resolved_at.is_not(None))) or 0
    if count < threshold:
        return None
    return award(user, "resolved", detail=lambda t: t.ngettext(
        "%(num)s ticket resolved", "%(num)s tickets resolved", threshold))


def month_key(when: datetime) -> str:
    return f"{when.year:04d}-{when.month:02d}"


def month_bounds(when: datetime) -> tuple[datetime, datetime]:
    start = when.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = start.replace(year=start.year + 1, month=1) if start.month == 12 else start.replace(month=start.month + 1)
    return start, end


def check_monthly_kudos(user: User, when: datetime | None = None) -> Award | None:
    threshold = _enabled("monthly_kudos")
    if threshold is None:
        return None
    start, end = month_bounds(when or utcnow())
    count = db_session().scalar(select(func.count()).select_from(Kudos).where(
        Kudos.recipient_id == user.id, Kudos.created_at >= start, Kudos.created_at < end)) or 0
    if count < threshold:
        return None

    def detail(t: Words) -> str:
        # The stored English row keeps strftime's English month; the notification names
        # the month as the winner's language writes it.
        month = start.strftime("%B %Y") if t.english else local_date(start, "MMMM yyyy")
        return t.ngettext("%(num)s kudos in %(month)s", "%(num)s kudos in %(month)s", threshold, month=month)

    return award(user, "monthly_kudos", period=month_key(start), detail=detail)
