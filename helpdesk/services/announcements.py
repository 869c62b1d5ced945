"""Announcements: a message to a segment of customers (a change, an outage, a new feature).

- A segment is one of: an organisation (``{"organisation_id": 3}``), customers with a ticket
  tagged X (``{"tag": "billing", "open_only": true}`` for open tickets on a theme), customers
  with open tickets (``{"open_tickets": true}``), a custom field's value
  (``{"field": "plan", "value": "pro"}``) or date on or after a day
  (``{"field": "purchase_date", "since": "2026-11-01"}``: recent buyers). Only active
  customers count.
- Texts: the announcement's own subject and text are in the site's language; it may have
  another per language (``text_translations``), which customers of that language get.
- Sending is a job (``start_sending`` → ``send_announcement_job``, batches of ``BATCH``), its
  progress on the announcement's page; ``resume_announcements_job`` picks up a send whose
  worker died. It writes one ``announcement_recipients`` row per customer (unique, so sending
  twice, or two workers at once, never writes to anyone twice; a batch's rows are claimed
  ``sending`` in one commit, and its messages and outcomes are committed together, each mail
  with a fixed Message-ID): ``no_consent`` for customers who
  said no to updates (or unsubscribed), ``held`` when the core's notice cap or a no-reply
  address held it back, ``unreachable``, or ``sent``. Each goes through
  ``notify_customer`` by the customer's preferred channel (email without one), in their
  language, with placeholders and a signed unsubscribe link.
- A reply opens a ticket tagged ``announcement-<id>``: mail replies keep the subject's
  ``[Announcement #<id>]``, and the portal's "Ask about this" link prefills it.
- ``banner``: shown on portal pages until ended (an ongoing incident).
- Post-sale check-ins: the segment ``{"field": "purchase_date", "days_after": 14}`` is the
  customers whose date field was 14 days ago (within the last ``CHECKIN_WINDOW_DAYS`` days of
  that, so starting a check-in never writes to years of past buyers). Once sent by hand, the
  hourly ``send_due_checkins`` job sends it to each newly due customer, once (the recipient
  rows); answers are tickets tagged ``announcement-<id>`` like any reply.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import force_locale, lazy_gettext
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import func, select, update
from sqlalchemy.orm import selectinload

import helpdesk.services.admin_audit as admin_audit
from helpdesk.canned import render_notice, text_for
from helpdesk.extensions import db
from helpdesk.i18n import current_language, customer_language, customer_locale, gettext, ngettext
from helpdesk.jobs import crontab, periodic_task, task
from helpdesk.languages import N_
from helpdesk.links import external_url
from helpdesk.models import (
    Announcement,
    AnnouncementRecipient,
    CustomerNotice,
    Organisation,
    Tag,
    Team,
    Ticket,
    User,
    ticket_tags,
)
from helpdesk.models.base import utcnow
from helpdesk.models.tickets import OPEN_STATUSES
from helpdesk.services.errors import PermissionDenied, ServiceError
from helpdesk.services.mail import batched_mail
from helpdesk.services.notices import notify_customer
from helpdesk.services.settings import site_setting
from helpdesk.services.translations import check_translations, save_translations

CHECKIN_WINDOW_DAYS = 7
BATCH = 200  # customers per batch of the sending job (one query for their rows)
SENDING_LEASE = timedelta(minutes=5)  # a recipient "sending" this long: its sender died
UNSUBSCRIBE_SALT = "unsubscribe"
UNSUBSCRIBE_DAYS = 365
MARKER = re.compile(r"\[Announcement #(\d{1,9})\]", re.IGNORECASE)


def may_announce(user: User) -> bool:
    """Admins, and agents who lead a team."""
    if user.is_admin:
        return True
    return user.is_staff and db.session.scalar(select(Team.id).where(Team.lead_id == user.id).limit(1)) is not None


def check_segment(segment: dict[str, Any]) -> dict[str, Any]:
    """The segment as stored, or a ``ServiceError`` saying what is missing."""
    if segment.get("organisation_id"):
        if db.session.get(Organisation, int(segment["organisation_id"])) is None:
            raise ServiceError(gettext('Choose an organisation.'), field="segment")
        return {"organisation_id": int(segment["organisation_id"])}
    if segment.get("tag"):
        return {"tag": str(segment["tag"]).strip().lower()[:60], "open_only": bool(segment.get("open_only"))}
    if segment.get("open_tickets"):
        return {"open_tickets": True}
    if segment.get("field"):
        field = str(segment["field"]).strip()
        if segment.get("days_after") not in (None, ""):
            try:
                days = int(segment["days_after"])
            except (TypeError, ValueError):
                days = -1
            if not 0 <= days <= 3650:
                raise ServiceError(gettext('Days after: a whole number from 0 to 3650.'), field="segment")
            return {"field": field, "days_after": days}
        if segment.get("since"):
            try:
                return {"field": field, "since": date.fromisoformat(str(segment["since"])).isoformat()}
            except ValueError:
                raise ServiceError(gettext('Write the day as YYYY-MM-DD.'), field="segment") from None
        if segment.get("value") in (None, ""):
            raise ServiceError(gettext("Give the field's value (or a day for a date field)."), field="segment")
        return {"field": field, "value": str(segment["value"])}
    raise ServiceError(
        gettext("Choose who receives it: an organisation, a tag, customers with open tickets or a custom field's value."), field="segment")  # noqa: E501 - one msgid


def segment_customers(segment: dict[str, Any]) -> list[User]:
    """The active customers in ``segment``, by id."""
    query = select(User).where(User.role == "customer", User.active.is_(True), User.merged_into_id.is_(None))
    if segment.get("organisation_id"):
        query = query.where(User.organisation_id == segment["organisation_id"])
    elif segment.get("tag"):
        tagged = (select(Ticket.customer_id).join(ticket_tags, ticket_tags.c.ticket_id == Ticket.id)
                  .join(Tag, Tag.id == ticket_tags.c.tag_id).where(Tag.name == segment["tag"]))
        if segment.get("open_only"):
            tagged = tagged.where(Ticket.status.in_(OPEN_STATUSES))
        query = query.where(User.id.in_(tagged))
    elif segment.get("open_tickets"):
        query = query.where(User.id.in_(select(Ticket.customer_id).where(Ticket.status.in_(OPEN_STATUSES))))
    elif segment.get("field"):
        key = segment["field"]
        people = [u for u in db.session.scalars(query.where(User.custom_fields.is_not(None)).order_by(User.id))
                  if key in (u.custom_fields or {})]
        if segment.get("days_after") is not None:
            due = utcnow().date() - timedelta(days=int(segment["days_after"]))
            first = (due - timedelta(days=CHECKIN_WINDOW_DAYS)).isoformat()
            return [u for u in people if first < str(u.custom_fields[key]) <= due.isoformat()]
        if segment.get("since"):
            return [u for u in people if str(u.custom_fields[key]) >= segment["since"]]
        return [u for u in people if str(u.custom_fields[key]) == segment["value"]]
    else:
        return []
    return list(db.session.scalars(query.order_by(User.id)))


def describe_segment(segment: dict[str, Any]) -> str:
    """Who the segment is, in the reader's language (the admin audit log stores it in English:
    ``with force_locale("en")``)."""
    if segment.get("organisation_id"):
        org = db.session.get(Organisation, segment["organisation_id"])
        return gettext("organisation %(name)s", name=org.name) if org else gettext("a deleted organisation")
    if segment.get("tag"):
        if segment.get("open_only"):
            return gettext("customers with open tickets tagged %(tag)s", tag=segment["tag"])
        return gettext("customers with tickets tagged %(tag)s", tag=segment["tag"])
    if segment.get("open_tickets"):
        return gettext("customers with open tickets")
    if segment.get("days_after") is not None:
        return ngettext("check-in %(num)d day after each customer's %(field)s",
                        "check-in %(num)d days after each customer's %(field)s",
                        int(segment["days_after"]), field=segment["field"])
    if segment.get("since"):
        return gettext("customers whose %(field)s is on or after %(day)s", field=segment["field"],
                       day=segment["since"])
    if segment.get("field"):
        return gettext("customers whose %(field)s is %(value)s", field=segment["field"], value=segment["value"])
    return gettext("nobody")


def preview(segment: dict[str, Any], subject: str, body: str,
            translations: Mapping[str, tuple[str, str]] | None = None,
            announcement: Announcement | None = None) -> dict[str, Any]:
    """Who would receive it: counts, and the text as the first consenting customer would read it
    (in their language: ``translations`` as typed, else the saved ``announcement``'s)."""
    people = segment_customers(segment)
    consenting = [p for p in people if p.consents_to("updates")]
    sample = None
    if consenting:
        sample = compose(announcement or Announcement(id=0, subject=subject, body=body, segment=segment),
                         consenting[0], translations=translations)
    return {"total": len(people), "consenting": len(consenting), "without_consent": len(people) - len(consenting),
            "sample_to": consenting[0] if consenting else None, "sample": sample}


def create_announcement(actor: User, *, subject: str, body: str, segment: dict[str, Any],
                        banner: bool = False,
                        translations: Mapping[str, tuple[str, str]] | None = None) -> Announcement:
    """Save an announcement; ``translations``: ``{language: (subject, text)}`` for customers in
    other languages than the site's (an empty text: they get the default one)."""
    if not may_announce(actor):
        raise PermissionDenied(gettext('Only admins and team leads send announcements.'))
    subject, body = (subject or "").strip(), (body or "").strip()
    if not subject or len(subject) > 200:
        raise ServiceError(gettext('Enter a subject (200 characters at most).'), field="subject")
    if not body or len(body) > 20_000:
        raise ServiceError(gettext('Write the announcement (20,000 characters at most).'), field="body")
    segment = check_segment(segment)
    try:
        render_notice(body, actor_sample(), None)
    except ValueError as exc:
        raise ServiceError(str(exc), field="body") from None
    translations = dict(translations or {})
    check_translations(translations)
    for code, (_subject, text) in translations.items():
        if text.strip():
            try:
                render_notice(text, actor_sample(), None)
            except ValueError as exc:
                raise ServiceError(str(exc), field=f"body_{code}") from None
    announcement = Announcement(subject=subject, body=body, segment=segment, banner=bool(banner),
                                created_by_id=actor.id)
    db.session.add(announcement)
    db.session.flush()
    save_translations("announcement", announcement.id, translations)
    with force_locale("en"):  # stored: every admin reads the audit log as it was written
        segment_text = describe_segment(segment)
    audit_target = lazy_gettext("announcement %(subject)s (#%(id)s)", subject=subject, id=announcement.id)
    admin_audit.record("announcement", "created", audit_target, None,
                       {"subject": subject, "segment": segment_text, "banner": bool(banner)}, actor=actor)
    db.session.commit()
    return announcement


def actor_sample() -> User:
    """A customer-shaped stand-in to check an announcement's placeholders before saving."""
    return User(name="Carla Customer", email="carla@example.com", role="customer", custom_fields={})


def unsubscribe_token(customer: User, kind: str = "updates") -> str:
    serializer = URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=UNSUBSCRIBE_SALT)
    return serializer.dumps([customer.id, kind])


