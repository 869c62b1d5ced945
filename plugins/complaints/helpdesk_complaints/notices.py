"""What the plugin sends: acknowledgements, follow-up questions, and supervisors' alerts.

Customers hear from us through ``services.notify_customer`` (the ticket's channel; not a
ticket message, never a first response). Each acknowledgement and follow-up is claimed
with a conditional UPDATE before it is sent, so two processes never send the same one.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from helpdesk.plugin_api import (
    Message,
    Text,
    Ticket,
    User,
    can_see_ticket,
    customer_locale,
    db_session,
    english_text,
    external_url,
    gettext,
    lazy_gettext,
    queue_mail,
    services,
    utcnow,
    words_of,
)
from helpdesk_complaints.config import setting
from helpdesk_complaints.flags import first_message, flag_of, is_auto_reply
from helpdesk_complaints.inputs import get_by_id
from helpdesk_complaints.models import ComplaintAck, ComplaintAlert, ComplaintFollowUp, ComplaintStep
from helpdesk_complaints.rules import render_template_text

log = logging.getLogger(__name__)

FOLLOWUP_SALT = "complaints-followup"
APOLOGY = "We are sorry that things did not go as they should have."

DEFAULT_ACK = """Hi {{ first_name }},

thank you for telling us about this{% if apology %}. {{ apology }}{% else %}.{% endif %}

Your request is {{ reference }} ("{{ subject }}").

What happens next: {{ next_steps }}

If you reply, please keep {{ reference }} in the subject so it reaches the right person."""


def mark_step(ticket_id: int, step: str, user: User | None, note: Text = "", when: datetime | None = None) -> bool:
    """Mark a playbook step done if it is not (no commit). True when it was newly done.

    A ``note`` the plugin writes is given as ``lazy_gettext(...)``: stored in English and as
    words, read in each agent's language (``ComplaintStep.note_text``)."""
    if db_session().scalar(select(ComplaintStep.id).where(ComplaintStep.ticket_id == ticket_id,
                                                        ComplaintStep.step == step)):
        return False
    db_session().add(ComplaintStep(ticket_id=ticket_id, step=step, done_at=when or utcnow(),
                                 done_by_id=user.id if user else None, note=english_text(note) or "",
                                 note_words=words_of(note)))
    return True


# ------------------------------------------------------------------ acknowledgement


def default_ack() -> str:
    """The built-in acknowledgement in the current language (``DEFAULT_ACK`` in English)."""
    return gettext("""Hi {{ first_name }},

thank you for telling us about this{% if apology %}. {{ apology }}{% else %}.{% endif %}

Your request is {{ reference }} ("{{ subject }}").

What happens next: {{ next_steps }}

If you reply, please keep {{ reference }} in the subject so it reaches the right person.""")


def ack_values(ticket: Ticket) -> dict[str, str]:
    """The acknowledgement's values, in the current language (the customer's when sending)."""
    customer = ticket.customer
    apology = gettext("We are sorry that things did not go as they should have.")
    return {"first_name": customer.first_name or customer.name or gettext("there"), "name": customer.name or "",
            "reference": ticket.reference, "subject": ticket.subject,
            "next_steps": setting("next_steps") or "", "apology": apology if setting("apology") else ""}


def acknowledge_later(ticket: Ticket, first: Message, *, detected: bool) -> bool:
    """On a new ticket, in its transaction: owe its acknowledgement and send it from a job.

    The acknowledgement is written ``pending`` with the ticket (one commit for both) and the
    job that sends it (``send_acknowledgement_job``) is queued after that commit, so building
    and sending it costs the customer's request nothing. Nothing is lost if the process dies
    in between: the row stays pending and the ten-minute job sends it (``send_pending_acks``).
    ``detected`` and the rules' pending acknowledgement are as for ``acknowledge``. True when
    one is owed.
    """
    if is_auto_reply(first):
        return False
    # A rule's, written while routing this ticket (the identity map may have let it go).
    ack = db_session().scalar(select(ComplaintAck).where(ComplaintAck.ticket_id == ticket.id))
    if ack is None:
        if not (detected and setting("acknowledge")):
            return False
        ack = ComplaintAck(ticket_id=ticket.id, status="pending", reason="complaint detected")
        db_session().add(ack)
    elif ack.status != "pending":
        return False
    from helpdesk_complaints.jobs import send_acknowledgement_job

    send_acknowledgement_job(ticket.id)
    return True


