"""Agents' notifications: the only code that writes them, their preferences and ticket followers.

``notify(kind, users, ticket=..., text=..., actor=...)`` is the one way in (the core's own
events through ``helpdesk.notification_hooks``, plugins through ``plugin_api.notify_agents``).
It drops recipients who must not hear about it — the actor themself, inactive accounts,
customers, anyone who cannot see the ticket (``helpdesk.access``), anyone whose preference
for the kind is ``off`` — writes one row per remaining agent and, for those who want an
email at once, the mail in the outbox **in the same transaction** (so a crash or a lost job
right after the commit cannot lose the mail: the outbox's lease and sweeper deliver it),
commits, and then calls ``_after_commit``: the single place that acts on new notifications
(the mails' delivery jobs; the live channel publishes "unread count changed").

Each agent chooses per kind (``NotificationKind``): ``immediately`` (bell + an email at
once), ``digest`` (bell + one daily email at ``NOTIFICATION_DIGEST_HOUR`` in their time
zone), ``app`` (the bell only) or ``off``. Mails go through the durable outbox, marked as
automatic mail (``Auto-Submitted``); each notification is mailed at most once.

Mentions in internal notes are tokens ``@[Name](user:ID)`` (the agent picker inserts
them; the id makes them unambiguous whatever the name holds).
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime

from flask import current_app
from flask_babel import gettext, ngettext
from flask_babel.speaklater import LazyString
from sqlalchemy import ColumnElement, Select, delete, func, or_, select, update

from helpdesk import live
from helpdesk.access import can_see_ticket, scoped_to_tickets, sees_every_ticket
from helpdesk.contract import DELIVERIES, NotificationKind
from helpdesk.extensions import db
from helpdesk.i18n import customer_locale
from helpdesk.jobs import crontab, periodic_task, task
from helpdesk.languages import N_
from helpdesk.links import external_url
from helpdesk.models import OutboxMail, Ticket, User
from helpdesk.models.base import utcnow
from helpdesk.models.notifications import (
    EMAIL_DIGEST,
    EMAIL_DIGESTED,
    EMAIL_NONE,
    EMAIL_PENDING,
    EMAIL_SENT,
    EMAIL_SKIPPED,
    Notification,
    NotificationPreference,
    TicketFollower,
)
from helpdesk.plugin_manager import manager
from helpdesk.services.mail import deliver_mail, in_batch, queue_mail
from helpdesk.timezones import mail_time, to_local

MENTION = re.compile(r"@\[([^\[\]\n]{1,200})\]\(user:(\d{1,10})\)")
DELIVERY_LABELS = {"immediately": N_("Email at once"), "digest": N_("Daily digest email"),
                   "app": N_("In the app only"), "off": N_("Off")}
DIGEST_LIMIT = 100  # notifications listed in one digest mail (the page has them all)


# ------------------------------------------------------------------ kinds and preferences


def kinds() -> dict[str, NotificationKind]:
    """Every kind the core and the enabled plugins declare (``helpdesk_notification_kinds``), by name."""
    found: dict[str, NotificationKind] = {}
    for _plugin, result in manager().call_collect("helpdesk_notification_kinds"):
        for kind in result or ():
            found.setdefault(kind.name, kind)
    return found


def preferences(user: User) -> dict[str, str]:
    """kind name → the agent's delivery (their choice, else the kind's default)."""
    chosen = dict(db.session.execute(select(NotificationPreference.kind, NotificationPreference.delivery)
                                     .where(NotificationPreference.user_id == user.id)).all())
    return {name: chosen.get(name, kind.default) for name, kind in kinds().items()}


def save_preferences(user: User, choices: dict[str, str]) -> None:
    """Store the agent's delivery per kind; unknown kinds or deliveries raise ValueError."""
    known = kinds()
    for name, delivery in choices.items():
        if name not in known or delivery not in DELIVERIES:
            raise ValueError(f"unknown notification kind or delivery: {name}={delivery}")
    db.session.execute(delete(NotificationPreference).where(NotificationPreference.user_id == user.id,
                                                            NotificationPreference.kind.in_(list(choices))))
    db.session.add_all(NotificationPreference(user_id=user.id, kind=k, delivery=v) for k, v in choices.items())
    db.session.commit()


# ------------------------------------------------------------------ creating


