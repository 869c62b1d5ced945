"""Email you can trust (issue 12): one test per attack, through ``helpdesk mail ingest`` or the webhook.

Each attack asserts the refusal (what the helpdesk did instead) and what went out, counted
at a real SMTP server (aiosmtpd): impersonating agents, display-name tricks, two From
headers, mail loops and automated mail, floods of automatic notices, our own addresses,
no-reply senders, and a Message-ID reused to make another mail vanish.
"""
from __future__ import annotations

import hashlib
import hmac
import json
from email import message_from_bytes

import pytest
from email_mailmaker import make_mail
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pagetext import text
from smtp_sink import free_port
from sqlalchemy import func, select

from helpdesk.models import AuditEvent, CustomerNotice
from helpdesk.plugin_api import Message, Ticket, db_session, services

pytestmark = pytest.mark.plugins("email")

CUSTOMER = "carla@example.test"
SUPPORT = "support@acme.test"


@pytest.fixture
def app_config(smtp_port):
    return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": smtp_port, "MAIL_FROM": "help@acme.test"}


@pytest.fixture(autouse=True)
def support_address(monkeypatch):
    monkeypatch.setenv("HELPDESK_PLUGIN_EMAIL_ADDRESS", SUPPORT)


def mail_ingest(app, raw: bytes, *args: str) -> str:
    """``helpdesk mail ingest`` with ``raw`` on standard input (an MTA pipe); its one output line."""
    result = app.test_cli_runner().invoke(args=["mail", "ingest", *args], input=raw)
    assert result.exit_code == 0, result.output
    return result.output.strip()


def recipients(smtp) -> list[str]:
    return [to for envelope in smtp.sink.envelopes for to in envelope.rcpt_tos]


def count(model, *where) -> int:
    db_session().expire_all()
    return db_session().scalar(select(func.count()).select_from(model).where(*where))


def messages_of(ticket_id: int) -> list[Message]:
    db_session().expire_all()
    return list(db_session().scalars(select(Message).where(Message.ticket_id == ticket_id).order_by(Message.id)))


@pytest.fixture
def opened(app, smtp):  # (request the agent fixture before this one: the CLI reads the staff list once)
    """HD-1, opened by Carla's mail through the CLI; returns (ticket id, her acknowledgement's Message-ID)."""
    output = mail_ingest(app, make_mail(sender=f"Carla Customer <{CUSTOMER}>", subject="Printer on fire"))
    assert output == f"ticket HD-1: New ticket HD-1 from {CUSTOMER}."
    [ack] = smtp.sink.messages()
    smtp.sink.envelopes.clear()
    return 1, ack["Message-ID"]


def agent_notice(app, smtp, agent, ticket_id: int, ack_id: str) -> str:
    """Assign the ticket to ``agent``, let Carla write, and return the Message-ID of the notice the agent got."""
    services.update_ticket(db_session().get(Ticket, ticket_id), agent, assignee_id=agent.id)
    mail_ingest(app, make_mail(sender=CUSTOMER, subject="Re: [HD-1] Printer on fire", body="Now it beeps too.",
                               in_reply_to=ack_id))
    [notice] = smtp.sink.messages()
    assert smtp.sink.envelopes[0].rcpt_tos == [agent.email] and "Now it beeps too." in notice.get_content()
    smtp.sink.envelopes.clear()
    return notice["Message-ID"]


def agent_reply(agent_address: str, in_reply_to: str, **headers: str) -> bytes:
    return make_mail(sender=f"Alex Agent <{agent_address}>", subject="Re: [HD-1] Printer on fire",
                     body="Hi Carla, we refund you: send us your card number.", in_reply_to=in_reply_to,
                     headers=headers)


# ------------------------------------------------------------------ 1. agents' replies must be authenticated


def test_a_forged_agent_from_with_the_ticket_reference_becomes_an_unverified_internal_note(
        app, smtp, agent, opened, client, login):
    raw = make_mail(sender=f"Alex Agent <{agent.email}>", subject="Re: [HD-1] Printer on fire",
                    body="Hi Carla, we refund you: send us your card number.",
                    headers={"Authentication-Results": "mx.acme.test; spf=fail smtp.mailfrom=evil.example; "
                                                       "dkim=none; dmarc=fail header.from=example.test"})
    output = mail_ingest(app, raw)
    assert output.startswith("message HD-1: Unverified — not sent: kept as an internal note on HD-1")
    note = messages_of(1)[-1]
    assert (note.internal, note.needs_review, note.author_id) == (True, True, agent.id)
    assert recipients(smtp) == []  # the customer got nothing
    login(client, agent)
    page = client.get("/tickets/HD-1").text
    assert "Unverified — not sent" in text(page, id=f"message-{note.id}")


