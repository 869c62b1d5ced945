"""Composing invitations and sending the due ones (the periodic job's work).

The job claims due rows with one conditional UPDATE (``status='scheduled'`` →
``'sending'``) and sends only the rows its own UPDATE changed, so two workers never send
the same invitation. A row left in ``sending`` by a crashed worker is released after
``STALE_CLAIM`` and sent again (at least once, never lost).
"""
from __future__ import annotations

import functools
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app, render_template
from jinja2 import StrictUndefined, Template, TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from helpdesk.plugin_api import (
    Ticket,
    User,
    batched_mail,
    customer_locale,
    customer_placeholders,
    db_session,
    gettext,
    mail_time,
    services,
    text_for,
    utcnow,
)
from helpdesk_surveys.config import CSAT_LABELS, DEFAULT_TYPES, TEXTS_KIND, TYPE_NUMBERS, setting, survey_type
from helpdesk_surveys.models import KINDS, SCALES, SurveyInvitation, SurveyType
from helpdesk_surveys.scheduling import blocked_reason, load_contacts, quiet_until, take_throttle_turn
from helpdesk_surveys.tokens import make_token

log = logging.getLogger(__name__)

STALE_CLAIM = timedelta(minutes=15)
# Admins write the templates: plain values only, in Jinja's sandbox (as the core's canned replies).
_env = ImmutableSandboxedEnvironment(autoescape=False, undefined=StrictUndefined)


def site_name() -> str:
    # The core's public template helper: the helpdesk name the admin chose.
    return str(current_app.jinja_env.globals["site_name"]())  # type: ignore[operator]


def variables(customer: User, ticket: Ticket | None, agent: User | None) -> dict[str, Any]:
    # The core's customer placeholders (preferred name, language, organisation, custom fields).
    values = customer_placeholders(customer, ticket)
    values.setdefault("ticket", {"reference": "", "subject": "", "status": "", "fields": {}})
    return {
        **values,
        "agent": {"name": agent.name if agent else "", "first_name": agent.first_name if agent else ""},
        "helpdesk": {"name": site_name()},
    }


@functools.lru_cache(maxsize=64)
def _compiled(source: str) -> Template:
    return _env.from_string(source)  # compiling costs more than rendering: once per template text


def render_text(source: str, values: dict[str, Any]) -> str:
    """Render an admin's template; raises TemplateError (shown next to the field)."""
    return _compiled(source).render(values)


def check_template(source: str) -> str | None:
    """None if the template renders with sample values, else the error for the form."""
    sample = {"customer": {"name": "Carla Customer", "first_name": "Carla", "email": "carla@example.com",
                           "preferred_name": "", "greeting_name": "Carla", "language": "en", "timezone": "UTC",
                           "preferred_channel": "", "organisation": "", "fields": {}},
              "organisation": {"name": "", "fields": {}},
              "ticket": {"reference": "HD-1", "subject": "Printer on fire", "status": "resolved", "fields": {}},
              "agent": {"name": "Alex Agent", "first_name": "Alex"}, "helpdesk": {"name": "Helpdesk"}}
    try:
        render_text(source, sample)
    except TemplateError as exc:
        return f"Template error: {exc}"
    except Exception as exc:  # SecurityError and friends from the sandbox
        return f"Template error: {exc}"
    return None


def external(path: str) -> str:
    """Absolute link for mail, from EXTERNAL_URL (never the request's Host header)."""
    return current_app.config["EXTERNAL_URL"].rstrip("/") + path


def score_labels(kind: str) -> list[tuple[int, str]]:
    """The answers' words in the current language (the customer's, inside ``customer_locale``)."""
    low, high = SCALES[kind]
    if kind == "csat":
        words = {1: gettext("Very unsatisfied"), 2: gettext("Unsatisfied"), 3: gettext("Neutral"),
                 4: gettext("Satisfied"), 5: gettext("Very satisfied")}
        return [(n, words.get(n, CSAT_LABELS[n])) for n in range(low, high + 1)]
    ends = {0: gettext("Not at all likely"), 10: gettext("Extremely likely")}
    return [(n, ends.get(n, str(n))) for n in range(low, high + 1)]


def default_texts(kind: str) -> dict[str, str]:
    """The built-in question, subject and text in the current language: an admin who kept the
    defaults gets them translated; a text the admin wrote is sent as written."""
    if kind == "csat":
        return {"question": gettext("How did we do?"),
                "subject": gettext("How did we do on {{ ticket.reference }}?"),
                "body": gettext("Hi {{ customer.first_name }},\n\nyour request {{ ticket.reference }} "
                                "(\"{{ ticket.subject }}\") was resolved{% if agent.first_name %} by "
                                "{{ agent.first_name }}{% endif %}. One click tells us how we did.")}
    return {"question": gettext("How likely are you to recommend us to a friend or colleague?"),
            "subject": gettext("A quick question from {{ helpdesk.name }}"),
            "body": gettext("Hi {{ customer.first_name }},\n\nthank you for being our customer. "
                            "One click tells us how we are doing.")}


