"""Mail in: parsing, charsets, HTML, attachments, size limits, duplicates, automated mail, quarantine."""
from __future__ import annotations

import pytest
from email_mailmaker import make_dsn, make_mail
from helpdesk_email.ingest import ingest_message
from helpdesk_email.models import EmailQuarantine
from pagetext import text, texts
from sqlalchemy import func, select

from helpdesk.plugin_api import Message, Ticket, User, db_session

pytestmark = pytest.mark.plugins("email")


def count(model) -> int:
    return db_session().scalar(select(func.count()).select_from(model))


def ticket_page(client, login, agent, reference: str) -> str:
    login(client, agent)
    page = client.get(f"/tickets/{reference}")
    assert page.status_code == 200
    return page.text


def outbox_count() -> int:
    from helpdesk.models import OutboxMail  # the test reads the core's outbox as an admin would

    return count(OutboxMail)


# ------------------------------------------------------------------ a mail becomes a ticket


def test_a_mail_from_a_new_person_opens_an_email_ticket(app, client, login, agent):
    result = ingest_message(make_mail(sender="Nina Neu <Nina.Neu@Example.test>", subject="Invoice 42 is wrong",
                                      body="Hello,\n\nthe invoice lists twelve flamingos.\n\nNina\n",
                                      message_id="<first@client.example.test>"))
    assert result.outcome == "ticket" and result.reference == "HD-1"
    ticket = db_session().get(Ticket, result.ticket_id)
    assert (ticket.channel, ticket.subject, ticket.customer.name, ticket.customer.email) == (
        "email", "Invoice 42 is wrong", "Nina Neu", "nina.neu@example.test")
    message = db_session().get(Message, result.message_id)
    assert message.meta["email"]["message_id"] == "first@client.example.test"
    assert message.meta["email"]["from"] == "nina.neu@example.test"
    assert message.meta["email"]["auto_reply"] is False

    page = ticket_page(client, login, agent, "HD-1")
    assert text(page, id="ticket-channel") == "via email"
    assert "the invoice lists twelve flamingos." in text(page, id="conversation")


def test_encoded_subjects_and_every_charset_are_decoded(app, client, login, agent):
    raw = (b"From: =?utf-8?q?J=C3=BCrgen_M=C3=BCller?= <juergen@example.test>\r\n"
           b"Subject: =?utf-8?b?R3LDvMOfZSBhdXMgS8O2bG4=?=\r\n"
           b"Message-ID: <charsets@example.test>\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: multipart/mixed; boundary=XX\r\n\r\n"
           b"--XX\r\nContent-Type: text/plain; charset=iso-8859-1\r\n"
           b"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
           b"Sch=F6ne Gr=FC=DFe\r\n"
           b"--XX\r\nContent-Type: text/plain; charset=koi8-r\r\n\r\n\xf0\xd2\xc9\xd7\xc5\xd4\r\n"
           b"--XX\r\nContent-Type: text/plain; charset=x-klingon\r\n\r\nQapla\xc3\xa4\r\n--XX--\r\n")
    result = ingest_message(raw)
    assert result.outcome == "ticket"
    ticket = db_session().get(Ticket, result.ticket_id)
    assert ticket.subject == "Grüße aus Köln"
    assert ticket.customer.name == "Jürgen Müller"
    page = ticket_page(client, login, agent, ticket.reference)
    conversation = text(page, id="conversation")
    assert "Schöne Grüße" in conversation and "Привет" in conversation and "Qaplaä" in conversation
    assert "Unknown character set 'x-klingon' in the message text; read as UTF-8." in conversation