def test_a_reply_to_the_customers_own_mail_from_an_agents_address_is_not_sent(app, smtp, agent, opened):
    _ticket, ack_id = opened
    output = mail_ingest(app, agent_reply(agent.email, ack_id))  # threads, but carries no agent token
    assert "Unverified — not sent" in output and "does not answer a notice we mailed to agent@example.test" in output
    assert messages_of(1)[-1].internal and recipients(smtp) == []


def test_an_agent_answering_our_notice_from_their_own_address_is_sent_to_the_customer(app, smtp, agent, opened):
    notice_id = agent_notice(app, smtp, agent, *opened)
    output = mail_ingest(app, agent_reply(agent.email, notice_id))
    assert output == "message HD-1: Agent reply by mail on HD-1, sent on to the customer."
    reply = messages_of(1)[-1]
    assert (reply.internal, reply.author_id) == (False, agent.id)
    assert recipients(smtp) == [CUSTOMER]


def test_the_notice_to_the_assigned_agent_is_in_their_language(app, smtp, agent, opened):
    """Carla writes in English; Alex reads German: the notice's own words are his, her words hers."""
    agent.language = "de"
    db_session().commit()
    _ticket, ack_id = opened
    services.update_ticket(db_session().get(Ticket, 1), agent, assignee_id=agent.id)
    mail_ingest(app, make_mail(sender=f"Carla Customer <{CUSTOMER}>", subject="Re: [HD-1] Printer on fire",
                               body="Now it beeps too.", in_reply_to=ack_id))
    [notice] = smtp.sink.messages()
    body = notice.get_content()
    assert body.startswith("Carla Customer schrieb zu HD-1 (Printer on fire):")
    assert "Now it beeps too." in body and "oder öffnen Sie das Ticket: http://helpdesk.test/tickets/HD-1" in body
    assert "wrote on" not in body


@pytest.fixture
def other_agent(make_user):
    return make_user("agent", name="Olga Other", email="olga@example.test")


def test_another_agents_notice_or_a_forged_token_is_not_enough(app, smtp, agent, other_agent, opened):
    notice_id = agent_notice(app, smtp, agent, *opened)
    other = other_agent
    output = mail_ingest(app, agent_reply(other.email, notice_id))
    assert "Unverified — not sent" in output and "answers a notice we sent to another agent" in output
    local, domain = notice_id.strip("<>").split("@")
    forged = f"<{local[:-16]}{'0' * 16}@{domain}>"  # the right shape, the wrong HMAC
    output = mail_ingest(app, agent_reply(agent.email, forged))
    assert "Unverified — not sent" in output
    assert [m.internal for m in messages_of(1)] == [False, False, True, True]
    assert recipients(smtp) == []


def test_the_agent_token_without_the_agents_address_is_the_sender_who_it_is(app, smtp, agent, opened):
    notice_id = agent_notice(app, smtp, agent, *opened)
    output = mail_ingest(app, make_mail(sender="Mallory <mallory@evil.example>", subject="Re: [HD-1] Printer on fire",
                                        body="Pay here.", in_reply_to=notice_id))
    assert output == ("message HD-1: Added to HD-1 and flagged for review: mallory@evil.example is not the "
                      "ticket's customer or an agent.")
    assert messages_of(1)[-1].needs_review
    assert recipients(smtp) == [agent.email]  # the agent is told (a stranger wrote), the customer is not


