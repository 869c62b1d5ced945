"""Outbound mail: outbox first, SMTP by a job, kept without SMTP, retried through an outage."""
from __future__ import annotations

from datetime import timedelta

import pytest
from pagetext import alerts, text, texts
from smtp_sink import SMTPServer, free_port
from sqlalchemy import select

from helpdesk import services
from helpdesk.models import OutboxMail
from helpdesk.models.base import utcnow
from helpdesk.services.mail import MAX_ATTEMPTS, deliver_mail, queue_mail, send_now
from helpdesk.services.settings import save_site_settings


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def smtp(smtp_port):
    """An SMTP server object on a free port, not started yet (tests start it, or not)."""
    server = SMTPServer(smtp_port)
    yield server
    server.stop()


def reply(ticket, agent, body=None):
    return services.add_message(ticket, agent, body or f"Hi Carla, the printer is fixed ({ticket.reference}).")


def retry_is_due(db, mail: OutboxMail) -> None:
    """Time passes: the mail's retry wait is over."""
    mail.lease_until = utcnow() - timedelta(seconds=1)
    db.session.commit()


def outbox(db) -> list[OutboxMail]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxMail).order_by(OutboxMail.id)))


# -------------------------------------------------------------- without SMTP


def test_without_smtp_a_reply_notification_is_kept_and_readable_by_admins(db, client, login, admin, ticket, agent):
    reply(ticket, agent)
    [mail] = outbox(db)
    assert (mail.status, mail.to_addr) == ("kept", "carla@example.test")
    assert mail.subject == f"[{ticket.reference}] Re: Printer on fire"
    assert mail.ticket_id == ticket.id and mail.attempts == 0

    login(client, admin)
    rows = texts(client.get("/admin/outbox").text, cls="mail-row")
    assert len(rows) == 1 and f"[{ticket.reference}] Re: Printer on fire kept" in rows[0]
    detail = client.get(f"/admin/outbox/{mail.id}")
    body = text(detail.text, id="mail-body")
    assert body.startswith(f"Hi Carla, the printer is fixed ({ticket.reference}). -- Alex Agent")
    assert f"http://helpdesk.test/portal/tickets/{ticket.reference}" in body
    assert ticket.reference in text(detail.text, id="mail-meta")


def test_internal_notes_and_customer_replies_send_no_mail(db, ticket, agent, customer):
    services.add_message(ticket, agent, "VIP customer", internal=True)
    services.add_message(ticket, customer, "Any news?")
    assert outbox(db) == []


def test_links_in_mail_come_from_external_url_not_the_host_header(app, db, client, customer):
    app.config["WTF_CSRF_ENABLED"] = False  # the session cookie belongs to another host
    answer = client.post("/magic", data={"email": customer.email}, headers={"Host": "evil.example"}, csrf=False)
    assert answer.status_code == 302
    [mail] = outbox(db)
    assert "http://helpdesk.test/magic/" in mail.body_text and "evil.example" not in mail.body_text


# ----------------------------------------------------------------- with SMTP