def read_unsubscribe_token(token: str) -> tuple[int, str] | None:
    serializer = URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=UNSUBSCRIBE_SALT)
    try:
        customer_id, kind = serializer.loads(token, max_age=UNSUBSCRIBE_DAYS * 86400)
    except (BadSignature, ValueError, TypeError):
        return None
    return int(customer_id), str(kind)


def localized(announcement: Announcement, person: Any,
              translations: Mapping[str, tuple[str, str]] | None = None,
              language: str | None = None) -> tuple[str, str]:
    """``(subject, text)`` as written for ``person``'s language (not rendered): the text in their
    language when there is one (``translations`` overrides the stored ones), else the default."""
    if translations is not None:
        subject, body = translations.get(language or customer_language(person), ("", ""))
        if body.strip():
            return (subject.strip() or announcement.subject), body
        return announcement.subject, announcement.body
    subject, body = text_for("announcement", announcement.id, announcement.body, person,
                             subject=announcement.subject, language=language)
    return subject or announcement.subject, body


def compose(announcement: Announcement, customer: User,
            translations: Mapping[str, tuple[str, str]] | None = None) -> dict[str, str]:
    """Subject and text for one customer: in their language (its own text when the announcement
    has one), placeholders filled in the sandbox, with the links."""
    subject, body = localized(announcement, customer, translations)
    with customer_locale(customer):
        text = render_notice(body, customer, None)
        unsubscribe = external_url("announcements.unsubscribe", unsubscribe_token=unsubscribe_token(customer))
        ask = external_url("portal.new_ticket", announcement=announcement.id)
        footer = gettext("Questions? Reply to this message or write to us here: %(link)s", link=ask)
        stop = gettext("No more announcements: %(link)s", link=unsubscribe)
    subject = f"{subject} [Announcement #{announcement.id}]"
    return {"subject": subject, "text": f"{text.strip()}\n\n{footer}\n{stop}\n", "unsubscribe": unsubscribe}


