"""Outbound mail: queued in ``outbox_mail`` first, then delivered by a job with retries.

With no SMTP host configured (the ``make run`` default) mail stays in the outbox with
status ``kept``, and admins read it at Admin → Outbox.
"""
from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from flask import current_app
from huey import crontab
from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.jobs import periodic_task, task
from helpdesk.models import OutboxMail
from helpdesk.models.base import utcnow
from helpdesk.services.settings import site_setting

MAX_ATTEMPTS = 8


def _one_line(value: str) -> str:
    """Header values must not carry line breaks (header injection, and a crash in email)."""
    return " ".join((value or "").split())[:500]


def queue_mail(to: str, subject: str, text: str, *, html: str | None = None,
               headers: dict[str, str] | None = None, ticket_id: int | None = None,
               commit: bool = True) -> OutboxMail:
    """Put a mail in the outbox; after commit, a job delivers it."""
    mail = OutboxMail(to_addr=_one_line(to), subject=_one_line(subject), body_text=text,
                      body_html=html, headers={k: _one_line(v) for k, v in (headers or {}).items()},
                      ticket_id=ticket_id)
    db.session.add(mail)
    if commit:
        db.session.commit()
        deliver_mail(mail.id)
    return mail


def build_message(mail: OutboxMail) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = f"{_one_line(site_setting('helpdesk_name'))} <{site_setting('mail_from')}>"
    msg["To"] = mail.to_addr
    msg["Subject"] = mail.subject
    msg["Date"] = formatdate(localtime=False)
    # The caller's headers replace these defaults (one header each); an empty value leaves the
    # header out, e.g. ``Auto-Submitted: ""`` for an agent's reply, which no machine wrote.
    headers = {"Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "All", "X-Helpdesk-Loop": "1"}
    by_name = {name.lower(): name for name in headers}
    for name, value in (mail.headers or {}).items():
        if name.lower() in {"from", "to", "subject", "date"}:
            continue
        headers.pop(by_name.get(name.lower(), name), None)
        by_name[name.lower()] = name
        headers[name] = value
    for name, value in headers.items():
        if value:
            msg[name] = value
    if "Message-ID" not in msg:
        domain = site_setting("mail_from").rpartition("@")[2] or "helpdesk.invalid"
        msg["Message-ID"] = make_msgid(domain=domain)
    msg.set_content(mail.body_text)
    if mail.body_html:
        msg.add_alternative(mail.body_html, subtype="html")
    return msg


def send_now(mail: OutboxMail) -> None:
    """Deliver one outbox mail over SMTP; raises on failure (the job retries)."""
    config = current_app.config
    if not config.get("SMTP_HOST"):
        mail.status = "kept"
        db.session.commit()
        return
    mail.attempts += 1
    try:
        with smtplib.SMTP(config["SMTP_HOST"], int(config["SMTP_PORT"]),
                          timeout=config["SMTP_TIMEOUT"]) as smtp:
            if config.get("SMTP_STARTTLS"):
                smtp.starttls()
            if config.get("SMTP_USERNAME"):
                smtp.login(config["SMTP_USERNAME"], config["SMTP_PASSWORD"])
            smtp.send_message(build_message(mail))
    except (OSError, smtplib.SMTPException) as exc:
        mail.last_error = f"{type(exc).__name__}: {exc}"[:1000]
        mail.status = "failed" if mail.attempts >= MAX_ATTEMPTS else "queued"
        db.session.commit()
        raise
    mail.status, mail.sent_at, mail.last_error = "sent", utcnow(), None
    db.session.commit()


@task(retries=MAX_ATTEMPTS - 1, retry_delay=60)
def deliver_mail(mail_id: int) -> None:
    mail = db.session.get(OutboxMail, mail_id)
    if mail is None or mail.status not in {"queued"}:
        return
    send_now(mail)


@periodic_task(crontab(minute="*/5"))
def requeue_stuck_mail() -> int:
    """Mail queued but never handed to a job (a crash between commit and enqueue) is retried."""
    from datetime import timedelta

    cutoff = utcnow() - timedelta(minutes=10)
    ids = list(db.session.scalars(select(OutboxMail.id).where(
        OutboxMail.status == "queued", OutboxMail.created_at < cutoff).limit(500)))
    for mail_id in ids:
        deliver_mail(mail_id)
    return len(ids)
