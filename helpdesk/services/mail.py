"""Outbound mail: queued in ``outbox_mail`` first, then delivered by a job with retries.

The row is the source of truth; jobs carry only its id. A job claims a mail for a lease
(``JOB_LEASE_SECONDS``) before it talks to the server, so a worker killed mid-send leaves
a lease that runs out and the sweeper (``helpdesk.services.delivery.sweep``) hands the mail
to another job. Each mail gets its Message-ID when it is queued, so a mail sent again after
such a crash is the same message to the receiver. A temporary failure (4xx, no connection)
is retried later with a growing delay; a permanent refusal (5xx for the recipient or the
content) is not retried.

With no SMTP host configured (the ``make run`` default) mail stays in the outbox with
status ``kept``, and admins read it at Admin → Outbox.
"""
from __future__ import annotations

import secrets
import smtplib
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from flask import current_app
from sqlalchemy import or_, select, update

from helpdesk import metrics
from helpdesk.extensions import db
from helpdesk.jobs import task
from helpdesk.links import external_url
from helpdesk.models import Delivery, OutboxMail
from helpdesk.models.base import utcnow
from helpdesk.services.settings import site_setting

MAX_ATTEMPTS = 8


def _one_line(value: str) -> str:
    """Header values must not carry line breaks (header injection, and a crash in email)."""
    return " ".join((value or "").split())[:500]


BATCH_SIZE = 100  # mails per delivery job inside ``batched_mail``
_batch: ContextVar[list[OutboxMail] | None] = ContextVar("helpdesk_mail_batch", default=None)
# The agent's reply whose delivery is queuing mail (set by the delivery job): the mail's
# failure is then the reply's failure.
_carrying: ContextVar[int | None] = ContextVar("helpdesk_mail_carrying", default=None)


@contextmanager
def carrying_reply(message_id: int) -> Iterator[None]:
    """Mail queued inside the block carries the reply ``message_id`` (see ``OutboxMail.message_id``)."""
    token = _carrying.set(message_id)
    try:
        yield
    finally:
        _carrying.reset(token)


def lease() -> timedelta:
    return timedelta(seconds=int(current_app.config.get("JOB_LEASE_SECONDS") or 60))


def retry_delay(attempts: int) -> timedelta:
    """After the n-th failed attempt: the base delay, doubling, at most an hour."""
    base = int(current_app.config.get("MAIL_RETRY_SECONDS") or 60)
    return timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), 3600))


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
    headers = {k: _one_line(v) for k, v in (headers or {}).items()}
    if not any(name.lower() == "message-id" for name in headers):
        # Fixed now, so that a mail sent again (a worker killed after the server took it)
        # is the same message at the receiver, which keeps one copy.
        domain = site_setting("mail_from").rpartition("@")[2] or "helpdesk.invalid"
        headers["Message-ID"] = make_msgid(domain=domain)
    mail = OutboxMail(to_addr=_one_line(to), subject=_one_line(subject), body_text=text,
                      body_html=html, headers=headers, ticket_id=ticket_id, message_id=_carrying.get(),
                      lease_until=utcnow() + lease())
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


def is_permanent(exc: BaseException) -> bool:
    """A refusal of this mail that no retry will change: 5xx for the recipient or the content.

    Connection trouble and 4xx are temporary. A 5xx for our own sender address or our
    login is the server's setup, not the mail's: retried, so the mail goes once it is fixed.
    """
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return bool(exc.recipients) and all(code >= 500 for code, _msg in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPDataError):
        return exc.smtp_code >= 500
    return False