def start_sending(announcement: Announcement, actor: User) -> None:
    """Hand the sending to a job (``send_announcement_job``): the page shows its progress."""
    if not may_announce(actor):
        raise PermissionDenied(gettext('Only admins and team leads send announcements.'))
    announcement.send_total = len(segment_customers(announcement.segment))
    announcement.send_started_at, announcement.send_finished_at = utcnow(), None
    db.session.commit()
    send_announcement_job(announcement.id)


@task(retries=5, retry_delay=30)
def send_announcement_job(announcement_id: int, stale_before: str | None = None) -> dict[str, int] | None:
    """Send an announcement to its segment in batches (see ``send_announcement``). Safe to run
    again after a crash or an error: whoever has a row is not written to again. A database
    error retries the job (5 times, 30 s apart); mail is delivered (and retried) by the outbox."""
    announcement = db.session.get(Announcement, announcement_id)
    if announcement is None:
        return None
    return send_announcement(announcement,
                             stale_before=datetime.fromisoformat(stale_before) if stale_before else None)


@periodic_task(crontab(minute="*/5"))
def resume_announcements_job() -> int:
    """Every 5 minutes in the worker: an announcement whose sending job died (the worker was
    killed, the queue lost it) and made no progress for ``SENDING_LEASE`` is sent on."""
    return len(resume_stalled())


