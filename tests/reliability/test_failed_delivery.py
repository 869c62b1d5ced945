"""Replies whose mail the server refuses: a permanent 5xx is not retried and the reply is
marked on the ticket, its agent told; a temporary 4xx is retried; the outbox says why."""
from __future__ import annotations

from datetime import timedelta

import pytest
from pagetext import text, texts
from smtp_sink import Sink, SMTPServer
from sqlalchemy import select

from helpdesk.models import Delivery, OutboxMail
from helpdesk.models.base import utcnow
from helpdesk.services.delivery import sweep


class RefusingSink(Sink):
    """Answers RCPT TO for the listed addresses with the given reply."""

    def __init__(self) -> None:
        super().__init__()
        self.refuse: dict[str, str] = {}

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: ANN001
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"


@pytest.fixture
def app_config(smtp_port) -> dict:
    return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": smtp_port, "SMTP_TIMEOUT": 5}


@pytest.fixture
def sink(smtp_port):
    server = SMTPServer(smtp_port)
    server.sink = RefusingSink()
    server.start()
    yield server.sink
    server.stop()


def mails(db) -> list[OutboxMail]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxMail).order_by(OutboxMail.id)))


def later() -> object:
    return utcnow() + timedelta(hours=3)  # past any retry wait


def reply(client, ticket):
    answer = client.post(f"/tickets/{ticket.reference}", data={
        "body": f"Hi Carla, the printer is fixed ({ticket.reference}).", "send_anyway": "y"})
    assert answer.status_code == 302


def test_a_permanent_refusal_is_not_retried_and_marks_the_reply(db, client, login, admin, agent, ticket, sink):
    sink.refuse["carla@example.test"] = "550 5.1.1 No such user"
    login(client, agent)
    reply(client, ticket)

    mail, _notice = mails(db)
    assert mail.to_addr == "carla@example.test" and (mail.status, mail.attempts) == ("failed", 1)
    assert "550" in mail.last_error and "No such user" in mail.last_error
    delivery = db.session.scalar(select(Delivery).where(Delivery.message_id == mail.message_id))
    assert delivery.status == "failed" and "No such user" in delivery.last_error

    # the agent is told, by mail
    told = [m for m in mails(db) if m.to_addr == agent.email]
    assert [m.subject for m in told] == [f"[{ticket.reference}] Your reply was not delivered"]
    assert "550" in told[0].body_text and ticket.reference in told[0].body_text
    assert sweep(later()) == {"deliveries": 0, "mails": 1}  # the notice goes; the refused mail does not
    assert [e.rcpt_tos for e in sink.envelopes] == [[agent.email]]
    assert mails(db)[0].attempts == 1

    # the ticket shows it
    page = client.get(f"/tickets/{ticket.reference}").text
    assert text(page, id="ticket-delivery-failed") == "1 reply not delivered"
    [error] = texts(page, cls="delivery-error")
    assert error.startswith("This reply did not reach the customer:") and "550 5.1.1 No such user" in error

    login(client, admin)
    [row, _notice] = texts(client.get("/admin/outbox").text, cls="mail-row")[::-1]
    assert "failed" in row and "550 5.1.1 No such user" in row


def test_a_temporary_refusal_is_retried_and_the_outbox_says_why(db, client, login, admin, agent, ticket, sink):
    sink.refuse["carla@example.test"] = "451 4.3.0 Mailbox busy, try later"
    login(client, agent)
    reply(client, ticket)
    [mail] = mails(db)
    assert (mail.status, mail.attempts) == ("queued", 1) and "451" in mail.last_error

    login(client, admin)
    [row] = texts(client.get("/admin/outbox").text, cls="mail-row")
    assert "retrying" in row and "451 4.3.0 Mailbox busy, try later" in row and " queued " not in f" {row} "

    del sink.refuse["carla@example.test"]
    assert sweep(later())["mails"] == 1
    [mail] = mails(db)
    assert (mail.status, mail.attempts, mail.last_error) == ("sent", 2, None)
    assert [e.rcpt_tos for e in sink.envelopes] == [["carla@example.test"]]
    login(client, agent)
    assert "not delivered" not in client.get(f"/tickets/{ticket.reference}").text


def test_only_a_refusal_of_the_mail_itself_is_permanent(db, agent, ticket, sink):
    """A 5xx for our own From address is the server's setup, not the mail's: retried, like a 4xx."""
    import smtplib

    from helpdesk.services.mail import is_permanent, queue_mail

    sink.refuse["carla@example.test"] = "550 5.7.1 Relaying denied"
    mail = queue_mail("carla@example.test", "Hello", "text")
    assert mail.status == "failed"  # a recipient refusal is the mail's problem

    assert not is_permanent(smtplib.SMTPSenderRefused(550, b"Sender refused", "support@helpdesk.test"))
    assert not is_permanent(smtplib.SMTPRecipientsRefused({"a@b": (451, b"later")}))
    assert is_permanent(smtplib.SMTPDataError(554, b"Message rejected"))