def notify(kind: str, users: Iterable[User | None], *, ticket: Ticket | None = None, text: str | LazyString,
           actor: User | None = None) -> list[Notification]:
    """Notify each of ``users`` who may hear about it; returns the notifications written.

    ``text`` is stored as each recipient reads it: give a ``lazy_gettext(...)`` with its
    placeholders and it is written in each recipient's language (their preference, else the
    site's), whoever triggered it; a plain string is stored as it is.

    Skipped: ``actor`` (nobody is told about their own action), inactive accounts and
    customers, anyone who cannot see ``ticket``, anyone whose preference for ``kind`` is off.
    Commits. Raises ValueError for a kind nobody declared.
    """
    known = kinds()
    if kind not in known:
        raise ValueError(f"unknown notification kind {kind!r}: declare it with helpdesk_notification_kinds")
    recipients: dict[int, User] = {}
    for user in users:
        if user is None or user.id in recipients or (actor is not None and user.id == actor.id):
            continue
        if not user.is_active or not user.is_backoffice:
            continue
        if ticket is not None and not can_see_ticket(user, ticket):
            continue
        recipients[user.id] = user
    if not recipients:
        return []
    chosen = dict(db.session.execute(select(NotificationPreference.user_id, NotificationPreference.delivery).where(
        NotificationPreference.kind == kind, NotificationPreference.user_id.in_(list(recipients)))).all())
    now = utcnow()
    created = []
    for user in recipients.values():
        delivery = chosen.get(user.id, known[kind].default)
        if delivery == "off":
            continue
        email = EMAIL_NONE
        if user.email and delivery == "immediately":
            email = EMAIL_PENDING
        elif user.email and delivery == "digest":
            email = EMAIL_DIGEST
        created.append(Notification(recipient_id=user.id, kind=kind, ticket_id=ticket.id if ticket else None,
                                    actor_id=actor.id if actor else None, text=_text_for(user, text),
                                    created_at=now, email=email))
    if not created:
        return []
    db.session.add_all(created)
    db.session.flush()  # the ids, for the mails' links
    mails = [_queue_mail(note, recipients[note.recipient_id], ticket, now)
             for note in created if note.email == EMAIL_PENDING]
    db.session.commit()  # the notifications and their mails together
    _after_commit(created, mails)
    return created


def _text_for(user: User, text: str | LazyString) -> str:
    """The stored text of one recipient's notification, in their language if ``text`` is lazy."""
    if isinstance(text, LazyString):
        with customer_locale(user):
            text = str(text)
    return " ".join(text.split())[:500]


def _queue_mail(note: Notification, user: User, ticket: Ticket | None, now: datetime) -> OutboxMail:
    """Put the immediate mail of ``note`` in the outbox (not committed) and mark it sent."""
    note.email, note.emailed_at = EMAIL_SENT, now
    return queue_mail(user.email or "", note.text[:200], _mail_text(note, user, ticket), headers=_automatic(),
                      ticket_id=ticket.id if ticket else None, commit=False)


def _mail_text(note: Notification, user: User, ticket: Ticket | None) -> str:
    with customer_locale(user):  # the recipient's language, whoever triggered it
        lines = [gettext("Hi %(name)s,", name=user.first_name), "", note.text]
        if ticket is not None:
            lines += ["", f"{ticket.reference}: {external_url('agent.ticket', reference=ticket.reference)}"]
        return "\n".join(lines + _mail_footer())


def _after_commit(created: Sequence[Notification], mails: Sequence[OutboxMail] = ()) -> None:
    """The one place that acts on new, committed notifications.

    Starts the delivery job of each mail (a job lost here is no loss: the sweeper hands a
    queued mail whose lease ran out to a new job), and tells each recipient's open pages
    their new unread count over the live channel (topic ``user:<id>``; the bell updates itself).
    """
    if not in_batch():  # inside ``batched_mail`` the batch starts the jobs when it ends
        for mail in mails:
            deliver_mail(mail.id)
    for user_id in sorted({note.recipient_id for note in created}):
        user = db.session.get(User, user_id)
        if user is not None:
            live.publish(f"user:{user_id}", {"type": "notifications", "unread": unread_count(user)})