def resume_stalled(now: datetime | None = None) -> list[int]:
    now = now or utcnow()
    stalled = []
    for announcement in db.session.scalars(select(Announcement).where(
            Announcement.send_started_at.is_not(None), Announcement.send_finished_at.is_(None))):
        last = db.session.scalar(select(func.max(AnnouncementRecipient.updated_at)).where(
            AnnouncementRecipient.announcement_id == announcement.id))
        if max(last or announcement.send_started_at, announcement.send_started_at) < now - SENDING_LEASE:
            stalled.append(announcement.id)
    for announcement_id in stalled:
        send_announcement_job(announcement_id, (now - SENDING_LEASE).isoformat())
    return stalled


def send_progress(announcement: Announcement) -> dict[str, Any]:
    """For the announcement's page: how far the sending job is."""
    done = db.session.scalar(select(func.count()).select_from(AnnouncementRecipient).where(
        AnnouncementRecipient.announcement_id == announcement.id, AnnouncementRecipient.status != "sending")) or 0
    total = max(announcement.send_total or 0, done)
    running = announcement.send_started_at is not None and announcement.send_finished_at is None
    return {"done": done, "total": total, "running": running,
            "percent": int(100 * done / total) if total else 100}


def message_id_for(announcement: Announcement, customer: User) -> str:
    """The same Message-ID each time this customer's copy is made: a copy sent again after a
    crash is the same message to their mail server."""
    domain = (site_setting("mail_from") or "").rpartition("@")[2] or "helpdesk.invalid"
    return f"<announcement-{announcement.id}-{customer.id}@{domain}>"