@pytest.mark.parametrize("results, sent", [
    ("mx.acme.test; spf=fail smtp.mailfrom=example.test; dkim=fail header.d=example.test; dmarc=fail", False),
    ("evil.example; dmarc=pass header.from=example.test", False),  # a server we do not trust vouches
    ("mx.acme.test; dkim=pass header.d=other.example; spf=pass smtp.mailfrom=bounce@other.example", False),
    ("mx.acme.test; dkim=pass header.d=example.test; dmarc=none", True),  # aligned DKIM
    ("mx.acme.test 1; dmarc=pass (p=reject) header.from=example.test", True),
], ids=["fail", "untrusted-server", "unaligned", "aligned-dkim", "dmarc-pass"])
def test_with_a_trusted_authserv_id_the_agents_reply_also_needs_dmarc_or_aligned_dkim_spf(
        app, smtp, agent, opened, monkeypatch, results, sent):
    monkeypatch.setenv("HELPDESK_PLUGIN_EMAIL_AUTHSERV_ID", "mx.acme.test")
    notice_id = agent_notice(app, smtp, agent, *opened)
    output = mail_ingest(app, agent_reply(agent.email, notice_id, **{"Authentication-Results": results}))
    if sent:
        assert output.endswith("sent on to the customer.") and recipients(smtp) == [CUSTOMER]
    else:
        assert "Unverified — not sent" in output and "mx.acme.test" in output
        assert messages_of(1)[-1].internal and recipients(smtp) == []


# ------------------------------------------------------------------ 2. identity from the address only


def test_an_agent_address_in_the_display_name_is_just_a_name(app, smtp, agent, opened):
    raw = make_mail(subject="Re: [HD-1] Printer on fire", body="Refund approved, send your card number.")
    raw = raw.replace(f"From: Carla Customer <{CUSTOMER}>".encode(),
                      b"From: =?UTF-8?Q?Support_=3Cagent=40example=2Etest=3E?= <mallory@evil.example>")
    output = mail_ingest(app, raw)
    assert output == "ticket HD-2: New ticket HD-2 from mallory@evil.example."  # not HD-1, not an agent reply
    assert [m.body for m in messages_of(1)] == ["The printer in room 4 is smoking."]
    ticket = db_session().get(Ticket, 2)
    assert ticket.customer.email == "mallory@evil.example" and "agent@" not in ticket.customer.name
    assert recipients(smtp) == ["mallory@evil.example"]  # only mallory's own acknowledgement


def test_the_display_name_trick_adds_nothing_to_another_customers_ticket(app, smtp, opened):
    raw = make_mail(subject="Re: [HD-1] Printer on fire", body="Cancel my order and refund to IBAN DE00 1234.")
    raw = raw.replace(f"From: Carla Customer <{CUSTOMER}>".encode(),
                      b'From: "carla@example.test" <mallory@evil.example>')
    output = mail_ingest(app, raw)
    assert output.startswith("ticket HD-2") and len(messages_of(1)) == 1
    assert CUSTOMER not in recipients(smtp)


def test_two_from_headers_are_quarantined_through_the_webhook(app, client, smtp, opened, monkeypatch):
    monkeypatch.setenv("HELPDESK_PLUGIN_EMAIL_WEBHOOK_SECRET", "hook-secret")
    raw = make_mail(sender="Mallory <mallory@evil.example>", subject="Re: [HD-1] Printer on fire", body="Hi")
    raw = raw.replace(b"From: Mallory", f"From: Carla <{CUSTOMER}>\r\nFrom: Mallory".encode(), 1)
    assert len(message_from_bytes(raw).get_all("From")) == 2
    signature = "sha256=" + hmac.new(b"hook-secret", raw, hashlib.sha256).hexdigest()
    answer = client.post("/email/inbound", data=raw, headers={"X-Helpdesk-Signature": signature})
    assert answer.status_code == 202
    assert json.loads(answer.data) == {
        "outcome": "quarantined", "ticket": None,
        "reason": "No usable sender: the mail has 2 From headers: the sender is ambiguous."}
    assert len(messages_of(1)) == 1 and recipients(smtp) == []


@pytest.mark.parametrize("from_value, reason", [
    (b"agent@example.test <mallory@evil.example>", "the From header holds no valid address."),
    (b"Carla <carla@example.test>, Mallory <mallory@evil.example>",
     "the From header names 2 addresses: the sender is ambiguous."),
    (b"Alex Agent <agent@example.test", "the From header is malformed: missing trailing '>' on angle-addr."),
], ids=["address-as-name", "two-mailboxes", "unclosed-angle"])
def test_a_from_the_parser_flags_is_quarantined_with_the_reason(app, smtp, agent, opened, from_value, reason):
    raw = make_mail(subject="Re: [HD-1] Printer on fire").replace(f"From: Carla Customer <{CUSTOMER}>".encode(),
                                                                  b"From: " + from_value)
    assert mail_ingest(app, raw) == f"quarantined: No usable sender: {reason}"
    assert len(messages_of(1)) == 1 and recipients(smtp) == []