def send_pending_acks(now: datetime | None = None, grace: timedelta = timedelta(minutes=2)) -> int:
    """Send the acknowledgements still pending ``grace`` after they were written (their job
    was lost: the process died after the commit, the queue was cleared). The claim in
    ``acknowledge`` keeps a job running late at the same time from sending a second one.
    A day later an acknowledgement is no longer news (and one that is never sent, to an
    auto-reply, is not looked at again)."""
    now = now or utcnow()
    ticket_ids = list(db_session().scalars(select(ComplaintAck.ticket_id).where(
        ComplaintAck.status == "pending", ComplaintAck.created_at <= now - grace,
        ComplaintAck.created_at > now - timedelta(days=1)).order_by(ComplaintAck.id).limit(500)))
    sent = 0
    for ticket_id in ticket_ids:
        ticket = db_session().get(Ticket, ticket_id)
        if ticket is not None and acknowledge(ticket, detected=False) is not None:
            sent += 1
    return sent


def acknowledge(ticket: Ticket, *, detected: bool) -> ComplaintAck | None:
    """Send the ticket's one acknowledgement, if it is owed and not sent yet.

    ``detected``: the ticket was just detected as a complaint (sent when the setting is on).
    A rule's pending acknowledgement is sent whatever the setting says: the admin asked.
    Never to an auto-reply.
    """
    first = first_message(ticket)
    if is_auto_reply(first):
        return None
    ack = db_session().scalar(select(ComplaintAck).where(ComplaintAck.ticket_id == ticket.id))
    if ack is None:
        if not (detected and setting("acknowledge")):
            return None
        flag = flag_of(ticket.id)
        if flag is None or not flag.active:
            return None
        # Written already claimed ("sending"): the unique ticket id is the claim, so a new
        # acknowledgement costs one commit, not an insert and then a claim (issue 19).
        ack = ComplaintAck(ticket_id=ticket.id, status="sending", reason="complaint detected")
        db_session().add(ack)
        try:
            db_session().commit()
        except IntegrityError:
            db_session().rollback()
            return None  # another process wrote it, and sends it
    elif ack.status != "pending":
        return ack
    else:
        claim = db_session().execute(update(ComplaintAck).where(ComplaintAck.id == ack.id,
                                                                ComplaintAck.status == "pending")
                                     .values(status="sending"))
        db_session().commit()
        if claim.rowcount != 1:  # type: ignore[attr-defined]  # a CursorResult
            return None  # another process is sending it
    with customer_locale(ticket.customer):  # the built-in words in the customer's language
        values = ack_values(ticket)
        try:
            text = render_template_text(ack.template or default_ack(), values)
        except Exception:  # a rule's template that broke after it was saved: the default still goes out
            log.exception("acknowledgement template of %s failed; sending the default", ticket.reference)
            text = render_template_text(default_ack(), values)
        subject = gettext("We have your message [%(reference)s]", reference=ticket.reference)
    sent = services.notify_customer(ticket.customer, subject, text, ticket=ticket)
    db_session().refresh(ack)
    ack.status = "sent" if sent else "unreachable"
    ack.subject, ack.text, ack.channel = subject, text, ticket.channel
    ack.sent_at = utcnow()
    if sent:
        mark_step(ticket.id, "acknowledge", None, note=lazy_gettext("acknowledgement sent automatically"))
    db_session().commit()
    return ack


# ------------------------------------------------------------------ alerts


def email_alerts(ticket_id: int) -> int:
    """Email the alerts of a ticket that were written in its transaction (rules' notices)."""
    alerts = list(db_session().scalars(select(ComplaintAlert).where(
        ComplaintAlert.ticket_id == ticket_id, ComplaintAlert.emailed_at.is_(None))))
    count = 0
    for alert in alerts:
        claim = db_session().execute(update(ComplaintAlert).where(
            ComplaintAlert.id == alert.id, ComplaintAlert.emailed_at.is_(None)).values(emailed_at=utcnow()))
        db_session().commit()
        if claim.rowcount == 1:  # type: ignore[attr-defined]  # a CursorResult
            send_alert_mail(alert)
            count += 1
    return count


def send_alert_mail(alert: ComplaintAlert) -> None:
    person = db_session().get(User, alert.user_id)
    ticket = db_session().get(Ticket, alert.ticket_id)
    if person is None or not person.email or ticket is None:
        return
    if not can_see_ticket(person, ticket):  # a team-scoped lead of another team: the mail would leak it
        return
    link = external_url("agent.ticket", reference=ticket.reference)
    with customer_locale(person):  # the lead's own language, as on their dashboard
        said = alert.shown_text
        text = (gettext("Hi %(name)s,", name=person.first_name or person.name) + f"\n\n{said}\n\n"
                f"{ticket.reference}: {ticket.subject}\n{link}\n")
    # The outbox is the core's mail queue (delivered by a job with retries). plugin_api does not
    # export it yet: reached through the services package (see the README's "core requests").
    queue_mail(person.email, f"[{ticket.reference}] {said}"[:200], text, ticket_id=ticket.id)


