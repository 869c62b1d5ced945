"""Jobs for real: huey on SQLite storage in the instance folder, a real consumer, real retries."""
from __future__ import annotations

import signal
import time
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from smtp_sink import SMTPServer, free_port
from sqlalchemy import select

from helpdesk import services
from helpdesk.jobs import huey
from helpdesk.models import OutboxMail
from helpdesk.services.delivery import sweep
from helpdesk.services.mail import queue_mail


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def app_config(smtp_port):
    return {"JOBS_IMMEDIATE": False, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": smtp_port, "SMTP_TIMEOUT": 5}


@pytest.fixture
def smtp(smtp_port):
    server = SMTPServer(smtp_port)
    yield server
    server.stop()


def outbox(db) -> list[OutboxMail]:
    db.session.rollback()  # end our read transaction: see what the worker committed
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxMail).order_by(OutboxMail.id)))


def pending_names() -> list[str]:
    return [task.name for task in huey.pending()]


def run_pending() -> int:
    """Execute queued tasks in this thread, as a worker would; returns how many ran."""
    ran = 0
    while (task := huey.dequeue()) is not None:
        huey.execute(task)
        ran += 1
    return ran


@contextmanager
def consumer():
    """A real huey consumer (one worker thread) for the duration of the block."""
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    running = huey.create_consumer(workers=1, worker_type="thread", periodic=False, initial_delay=0.02,
                                   max_delay=0.1, check_worker_health=False)
    running.start()
    try:
        yield running
    finally:
        running.stop(graceful=True)
        for sig, handler in saved.items():
            signal.signal(sig, handler)


def wait_for(predicate, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out waiting for the worker")


def test_storage_is_sqlite_in_the_instance_folder(app):
    assert type(huey.storage).__name__ == "QueueStorage"
    assert huey.storage.filename.startswith(app.instance_path)
    assert not huey.immediate
    # WAL with synchronous=NORMAL: crash-safe without an fsync per queued job.
    conn = huey.storage.conn
    assert conn.execute("pragma journal_mode").fetchone()[0] == "wal"
    assert conn.execute("pragma synchronous").fetchone()[0] == 1


def test_a_reply_is_delivered_by_the_worker_not_the_request(app, db, client, login, smtp, ticket, agent):
    smtp.start()
    login(client, agent)
    answer = client.post(f"/tickets/{ticket.reference}", data={"body": f"Hi Carla, done ({ticket.reference})."})
    assert answer.status_code == 302
    assert outbox(db) == [] and smtp.sink.envelopes == []  # nothing sent inside the request
    assert pending_names() == ["core.deliver_reply"]

    with consumer():
        wait_for(lambda: [m for m in outbox(db) if m.status == "sent"])
    [mail] = outbox(db)
    assert mail.subject == f"[{ticket.reference}] Re: Printer on fire" and mail.attempts == 1
    assert [e.rcpt_tos for e in smtp.sink.envelopes] == [["carla@example.test"]]
    assert huey.pending_count() == 0


def test_an_outage_is_retried_later_by_the_sweeper(app, db, smtp, customer):
    mail = queue_mail("carla@example.test", "Your sign-in link", "text")
    assert pending_names() == ["core.deliver_mail"]
    assert run_pending() == 1  # the server is down
    [mail] = outbox(db)
    assert (mail.status, mail.attempts) == ("queued", 1) and "ConnectionRefusedError" in mail.last_error
    now = datetime.now(UTC).replace(tzinfo=None)
    assert mail.lease_until > now + timedelta(seconds=5)  # the retry waits a while

    smtp.start()
    assert sweep(now) == {"deliveries": 0, "mails": 0} and huey.pending_count() == 0  # not yet
    later = mail.lease_until + timedelta(seconds=1)  # as the sweeper will see it then
    assert sweep(later) == {"deliveries": 0, "mails": 1}
    assert pending_names() == ["core.deliver_mail_batch"]
    run_pending()
    [mail] = outbox(db)
    assert (mail.status, mail.attempts) == ("sent", 2)
    assert len(smtp.sink.envelopes) == 1


def test_mail_stuck_without_a_job_is_requeued(app, db, smtp, customer):
    """A crash between the commit and the enqueue leaves mail queued; the sweeper picks it up."""
    mail = queue_mail("carla@example.test", "Stuck", "text", commit=False)
    db.session.commit()
    assert huey.pending_count() == 0
    assert sweep()["mails"] == 0  # too recent: its own job may still be on the way

    assert sweep(mail.lease_until + timedelta(seconds=1))["mails"] == 1
    smtp.start()
    assert run_pending() == 1
    assert outbox(db)[0].status == "sent"
    assert [m["Subject"] for m in smtp.sink.messages()] == ["Stuck"]


def test_an_internal_note_enqueues_nothing(app, db, ticket, agent):
    services.add_message(ticket, agent, "VIP", internal=True)
    assert huey.pending_count() == 0


def test_a_reply_job_queued_by_the_previous_version_is_still_delivered(app, db, smtp, ticket, agent):
    """Before deliveries had rows, the job carried the message id (``core.deliver_message``)."""
    from helpdesk.services import importing
    from helpdesk.services.delivery import deliver_message

    with importing():  # a reply with no delivery row, as the old version wrote it
        message = services.add_message(ticket, agent, f"Hi Carla, done ({ticket.reference}).")
    deliver_message(message.id)  # the old job, still in the queue at the upgrade
    smtp.start()
    run_pending()
    run_pending()
    [mail] = outbox(db)
    assert (mail.status, mail.message_id) == ("sent", message.id)
    deliver_message(message.id)  # run twice: still one mail
    run_pending()
    assert len(outbox(db)) == 1 and len(smtp.sink.envelopes) == 1