def test_a_display_name_with_a_comma_stays_whole(app, smtp):
    quoted = make_mail(sender='"Müller, Bernd" <bernd@example.test>', subject="Rechnung")
    encoded = make_mail(subject="Lieferung").replace(f"From: Carla Customer <{CUSTOMER}>".encode(),
                                                     b"From: =?utf-8?q?Meier=2C_Anna?= <anna@example.test>")
    assert mail_ingest(app, quoted).startswith("ticket HD-1")
    assert mail_ingest(app, encoded).startswith("ticket HD-2")
    assert db_session().get(Ticket, 1).customer.name == "Müller, Bernd"
    assert db_session().get(Ticket, 2).customer.name == "Meier, Anna"


NAME_PIECES = st.sampled_from([
    "agent@example.test", "<agent@example.test>", "=?UTF-8?Q?Support_=3Cagent=40example=2Etest=3E?=",
    "=?utf-8?b?PGFnZW50QGV4YW1wbGUudGVzdD4=?=", '"', "\\", ",", ";", ":", "<", ">", "(", ")", "@", " ", "\t",
    "Müller, Bernd", "=?", "?=", "From: ", "agent", "example.test", "=3C", "=40", "\udcff"])


@settings(derandomize=True, database=None, deadline=None, max_examples=300,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(name=st.lists(st.one_of(NAME_PIECES, st.binary(max_size=12).map(lambda b: b.decode("latin-1"))),
                     max_size=12).map("".join))
def test_no_display_name_bytes_change_who_the_sender_is(app, name):
    """Whatever stands before ``<mallory@evil.example>`` (short of ending the header line), the sender
    is mallory or nobody (quarantined as ambiguous): never the agent named in the display name."""
    from helpdesk_email.identity import sender
    from helpdesk_email.mime import parse_message

    name_bytes = name.encode("utf-8", "surrogateescape").replace(b"\r", b"").replace(b"\n", b"").replace(b"\0", b"")
    raw = b"From: " + name_bytes + b" <mallory@evil.example>\r\nSubject: hi\r\nMessage-ID: <h@x.test>\r\n\r\nhi\r\n"
    msg, _parsed = parse_message(raw)
    who = sender(msg.get_all("From") or [])
    assert who.address in ("mallory@evil.example", None), (name_bytes, who)
    assert who.address is not None or who.problem


ASCII_NAME = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=30)
LOCAL = st.from_regex(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,8}(\.[A-Za-z0-9_-]{1,5}){0,2}", fullmatch=True)
DOMAIN = st.from_regex(r"[a-z0-9]{1,8}(-[a-z0-9]{1,3})?(\.[a-z]{2,5}){1,2}", fullmatch=True)


@settings(derandomize=True, database=None, deadline=None, max_examples=300)
@given(name=ASCII_NAME, local=LOCAL, domain=DOMAIN,
       shape=st.sampled_from(["{a}", "{n} <{a}>", '"{n}" <{a}>', "<{a}>", " {n}\t<{a}> "]))
def test_the_quick_reading_of_everyday_from_values_is_the_full_parsers(name, local, domain, shape):
    """Common From values skip the slow parser; for every one they take, both readings are the same."""
    from helpdesk_email import identity

    value = shape.format(n=name, a=f"{local}@{domain}")
    if identity._SIMPLE.fullmatch(value):
        assert identity._one_from(value) == identity._one_from_parsed(value), value


# ------------------------------------------------------------------ 3. automated mail: one table, one header each