# ------------------------------------------------------------------ follow-up


def serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=FOLLOWUP_SALT)


def followup_token(followup: ComplaintFollowUp) -> str:
    return serializer().dumps({"f": followup.id, "t": followup.ticket_id})


class TokenProblem(Exception):
    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.message, self.status = message, status


def followup_from_token(token: str) -> ComplaintFollowUp:
    """The follow-up a link points at; TokenProblem (with a page to show) otherwise."""
    max_age = int(setting("followup_link_days") or 30) * 86400
    try:
        data = serializer().loads(token, max_age=max_age)
    except SignatureExpired:
        raise TokenProblem(gettext("This link has expired. If your concern is not resolved, simply reply to your "
                                   "ticket or open a new one."), 400) from None
    except BadSignature:
        raise TokenProblem(gettext("This link is not valid. Please use the link from our message exactly as it was "
                                   "sent."), 400) from None
    if not isinstance(data, dict):
        raise TokenProblem(gettext("This link is not valid."), 400)
    followup = get_by_id(ComplaintFollowUp, data.get("f"))
    # Only a question that was sent can be answered: a link is made when it is sent, so any
    # other one was not made by us for this question.
    if (followup is None or followup.ticket_id != data.get("t") or followup.sent_at is None
            or followup.cancelled_at is not None):
        raise TokenProblem(gettext("We could not find this question any more. Please reply to your ticket instead."),
                           404)
    return followup


def schedule_followup(ticket: Ticket, now: datetime | None = None) -> ComplaintFollowUp | None:
    """A complaint was resolved: ask, ``followup_days`` later, whether we resolved the concern."""
    days = setting("followup_days") or 0
    if days <= 0 or is_auto_reply(first_message(ticket)):
        return None
    now = now or utcnow()
    followup = db_session().scalar(select(ComplaintFollowUp).where(ComplaintFollowUp.ticket_id == ticket.id))
    if followup is None:
        followup = ComplaintFollowUp(ticket_id=ticket.id, due_at=now + timedelta(days=days))
        db_session().add(followup)
    elif followup.sent_at is None:
        followup.due_at, followup.cancelled_at = now + timedelta(days=days), None
    else:
        return followup  # asked already (a second resolution is not asked again)
    try:
        db_session().commit()
    except IntegrityError:
        db_session().rollback()
        return None
    return followup


def cancel_followup(ticket: Ticket) -> None:
    db_session().execute(update(ComplaintFollowUp).where(
        ComplaintFollowUp.ticket_id == ticket.id, ComplaintFollowUp.sent_at.is_(None),
        ComplaintFollowUp.cancelled_at.is_(None)).values(cancelled_at=utcnow()))
    db_session().commit()


FOLLOWUP_TEXT = """Hi {first_name},

a few days ago we resolved {reference} ("{subject}"). Did we resolve your concern?

Tell us with one click (it takes a minute, and a "no" reopens your request):
{link}

Thank you."""


def send_due_followups(now: datetime | None = None) -> int:
    """Send every follow-up that is due at ``now``; returns how many went out."""
    now = now or utcnow()
    due = list(db_session().scalars(select(ComplaintFollowUp).where(
        ComplaintFollowUp.sent_at.is_(None), ComplaintFollowUp.cancelled_at.is_(None),
        ComplaintFollowUp.due_at <= now).order_by(ComplaintFollowUp.id).limit(500)))
    sent = 0
    for followup in due:
        ticket = db_session().get(Ticket, followup.ticket_id)
        flag = flag_of(followup.ticket_id)
        if ticket is None or ticket.status not in ("resolved", "closed") or flag is None or not flag.active:
            followup.cancelled_at = now  # reopened, or no longer a complaint: nothing to ask
            db_session().commit()
            continue
        claim = db_session().execute(update(ComplaintFollowUp).where(
            ComplaintFollowUp.id == followup.id, ComplaintFollowUp.sent_at.is_(None)).values(sent_at=now))
        db_session().commit()
        if claim.rowcount != 1:  # type: ignore[attr-defined]  # a CursorResult
            continue
        link = external_url("complaints.followup", followup_token=followup_token(followup))
        customer = ticket.customer
        text = FOLLOWUP_TEXT.format(first_name=customer.first_name or customer.name, reference=ticket.reference,
                                    subject=ticket.subject, link=link)
        services.notify_customer(customer, f"Did we resolve your concern? [{ticket.reference}]", text, ticket=ticket)
        sent += 1
    return sent