class TestWithSMTPServer:
    @pytest.fixture
    def app_config(self, smtp_port):
        return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": smtp_port, "MAIL_FROM": "help@acme.test",
                "EXTERNAL_URL": "https://support.acme.test/"}

    def test_an_agent_reply_reaches_the_customer(self, db, smtp, ticket, agent):
        smtp.start()
        reply(ticket, agent)
        [envelope] = smtp.sink.envelopes
        assert envelope.mail_from == "help@acme.test" and envelope.rcpt_tos == ["carla@example.test"]
        [msg] = smtp.sink.messages()
        assert msg["Subject"] == f"[{ticket.reference}] Re: Printer on fire"
        assert msg["From"] == "Helpdesk <help@acme.test>"
        assert msg["To"] == "carla@example.test"
        assert msg["Auto-Submitted"] == "auto-generated"
        assert msg["Message-ID"].endswith("@acme.test>")
        content = msg.get_content()
        assert content.startswith(f"Hi Carla, the printer is fixed ({ticket.reference}).")
        assert f"https://support.acme.test/portal/tickets/{ticket.reference}" in content
        [mail] = outbox(db)
        assert (mail.status, mail.attempts, mail.last_error) == ("sent", 1, None) and mail.sent_at

    def test_the_admins_reply_from_address_and_name_are_used(self, db, smtp, ticket, agent):
        smtp.start()
        save_site_settings({"mail_from": "care@acme.test", "helpdesk_name": "Acme Care"})
        reply(ticket, agent)
        [msg] = smtp.sink.messages()
        assert msg["From"] == "Acme Care <care@acme.test>"
        assert smtp.sink.envelopes[0].mail_from == "care@acme.test"

    def test_header_injection_in_a_subject_adds_no_header(self, db, smtp, customer, agent):
        smtp.start()
        ticket = services.create_ticket(customer, "Help\r\nBcc: x@evil.example", "Body")
        reply(ticket, agent)
        queue_mail("carla@example.test", "Hi\r\nBcc: y@evil.example\nX-Injected: 1", "text",
                   headers={"X-Ref": f"{ticket.reference}\r\nBcc: z@evil.example"})
        assert len(smtp.sink.envelopes) == 2
        for envelope, msg in zip(smtp.sink.envelopes, smtp.sink.messages(), strict=True):
            assert envelope.rcpt_tos == ["carla@example.test"]
            assert msg["Bcc"] is None and msg["X-Injected"] is None
        first, second = smtp.sink.messages()
        assert first["Subject"] == f"[{ticket.reference}] Re: Help Bcc: x@evil.example"
        assert second["Subject"] == "Hi Bcc: y@evil.example X-Injected: 1"
        assert second["X-Ref"] == f"{ticket.reference} Bcc: z@evil.example"

    def test_an_smtp_outage_delays_mail_and_never_loses_it(self, db, client, login, admin, smtp, ticket, agent):
        reply(ticket, agent)  # the server is down: connection refused
        [mail] = outbox(db)
        assert mail.status == "queued" and mail.attempts == 1
        assert mail.last_error.startswith("ConnectionRefusedError")
        login(client, admin)
        page = client.get(f"/admin/outbox/{mail.id}")
        assert text(page.text, id="mail-error").startswith("Last error: ConnectionRefusedError")
        assert "queued after 1 attempt" in text(page.text, id="mail-meta")

        deliver_mail(mail.id)  # a job too early: the retry waits its turn
        assert outbox(db)[0].attempts == 1
        retry_is_due(db, mail)
        deliver_mail(mail.id)  # a retry while still down
        [mail] = outbox(db)
        assert (mail.status, mail.attempts) == ("queued", 2)

        smtp.start()
        retry_is_due(db, mail)
        deliver_mail(mail.id)  # the next retry, with the server back
        [mail] = outbox(db)
        assert (mail.status, mail.attempts, mail.last_error) == ("sent", 3, None)
        assert [m["Subject"] for m in smtp.sink.messages()] == [f"[{ticket.reference}] Re: Printer on fire"]

        deliver_mail(mail.id)  # a duplicate job does not send twice
        assert len(smtp.sink.envelopes) == 1

    def test_send_now_raises_so_the_job_retries(self, db, smtp, ticket, agent):
        mail = queue_mail("carla@example.test", "Hello", "text", commit=False)
        db.session.commit()
        with pytest.raises(ConnectionRefusedError):
            send_now(mail)
        smtp.start()
        send_now(mail)
        assert mail.status == "sent" and len(smtp.sink.envelopes) == 1

    def test_after_the_last_attempt_the_mail_is_failed_but_kept(self, db, client, login, admin, smtp, ticket, agent):
        mail = queue_mail("carla@example.test", "Hello", "text", commit=False)
        mail.attempts = MAX_ATTEMPTS - 1
        db.session.commit()
        deliver_mail(mail.id)
        [mail] = outbox(db)
        assert (mail.status, mail.attempts) == ("failed", MAX_ATTEMPTS)
        login(client, admin)
        rows = texts(client.get("/admin/outbox").text, cls="mail-row")
        assert "Hello failed" in rows[0]
        deliver_mail(mail.id)  # failed mail is not retried by the job
        assert outbox(db)[0].attempts == MAX_ATTEMPTS


def test_reply_page_says_sent_even_when_smtp_is_down(app, db, client, login, agent, ticket):
    """The agent's reply is saved and the page works; the mail waits in the outbox."""
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=free_port())
    login(client, agent)
    answer = client.post(f"/tickets/{ticket.reference}", data={
        "body": f"Hi Carla, done ({ticket.reference})."}, follow_redirects=True)
    assert "Reply sent." in " ".join(alerts(answer.text))
    [mail] = outbox(db)
    assert mail.status == "queued" and mail.last_error


def test_a_burst_of_mail_shares_one_connection_and_survives_a_server_restart(app, db, smtp, customer):
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=smtp.port)
    smtp.start()
    for n in range(3):
        queue_mail(customer.email, f"Notice {n}", "text")
    assert [m.status for m in outbox(db)] == ["sent"] * 3
    assert smtp.sink.sessions == 1  # one greeting for the three mails

    smtp.stop()  # the server goes away while our connection is kept...
    smtp.start()  # ...and comes back: the next mail notices and says it again on a new one
    queue_mail(customer.email, "After the restart", "text")
    assert outbox(db)[-1].status == "sent" and outbox(db)[-1].attempts == 1
    assert [m["Subject"] for m in smtp.sink.messages()][-1] == "After the restart"


def test_batched_mail_commits_once_and_delivers_over_one_connection(app, db, smtp, customer, other_customer):
    from helpdesk.services.mail import batched_mail

    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=smtp.port)
    smtp.start()
    with batched_mail():
        for n in range(5):
            services.notify_customer(customer if n % 2 else other_customer, f"Survey {n}", "How did we do?")
        assert [m.status for m in outbox(db)] == ["queued"] * 5  # nothing leaves before the batch ends
        assert smtp.sink.envelopes == []
    assert [m.status for m in outbox(db)] == ["sent"] * 5
    assert smtp.sink.sessions == 1 and len(smtp.sink.envelopes) == 5

    with pytest.raises(RuntimeError), batched_mail():
        queue_mail(customer.email, "Half-way", "text")
        raise RuntimeError("the run broke")
    assert [m.subject for m in outbox(db)] == [f"Survey {n}" for n in range(5)]  # nothing half-queued
