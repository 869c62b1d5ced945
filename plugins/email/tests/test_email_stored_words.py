"""Sentences the email plugin stores for agents and admins are read in each reader's language.

The unverified agent mail's note and tooltip, the notes on a message and the quarantine's
reasons keep their English (search, exports, the API, older rows) and, beside it, their words
(message id and parameters), which each page reads through gettext. Rows from before the
words show their English; parameters that are data (addresses, subjects) stay as received,
escaped on the page.
"""
from __future__ import annotations

import re

import pytest
from email_mailmaker import make_dsn, make_mail
from flask_babel import force_locale
from helpdesk_email.ingest import create_ticket_anyway, ingest_message
from helpdesk_email.models import EmailQuarantine
from pagetext import text, texts
from sqlalchemy import select

from helpdesk.models import AuditEvent
from helpdesk.plugin_api import Message, db_session, words_text

pytestmark = pytest.mark.plugins("email")

CUSTOMER = "carla@example.test"
NOT_A_NOTICE = ("it does not answer a notice we mailed to %(address)s about %(reference)s "
                "(reply to that notice to answer a customer by mail).")
NOTE = ("%(unverified)s: from an agent's address, but %(reason)s Kept as an internal note; the customer "
        "did not get it.")


def speaks(user, language: str | None) -> None:
    user.language = language
    db_session().commit()


def forged_agent_mail(agent) -> Message:
    """Carla opens HD-1; then a mail from the agent's address that answers no notice of ours."""
    assert ingest_message(make_mail(sender=f"Carla <{CUSTOMER}>", subject="Printer on fire")).reference == "HD-1"
    result = ingest_message(make_mail(sender=f"Alex Agent <{agent.email}>", subject="Re: [HD-1] Printer on fire",
                                      body="Send us your card number."))
    assert result.outcome == "message"
    db_session().expire_all()
    return db_session().get(Message, result.message_id)


def extras(page: str, message: Message) -> tuple[list[str], str]:
    """The notes under a message, and the "Unverified" badge's tooltip, as the agent sees them."""
    block = text(page, id=f"message-{message.id}")
    assert block
    tooltip = re.search(r'class="badge text-bg-danger email-unverified" title="([^"]*)"', page)
    return texts(page, cls="email-note"), tooltip.group(1) if tooltip else ""


def test_the_unverified_note_is_stored_in_english_with_its_words_and_read_in_german(app, client, login, agent):
    note = forged_agent_mail(agent)
    mail = note.meta["email"]
    reason = ("it does not answer a notice we mailed to agent@example.test about HD-1 (reply to that notice to "
              "answer a customer by mail).")
    english_note = f"Unverified — not sent: from an agent's address, but {reason} Kept as an internal note; " \
                   "the customer did not get it."
    assert mail["notes"] == [english_note] and mail["unverified"] == reason  # the English stays
    reason_words = {"msgid": NOT_A_NOTICE, "params": {"address": "agent@example.test", "reference": "HD-1"}}
    assert mail["unverified_words"] == reason_words
    assert mail["notes_words"] == [{"msgid": NOTE, "params": {
        "unverified": {"msgid": "Unverified — not sent", "params": {}}, "reason": reason_words}}]

    speaks(agent, "de")
    login(client, agent)
    page = client.get("/tickets/HD-1").text
    notes, tooltip = extras(page, note)
    # Every part in German, the address and the reference as stored.
    assert notes == ["Nicht verifiziert – nicht gesendet: von der Adresse eines Agenten, aber sie antwortet auf "
                     "keine Benachrichtigung, die wir an agent@example.test zu HD-1 gesendet haben (antworten Sie "
                     "auf diese Benachrichtigung, um einem Kunden per E-Mail zu antworten). Als interne Notiz "
                     "aufbewahrt; der Kunde hat sie nicht erhalten."]
    with app.test_request_context(), force_locale("de"):
        assert notes == [words_text(mail["notes_words"][0], english_note)]
        assert tooltip == words_text(reason_words, reason)
    assert "Nicht verifiziert – nicht gesendet" in text(page, id=f"message-{note.id}")


def test_an_english_reader_reads_the_note_in_english(app, client, login, agent):
    note = forged_agent_mail(agent)
    assert note.meta["email"]["notes_words"][0]["msgid"] == NOTE  # read through gettext, in English here
    speaks(agent, "en")
    login(client, agent)
    notes, tooltip = extras(client.get("/tickets/HD-1").text, note)
    assert notes == note.meta["email"]["notes"] and notes[0].startswith("Unverified — not sent: from an agent's")
    assert tooltip == note.meta["email"]["unverified"]


