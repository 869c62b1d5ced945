"""Telling an agent at once: a notification row (dashboard, nav badge) and, if they opted in, an email."""
from __future__ import annotations

from collections.abc import Callable

from flask import current_app
from sqlalchemy import Select, func, select, update

from helpdesk.plugin_api import User, customer_locale, db_session, gettext, notify_agents, utcnow
from helpdesk_recognition.models import Award, Kudos, Notification
from helpdesk_recognition.privacy import choices


def site_link(path: str) -> str:
    """An absolute link for mail, from EXTERNAL_URL (never the request's Host header)."""
    return current_app.config.get("EXTERNAL_URL", "").rstrip("/") + path


def notify(user: User, text: Callable[[], str], *, kudos: Kudos | None = None,
           award: Award | None = None) -> Notification:
    """Tell ``user``; ``text`` builds the line with ``gettext`` and is called in the
    RECIPIENT's language, because the row is stored as a final string and read by them
    later (the giver's language, the request's, would be wrong for a German colleague)."""
    with customer_locale(user):
        line = text()
    note = Notification(user_id=user.id, kudos_id=kudos.id if kudos else None,
                        award_id=award.id if award else None, text=line[:500])
    db_session().add(note)
    db_session().commit()
    if kudos is not None:  # the agent's bell in the core (their preference decides about mail there)
        notify_agents("recognition.kudos", [user], ticket=kudos.ticket, text=line, actor=kudos.giver)
    if user.email and user.is_active and choices(user.id).email_notifications:
        with customer_locale(user):
            _email(user, line, kudos)
    return note


def _email(user: User, text: str, kudos: Kudos | None) -> None:
    # The core's outbox: the mail is kept through an SMTP outage and sent by a job with retries.
    from helpdesk.plugin_api import queue_mail

    lines = [gettext("Hi %(name)s,", name=user.first_name), "", text]
    if kudos is not None and kudos.message:
        lines += ["", f"“{kudos.message}”"]
    if kudos is not None and kudos.ticket is not None:
        lines += ["", gettext("Ticket %(reference)s: %(link)s", reference=kudos.ticket.reference,
                              link=site_link('/tickets/' + kudos.ticket.reference))]
    lines += ["", gettext("Your recognition: %(link)s", link=site_link(f'/recognition/agents/{user.id}')),
              gettext("Stop these emails: %(link)s", link=site_link('/recognition/preferences'))]
    queue_mail(user.email, gettext("Recognition: %(text)s", text=text)[:200], "\n".join(lines))


def unread_count_query(user_id: int) -> Select:
    return select(func.count()).select_from(Notification).where(
        Notification.user_id == user_id, Notification.read_at.is_(None))


def unread_count(user_id: int) -> int:
    return db_session().scalar(unread_count_query(user_id)) or 0


def unread(user_id: int, limit: int = 5) -> list[Notification]:
    return list(db_session().scalars(select(Notification).where(
        Notification.user_id == user_id, Notification.read_at.is_(None))
        .order_by(Notification.id.desc()).limit(limit)))


def mark_all_read(user_id: int) -> int:
    result = db_session().execute(update(Notification).where(
        Notification.user_id == user_id, Notification.read_at.is_(None)).values(read_at=utcnow()))
    db_session().commit()
    return result.rowcount or 0  # type: ignore[attr-defined]  # a CursorResult