@task(retries=3, retry_delay=60)
def send_notification_mail(notification_id: int) -> bool:
    """Mail one notification still marked ``pending`` (written before its mail went into the
    outbox with it, by an earlier version); a second run (a retry, a duplicate job) sends nothing."""
    claimed = db.session.execute(update(Notification).where(
        Notification.id == notification_id, Notification.email == EMAIL_PENDING)
        .values(email=EMAIL_SENT, emailed_at=utcnow()))
    if not claimed.rowcount:  # type: ignore[attr-defined]  # a CursorResult
        db.session.rollback()
        return False
    note = db.session.get(Notification, notification_id)
    user = note.recipient
    # Committed together: the claim and the outbox row (whose delivery job then retries SMTP).
    queue_mail(user.email or "", note.text[:200], _mail_text(note, user, note.ticket), headers=_automatic(),
               ticket_id=note.ticket_id)
    return True


def _automatic() -> dict[str, str]:
    """Automatic mail to staff: no out-of-office answers, not a reply anyone wrote."""
    return {"Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "All", "X-Helpdesk-Loop": "1"}


def _mail_footer() -> list[str]:
    return ["", "-- ", gettext("Your notifications: %(url)s", url=external_url("notifications.index")),
            gettext("Choose what is mailed to you: %(url)s", url=external_url("notifications.preferences"))]


# ------------------------------------------------------------------ daily digest


def digest_hour() -> int:
    return int(current_app.config.get("NOTIFICATION_DIGEST_HOUR", 8))


def send_digests(now: datetime | None = None) -> int:
    """Mail each agent whose digest hour it is (their time zone) their unread digest notifications.

    Notifications read in the app before the digest are left out. Two workers running this
    at once send one digest: each notification is claimed by a conditional update.
    """
    now = now or utcnow()
    user_ids = list(db.session.scalars(select(Notification.recipient_id).where(
        Notification.email == EMAIL_DIGEST).distinct()))
    sent = 0
    for user_id in user_ids:
        user = db.session.get(User, user_id)
        if user is None or to_local(now, user).hour != digest_hour():
            continue
        db.session.execute(update(Notification).where(
            Notification.recipient_id == user.id, Notification.email == EMAIL_DIGEST,
            Notification.read_at.is_not(None)).values(email=EMAIL_SKIPPED))
        notes = list(db.session.scalars(select(Notification).where(
            Notification.recipient_id == user.id, Notification.email == EMAIL_DIGEST)
            .order_by(Notification.id).limit(DIGEST_LIMIT)))
        if not notes:
            db.session.commit()
            continue
        claimed = db.session.execute(update(Notification).where(
            Notification.id.in_([n.id for n in notes]), Notification.email == EMAIL_DIGEST)
            .values(email=EMAIL_DIGESTED, emailed_at=now)).rowcount  # type: ignore[attr-defined]
        if claimed != len(notes):  # another worker is sending this digest
            db.session.rollback()
            continue
        if not user.is_active or not user.email:
            db.session.commit()
            continue
        with customer_locale(user):  # the agent's language
            lines = [gettext("Hi %(name)s,", name=user.first_name), "",
                     ngettext("%(num)d unread notification since your last digest:",
                              "%(num)d unread notifications since your last digest:", len(notes)), ""]
            for note in notes:
                link = (f" {external_url('agent.ticket', reference=note.ticket.reference)}"
                        if note.ticket is not None and can_see_ticket(user, note.ticket) else "")
                lines.append(f"- {mail_time(note.created_at, user, '%d %b %H:%M %Z')} {note.text}{link}")
            lines += _mail_footer()
            subject = ngettext("Your daily digest: %(num)d notification", "Your daily digest: %(num)d notifications",
                               len(notes))
        queue_mail(user.email, subject, "\n".join(lines), headers=_automatic())
        sent += 1
    return sent


@periodic_task(crontab(minute="5"))
def send_digests_job() -> int:
    """Every hour on the worker: the digests of the agents for whom it is digest time."""
    return send_digests()


# ------------------------------------------------------------------ reading


def _visible(user: User) -> ColumnElement[bool]:
    """The user's notifications about no ticket or about a ticket they can (still) see."""
    mine = Notification.recipient_id == user.id
    if sees_every_ticket(user):
        return mine
    return mine & or_(Notification.ticket_id.is_(None), scoped_to_tickets(user, Notification.ticket_id))


def unread_count_query(user: User) -> Select:
    """The bell's count as a SELECT (run with the other navigation counts: ``helpdesk_nav_counts``)."""
    return select(func.count()).select_from(Notification).where(_visible(user), Notification.read_at.is_(None))


def unread_count(user: User) -> int:
    """How many unread notifications the bell shows (one query)."""
    if not getattr(user, "is_authenticated", False) or not user.is_backoffice:
        return 0
    return db.session.scalar(select(func.count()).select_from(Notification).where(
        _visible(user), Notification.read_at.is_(None))) or 0


def page_of(user: User, page: int, per_page: int = 25) -> tuple[list[Notification], bool]:
    """One page of the user's notifications, newest first, and whether there is a next page."""
    rows = list(db.session.scalars(select(Notification).where(_visible(user)).order_by(Notification.id.desc())
                                   .offset((page - 1) * per_page).limit(per_page + 1)))
    return rows[:per_page], len(rows) > per_page


def mark_read(user: User, notification_id: int | None = None) -> int:
    """Mark one (or, with no id, every) unread notification of ``user`` read; returns how many."""
    query = update(Notification).where(Notification.recipient_id == user.id, Notification.read_at.is_(None))
    if notification_id is not None:
        query = query.where(Notification.id == notification_id)
    done = db.session.execute(query.values(read_at=utcnow())).rowcount  # type: ignore[attr-defined]
    db.session.commit()
    return done or 0


def mark_all_read(user: User) -> int:
    return mark_read(user, None)


def mention_token(user: User) -> str:
    """What the picker inserts for ``user``: ``@[Name](user:ID)`` (brackets in the name become parentheses)."""
    name = " ".join((user.name or "").replace("[", "(").replace("]", ")").split())[:200] or f"user {user.id}"
    return f"@[{name}](user:{user.id})"


# ------------------------------------------------------------------ following and mentions


def is_following(user: User, ticket: Ticket) -> bool:
    return db.session.get(TicketFollower, (ticket.id, user.id)) is not None


def follow(user: User, ticket: Ticket, *, commit: bool = True) -> bool:
    """``user`` follows ``ticket`` (if they may see it); False when they already did or may not."""
    if not user.is_backoffice or not can_see_ticket(user, ticket) or is_following(user, ticket):
        return False
    db.session.add(TicketFollower(ticket_id=ticket.id, user_id=user.id, created_at=utcnow()))
    if commit:
        db.session.commit()
    return True


def unfollow(user: User, ticket: Ticket) -> bool:
    done = db.session.execute(delete(TicketFollower).where(
        TicketFollower.ticket_id == ticket.id, TicketFollower.user_id == user.id)).rowcount  # type: ignore[attr-defined]
    db.session.commit()
    return bool(done)


def followers(ticket: Ticket) -> list[User]:
    return list(db.session.scalars(select(User).join(TicketFollower, TicketFollower.user_id == User.id)
                                   .where(TicketFollower.ticket_id == ticket.id).order_by(User.id)))


def mentioned_ids(body: str) -> list[int]:
    """The user ids of the ``@[Name](user:ID)`` mentions in ``body``, in order, once each."""
    seen: dict[int, None] = {}
    for match in MENTION.finditer(body or ""):
        seen.setdefault(int(match.group(2)), None)
    return list(seen)


def mentioned_users(body: str) -> list[User]:
    ids = [i for i in mentioned_ids(body) if i < 2**31][:50]
    if not ids:
        return []
    return list(db.session.scalars(select(User).where(User.id.in_(ids)).order_by(User.id)))


def plain_mentions(body: str) -> str:
    """``body`` with each mention token shown as ``@Name``."""
    return MENTION.sub(lambda m: "@" + m.group(1), body or "")


def mentionable(user: User, query: str = "", ticket: Ticket | None = None, limit: int = 10) -> list[User]:
    """Active agents (and light agents) whose name or email starts a word with ``query``; with
    ``ticket``, only those who can see it."""
    stmt = select(User).where(User.role.in_(("agent", "admin", "light_agent")), User.active.is_(True),
                              User.merged_into_id.is_(None)).order_by(User.name)
    needle = (query or "").strip().lower()[:100]
    if needle:
        like = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = stmt.where(or_(func.lower(User.name).like(f"{like}%", escape="\\"),
                              func.lower(User.name).like(f"% {like}%", escape="\\"),
                              func.lower(User.email).like(f"{like}%", escape="\\")))
    found = []
    for candidate in db.session.scalars(stmt.limit(limit * 5)):
        if ticket is None or can_see_ticket(candidate, ticket):
            found.append(candidate)
        if len(found) >= limit:
            break
    return found