def send_announcement(announcement: Announcement, actor: User | None = None, *,
                      stale_before: datetime | None = None) -> dict[str, int]:
    """Send to everyone in the segment not written to yet, ``BATCH`` customers at a time;
    returns counts by status.

    Per batch: the batch's ``sending`` rows are committed first (``_claim_batch``: the unique
    key makes each customer one sender's), then every message, notice record and row outcome
    of the batch are committed together (``batched_mail``, one delivery job per mail batch).
    A crash in between leaves the batch ``sending`` and nothing sent, and the next run takes
    those rows over once ``SENDING_LEASE`` has passed (``stale_before``: rows "sending"
    untouched since before then are taken over; default now minus the lease).
    """
    if actor is not None and not may_announce(actor):
        raise PermissionDenied(gettext('Only admins and team leads send announcements.'))
    announcement_id = announcement.id
    if announcement.send_started_at is None:
        announcement.send_started_at = utcnow()
    counts: dict[str, int] = {}
    stale_before = stale_before or utcnow() - SENDING_LEASE
    ids = [c.id for c in segment_customers(announcement.segment)]
    for start in range(0, len(ids), BATCH):
        mine = _claim_batch(announcement_id, ids[start:start + BATCH], stale_before)
        if not mine:
            continue  # done, or other workers have them now
        announcement = db.session.get(Announcement, announcement_id)
        customers = list(db.session.scalars(select(User).where(User.id.in_(mine)).order_by(User.id)
                                            .options(selectinload(User.identities))))  # their addresses
        with batched_mail():
            for customer in customers:
                status = _send_one(announcement, customer)
                counts[status] = counts.get(status, 0) + 1
        db.session.expire_all()  # the next batch with fresh rows, and a small session
    announcement = db.session.get(Announcement, announcement_id)
    announcement.sent_at = announcement.sent_at or utcnow()
    if not db.session.scalar(select(AnnouncementRecipient.id).where(
            AnnouncementRecipient.announcement_id == announcement_id, AnnouncementRecipient.status == "sending")
            .limit(1)):
        announcement.send_finished_at = utcnow()
    db.session.commit()
    return counts


def _claim_batch(announcement_id: int, customer_ids: list[int], stale_before: datetime) -> list[int]:
    """The customers of this batch this sender writes to, claimed in one commit: a new
    ``sending`` row for each customer nobody has yet (a row another sender inserted first is
    left alone), and the rows left ``sending`` by a sender that died before ``stale_before``."""
    table = AnnouncementRecipient.__table__
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    taken = set(db.session.scalars(select(AnnouncementRecipient.customer_id).where(
        AnnouncementRecipient.announcement_id == announcement_id,
        AnnouncementRecipient.customer_id.in_(customer_ids))))
    channels = dict(db.session.execute(select(User.id, User.preferred_channel).where(User.id.in_(customer_ids))).all())
    now = utcnow()
    new = [{"announcement_id": announcement_id, "customer_id": customer_id, "status": "sending",
            "channel": (channels.get(customer_id) or "email")[:40], "created_at": now, "updated_at": now}
           for customer_id in customer_ids if customer_id not in taken and customer_id in channels]
    mine: list[int] = []
    if new:
        mine += db.session.scalars(insert(table).values(new).on_conflict_do_nothing()
                                   .returning(table.c.customer_id)).all()
    if taken:
        mine += db.session.scalars(update(AnnouncementRecipient).where(
            AnnouncementRecipient.announcement_id == announcement_id,
            AnnouncementRecipient.customer_id.in_(taken), AnnouncementRecipient.status == "sending",
            AnnouncementRecipient.updated_at < stale_before).values(updated_at=now)
            .returning(AnnouncementRecipient.customer_id)).all()
    db.session.commit()
    return mine