def test_a_message_stored_before_the_words_shows_its_english(app, client, login, agent):
    note = forged_agent_mail(agent)
    mail = dict(note.meta["email"])
    for key in ("notes_words", "unverified_words"):
        del mail[key]
    mail["notes"], mail["unverified"] = ["Unverified — not sent: as it was written then."], "the old reason."
    note.meta = {**note.meta, "email": mail}
    db_session().commit()
    speaks(agent, "de")
    login(client, agent)
    assert extras(client.get("/tickets/HD-1").text, note) == (["Unverified — not sent: as it was written then."],
                                                              "the old reason.")


def quarantined(raw: bytes) -> EmailQuarantine:
    result = ingest_message(raw)
    assert result.quarantine_id
    db_session().expire_all()
    return db_session().get(EmailQuarantine, result.quarantine_id)


def test_a_quarantine_reason_keeps_its_english_and_its_words(app, client, login, admin):
    row = quarantined(make_mail(sender="away@example.test", subject="Out of office",
                                headers={"Auto-Submitted": "auto-replied"}))
    assert row.reason == "Auto-Submitted: auto-replied."
    assert row.reason_words == {"msgid": "Auto-Submitted: %(value)s.", "params": {"value": "auto-replied"}}
    agent_mail = quarantined(make_mail(sender=f"Ada <{admin.email}>", subject="Lunch?"))
    assert agent_mail.reason_words == {"msgid": "From an agent's address (%(address)s) and not a reply to a "
                                                "ticket: agents' mail does not open tickets.",
                                       "params": {"address": admin.email}}

    speaks(admin, "de")
    login(client, admin)
    listing = client.get("/admin/email/quarantine").text
    detail = client.get(f"/admin/email/quarantine/{row.id}").text
    with app.test_request_context(), force_locale("de"):
        shown = words_text(row.reason_words, row.reason)
        assert texts(listing, cls="quarantine-reason") == [words_text(agent_mail.reason_words, agent_mail.reason),
                                                           shown]
    assert text(detail, id="quarantine-reason").endswith(shown)


def test_a_german_admin_reads_a_reason_whose_words_have_german(app, client, login, admin):
    """The page reads the words through gettext, not the stored English."""
    row = quarantined(b"Subject: nobody\r\nMessage-ID: <n@example.test>\r\n\r\nhi\r\n")
    row.reason_words = {"msgid": "No usable sender: %(problem)s", "params": {
        "problem": {"msgid": "No such quarantine entry.", "params": {}}}}  # a message id with German
    db_session().commit()
    speaks(admin, "de")
    login(client, admin)
    [shown] = texts(client.get("/admin/email/quarantine").text, cls="quarantine-reason")
    assert shown == "Kein verwendbarer Absender: Diesen Quarantäne-Eintrag gibt es nicht."
    assert db_session().get(EmailQuarantine, row.id).reason.startswith("No usable sender: the From header")


def test_a_quarantine_row_from_before_the_words_shows_its_english(app, client, login, admin):
    old = quarantined(make_mail(sender="away@example.test", subject="Out of office",
                                headers={"Auto-Submitted": "auto-replied"}))
    old.reason_words, old.reason = None, "Written by an older version."
    new = quarantined(b"Subject: nobody\r\nMessage-ID: <n@example.test>\r\n\r\nhi\r\n")
    new.reason_words = {"msgid": "No such quarantine entry.", "params": {}}  # a message id with German
    db_session().commit()
    speaks(admin, "de")
    login(client, admin)
    assert texts(client.get("/admin/email/quarantine").text, cls="quarantine-reason") == [
        "Diesen Quarantäne-Eintrag gibt es nicht.", "Written by an older version."]
    assert text(client.get(f"/admin/email/quarantine/{old.id}").text,
                id="quarantine-reason") == "auto reply Written by an older version."


def test_a_subject_in_a_stored_reason_is_shown_escaped(app, client, login, admin):
    row = quarantined(make_mail(sender="away@example.test", subject="Out of office <b>x</b>"))
    assert row.reason == "Automatic reply (subject 'Out of office <b>x</b>')."
    assert row.reason_words["params"] == {"subject": "'Out of office <b>x</b>'"}
    speaks(admin, "de")
    login(client, admin)
    for page in (client.get("/admin/email/quarantine").text, client.get(f"/admin/email/quarantine/{row.id}").text):
        assert "<b>x</b>" not in page
        assert "Automatische Antwort (Betreff &#39;Out of office &lt;b&gt;x&lt;/b&gt;&#39;)." in page