AUTOMATED_HEADERS = [
    ("Auto-Submitted", "auto-generated"), ("Auto-Submitted", "auto-replied"), ("Auto-Submitted", "auto-notified"),
    ("X-Loop", "yes"), ("X-Loop", "support@elsewhere.example"),
    ("X-Auto-Response-Suppress", "All"), ("X-Auto-Response-Suppress", "DR, RN, NRN"),
    ("X-Auto-Response-Suppress", "OOF"), ("X-Auto-Response-Suppress", "anything"),
    ("Precedence", "bulk"), ("Precedence", "junk"), ("Precedence", "list"), ("Precedence", "auto_reply"),
    ("X-Precedence", "bulk"), ("X-Autoreply", "yes"), ("X-Autorespond", "vacation"), ("X-Autoresponse", "1"),
    ("X-AutoReply-From", "carla@example.test"), ("X-Mail-Autoreply", "1"), ("X-Autogenerated", "Reply"),
    ("X-AMAZON-MAIL-RELAY-TYPE", "notification"), ("X-FC-MachineGenerated", "true"),
    ("List-Id", "<printers.lists.example.test>"), ("List-Unsubscribe", "<mailto:leave@lists.example.test>"),
    ("List-Post", "<mailto:printers@lists.example.test>"), ("Return-Path", "<>"),
    ("X-Failed-Recipients", "carla@example.test"),
]


@pytest.mark.parametrize("name, value", AUTOMATED_HEADERS, ids=[f"{n}: {v}" for n, v in AUTOMATED_HEADERS])
def test_automated_mail_never_reopens_never_opens_and_is_never_answered(app, smtp, agent, opened, name, value):
    ticket_id, ack_id = opened
    services.update_ticket(db_session().get(Ticket, ticket_id), agent, status="resolved")
    smtp.sink.envelopes.clear()
    threaded = make_mail(subject="Re: [HD-1] Printer on fire", body="Thank you!", in_reply_to=ack_id,
                         headers={name: value})
    fresh = make_mail(subject="A new question", body="Hello?", headers={name: value})
    outputs = [mail_ingest(app, threaded), mail_ingest(app, fresh)]
    assert all(o.split(":")[0].split()[0] in ("auto_reply", "bulk", "bounce") for o in outputs), outputs
    assert db_session().get(Ticket, ticket_id).status == "resolved"
    assert count(Ticket) == 1 and len(messages_of(ticket_id)) == 1
    assert recipients(smtp) == []


def test_a_multipart_report_is_automated_whatever_its_report_type(app, smtp, opened):
    raw = (b"From: Reports <reports@mx.example.test>\r\nSubject: Re: [HD-1] Printer on fire\r\n"
           b"Message-ID: <r1@mx.example.test>\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: multipart/report; report-type=x-custom; boundary=R\r\n\r\n"
           b"--R\r\nContent-Type: text/plain\r\n\r\nA report.\r\n--R--\r\n")
    assert mail_ingest(app, raw).startswith("auto_reply: Automatic report (multipart/report")
    assert count(Ticket) == 1 and recipients(smtp) == []


@pytest.mark.parametrize("own", ["help@acme.test", SUPPORT, "inbox@acme.test"], ids=["mail_from", "address", "mailbox"])
def test_mail_from_an_address_the_helpdesk_sends_from_never_opens_a_ticket(app, smtp, own):
    from helpdesk_email.models import EmailMailbox

    from helpdesk.plugin_api import encrypt_secret

    db_session().add(EmailMailbox(name="Inbox", host="127.0.0.1", port=free_port(), security="none",
                                username="inbox@acme.test", password_encrypted=encrypt_secret("p")))
    db_session().commit()
    output = mail_ingest(app, make_mail(sender=f"Helpdesk <{own}>", subject="Your ticket"))
    assert output == (f"bulk: From the helpdesk's own address ({own}): our own mail is never a ticket and "
                      "never answered.")
    assert count(Ticket) == 0 and recipients(smtp) == []


# ------------------------------------------------------------------ 4. one cap on automatic notices


@pytest.mark.parametrize("address", ["noreply@shop.example.test", "no-reply@shop.example.test",
                                     "do-not-reply@shop.example.test", "donotreply@shop.example.test",
                                     "no_reply+orders@shop.example.test", "billing-noreply@shop.example.test"])
def test_no_acknowledgement_to_a_no_reply_sender_and_the_ticket_says_so(app, smtp, client, login, agent, address):
    output = mail_ingest(app, make_mail(sender=f"Shop <{address}>", subject="Your order 12"))
    assert output.startswith("ticket HD-1")
    assert recipients(smtp) == []
    [held] = db_session().scalars(select(CustomerNotice)).all()
    assert held.status == "held" and f"{address} is an address nobody reads" in held.reason
    login(client, agent)
    assert "notice held back" in text(client.get("/tickets/HD-1").text, id="audit-trail")