def _send_one(announcement: Announcement, customer: User) -> str:
    """Send to one claimed customer and record the outcome (committed by the batch)."""
    # The reason is stored in English (N_ marks it for the catalogue); the page translates it.
    status, reason = "sent", None
    if not customer.consents_to("updates"):
        status, reason = "no_consent", N_("the customer does not want announcements")
    else:
        message = compose(announcement, customer)
        ok = notify_customer(customer, message["subject"], message["text"], channel_name=customer.preferred_channel,
                             headers={"List-Unsubscribe": f"<{message['unsubscribe']}>",
                                      "Auto-Submitted": "auto-generated",
                                      "Message-ID": message_id_for(announcement, customer)})
        if not ok:
            status, reason = _why_not_sent(customer)
    db.session.execute(update(AnnouncementRecipient).where(
        AnnouncementRecipient.announcement_id == announcement.id,
        AnnouncementRecipient.customer_id == customer.id).values(
        status=status, reason=reason, updated_at=utcnow()))
    return status


def _why_not_sent(customer: User) -> tuple[str, str]:
    last = db.session.scalar(select(CustomerNotice).where(CustomerNotice.customer_id == customer.id)
                             .order_by(CustomerNotice.id.desc()).limit(1))
    if last is not None and last.status == "held":
        return "held", (last.reason or N_("held back"))[:300]
    return "unreachable", N_("the customer cannot be reached")


def end_banner(announcement: Announcement, actor: User) -> None:
    if not may_announce(actor):
        raise PermissionDenied(gettext('Only admins and team leads change announcements.'))
    announcement.banner = False
    announcement.banner_until = utcnow()
    db.session.commit()


def banner_text(announcement: Announcement, reader: User | None) -> tuple[str, str]:
    """The banner's subject and text for whoever reads the page: in their language, placeholders
    filled in the sandbox (a signed-in customer's own values; for a visitor, the page's language
    and empty personal values). A text that cannot be filled shows the subject only."""
    language = current_language()  # the page's
    if reader is None or getattr(reader, "role", None) != "customer":
        reader = User(name="", email="", role="customer", custom_fields={}, language=language)
    subject, body = localized(announcement, reader, language=language)
    try:
        text = render_notice(body, reader, None)
    except ValueError:
        text = ""
    return subject, text


def current_banner(now: datetime | None = None) -> Announcement | None:
    """The newest announcement shown as a portal banner, if any."""
    now = now or utcnow()
    return db.session.scalar(select(Announcement).where(
        Announcement.banner.is_(True), (Announcement.banner_until.is_(None)) | (Announcement.banner_until > now))
        .order_by(Announcement.id.desc()).limit(1))


def announcement_in(text: str) -> int | None:
    """The announcement a new ticket answers (``[Announcement #12]`` in its subject or text)."""
    match = MARKER.search(text or "")
    if match is None:
        return None
    number = int(match.group(1))
    return number if db.session.get(Announcement, number) is not None else None


@periodic_task(crontab(minute="41"))
def send_due_checkins_job() -> int:
    """Hourly in the worker: ``send_due_checkins``."""
    return send_due_checkins()


def send_due_checkins() -> int:
    """Each started check-in (sent once by hand) goes to the customers now due; returns how many."""
    sent = 0
    for announcement in db.session.scalars(select(Announcement).where(Announcement.sent_at.is_not(None))
                                           .order_by(Announcement.id)):
        if (announcement.segment or {}).get("days_after") is not None:
            sent += send_announcement(announcement).get("sent", 0)
    return sent
