"""Outbound mail: queued in ``outbox_mail`` first, then delivered by a job with retries.

With no SMTP host configured (the ``make run`` default) mail stays in the outbox with
status ``kept``, and admins read it at Admin → Outbox.
"""
from __future__ import annotations

import smtplib
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

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


BATCH_SIZE = 100  # mails per delivery job inside ``batched_mail``
_batch: ContextVar[list[OutboxMail] | None] = ContextVar("helpdesk_mail_batch", default=None)


@contextmanager
def batched_mail() -> Iterator[None]:
    """Queue many mails as one piece of work (a survey run, a digest to every team).

    Inside the block ``queue_mail`` neither commits nor enqueues: leaving it commits the
    session once (the mails together with the caller's own rows) and enqueues one delivery
    job per ``BATCH_SIZE`` mails, each sent over one SMTP connection. An exception rolls the
    session back and queues nothing. Blocks nest: the outermost one commits.
    """
    if _batch.get() is not None:
        yield
        return
    mails: list[OutboxMail] = []
    token = _batch.set(mails)
    try:
        yield
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    finally:
        _batch.reset(token)
    ids = [mail.id for mail in mails]
    for start in range(0, len(ids), BATCH_SIZE):
        deliver_mail_batch(ids[start:start + BATCH_SIZE])


def in_batch() -> bool:
    """Inside a ``batched_mail`` block (where the block, not each step, commits)?"""
    return _batch.get() is not None


def queue_mail(to: str, subject: str, text: str, *, html: str | None = None,
               headers: dict[str, str] | None = None, ticket_id: int | None = None,
               commit: bool = True) -> OutboxMail:
    """Put a mail in the outbox; after commit, a job delivers it (see also ``batched_mail``)."""
    mail = OutboxMail(to_addr=_one_line(to), subject=_one_line(subject), body_text=text,
                      body_html=html, headers={k: _one_line(v) for k, v in (headers or {}).items()},
                      ticket_id=ticket_id)
    db.session.add(mail)
    batch = _batch.get()
    if batch is not None:
        db.session.flush()  # its id, for the delivery job enqueued when the batch ends
        batch.append(mail)
    elif commit:
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


class _Connections(threading.local):
    """One SMTP connection per worker thread, kept while mail keeps coming.

    Opening a connection (TCP, EHLO, STARTTLS, AUTH) costs more than sending a mail; a
    worker sending a burst (10,000 survey invitations) reuses it. It is dropped after
    ``IDLE_SECONDS`` unused, on any error, and when the server settings change.
    """

    smtp: smtplib.SMTP | None = None
    key: tuple = ()
    used_at: float = 0.0


IDLE_SECONDS = 15.0
_connections = _Connections()


def _close_connection() -> None:
    smtp, _connections.smtp = _connections.smtp, None
    if smtp is not None:
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()


def _connection(config: Any) -> tuple[smtplib.SMTP, bool]:
    """The thread's open connection (and True) or a new one (and False)."""
    key = (config["SMTP_HOST"], int(config["SMTP_PORT"]), bool(config.get("SMTP_STARTTLS")),
           config.get("SMTP_USERNAME") or "")
    fresh = _connections.smtp is not None and _connections.key == key \
        and time.monotonic() - _connections.used_at < IDLE_SECONDS
    if fresh:
        return _connections.smtp, True
    _close_connection()
    smtp = smtplib.SMTP(key[0], key[1], timeout=config["SMTP_TIMEOUT"])
    try:
        if key[2]:
            smtp.starttls()
        if key[3]:
            smtp.login(config["SMTP_USERNAME"], config["SMTP_PASSWORD"])
    except BaseException:
        smtp.close()
        raise
    _connections.smtp, _connections.key = smtp, key
    return smtp, False


def _send(config: Any, message: EmailMessage) -> None:
    smtp, reused = _connection(config)
    try:
        smtp.send_message(message)
    except (smtplib.SMTPServerDisconnected, smtplib.SMTPResponseException, OSError) as exc:
        _close_connection()
        # A kept connection the server has since closed: say it again on a new one. A
        # refusal of this mail (5xx for a recipient) is the mail's problem, not the line's.
        if not reused or (isinstance(exc, smtplib.SMTPResponseException) and exc.smtp_code >= 500):
            raise
        smtp, _reused = _connection(config)
        smtp.send_message(message)
    _connections.used_at = time.monotonic()


def send_now(mail: OutboxMail, commit: bool = True) -> None:
    """Deliver one outbox mail over SMTP and record the outcome; raises on failure (the job
    retries). ``commit=False`` leaves the commit to a caller recording many at once."""
    config = current_app.config
    if not config.get("SMTP_HOST"):
        mail.status = "kept"
        if commit:
            db.session.commit()
        return
    mail.attempts += 1
    try:
        _send(config, build_message(mail))
    except (OSError, smtplib.SMTPException) as exc:
        mail.last_error = f"{type(exc).__name__}: {exc}"[:1000]
        mail.status = "failed" if mail.attempts >= MAX_ATTEMPTS else "queued"
        if commit:
            db.session.commit()
        raise
    mail.status, mail.sent_at, mail.last_error = "sent", utcnow(), None
    if commit:
        db.session.commit()


@task(retries=MAX_ATTEMPTS - 1, retry_delay=60)
def deliver_mail(mail_id: int) -> None:
    mail = db.session.get(OutboxMail, mail_id)
    if mail is None or mail.status not in {"queued"}:
        return
    send_now(mail)


@task()
def deliver_mail_batch(mail_ids: list[int]) -> None:
    """Send a batch over one connection; a mail that fails goes on retrying in its own job."""
    mails = list(db.session.scalars(select(OutboxMail).where(
        OutboxMail.id.in_(mail_ids), OutboxMail.status == "queued").order_by(OutboxMail.id)))
    retry = []
    for mail in mails:
        try:
            send_now(mail, commit=False)
        except (OSError, smtplib.SMTPException):
            if mail.status == "queued":
                retry.append(mail.id)
    # One write for the whole batch. A crash before it re-sends the batch (at least once,
    # as for a single mail whose job dies after SMTP accepted it).
    db.session.commit()
    for mail_id in retry:
        deliver_mail.schedule((mail_id,), delay=60)


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
