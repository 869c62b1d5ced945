"""IMAP polling against a real Dovecot (conftest.py), with real SMTP for what the helpdesk sends.

A customer's mail is APPENDed to the mailbox as a mail server would deliver it, the helpdesk
polls, and everything it sends goes through tests/smtp_sink.py's aiosmtpd server.
"""
from __future__ import annotations

from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime

import pytest
from smtp_sink import free_port
from sqlalchemy import func, select

from helpdesk import services
from helpdesk.models import Message, Ticket

pytestmark = pytest.mark.plugins("email")

SUPPORT = "help@acme.test"


@pytest.fixture
def app_config(smtp_port):
    return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": smtp_port, "MAIL_FROM": SUPPORT,
            "EXTERNAL_URL": "https://support.acme.test/"}


def customer_mail(sender: str, subject: str, body: str, message_id: str, **headers: str) -> bytes:
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = sender
    msg["To"] = f"ACME Support <{SUPPORT}>"
    msg["Subject"] = subject
    msg["Date"] = format_datetime(datetime(2025, 6, 3, 9, 30, tzinfo=UTC))
    msg["Message-ID"] = message_id
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body)
    return msg.as_bytes()


def make_mailbox(db, account, *, port: int | None = None, folder: str = "INBOX", password: str | None = None,
                 security: str = "none", **fields):
    from helpdesk_email.models import EmailMailbox

    from helpdesk.plugin_api import encrypt_secret

    box = EmailMailbox(name=f"Support {account.user}", host=account.host, port=port or account.port,
                       security=security, username=account.user,
                       password_encrypted=encrypt_secret(password or account.password),
                       folder=folder, poll_minutes=1, active=True, **fields)
    db.session.add(box)
    db.session.commit()
    return box.id


def poll(mailbox_id: int) -> list[str]:
    """Poll once; the errors it reports (raised or returned)."""
    from helpdesk_email.imap import poll_mailbox

    try:
        result = poll_mailbox(mailbox_id)
    except Exception as exc:  # "a dropped connection mid-fetch raises/returns an error": both are fine
        return [f"raised {type(exc).__name__}: {exc}"]
    return list(result.errors)


def mailbox_row(db, mailbox_id: int):
    from helpdesk_email.models import EmailMailbox

    db.session.expire_all()
    return db.session.get(EmailMailbox, mailbox_id)


def ticket_count(db) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(Ticket.id)))


def seen(flags: dict[int, set[str]]) -> set[int]:
    return {uid for uid, f in flags.items() if "\\Seen" in f}


# ---------------------------------------------------------------- round trip