def describe(exc: BaseException) -> str:
    """What the server said, for people: ``550 5.1.1 No such user (carla@example.test)``."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        parts = [f"{code} {_text(msg)} ({addr})" for addr, (code, msg) in exc.recipients.items()]
        return "Recipient refused: " + "; ".join(parts)
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{type(exc).__name__}: {exc.smtp_code} {_text(exc.smtp_error)}"
    return f"{type(exc).__name__}: {exc}"


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _attempt(mail: OutboxMail) -> BaseException | None:
    """One delivery attempt, recorded on the row (not committed); returns the error, if any."""
    config = current_app.config
    if not config.get("SMTP_HOST"):
        mail.status, mail.claim, mail.lease_until = "kept", None, None
        return None
    mail.attempts += 1
    try:
        _send(config, build_message(mail))
    except (OSError, smtplib.SMTPException) as exc:
        metrics.mail_sent(False)
        mail.last_error = describe(exc)[:1000]
        if is_permanent(exc) or mail.attempts >= MAX_ATTEMPTS:
            mail.status, mail.claim, mail.lease_until = "failed", None, None
            _mail_failed(mail)
        else:  # wait, then the sweeper gives it to a new job
            mail.claim, mail.lease_until = "retry", utcnow() + retry_delay(mail.attempts)
        return exc
    mail.status, mail.sent_at, mail.last_error = "sent", utcnow(), None
    mail.claim = mail.lease_until = None
    metrics.mail_sent(True)
    return None


def _mail_failed(mail: OutboxMail) -> None:
    if mail.message_id is not None:
        reply_failed(mail.message_id, mail.last_error or "the mail could not be delivered")


def send_now(mail: OutboxMail, commit: bool = True) -> None:
    """Deliver one outbox mail over SMTP and record the outcome; raises on failure.
    ``commit=False`` leaves the commit to a caller recording many at once."""
    error = _attempt(mail)
    if commit:
        db.session.commit()
    if error is not None:
        raise error


def claim_mails(mail_ids: list[int], now: datetime | None = None) -> list[int]:
    """Take queued mails for this job (one conditional UPDATE); returns the ids it got.

    A mail is free when no job claimed it (its job is on the way) or its lease ran out.
    Two jobs for one mail (a duplicate, or the sweeper's after a slow start) never both send.
    """
    now = now or utcnow()
    token = secrets.token_hex(8)
    got = list(db.session.scalars(
        update(OutboxMail)
        .where(OutboxMail.id.in_(mail_ids), OutboxMail.status == "queued",
               or_(OutboxMail.claim.is_(None), OutboxMail.lease_until.is_(None), OutboxMail.lease_until <= now))
        .values(claim=token, lease_until=now + lease())
        .returning(OutboxMail.id)
        .execution_options(synchronize_session=False)))
    db.session.commit()
    return sorted(got)


@task()
def deliver_mail(mail_id: int) -> None:
    if not claim_mails([mail_id]):
        return  # sent, failed, or another job has it
    mail = db.session.get(OutboxMail, mail_id)
    db.session.refresh(mail)
    with db.session.no_autoflush:
        _attempt(mail)
    db.session.commit()


@task()
def deliver_mail_batch(mail_ids: list[int]) -> None:
    """Send a batch over one connection; a mail that fails is retried later on its own."""
    claimed = claim_mails(mail_ids)
    if not claimed:
        return
    mails = list(db.session.scalars(select(OutboxMail).where(OutboxMail.id.in_(claimed))
                                    .order_by(OutboxMail.id).execution_options(populate_existing=True)))
    # One write for the whole batch, unless the server is slow: then what is done is written
    # and the lease of the rest renewed every third of a lease, so no sweeper hands mail this
    # job still holds to another. A crash sends the unwritten part again after the lease (at
    # least once; each mail keeps its Message-ID, so the receiver keeps one copy).
    renew_every = lease().total_seconds() / 3
    renewed = time.monotonic()
    for n, mail in enumerate(mails):
        # No autoflush while talking SMTP: a flush would take SQLite's write lock (and
        # PostgreSQL's row locks) for as long as the server takes, blocking every writer.
        with db.session.no_autoflush:
            _attempt(mail)
        if time.monotonic() - renewed > renew_every and n + 1 < len(mails):
            rest = [m.id for m in mails[n + 1:]]
            db.session.execute(update(OutboxMail).where(OutboxMail.id.in_(rest), OutboxMail.status == "queued")
                               .values(lease_until=utcnow() + lease())
                               .execution_options(synchronize_session=False))
            db.session.commit()
            renewed = time.monotonic()
    db.session.commit()


def reply_failed(message_id: int, error: str) -> None:
    """The reply will not reach the customer: mark it (the ticket shows it) and tell its author.

    Called when the channel gave up, or when the mail carrying the reply was refused for
    good (a 5xx) or ran out of attempts. Commits nothing itself when called inside a mail
    job; the caller commits.
    """
    delivery = db.session.scalar(select(Delivery).where(Delivery.message_id == message_id))
    if delivery is None or delivery.status == "failed":
        return
    delivery.status, delivery.last_error = "failed", error[:1000]
    delivery.claim = delivery.lease_until = None
    message = delivery.message
    author = message.author
    if author is None or not author.is_staff or not author.email or not author.is_active:
        return
    ticket = message.ticket
    text = (f"Hello {author.name},\n\nyour reply on {ticket.reference} ({ticket.subject}) did not reach "
            f"the customer.\n\nReason: {error}\n\nOpen the ticket to check the customer's address or "
            f"reach them another way: {external_url('agent.ticket', reference=ticket.reference)}\n")
    queue_mail(author.email, f"[{ticket.reference}] Your reply was not delivered", text,
               ticket_id=ticket.id, commit=False)
