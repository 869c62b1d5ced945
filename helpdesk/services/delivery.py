"""Delivering agents' public replies through each ticket's channel, durably.

A reply's ``Delivery`` row is written in the reply's own transaction; the job carries only
its id. The job claims the row for a lease (``JOB_LEASE_SECONDS``), hands the reply to the
channel and marks the row done in the *same* transaction as whatever the channel wrote (the
outbox mail), and only if its claim still holds. So a worker killed before or during the
hand-off leaves the row pending; when the lease runs out the sweeper gives it to a new job,
and the customer gets the reply once. Mail in the outbox is swept the same way.
"""
from __future__ import annotations

import logging
import secrets
from datetime import datetime

from sqlalchemy import or_, select, update

from helpdesk.extensions import db
from helpdesk.jobs import crontab, periodic_task, task
from helpdesk.models import Delivery, Message, OutboxMail
from helpdesk.models.base import utcnow
from helpdesk.plugin_manager import manager
from helpdesk.services.mail import (
    BATCH_SIZE,
    batched_mail,
    carrying_reply,
    deliver_mail_batch,
    lease,
    reply_failed,
    retry_delay,
)

log = logging.getLogger(__name__)

MAX_DELIVERY_ATTEMPTS = 8
SWEEP_LIMIT = 1000  # rows per sweep and kind; the next sweep takes the rest


class _ClaimLost(Exception):
    """The lease ran out and another job took the delivery: this one must not finish it."""


def record_delivery(message: Message) -> Delivery:
    """The durable promise to deliver ``message`` (added to the session, not committed)."""
    delivery = Delivery(message=message, lease_until=utcnow() + lease())
    db.session.add(delivery)
    return delivery