def test_round_trip_customer_mail_ack_agent_reply_and_threaded_customer_reply(
        db, smtp, dovecot_account, customer, agent):
    from helpdesk_email.imap import poll_mailbox

    box = make_mailbox(db, dovecot_account)
    dovecot_account.append(customer_mail(
        "Carla Customer <carla@example.test>", "Printer on fire",
        "Hello,\n\nthe printer in room 4 is smoking again.\n\nCarla\n", "<first.c1@mail.example.test>"))

    result = poll_mailbox(box)
    assert (result.fetched, result.ingested, result.errors) == (1, 1, [])
    [ticket] = db.session.scalars(select(Ticket)).all()
    assert (ticket.customer_id, ticket.channel, ticket.subject) == (customer.id, "email", "Printer on fire")
    assert "the printer in room 4 is smoking again." in ticket.messages[0].body
    assert seen(dovecot_account.flags()) == {1}, "the mail was not marked \\Seen after ingest"

    # The acknowledgement reached the customer through real SMTP, with the reference in it.
    [ack] = smtp.sink.messages()
    assert smtp.sink.envelopes[0].rcpt_tos == ["carla@example.test"]
    assert ticket.reference in ack["Subject"] + ack.get_body(("plain",)).get_content()
    assert ack["Auto-Submitted"], "an acknowledgement must say it is automatic (RFC 3834)"

    # An agent answers on the ticket: the reply mail threads under the customer's mail.
    services.add_message(ticket, agent, "Hi Carla, we replaced the fuser unit. It should be fine now.")
    assert len(smtp.sink.messages()) == 2
    reply = smtp.sink.messages()[1]
    assert smtp.sink.envelopes[1].rcpt_tos == ["carla@example.test"]
    assert reply["Message-ID"] and reply["Message-ID"] != ack["Message-ID"]
    assert reply["In-Reply-To"] == "<first.c1@mail.example.test>"
    assert "<first.c1@mail.example.test>" in reply["References"]
    reply_text = reply.get_body(("plain",)).get_content()
    assert "we replaced the fuser unit" in reply_text

    # The customer answers THAT mail from her mail program: new text on top, the agent's mail quoted below.
    quoted = "\n".join("> " + line if line else ">" for line in reply_text.splitlines())
    answer = customer_mail(
        "Carla Customer <carla@example.test>", "Re: " + reply["Subject"],
        "Thanks, the printer works again!\n\n"
        f"On Tue, 3 Jun 2025 at 11:02, ACME Support <{SUPPORT}> wrote:\n{quoted}\n",
        "<second.c2@mail.example.test>",
        In_Reply_To=reply["Message-ID"],
        References=f"{reply['References']} {reply['Message-ID']}")
    dovecot_account.append(answer)

    result = poll_mailbox(box)
    assert (result.fetched, result.ingested, result.errors) == (1, 1, [])
    assert ticket_count(db) == 1, "the customer's reply opened a new ticket instead of threading"
    db.session.refresh(ticket)
    bodies = [m.body for m in ticket.messages]
    assert len(bodies) == 3, bodies
    newest = ticket.messages[-1]
    assert newest.author_id == customer.id and not newest.internal
    assert newest.body.strip() == "Thanks, the printer works again!", newest.body
    assert "fuser unit" not in newest.body, "the quoted agent reply was not folded away"
    assert newest.meta["email"]["message_id"].strip("<>") == "second.c2@mail.example.test"
    assert seen(dovecot_account.flags()) == {1, 2}
    assert len(smtp.sink.messages()) == 2, "a reply on an open ticket must not be acknowledged again"
    assert mailbox_row(db, box).last_error in (None, "")


# ------------------------------------------------------------- dropped connection


def test_a_connection_dropped_mid_fetch_loses_nothing_and_duplicates_nothing(
        db, smtp, dovecot_account, flaky_imap_proxy):
    for i in range(1, 6):
        dovecot_account.append(customer_mail(
            f"Customer {i} <c{i}@shop.example.test>", f"Order {i} is late", f"Where is order {i}?\n" * 40,
            f"<order-{i}@shop.example.test>"))
    box = make_mailbox(db, dovecot_account, port=flaky_imap_proxy.port)

    flaky_imap_proxy.arm(at_fetch=3)  # cut the connection in the middle of the 3rd message's body
    errors = poll(box)
    assert flaky_imap_proxy.drops == 1
    assert errors, "the poll did not report the dropped connection"
    assert ticket_count(db) == 2, "the two messages fetched before the drop are not kept"
    assert seen(dovecot_account.flags()) == {1, 2}
    assert mailbox_row(db, box).last_uid == 2

    # The next poll (the connection is healthy again) resumes after the last committed UID.
    assert poll(box) == []
    assert ticket_count(db) == 5
    subjects = sorted(db.session.scalars(select(Ticket.subject)))
    assert subjects == [f"Order {i} is late" for i in range(1, 6)], subjects
    assert db.session.scalar(select(func.count(Message.id))) == 5
    assert seen(dovecot_account.flags()) == {1, 2, 3, 4, 5}
    assert mailbox_row(db, box).last_uid == 5
    assert poll(box) == [] and ticket_count(db) == 5


def test_a_connection_dropped_before_login_is_reported_and_retried(db, smtp, dovecot_account, flaky_imap_proxy):
    dovecot_account.append(customer_mail("Dana <dana@example.test>", "VAT invoice", "Please send it.\n",
                                         "<vat@example.test>"))
    box = make_mailbox(db, dovecot_account, port=flaky_imap_proxy.port)
    flaky_imap_proxy.arm(after_bytes=40)  # inside the server greeting
    assert poll(box)
    assert ticket_count(db) == 0 and seen(dovecot_account.flags()) == set()
    assert poll(box) == []
    assert ticket_count(db) == 1 and seen(dovecot_account.flags()) == {1}


