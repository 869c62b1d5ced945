"""Announcements: a message to a segment of customers (a change, an outage, a new feature).

- A segment is one of: an organisation (``{"organisation_id": 3}``), customers with a ticket
  tagged X (``{"tag": "billing", "open_only": true}`` for open tickets on a theme), customers
  with open tickets (``{"open_tickets": true}``), a custom field's value
  (``{"field": "plan", "value": "pro"}``) or date on or after a day
  (``{"field": "purchase_date", "since": "2026-11-01"}``: recent buyers). Only active
  customers count.
- Sending writes one ``announcement_recipients`` row per customer (unique, so sending twice,
  or two workers at once, never writes to anyone twice): ``no_consent`` for customers who
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
from datetime import date, datetime, timedelta
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

import helpdesk.services.admin_audit as admin_audit
from helpdesk.canned import render_notice
from helpdesk.extensions import db
from helpdesk.i18n import customer_locale, gettext
from helpdesk.jobs import crontab, periodic_task
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
from helpdesk.services.notices import notify_customer

CHECKIN_WINDOW_DAYS = 7
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
            raise ServiceError("Choose an organisation.", field="segment")
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
                raise ServiceError("Days after: a whole number from 0 to 3650.", field="segment")
            return {"field": field, "days_after": days}
        if segment.get("since"):
            try:
                return {"field": field, "since": date.fromisoformat(str(segment["since"])).isoformat()}
            except ValueError:
                raise ServiceError("Write the day as YYYY-MM-DD.", field="segment") from None
        if segment.get("value") in (None, ""):
            raise ServiceError("Give the field's value (or a day for a date field).", field="segment")
        return {"field": field, "value": str(segment["value"])}
    raise ServiceError("Choose who receives it: an organisation, a tag, customers with open tickets "
                       "or a custom field's value.", field="segment")


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
    if segment.get("organisation_id"):
        org = db.session.get(Organisation, segment["organisation_id"])
        return f"organisation {org.name if org else '(deleted)'}"
    if segment.get("tag"):
        return f"customers with {'open ' if segment.get('open_only') else ''}tickets tagged {segment['tag']}"
    if segment.get("open_tickets"):
        return "customers with open tickets"
    if segment.get("days_after") is not None:
        return f"check-in {segment['days_after']} days after each customer's {segment['field']}"
    if segment.get("since"):
        return f"customers whose {segment['field']} is on or after {segment['since']}"
    if segment.get("field"):
        return f"customers whose {segment['field']} is {segment['value']}"
    return "nobody"


def preview(segment: dict[str, Any], subject: str, body: str) -> dict[str, Any]:
    """Who would receive it: counts, and the text as the first consenting customer would read it."""
    people = segment_customers(segment)
    consenting = [p for p in people if p.consents_to("updates")]
    sample = None
    if consenting:
        sample = compose(Announcement(id=0, subject=subject, body=body, segment=segment), consenting[0])
    return {"total": len(people), "consenting": len(consenting), "without_consent": len(people) - len(consenting),
            "sample_to": consenting[0] if consenting else None, "sample": sample}


def create_announcement(actor: User, *, subject: str, body: str, segment: dict[str, Any],
                        banner: bool = False) -> Announcement:
    if not may_announce(actor):
        raise PermissionDenied("Only admins and team leads send announcements.")
    subject, body = (subject or "").strip(), (body or "").strip()
    if not subject or len(subject) > 200:
        raise ServiceError("Enter a subject (200 characters at most).", field="subject")
    if not body or len(body) > 20_000:
        raise ServiceError("Write the announcement (20,000 characters at most).", field="body")
    segment = check_segment(segment)
    try:
        render_notice(body, actor_sample(), None)
    except ValueError as exc:
        raise ServiceError(str(exc), field="body") from None
    announcement = Announcement(subject=subject, body=body, segment=segment, banner=bool(banner),
                                created_by_id=actor.id)
    db.session.add(announcement)
    db.session.flush()
    admin_audit.record("announcement", "created", f"announcement {subject} (#{announcement.id})", None,
                       {"subject": subject, "segment": describe_segment(segment), "banner": bool(banner)},
                       actor=actor)
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


def compose(announcement: Announcement, customer: User) -> dict[str, str]:
    """Subject and text for one customer: placeholders filled, in their language, with the links."""
    with customer_locale(customer):
        text = render_notice(announcement.body, customer, None)
        unsubscribe = external_url("announcements.unsubscribe", unsubscribe_token=unsubscribe_token(customer))
        ask = external_url("portal.new_ticket", announcement=announcement.id)
        footer = gettext("Questions? Reply to this message or write to us here: %(link)s", link=ask)
        stop = gettext("No more announcements: %(link)s", link=unsubscribe)
    subject = f"{announcement.subject} [Announcement #{announcement.id}]"
    return {"subject": subject, "text": f"{text.strip()}\n\n{footer}\n{stop}\n", "unsubscribe": unsubscribe}


def send_announcement(announcement: Announcement, actor: User | None = None) -> dict[str, int]:
    """Send to everyone in the segment not written to yet; returns counts by status."""
    if actor is not None and not may_announce(actor):
        raise PermissionDenied("Only admins and team leads send announcements.")
    done = set(db.session.scalars(select(AnnouncementRecipient.customer_id)
                                  .where(AnnouncementRecipient.announcement_id == announcement.id)))
    counts: dict[str, int] = {}
    for customer in segment_customers(announcement.segment):
        if customer.id in done:
            continue
        status, reason, channel = "sent", None, customer.preferred_channel or "email"
        if not customer.consents_to("updates"):
            status, reason = "no_consent", "the customer does not want announcements"
        if not _claim(announcement, customer, channel):
            continue  # another worker has it
        if status == "sent":
            message = compose(announcement, customer)
            ok = notify_customer(customer, message["subject"], message["text"], channel_name=customer.preferred_channel,
                                 headers={"List-Unsubscribe": f"<{message['unsubscribe']}>",
                                          "Auto-Submitted": "auto-generated"})
            if not ok:
                status, reason = _why_not_sent(customer)
        row = db.session.scalar(select(AnnouncementRecipient).where(
            AnnouncementRecipient.announcement_id == announcement.id, AnnouncementRecipient.customer_id == customer.id))
        if row is not None:
            row.status, row.reason = status, reason
        counts[status] = counts.get(status, 0) + 1
        db.session.commit()
    announcement.sent_at = announcement.sent_at or utcnow()
    db.session.commit()
    return counts


def _claim(announcement: Announcement, customer: User, channel: str) -> bool:
    """Insert this customer's row first: the unique key makes each customer one sender's."""
    try:
        with db.session.begin_nested():
            db.session.add(AnnouncementRecipient(announcement_id=announcement.id, customer_id=customer.id,
                                                 channel=channel[:40], status="sending"))
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return False
    return True


def _why_not_sent(customer: User) -> tuple[str, str]:
    last = db.session.scalar(select(CustomerNotice).where(CustomerNotice.customer_id == customer.id)
                             .order_by(CustomerNotice.id.desc()).limit(1))
    if last is not None and last.status == "held":
        return "held", (last.reason or "held back")[:300]
    return "unreachable", "the customer cannot be reached"


def end_banner(announcement: Announcement, actor: User) -> None:
    if not may_announce(actor):
        raise PermissionDenied("Only admins and team leads change announcements.")
    announcement.banner = False
    announcement.banner_until = utcnow()
    db.session.commit()


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