def test_a_charset_name_in_a_stored_note_is_shown_escaped(app, client, login, agent):
    """A note's parameters are data as received: markup in a charset's name reads as text."""
    raw = (b"From: Carla <carla@example.test>\r\nSubject: Printer\r\nMessage-ID: <cs@example.test>\r\n"
           b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=\"<b>x</b>\"\r\n"
           b"Content-Transfer-Encoding: 8bit\r\n\r\nGr\xc3\xbc\xc3\x9fe\r\n")
    result = ingest_message(raw)
    message = db_session().get(Message, result.message_id)
    assert message.meta["email"]["notes"] == ["Unknown character set '<b>x</b>' in the message text; read as UTF-8."]
    assert message.meta["email"]["notes_words"] == [{
        "msgid": "Unknown character set %(charset)s in the %(what)s; read as UTF-8.",
        "params": {"charset": "'<b>x</b>'", "what": {"msgid": "message text", "params": {}}}}]
    speaks(agent, "de")
    login(client, agent)
    page = client.get(f"/tickets/{result.reference}").text
    german = "Unbekannter Zeichensatz '<b>x</b>' im Nachrichtentext; als UTF-8 gelesen."
    assert texts(page, cls="email-note") == [german]
    assert "<b>x</b>" not in page and "&lt;b&gt;x&lt;/b&gt;" in page


def test_a_ticket_made_from_quarantine_keeps_the_reasons_words_in_its_trail(app, admin):
    row = quarantined(make_mail(sender="away@example.test", subject="Out of office",
                                headers={"Auto-Submitted": "auto-replied"}))
    ticket = create_ticket_anyway(row.id, "away@example.test", "Out of office", admin)
    event = db_session().scalar(select(AuditEvent).where(AuditEvent.ticket_id == ticket.id,
                                                         AuditEvent.reason.like("from quarantined mail%")))
    assert event.reason == f"from quarantined mail #{row.id} (auto_reply: Auto-Submitted: auto-replied.)"
    assert event.reason_words == {"msgid": "from quarantined mail #%(number)s (%(kind)s: %(reason)s)", "params": {
        "number": str(row.id), "kind": "auto_reply",
        "reason": {"msgid": "Auto-Submitted: %(value)s.", "params": {"value": "auto-replied"}}}}


def test_a_mailboxs_last_error_keeps_its_words_and_an_older_one_its_english(app, client, login, admin):
    from helpdesk_email.imap import poll_mailbox
    from helpdesk_email.models import EmailMailbox
    from smtp_sink import free_port

    from helpdesk.plugin_api import encrypt_secret

    for name in ("Support <b>x</b>", "Sales"):
        db_session().add(EmailMailbox(name=name, host="127.0.0.1", port=free_port(), security="none", username="u",
                                      password_encrypted=encrypt_secret("p")))
    db_session().commit()
    support, sales = db_session().scalars(select(EmailMailbox).order_by(EmailMailbox.id)).all()
    for box in (support, sales):
        poll_mailbox(box.id)
    db_session().expire_all()
    refused = "connection refused (is the host and port right, and the server running?)"
    assert support.last_error == f"Support <b>x</b>: {refused}"
    assert support.last_error_words == {"join": ": ", "parts": ["Support <b>x</b>", {"msgid": refused, "params": {}}]}
    sales.last_error_words, sales.last_error = None, "Sales: written by an older version."
    db_session().commit()

    speaks(admin, "de")
    login(client, admin)
    page = client.get("/admin/email/mailboxes").text
    with app.test_request_context(), force_locale("de"):
        shown = words_text(support.last_error_words, support.last_error)
    assert sorted(texts(page, cls="mailbox-error")) == ["Sales: written by an older version.", shown]
    assert "Support <b>x</b>:" not in page and "Support &lt;b&gt;x&lt;/b&gt;: " in page


def test_a_bounce_in_the_tickets_trail_keeps_its_words(app, customer, ticket):
    from helpdesk_email.msgids import make_message_id

    ours = f"<{make_message_id(ticket.id, ticket.messages[0].id)}>"
    assert ingest_message(make_dsn(customer.email, "failed", "5.1.1", original_id=ours)).outcome == "bounce"
    event = db_session().scalar(select(AuditEvent).where(AuditEvent.ticket_id == ticket.id,
                                                         AuditEvent.action == "bounced"))
    assert event.reason == ("mail to the customer bounced: Delivery status notification (DSN): a message could not "
                            "be delivered. Marked as bouncing: carla@example.test.")
    assert event.reason_words == {"msgid": "mail to the customer bounced: %(reason)s", "params": {"reason": {
        "msgid": "%(reason)s Marked as bouncing: %(addresses)s.", "params": {
            "reason": {"msgid": "Delivery status notification (DSN): a message could not be delivered.",
                       "params": {}},
            "addresses": "carla@example.test"}}}}