def _claim(delivery_id: int, now: datetime) -> str | None:
    token = secrets.token_hex(8)
    claimed = db.session.execute(  # type: ignore[attr-defined]  # CursorResult
        update(Delivery)
        .where(Delivery.id == delivery_id, Delivery.status == "pending",
               or_(Delivery.claim.is_(None), Delivery.lease_until.is_(None), Delivery.lease_until <= now))
        .values(claim=token, lease_until=now + lease(), attempts=Delivery.attempts + 1)
        .execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    return token if claimed else None


@task()
def deliver_reply(delivery_id: int) -> None:
    """Hand a public reply to the channel its ticket belongs to (the ``web`` one by default)."""
    token = _claim(delivery_id, utcnow())
    if token is None:
        return  # done, failed, or another job holds it
    delivery = db.session.get(Delivery, delivery_id)
    db.session.refresh(delivery)
    message = delivery.message
    ticket = message.ticket
    channels = manager().channels()
    chosen = manager().call_first("helpdesk_reply_channel", ticket=ticket, message=message)
    if chosen is not None and chosen[1] not in channels:
        log.warning("plugin %s chose channel %r for %s, which is not available", chosen[0], chosen[1],
                    ticket.reference)
    channel = channels.get(chosen[1]) if chosen is not None and chosen[1] in channels else None
    channel = channel or channels.get(ticket.channel)
    if channel is None:
        log.warning("channel %s of %s is not available; notifying by web/email",
                    ticket.channel, ticket.reference)
        channel = channels["web"]
    try:
        with batched_mail(), carrying_reply(message.id):
            channel.deliver(ticket, message)
            finished = db.session.execute(  # type: ignore[attr-defined]  # CursorResult
                update(Delivery).where(Delivery.id == delivery_id, Delivery.claim == token,
                                       Delivery.status == "pending")
                .values(status="done", done_at=utcnow(), claim=None, lease_until=None, last_error=None)
                .execution_options(synchronize_session=False)).rowcount
            if not finished:
                raise _ClaimLost
    except _ClaimLost:
        log.warning("delivery %s was taken over by another job; this one stops", delivery_id)
    except Exception as exc:  # the channel failed: retry later, or give up and say so
        log.exception("channel %s could not deliver message %s", channel.name, message.id)
        _attempt_failed(delivery_id, token, f"{type(exc).__name__}: {exc}"[:1000])


@task()
def deliver_message(message_id: int) -> None:
    """A job queued by an older version, which carried the message's id: give the reply its
    delivery row (unless it has one) and deliver it the durable way."""
    message = db.session.get(Message, message_id)
    if message is None or message.internal:
        return
    if db.session.scalar(select(Delivery.id).where(Delivery.message_id == message_id)) is not None:
        return
    delivery = record_delivery(message)
    db.session.commit()
    deliver_reply(delivery.id)


def _attempt_failed(delivery_id: int, token: str, error: str) -> None:
    db.session.rollback()
    delivery = db.session.get(Delivery, delivery_id)
    db.session.refresh(delivery)
    if delivery.claim != token or delivery.status != "pending":
        return
    delivery.last_error = error
    if delivery.attempts >= MAX_DELIVERY_ATTEMPTS:
        db.session.commit()
        reply_failed(delivery.message_id, error)
        return
    delivery.claim, delivery.lease_until = "retry", utcnow() + retry_delay(delivery.attempts)
    db.session.commit()


def sweep(now: datetime | None = None) -> dict[str, int]:
    """Hand every delivery and mail whose lease ran out (or whose retry is due) to a new job.

    Safe to run in every worker at once: taking a row is a conditional UPDATE, and a job
    for a row another job holds does nothing.
    """
    now = now or utcnow()
    until = now + lease()
    due_deliveries = select(Delivery.id).where(
        Delivery.status == "pending", or_(Delivery.lease_until.is_(None), Delivery.lease_until <= now)
    ).limit(SWEEP_LIMIT).scalar_subquery()
    delivery_ids = list(db.session.scalars(
        update(Delivery).where(Delivery.id.in_(due_deliveries), Delivery.status == "pending",
                               or_(Delivery.lease_until.is_(None), Delivery.lease_until <= now))
        .values(claim=None, lease_until=until).returning(Delivery.id)
        .execution_options(synchronize_session=False)))
    due_mail = select(OutboxMail.id).where(
        OutboxMail.status == "queued", or_(OutboxMail.lease_until.is_(None), OutboxMail.lease_until <= now)
    ).limit(SWEEP_LIMIT).scalar_subquery()
    mail_ids = sorted(db.session.scalars(
        update(OutboxMail).where(OutboxMail.id.in_(due_mail), OutboxMail.status == "queued",
                                 or_(OutboxMail.lease_until.is_(None), OutboxMail.lease_until <= now))
        .values(claim=None, lease_until=until).returning(OutboxMail.id)
        .execution_options(synchronize_session=False)))
    db.session.commit()
    for delivery_id in delivery_ids:
        deliver_reply(delivery_id)
    for start in range(0, len(mail_ids), BATCH_SIZE):
        deliver_mail_batch(mail_ids[start:start + BATCH_SIZE])
    if delivery_ids or mail_ids:
        log.info("sweeper re-queued %d replies and %d mails", len(delivery_ids), len(mail_ids))
    return {"deliveries": len(delivery_ids), "mails": len(mail_ids)}


@periodic_task(crontab(minute="*"))
def sweep_job() -> dict[str, int]:
    """The sweeper as a periodic job, for consumers started without ``helpdesk worker``'s own loop."""
    return sweep()


def sweep_forever(app, stop, interval: float | None = None) -> None:  # noqa: ANN001 - Flask app, Event
    """The worker's sweeper loop: sweep now, then every ``SWEEP_SECONDS`` until ``stop`` is set."""
    interval = interval or float(app.config.get("SWEEP_SECONDS") or 20)
    while True:
        with app.app_context():
            try:
                sweep()
            except Exception:  # a database hiccup: try again next round
                log.exception("sweep failed")
            finally:
                db.session.remove()
        if stop.wait(interval):
            return


def failed_replies(message_ids: list[int]) -> dict[int, Delivery]:
    """The failed deliveries among these messages, by message id (for the ticket page)."""
    if not message_ids:
        return {}
    return {d.message_id: d for d in db.session.scalars(
        select(Delivery).where(Delivery.message_id.in_(message_ids), Delivery.status == "failed"))}
