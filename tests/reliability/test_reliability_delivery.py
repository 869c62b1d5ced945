"""Workers killed with SIGKILL at each point of the delivery pipeline: every reply still
reaches the customer, once per Message-ID, within a bounded time.

The pipeline: the reply and its ``deliveries`` row are committed together → a job claims the
row and hands the reply to its channel (the outbox mail and "done" in one transaction) → a
job claims the mail and talks SMTP. Each test runs real ``helpdesk worker`` processes
(``worker_main.py``) on the test's database and queue, with a 2-second lease.
"""
from __future__ import annotations

from pathlib import Path

from conftest import LEASE_SECONDS, kill, wait_for
from sqlalchemy import select

from helpdesk import services
from helpdesk.jobs import huey
from helpdesk.models import Delivery, OutboxMail


def fresh(db):
    db.session.rollback()  # end our read transaction: see what the workers committed
    db.session.expire_all()
    return db.session


def make_replies(db, customer, agent, count: int, channel: str = "web") -> dict[int, str]:
    """``count`` agent replies over three tickets; returns {message id: body}."""
    tickets = [services.create_ticket(customer, f"Question {n}", f"Hello, question {n}.", channel=channel)
               for n in range(3)]
    replies = {}
    for n in range(count):
        ticket = tickets[n % 3]
        message = services.add_message(ticket, agent, f"Hi Carla, answer {n} on {ticket.reference}.")
        replies[message.id] = message.body
    return replies


def reply_mails(db) -> list[OutboxMail]:
    return list(fresh(db).scalars(select(OutboxMail).where(OutboxMail.message_id.is_not(None))
                                  .order_by(OutboxMail.id)))


def all_delivered(db, sink, replies: dict[int, str]):
    mails = reply_mails(db)
    sent = [m for m in mails if m.status == "sent"]
    received = sink.per_message_id()
    return len(sent) >= len(replies) and all(m.headers["Message-ID"] in received for m in sent) and mails


def assert_each_reply_delivered_once(db, sink, replies: dict[int, str]) -> None:
    mails = reply_mails(db)
    # one hand-off per reply: one outbox mail each, none lost, none doubled
    assert sorted(m.message_id for m in mails) == sorted(replies)
    assert {m.status for m in mails} == {"sent"}
    # at the receiver: one Message-ID per reply, each reply's text under exactly one of them
    ours = {m.headers["Message-ID"]: m.message_id for m in mails}
    received = sink.per_message_id()
    assert set(received) == set(ours)
    bodies = {}
    for message in sink.messages():
        bodies.setdefault(message["Message-ID"], set()).add(message.get_content().splitlines()[0].strip())
    for message_id_header, message_id in ours.items():
        assert bodies[message_id_header] == {replies[message_id]}
    deliveries = list(fresh(db).scalars(select(Delivery)))
    assert {d.message_id for d in deliveries} == set(replies) and {d.status for d in deliveries} == {"done"}


def test_replies_whose_jobs_were_lost_before_the_hand_off_are_swept_and_sent_once(db, customer, agent, sink, workers):
    """The replies are committed but their jobs are gone (a worker killed after huey took the
    jobs off the queue, or a web process killed between commit and enqueue)."""
    replies = make_replies(db, customer, agent, 12)
    assert huey.pending_count() == 12
    huey.flush()  # the jobs are lost; only the rows say what is owed
    assert huey.pending_count() == 0

    first = workers()
    wait_for(lambda: all_delivered(db, sink, replies), timeout=60, what="the sweeper to deliver every reply")
    assert first.poll() is None
    assert_each_reply_delivered_once(db, sink, replies)
    assert sum(sink.per_message_id().values()) == len(replies)  # nothing was in flight: no copy at all
    assert all(d.attempts == 1 for d in fresh(db).scalars(select(Delivery)))


def test_a_worker_killed_in_the_middle_of_a_hand_off_loses_no_reply(db, customer, agent, sink, workers, gate):
    replies = make_replies(db, customer, agent, 9, channel="gate")
    (gate / "hold").touch()
    first = workers(1)
    handing_off = wait_for(lambda: list(gate.glob("in-handoff-*")), timeout=30, what="a hand-off to start")
    kill(first)  # inside the channel: its outbox mail written, not committed
    killed_id = int(handing_off[0].name.rsplit("-", 1)[1])
    killed = fresh(db).scalar(select(Delivery).where(Delivery.message_id == killed_id))
    assert (killed.status, killed.attempts) == ("pending", 1) and killed.claim  # claimed, never finished
    assert not [m for m in reply_mails(db) if m.message_id == killed_id]  # its half-written mail is gone

    (gate / "hold").unlink()
    workers(2)
    wait_for(lambda: all_delivered(db, sink, replies), timeout=60, what="every reply after the restart")
    assert_each_reply_delivered_once(db, sink, replies)
    assert sum(sink.per_message_id().values()) == len(replies)
    killed = fresh(db).scalar(select(Delivery).where(Delivery.message_id == killed_id))
    assert (killed.status, killed.attempts) == ("done", 2)  # taken again once its lease ran out


def test_a_worker_killed_in_the_middle_of_smtp_sends_again_under_the_same_message_id(
        db, customer, agent, sink, workers):
    replies = make_replies(db, customer, agent, 12)
    sink.hold_at = 4  # the fourth mail's DATA is not answered: the worker waits for "250"
    first = workers(2)
    wait_for(sink.holding.is_set, timeout=30, what="a mail in the middle of SMTP")
    kill(first)
    in_flight = sink.held
    sink.release.set()

    workers(2)
    wait_for(lambda: all_delivered(db, sink, replies), timeout=60, what="every reply after the restart")
    assert_each_reply_delivered_once(db, sink, replies)
    counts = sink.per_message_id()
    # The mails the server had taken when the worker died come again, with their Message-ID:
    # the receiver keeps one message each. Nothing else is doubled.
    assert sorted(counts.values()) == [1] * (len(replies) - in_flight) + [2] * in_flight
    assert in_flight >= 1
    assert LEASE_SECONDS < 60


def test_a_batch_slower_than_the_lease_is_not_handed_to_a_second_worker(db, customer, sink, workers):
    """A slow server: the batch takes longer than two leases; it renews its lease as it goes,
    so the sweeper (every second) never hands its mails to the worker's other thread."""
    from helpdesk.services.mail import batched_mail, queue_mail

    sink.delay = 0.5  # 10 mails: 5 s, more than two leases
    worker = workers(2)
    log = Path(worker.log.name)
    wait_for(lambda: b"Worker started" in log.read_bytes(), timeout=30, what="the worker")
    with batched_mail():
        for n in range(10):
            queue_mail(customer.email, f"Survey {n}", "How did we do?")

    wait_for(lambda: fresh(db).scalar(select(OutboxMail.id).where(OutboxMail.status != "sent")) is None,
             timeout=60, what="the batch")
    assert sorted(sink.per_message_id().values()) == [1] * 10 and len(sink.envelopes) == 10
    assert b"sweeper re-queued" not in log.read_bytes()