def test_a_customer_with_an_ordinary_address_is_acknowledged(app, smtp):
    mail_ingest(app, make_mail(sender="Norah Replyman <norah.replyman@example.test>"))
    assert recipients(smtp) == ["norah.replyman@example.test"]


@pytest.mark.plugins("email", "complaints")
def test_eight_complaint_mails_in_a_minute_get_at_most_the_cap_of_automatic_replies(app, smtp, client, login, agent):
    from helpdesk.services.settings import save_site_settings

    save_site_settings({"notices_per_recipient_per_hour": 4})
    angry = ("My order #48213 was supposed to arrive on Monday. It is now Thursday and still nothing. "
             "This is unacceptable.")
    for n in range(8):
        assert mail_ingest(app, make_mail(subject=f"Order 48213, mail {n}", body=angry)).startswith("ticket")
    assert count(Ticket) == 8
    assert recipients(smtp) == [CUSTOMER] * 4  # without the cap: an acknowledgement and a complaint reply each
    held = count(CustomerNotice, CustomerNotice.status == "held")
    assert held >= 8 and count(CustomerNotice, CustomerNotice.status == "sent") == 4
    login(client, agent)
    history = text(client.get("/tickets/HD-8").text, id="audit-trail")
    assert "notice held back" in history and "the limit is 4" in history


def test_the_cap_counts_every_plugins_notices_together(app, smtp, customer):
    from helpdesk.services.settings import save_site_settings

    save_site_settings({"notices_per_recipient_per_hour": 2})
    mail_ingest(app, make_mail(subject="First"))  # the email plugin's acknowledgement: 1
    ticket = db_session().get(Ticket, 1)
    assert services.notify_customer(ticket.customer, "How did we do?", "Rate us", ticket=ticket)  # a survey: 2
    assert not services.notify_customer(ticket.customer, "Did we solve it?", "Tell us", ticket=ticket)  # held
    assert len(smtp.sink.envelopes) == 2
    reasons = list(db_session().scalars(select(AuditEvent.reason).where(AuditEvent.action == "notice held back")))
    assert len(reasons) == 1 and "had 2 automatic notice(s) in the last hour (the limit is 2" in reasons[0]


# ------------------------------------------------------------------ 5. nothing dropped unless it is a duplicate


def test_a_message_id_sent_first_by_an_attacker_does_not_make_the_real_mail_vanish(app, smtp, tmp_path):
    victim_id = "<CAF=victim.1@mail.example.test>"
    attacker = make_mail(sender="Mallory <mallory@evil.example>", subject="hi", body="x", message_id=victim_id)
    real = make_mail(sender=f"Carla Customer <{CUSTOMER}>", subject="Invoice 77 is wrong",
                     body="Please correct the VAT on invoice 77.", message_id=victim_id)
    assert mail_ingest(app, attacker).startswith("ticket HD-1")
    output = mail_ingest(app, real)
    assert output == f"ticket HD-2: New ticket HD-2 from {CUSTOMER}."
    [message] = messages_of(2)
    assert message.body == "Please correct the VAT on invoice 77."
    assert any("Another mail with the same Message-ID" in note for note in message.meta["email"]["notes"])
    assert recipients(smtp) == ["mallory@evil.example", CUSTOMER]

    same_sender_other_text = make_mail(sender=CUSTOMER, subject="Invoice 77 is wrong", body="And invoice 78.",
                                       message_id=victim_id)
    assert mail_ingest(app, same_sender_other_text).startswith("ticket HD-3")
    assert mail_ingest(app, real).startswith("duplicate")  # the very same mail again: a true duplicate
    mbox = tmp_path / "again.mbox"
    mbox.write_bytes(b"".join(b"From x@y Mon Jun  2 09:00:00 2025\n" + m.replace(b"\r\n", b"\n") + b"\n"
                              for m in (attacker, real, same_sender_other_text)))
    result = app.test_cli_runner().invoke(args=["mail", "ingest", "--mbox", str(mbox)])
    assert result.output.strip().splitlines()[-1] == "3 message(s): 3 duplicate."  # re-running is a no-op
    assert count(Ticket) == 3 and count(Message) == 3