def test_the_plain_text_alternative_is_the_body_and_the_html_is_sanitised(app, client, login, agent):
    html = ('<p>Hello <b>team</b></p><script>alert("owned")</script>'
            '<img src="x" onerror="alert(1)"><a href="javascript:alert(2)">click</a>')
    result = ingest_message(make_mail(body="Hello team (plain version)\n", html=html))
    message = db_session().get(Message, result.message_id)
    assert message.body == "Hello team (plain version)"
    assert message.body_html is None  # a full text alternative: the text is shown, not the HTML
    html_only = ingest_message(make_mail(body="", html=html))
    message = db_session().get(Message, html_only.message_id)
    assert "<b>team</b>" in message.body_html
    for dangerous in ("<script", "onerror", "javascript:", "alert(1)", "<img"):
        assert dangerous not in message.body_html
    page = ticket_page(client, login, agent, result.reference)
    assert "Hello team (plain version)" in text(page, id="conversation")
    assert "owned" not in page


def test_an_html_only_mail_is_shown_as_text(app):
    html = ("<html><head><style>p{color:red}</style></head>"
            "<body><p>Line one</p><p>Line&nbsp;two &amp; more</p></body></html>")
    result = ingest_message(make_mail(body="", html=html))
    message = db_session().get(Message, result.message_id)
    assert message.body == "Line one\n\nLine two & more"


def test_attachments_and_inline_images_become_ticket_attachments(app, client, login, agent):
    pdf = b"%PDF-1.4 statement " * 50
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    raw = make_mail(body="See the statement.\n", html='<p>See <img src="cid:logo1"></p>',
                    inline_images=[("logo1", png)], attachments=[("statement.pdf", pdf, "application/pdf")])
    result = ingest_message(raw)
    page = ticket_page(client, login, agent, result.reference)
    names = [t.split(" (")[0] for t in texts(page, cls="attachment")]
    assert names == ["logo1.png", "statement.pdf"]
    message = db_session().get(Message, result.message_id)
    token = next(a.token for a in message.attachments if a.filename == "statement.pdf")
    assert client.get(f"/attachments/{token}").data == pdf


@pytest.mark.parametrize("app_config", [{"MAX_ATTACHMENT_BYTES": 20_000}])
def test_a_file_over_the_attachment_limit_is_dropped_with_a_note_and_the_mail_kept(app, client, login, agent):
    big, small = b"x" * 30_000, b"y" * 100
    raw = make_mail(body="Two files.\n", attachments=[("huge.bin", big, "application/octet-stream"),
                                                      ("small.txt", small, "text/plain")])
    result = ingest_message(raw)
    assert result.outcome == "ticket"
    page = ticket_page(client, login, agent, result.reference)
    conversation = text(page, id="conversation")
    assert "Two files." in conversation
    assert "[Attachment huge.bin (30 kB) was not kept: files over 20 kB are not stored." in conversation
    assert [t.split(" (")[0] for t in texts(page, cls="attachment")] == ["small.txt"]
    original = client.get(page.split('class="email-original text-body-secondary" href="')[1].split('"')[0])
    assert original.data == raw  # the dropped file is still in the original mail


def test_a_mail_over_the_size_limit_is_quarantined_unread_with_its_bytes(app, monkeypatch):
    monkeypatch.setenv("HELPDESK_PLUGIN_EMAIL_MAX_MESSAGE_MB", "1")
    raw = make_mail(attachments=[("video.bin", b"v" * 1_200_000, "application/octet-stream")])
    result = ingest_message(raw)
    assert result.outcome == "quarantined" and count(Ticket) == 0
    row = db_session().get(EmailQuarantine, result.quarantine_id)
    assert row.reason.startswith("Over the size limit: the mail is 1.6 MB, the limit is 1 MB")
    assert row.original == raw and row.kind == "quarantined"


# ------------------------------------------------------------------ duplicates


def test_the_same_message_id_delivered_twice_makes_one_message(app):
    raw = make_mail(message_id="<once@client.example.test>")
    first, second = ingest_message(raw), ingest_message(raw)
    assert (first.outcome, second.outcome) == ("ticket", "duplicate")
    assert second.ticket_id == first.ticket_id and second.message_id == first.message_id
    with_crlf = raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")  # read back from another store
    assert ingest_message(b"Received: from mx2.example.test\r\n" + with_crlf).outcome == "duplicate"
    assert (count(Ticket), count(Message)) == (1, 1)