def localized(kind_type: SurveyType | TypeText) -> tuple[str, str, str]:
    """``(question, subject, body)`` to send: each default one in the current language."""
    defaults, own = DEFAULT_TYPES[kind_type.kind], default_texts(kind_type.kind)
    return tuple(own[name] if getattr(kind_type, name) == getattr(defaults, name) else getattr(kind_type, name)
                 for name in ("question", "subject", "body"))  # type: ignore[return-value]


@dataclass
class Composed:
    subject: str
    text: str
    html: str
    inner_html: str
    headers: dict[str, str]
    links: dict[str, Any]


def compose(kind_type: SurveyType | TypeText, customer: User, ticket: Ticket | None, agent: User | None, token: str,
            expires_at: datetime | None) -> Composed:
    """The invitation as sent: subject, a text version with the short links, an HTML version
    with one-click buttons (no inline styles: it is also shown in the admin's preview); in the
    customer's language (the fixed words, and the built-in texts when the admin kept them)."""
    with customer_locale(customer):
        return _compose(kind_type, customer, ticket, agent, token, expires_at)


def _compose(kind_type: SurveyType | TypeText, customer: User, ticket: Ticket | None, agent: User | None,
             token: str, expires_at: datetime | None) -> Composed:
    values = variables(customer, ticket, agent)
    question, subject_source, body_source = localized(kind_type)
    # The admin's own text in the customer's language, when there is one.
    own_subject, own_body = text_for(TEXTS_KIND, TYPE_NUMBERS.get(kind_type.kind), "", customer)
    if own_body.strip():
        subject_source, body_source = (own_subject or subject_source), own_body
    try:
        subject = render_text(subject_source, values)
        body = render_text(body_source, values)
    except Exception:  # a template broken after saving: send the defaults rather than nothing
        log.exception("survey template for %s could not be rendered; using the default", kind_type.kind)
        defaults = default_texts(kind_type.kind)
        subject, body = render_text(defaults["subject"], values), render_text(defaults["body"], values)
    subject = " ".join(subject.split())[:300] or question
    page = external(f"/s/{token}")
    scores = {n: f"{page}?score={n}" for n, _label in score_labels(kind_type.kind)}
    unsubscribe = external(f"/s/{token}/unsubscribe")
    links = {"page": page, "scores": scores, "unsubscribe": unsubscribe}
    lines = [body.strip(), "", question]
    if kind_type.kind == "csat":
        lines.append(gettext("Click the answer that fits:"))
        lines += [f"  {n} - {label}: {scores[n]}" for n, label in score_labels("csat")]
    else:
        lines.append(gettext("Answer from 0 (not at all likely) to 10 (extremely likely): %(link)s", link=page))
    expires_text = mail_time(expires_at, customer)  # in the customer's zone, with its abbreviation
    lines += ["", gettext("The links work until %(time)s.", time=expires_text) if expires_at
              else gettext("The links work."), gettext("No more surveys: %(link)s", link=unsubscribe)]
    context = {"kind": kind_type.kind, "question": question, "body": body.strip(),
               "buttons": [(n, label, scores[n]) for n, label in score_labels(kind_type.kind)],
               "unsubscribe": unsubscribe, "expires_at": expires_at,
               "expires_text": expires_text, "site": values["helpdesk"]["name"]}
    inner = render_template("surveys/email_inner.html", **context)
    html = render_template("surveys/email.html", inner=inner, subject=subject)
    return Composed(subject=subject, text="\n".join(lines) + "\n", html=html, inner_html=inner,
                    headers={"List-Unsubscribe": f"<{unsubscribe}>"}, links=links)


def _agent_for(invitation: SurveyInvitation, ticket: Ticket | None) -> User | None:
    agent_id = (ticket.assignee_id if ticket is not None else None) or invitation.agent_id
    return db_session().get(User, agent_id) if agent_id else None


@dataclass(frozen=True)
class TypeText:
    """What a mail needs of a survey type, read once per batch (the commits after each mail
    would otherwise make the ORM read the row again for every invitation)."""

    kind: str
    question: str
    subject: str
    body: str