# ------------------------------------------------------------------ UIDVALIDITY


def test_a_new_uidvalidity_resets_the_position_without_duplicates(db, smtp, dovecot_account):
    old = [customer_mail(f"Old {i} <old{i}@example.test>", f"Old question {i}", "Hello?\n", f"<old-{i}@example.test>")
           for i in (1, 2)]
    for raw in old:
        dovecot_account.append(raw, folder="Support")
    box = make_mailbox(db, dovecot_account, folder="Support")
    assert poll(box) == []
    first_validity = dovecot_account.uidvalidity("Support")
    row = mailbox_row(db, box)
    assert (row.last_uid, row.uidvalidity) == (2, first_validity)
    assert ticket_count(db) == 2

    # The server rebuilt the folder: new UIDVALIDITY, UIDs start again at 1. The new mail gets UID 1,
    # below the old position, so a poller that kept last_uid=2 would never see it.
    dovecot_account.recreate("Support")
    dovecot_account.append(customer_mail("New <new@example.test>", "New question", "Hi!\n", "<new-1@example.test>"),
                           folder="Support")
    for raw in old:
        dovecot_account.append(raw, folder="Support")
    assert dovecot_account.uidvalidity("Support") != first_validity

    assert poll(box) == []
    row = mailbox_row(db, box)
    assert row.uidvalidity == dovecot_account.uidvalidity("Support")
    assert row.last_uid == 3
    subjects = sorted(db.session.scalars(select(Ticket.subject)))
    assert subjects == ["New question", "Old question 1", "Old question 2"], subjects
    assert seen(dovecot_account.flags("Support")) == {1, 2, 3}


# ------------------------------------------------------------------ TLS


@pytest.mark.parametrize("security", ["ssl", "starttls"])
def test_tls_and_starttls_mailboxes_are_polled_when_the_certificate_is_trusted(
        db, smtp, dovecot, dovecot_account, monkeypatch, security):
    from helpdesk_email.imap import test_connection

    monkeypatch.setenv("SSL_CERT_FILE", str(dovecot.cert))  # OpenSSL's default trust store, for this test
    port = dovecot.tls_port if security == "ssl" else dovecot.port
    dovecot_account.append(customer_mail("T <t@example.test>", f"Over {security}", "Hi\n",
                                         f"<{security}@example.test>"))
    box = make_mailbox(db, dovecot_account, port=port, security=security)
    assert poll(box) == []
    assert list(db.session.scalars(select(Ticket.subject))) == [f"Over {security}"]
    assert seen(dovecot_account.flags()) == {1}
    ok, message = test_connection(dovecot.host, port, security, dovecot_account.user, dovecot_account.password)
    assert ok, message


@pytest.mark.parametrize("security", ["ssl", "starttls"])
def test_an_untrusted_certificate_is_refused_with_a_clear_error(
        db, smtp, dovecot, dovecot_account, monkeypatch, security):
    from helpdesk_email.imap import test_connection

    monkeypatch.delenv("SSL_CERT_FILE", raising=False)  # the system's trust store: the self-signed cert is not in it
    port = dovecot.tls_port if security == "ssl" else dovecot.port
    dovecot_account.append(customer_mail("U <u@example.test>", "Untrusted", "Hi\n", "<untrusted@example.test>"))
    box = make_mailbox(db, dovecot_account, port=port, security=security)
    assert poll(box)
    error = mailbox_row(db, box).last_error or ""
    assert "certificate" in error.lower() or "tls" in error.lower(), error
    assert ticket_count(db) == 0 and seen(dovecot_account.flags()) == set()
    ok, message = test_connection(dovecot.host, port, security, dovecot_account.user, dovecot_account.password)
    assert not ok and ("certificate" in message.lower() or "tls" in message.lower()), message