def test_a_mail_without_message_id_is_a_duplicate_when_the_same_bytes_come_again(app):
    raw = b"From: carla@example.test\r\nSubject: No id\r\n\r\nHello\r\n"
    assert [ingest_message(raw).outcome for _ in range(2)] == ["ticket", "duplicate"]
    assert ingest_message(raw + b"P.S. more\r\n").outcome == "ticket"


def test_a_quarantined_mail_delivered_again_is_a_duplicate(app):
    raw = b"Subject: no sender at all\r\nMessage-ID: <nosender@example.test>\r\n\r\nHi\r\n"
    first, second = ingest_message(raw), ingest_message(raw)
    assert (first.outcome, second.outcome) == ("quarantined", "duplicate")
    assert second.quarantine_id == first.quarantine_id and count(EmailQuarantine) == 1


# ------------------------------------------------------------------ what cannot be a ticket


@pytest.mark.parametrize("raw", [
    b"", b"\x00\xff" * 100, b"not a mail at all", "Subject: text, not bytes\n\nhi",
    b"".join(b"Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n" % (i, i) for i in range(2000)),
], ids=["empty", "binary", "no headers", "str", "nested 2000 deep"])
def test_anything_that_is_not_a_mail_is_quarantined_and_never_raises(app, raw):
    result = ingest_message(raw)
    assert result.outcome == "quarantined" and result.reason
    row = db_session().get(EmailQuarantine, result.quarantine_id)
    assert row.original == (raw.encode() if isinstance(raw, str) else raw)


def test_a_mail_without_a_usable_sender_is_quarantined_with_the_reason(app):
    result = ingest_message(b"From: Nobody <>\r\nSubject: Lost\r\nMessage-ID: <lost@example.test>\r\n\r\nHi\r\n")
    assert result.outcome == "quarantined"
    assert result.reason == "No usable sender: the From header holds no valid address."
    row = db_session().get(EmailQuarantine, result.quarantine_id)
    assert (row.subject, row.message_id_header) == ("Lost", "lost@example.test")


def test_mail_from_an_agents_address_opens_no_ticket(app, agent):
    result = ingest_message(make_mail(sender=f"Alex <{agent.email}>", subject="Lunch?"))
    assert result.outcome == "quarantined" and count(Ticket) == 0
    assert "agents' mail does not open tickets" in result.reason


# ------------------------------------------------------------------ automated mail


AUTOMATED = {
    "auto-submitted": ({"Auto-Submitted": "auto-replied"}, "Auto-Submitted: auto-replied."),
    "x-autoreply": ({"X-Autoreply": "yes"}, "Automatic reply (x-autoreply header)."),
    "x-autorespond": ({"X-Autorespond": "vacation"}, "Automatic reply (x-autorespond header)."),
    "precedence": ({"Precedence": "auto_reply"}, "Precedence: auto_reply."),
    "suppress": ({"X-Auto-Response-Suppress": "OOF"}, "Automatic message (X-Auto-Response-Suppress: OOF)."),
    "subject": ({}, "Automatic reply (subject 'Out of Office: back on Monday')."),
}


@pytest.mark.parametrize("case", AUTOMATED, ids=list(AUTOMATED))
def test_auto_replies_are_recorded_and_never_answered(app, case):
    headers, reason = AUTOMATED[case]
    subject = "Out of Office: back on Monday" if case == "subject" else "Re: your request"
    result = ingest_message(make_mail(subject=subject, headers=headers))
    assert (result.outcome, result.reason) == ("auto_reply", reason)
    assert count(Ticket) == 0 and outbox_count() == 0
    assert db_session().get(EmailQuarantine, result.quarantine_id).kind == "auto_reply"


def _report(report_type: str, part_type: str, part: str) -> bytes:
    return (f"From: Mail System <mailer@mx.example.test>\r\nTo: support@helpdesk.test\r\nSubject: Report\r\n"
            f"Message-ID: <report-{report_type}@mx.example.test>\r\nMIME-Version: 1.0\r\n"
            f"Content-Type: multipart/report; report-type={report_type}; boundary=R\r\n\r\n"
            f"--R\r\nContent-Type: text/plain\r\n\r\nA report.\r\n"
            f"--R\r\nContent-Type: {part_type}\r\n\r\n{part}\r\n--R--\r\n").encode()