def type_texts() -> dict[str, TypeText]:
    out = {}
    for kind in KINDS:
        row = survey_type(kind)
        out[kind] = TypeText(kind=kind, question=row.question, subject=row.subject, body=row.body)
    return out


def send_one(invitation: SurveyInvitation, now: datetime, texts: dict[str, TypeText] | None = None) -> str:
    """Send one claimed invitation; returns its new status."""
    customer = invitation.customer
    ticket = invitation.ticket
    if invitation.purpose == "resolution" and ticket is not None and ticket.status not in ("resolved", "closed"):
        reason = "the ticket was reopened"
        invitation.status, invitation.reason = "cancelled", reason
        return invitation.status
    reason = blocked_reason(customer, ticket if invitation.purpose == "resolution" else None)
    if reason is not None:
        invitation.status, invitation.reason = "skipped", reason
        return invitation.status
    wake = quiet_until(customer.id, now)
    if wake is not None:
        invitation.status, invitation.claimed_at, invitation.send_after = "scheduled", None, wake
        invitation.reason = "postponed: quiet hours"
        return "postponed"
    if not take_throttle_turn(customer.id, now, exempt=invitation.purpose == "resurvey"):
        invitation.status = "skipped"
        invitation.reason = f"the customer was surveyed within the last {setting('throttle_days')} days"
        return invitation.status
    kind_type = (texts or type_texts())[invitation.kind]
    expires_at = now + timedelta(days=setting("validity_days"))
    message = compose(kind_type, customer, ticket, _agent_for(invitation, ticket),
                      make_token(invitation.id, customer.id), expires_at)
    invitation.status, invitation.sent_at, invitation.expires_at, invitation.reason = "sent", now, expires_at, None
    # Inside send_due's batched_mail block the outbox row is committed with this invitation.
    if not services.notify_customer(customer, message.subject, message.text, ticket=ticket, html=message.html,
                                    headers=message.headers):
        invitation.status, invitation.sent_at, invitation.expires_at = "failed", None, None
        invitation.reason = "the customer cannot be reached on this channel"
    return invitation.status


def claim(now: datetime, batch: int, commit: bool = True) -> list[int]:
    due = (select(SurveyInvitation.id)
           .where(SurveyInvitation.status == "scheduled", SurveyInvitation.send_after <= now)
           .order_by(SurveyInvitation.send_after, SurveyInvitation.id).limit(batch))
    stmt = (update(SurveyInvitation)
            .where(SurveyInvitation.id.in_(due), SurveyInvitation.status == "scheduled")
            .values(status="sending", claimed_at=now).returning(SurveyInvitation.id))
    ids = list(db_session().execute(stmt, execution_options={"synchronize_session": False}).scalars())
    if commit:
        db_session().commit()
    return sorted(ids)


def release_stale_claims(now: datetime) -> int:
    count = db_session().execute(  # type: ignore[attr-defined]  # a CursorResult
        update(SurveyInvitation).where(SurveyInvitation.status == "sending",
                                       SurveyInvitation.claimed_at < now - STALE_CLAIM)
        .values(status="scheduled", claimed_at=None)).rowcount
    db_session().commit()
    return count


def send_due(now: datetime | None = None, batch: int = 200, budget_seconds: float = 50.0) -> dict[str, int]:
    """Send every due invitation (batch by batch, within a time budget); returns counts by outcome."""
    now = now or utcnow()
    counts: dict[str, int] = {}
    began = time.monotonic()
    release_stale_claims(now)
    texts = type_texts()
    while time.monotonic() - began < budget_seconds:
        # One transaction per batch, opened by the claim (a write, so on SQLite it holds the
        # write lock from the start rather than failing to upgrade a read when the delivery
        # jobs write): the claims, the mails and the invitations' new states are committed
        # together, or not at all. Delivery is one job per 100 mails, after the commit.
        with batched_mail():
            ids = claim(now, batch, commit=False)
            if not ids:
                break
            invitations = list(db_session().scalars(
                select(SurveyInvitation).where(SurveyInvitation.id.in_(ids)).order_by(SurveyInvitation.id)
                .options(selectinload(SurveyInvitation.customer).selectinload(User.identities),
                         selectinload(SurveyInvitation.ticket))))
            load_contacts(sorted({invitation.customer_id for invitation in invitations}))
            for invitation in invitations:
                try:
                    with db_session().begin_nested():  # one broken invitation rolls back alone
                        outcome = send_one(invitation, now, texts)
                except Exception:  # it stays claimed and is released and retried later
                    log.exception("survey invitation %s could not be sent", invitation.id)
                    continue
                counts[outcome] = counts.get(outcome, 0) + 1
    return counts