# ------------------------------------------------------------------ wrong password


def test_a_wrong_password_is_reported_on_the_mailbox_and_nothing_is_lost(db, smtp, dovecot_account):
    from helpdesk_email.models import EmailMailbox

    from helpdesk.plugin_api import encrypt_secret

    dovecot_account.append(customer_mail("Eve <eve@example.test>", "Login broken", "I cannot log in.\n",
                                         "<login@example.test>"))
    box = make_mailbox(db, dovecot_account, password="not-the-password")
    errors = poll(box)
    assert errors
    row = mailbox_row(db, box)
    assert row.last_error, "the mailbox does not say why polling failed"
    assert "auth" in row.last_error.lower() or "login" in row.last_error.lower() or \
        "password" in row.last_error.lower(), row.last_error
    assert "not-the-password" not in row.last_error
    assert ticket_count(db) == 0 and seen(dovecot_account.flags()) == set() and row.last_uid == 0

    db.session.get(EmailMailbox, box).password_encrypted = encrypt_secret(dovecot_account.password)
    db.session.commit()
    assert poll(box) == []
    assert ticket_count(db) == 1 and seen(dovecot_account.flags()) == {1}
    assert mailbox_row(db, box).last_error in (None, "")


def test_test_connection_says_what_is_wrong(dovecot_account):
    from helpdesk_email.imap import test_connection

    ok, message = test_connection(dovecot_account.host, dovecot_account.port, "none", dovecot_account.user,
                                  dovecot_account.password, "INBOX")
    assert ok, message
    ok, message = test_connection(dovecot_account.host, dovecot_account.port, "none", dovecot_account.user,
                                  "wrong", "INBOX")
    assert not ok and message
    ok, message = test_connection(dovecot_account.host, dovecot_account.port, "none", dovecot_account.user,
                                  dovecot_account.password, "No/Such/Folder")
    assert not ok and message
    ok, message = test_connection("127.0.0.1", free_port(), "none", "x", "y", "INBOX")
    assert not ok and message


def test_a_processed_folder_receives_each_mail_after_ingest(db, smtp, dovecot_account):
    dovecot_account.create("Processed")
    for i in (1, 2):
        dovecot_account.append(customer_mail(f"P{i} <p{i}@example.test>", f"Question {i}", "Hi\n",
                                             f"<p{i}@example.test>"))
    box = make_mailbox(db, dovecot_account, processed_folder="Processed")
    assert poll(box) == []
    assert ticket_count(db) == 2
    assert dovecot_account.flags("INBOX") == {}, "ingested mail is still in the inbox"
    assert len(dovecot_account.flags("Processed")) == 2
    assert poll(box) == [] and ticket_count(db) == 2


def test_poll_all_polls_active_mailboxes_when_their_interval_has_passed(db, smtp, dovecot, dovecot_account):
    from datetime import timedelta

    from helpdesk_email.imap import poll_all
    from helpdesk_email.models import EmailMailbox

    other = dovecot.new_account()
    dovecot_account.append(customer_mail("A <a@example.test>", "Active box", "Hi\n", "<active@example.test>"))
    other.append(customer_mail("B <b@example.test>", "Paused box", "Hi\n", "<paused@example.test>"))
    active = make_mailbox(db, dovecot_account)
    paused = make_mailbox(db, other)
    db.session.get(EmailMailbox, active).poll_minutes = 5
    db.session.get(EmailMailbox, paused).active = False
    db.session.commit()
    poll_all()
    assert list(db.session.scalars(select(Ticket.subject))) == ["Active box"]
    assert seen(other.flags()) == set()

    # Polled a moment ago: the next minute's run leaves it alone until 5 minutes have passed.
    dovecot_account.append(customer_mail("A <a@example.test>", "Second mail", "Hi\n", "<second@example.test>"))
    poll_all()
    assert ticket_count(db) == 1
    row = mailbox_row(db, active)
    row.last_polled_at -= timedelta(minutes=5)
    db.session.commit()
    poll_all()
    assert ticket_count(db) == 2