def test_read_receipts_and_abuse_reports_are_auto_replies(app):
    mdn = ingest_message(_report("disposition-notification", "message/disposition-notification",
                                 "Final-Recipient: rfc822; carla@example.test\r\n"
                                 "Disposition: manual-action/MDN-sent-manually; displayed"))
    arf = ingest_message(_report("feedback-report", "message/feedback-report",
                                 "Feedback-Type: abuse\r\nUser-Agent: SomeGenerator/1.0\r\nVersion: 1"))
    assert (mdn.outcome, mdn.reason) == ("auto_reply", "Read receipt (message disposition notification).")
    assert (arf.outcome, arf.reason) == ("auto_reply", "Abuse feedback report (ARF).")
    assert count(Ticket) == 0 and outbox_count() == 0


@pytest.mark.parametrize("headers", [{"Precedence": "bulk"}, {"List-Id": "<offers.shop.example.test>"},
                                     {"List-Unsubscribe": "<mailto:unsub@shop.example.test>"}])
def test_bulk_and_list_mail_that_threads_nowhere_opens_no_ticket(app, headers):
    result = ingest_message(make_mail(sender="Shop <news@shop.example.test>", subject="Offers", headers=headers))
    assert result.outcome == "bulk" and count(Ticket) == 0 and outbox_count() == 0


def test_our_own_mail_coming_back_is_a_loop_and_stops(app, ticket):
    looped = ingest_message(make_mail(headers={"X-Helpdesk-Loop": "1"}))
    assert looped.outcome == "bulk" and looped.reason.startswith("Our own mail came back")
    from helpdesk_email.msgids import make_message_id

    own = ingest_message(make_mail(message_id=f"<{make_message_id(ticket.id, 1)}>"))
    assert own.outcome == "bulk" and "Message-ID we generated" in own.reason
    assert count(Ticket) == 1  # only the fixture's


def test_a_bounce_marks_the_customers_address_and_opens_no_ticket(app, client, login, agent, customer, ticket):
    from helpdesk_email.msgids import make_message_id

    ours = f"<{make_message_id(ticket.id, ticket.messages[0].id)}>"
    result = ingest_message(make_dsn(customer.email, "failed", "5.1.1", original_id=ours))
    assert result.outcome == "bounce" and result.ticket_id == ticket.id
    assert result.reason.endswith("Marked as bouncing: carla@example.test.")
    db_session().expire_all()
    assert [i.bouncing for i in db_session().get(User, customer.id).identities] == [True]
    assert count(Ticket) == 1 and outbox_count() == 0
    page = ticket_page(client, login, agent, ticket.reference)
    assert "email bouncing" in text(page, id="ticket-header")
    assert "mail to the customer bounced" in text(page, id="audit-trail")


def test_a_delay_warning_is_a_bounce_that_marks_nothing(app, customer):
    result = ingest_message(make_dsn(customer.email, "delayed", "4.4.7"))
    assert result.outcome == "bounce" and "Marked as bouncing" not in result.reason
    assert not any(i.bouncing for i in customer.identities)


def test_a_plain_text_bounce_from_mailer_daemon_with_x_failed_recipients(app, customer):
    raw = (b"From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>\r\nSubject: Delivery Status Notification\r\n"
           b"X-Failed-Recipients: carla@example.test\r\nMessage-ID: <bounce-1@google.test>\r\n\r\nFailed.\r\n")
    result = ingest_message(raw)
    assert result.outcome == "bounce" and result.reason.endswith("Marked as bouncing: carla@example.test.")


def test_disabled_plugin_ingests_nothing_through_the_cli(app):
    from helpdesk.plugin_manager import manager

    manager(app).set_enabled("email", False)
    result = app.test_cli_runner().invoke(args=["mail", "ingest"], input=make_mail())
    assert result.exit_code == 1 and "The email plugin is disabled" in result.output
    assert count(Ticket) == 0
