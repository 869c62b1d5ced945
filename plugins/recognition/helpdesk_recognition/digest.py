"""The weekly digest: each team lead (and each member who opted in) gets last week's recognition.

The job runs on Mondays at 08:00 UTC and covers the previous calendar week (Monday 00:00 to
Monday 00:00). A lead's digest holds everything in their teams, private recognition included;
a member's holds the public items and their own. Each recipient gets one mail per week: the
row in ``recognition_digests`` and the outbox mail are committed together, and a second run
(another worker, a retry) fails on the unique (recipient, week) and sends nothing.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from helpdesk.plugin_api import (
    Team,
    User,
    crontab,
    customer_locale,
    db_session,
    gettext,
    local_date,
    ngettext,
    periodic_task,
    utcnow,
)
from helpdesk_recognition.config import BADGES, PLUGIN
from helpdesk_recognition.feed import Item, feed_page
from helpdesk_recognition.milestones import detail_label
from helpdesk_recognition.models import DigestSent
from helpdesk_recognition.notices import site_link
from helpdesk_recognition.privacy import choices

log = logging.getLogger(__name__)
MAX_ITEMS = 200  # per team section: a digest is a summary, the feed has the rest


def week_bounds(now: datetime) -> tuple[datetime, datetime, str]:
    """The calendar week before the one containing ``now``: (start, end, "2025-W10")."""
    this_monday = (now - timedelta(days=now.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    start = this_monday - timedelta(days=7)
    year, week, _ = start.isocalendar()
    return start, this_monday, f"{year}-W{week:02d}"


def _eligible(user: User | None) -> bool:
    return user is not None and user.is_staff and user.is_active and bool(user.email)


def _recipients() -> dict[int, tuple[User, list[Team], list[Team]]]:
    """user id → (user, teams they lead, teams they follow as a member who opted in)."""
    out: dict[int, tuple[User, list[Team], list[Team]]] = {}
    teams = db_session().scalars(select(Team).options(selectinload(Team.members), selectinload(Team.lead))
                               .order_by(Team.name))
    for team in teams:
        if _eligible(team.lead):
            out.setdefault(team.lead.id, (team.lead, [], []))[1].append(team)
        for member in team.members:
            if member.id != team.lead_id and _eligible(member) and choices(member.id).digest:
                out.setdefault(member.id, (member, [], []))[2].append(team)
    return out


def _line(item: Item) -> str:
    if item.kudos is not None:
        k = item.kudos
        # The value tag and the ticket are bracketed data, not words: passed in whole.
        params = {"recipient": k.recipient.name, "giver": k.giver.name if k.giver else gettext("someone"),
                  "tag": f" [{k.value_tag}]" if k.value_tag else "",
                  "ticket": f" ({k.ticket.reference})" if k.ticket else "", "message": k.message}
        if k.from_customer:
            return gettext("- %(recipient)s: kudos from %(giver)s (a customer)%(tag)s%(ticket)s: “%(message)s”",
                           **params)
        return gettext("- %(recipient)s: kudos from %(giver)s (a colleague)%(tag)s%(ticket)s: “%(message)s”",
                       **params)
    a = item.award
    return gettext("- %(person)s earned the “%(badge)s” badge: %(detail)s", person=a.user.name,
                   badge=str(BADGES[a.badge].name), detail=detail_label(a.detail))


def compose(user: User, led: list[Team], followed: list[Team], start: datetime, end: datetime,
            week: str) -> tuple[str, str, int] | None:
    """(subject, text, item count) for one recipient, or None when there is nothing to tell.
    Written in the recipient's language (their preference, else the site's)."""
    with customer_locale(user):
        return _compose(user, led, followed, start, end, week)


def _compose(user: User, led: list[Team], followed: list[Team], start: datetime, end: datetime,
             week: str) -> tuple[str, str, int] | None:
    sections, count = [], 0
    for team, as_lead in [(t, True) for t in led] + [(t, False) for t in followed]:
        # The lead sees what they see on the feed: their members' private recognition too. A
        # member who opted in sees exactly what the feed shows them.
        items, _ = feed_page(user, team_id=team.id, since=start, until=end, per_page=MAX_ITEMS)
        if not items:
            continue
        count += len(items)
        heading = (gettext("%(team)s (you lead this team)", team=team.name) if as_lead
                   else gettext("%(team)s (your team)", team=team.name))
        sections.append("\n".join([heading, "-" * len(heading), *[_line(i) for i in reversed(items)]]))
    if not sections:
        return None
    last_day = end - timedelta(days=1)
    teams = len(led) + len(followed)
    text = "\n\n".join([
        gettext("Hi %(name)s,", name=user.first_name),
        ngettext("here is the recognition in your team for the week of %(start)s – %(end)s (%(week)s):",
                 "here is the recognition in your teams for the week of %(start)s – %(end)s (%(week)s):",
                 teams, start=local_date(start, "dd MMM"), end=local_date(last_day, "dd MMM yyyy"), week=week),
        *sections,
        gettext("The feed: %(link)s", link=site_link("/recognition/")),
        gettext("Your digest settings: %(link)s", link=site_link("/recognition/preferences")),
    ])
    subject = ngettext("Recognition digest %(week)s: %(num)s item", "Recognition digest %(week)s: %(num)s items",
                       count, week=week)
    return subject, text, count


def send_digests(now: datetime | None = None) -> int:
    """Send last week's digests that are not sent yet; returns how many mails were queued."""
    from helpdesk.plugin_api import deliver_mail, queue_mail

    start, end, week = week_bounds(now or utcnow())
    sent = 0
    for user_id, (user, led, followed) in _recipients().items():
        if db_session().scalar(select(DigestSent.id).where(DigestSent.user_id == user_id, DigestSent.week == week)):
            continue
        content = compose(user, led, followed, start, end, week)
        if content is None:
            continue
        subject, text, count = content
        db_session().add(DigestSent(user_id=user_id, week=week, items=count))
        mail = queue_mail(user.email, subject, text, commit=False)
        try:
            db_session().commit()
        except IntegrityError:  # another worker sent this one a moment ago
            db_session().rollback()
            continue
        deliver_mail(mail.id)
        sent += 1
    log.info("recognition: %d digest(s) for %s", sent, week)
    return sent


@periodic_task(crontab(day_of_week="1", hour="8", minute="0"), plugin=PLUGIN)
def weekly_digest(now: datetime | None = None) -> int:
    """Mondays 08:00 UTC on the worker: last week's digests."""
    return send_digests(now)
