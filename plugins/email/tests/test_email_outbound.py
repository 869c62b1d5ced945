"""Mail out, captured by a real SMTP server: agents' replies, acknowledgements, notices, headers."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from email_mailmaker import make_mail
from helpdesk_email.ingest import ingest_message
from helpdesk_email.msgids import verified_ticket_id

from helpdesk.plugin_api import Ticket, services
from helpdesk.services.mail import queue_mail

pytestmark = pytest.mark.plugins("email")
T0 = datetime(2025, 6, 2, 9, 0)


@pytest.fixture
def app_config(smtp_port):
    return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": smtp_port, "MAIL_FROM": "help@acme.test"}


def test_an_agent_reply_goes_out_as_a_threaded_human_mail(app, db, smtp, agent, monkeypatch):
    monkeypatch.setenv("HELPDESK_PLUGIN_EMAIL_ADDRESS", "support@acme.test")
    first = ingest_message(make_mail(subject="Printer on fire", message_id="<q1@client.example.test>"))
    second = ingest_message(make_mail(body="Also the scanner.", in_reply_to="<q1@client.example.test>",
                                      message_id="<q2@client.example.test>"))
    ticket = db.session.get(Ticket, first.ticket_id)
    assert second.ticket_id == ticket.id
    smtp.sink.envelopes.clear()  # the acknowledgement

    services.add_message(ticket, agent, "Hi Carla, a technician comes at 3 pm (HD-1).")
    [envelope] = smtp.sink.envelopes
    [mail] = smtp.sink.messages()
    assert envelope.rcpt_tos == ["carla@example.test"] and envelope.mail_from == "help@acme.test"
    assert mail["Subject"] == "[HD-1] Re: Printer on fire"
    assert mail["From"] == "Helpdesk <help@acme.test>"
    assert mail["Reply-To"] == "support@acme.test"
    assert mail["In-Reply-To"] == "<q2@client.example.test>"  # the customer's latest mail
    references = mail["References"].split()  # the chain: both mails, our acknowledgement between them
    assert references[0] == "<q1@client.example.test>" and references[-1] == "<q2@client.example.test>"
    assert len(references) == 3 and verified_ticket_id(references[1].strip("<>")) == ticket.id
    message_id = mail["Message-ID"].strip("<>")
    assert message_id.endswith("@acme.test") and verified_ticket_id(message_id) == ticket.id
    assert mail["Auto-Submitted"] is None  # a person wrote it
    assert mail.get_all("X-Auto-Response-Suppress") == ["All"] and len(mail.get_all("Message-ID")) == 1
    body = mail.get_content()
    assert body.startswith("Hi Carla, a technician comes at 3 pm (HD-1).")
    assert "Reference HD-1: reply to this mail to answer." in body

    answer = ingest_message(make_mail(subject=mail["Subject"].replace("[HD-1] ", "Re: [HD-1] "),
                                      body="Perfect, thanks!\n\n> Hi Carla, a technician comes at 3 pm (HD-1).",
                                      in_reply_to=mail["Message-ID"]))
    assert (answer.outcome, answer.ticket_id) == ("message", ticket.id)


def test_the_acknowledgement_carries_the_reference_and_is_capped_per_recipient_by_the_core(app, db, smtp):
    from helpdesk.services.settings import save_site_settings

    save_site_settings({"notices_per_recipient_per_hour": 3})
    result = ingest_message(make_mail(subject="Printer on fire", message_id="<first@client.example.test>"), now=T0)
    [ack] = smtp.sink.messages()
    assert ack["Subject"] == "[HD-1] Re: Printer on fire"
    assert ack["Auto-Submitted"] == "auto-replied"
    assert ack["In-Reply-To"] == "<first@client.example.test>"
    assert verified_ticket_id(ack["Message-ID"].strip("<>")) == result.ticket_id
    body = ack.get_content()
    assert "We received your message — your reference is HD-1." in body
    assert body.startswith("Hello Carla,")

    for minute in (10, 20, 30):  # 3 an hour (site setting): the fourth mail of the hour gets none
        ingest_message(make_mail(subject=f"Another {minute}"), now=T0 + timedelta(minutes=minute))
    assert [m["Subject"] for m in smtp.sink.messages()] == [
        "[HD-1] Re: Printer on fire", "[HD-2] Re: Another 10", "[HD-3] Re: Another 20"]
    other = ingest_message(make_mail(sender="otto@example.test", subject="Mine"), now=T0 + timedelta(minutes=31))
    assert smtp.sink.messages()[-1]["Subject"] == f"[{other.reference}] Re: Mine"  # the limit is per recipient
    ingest_message(make_mail(subject="Next hour"), now=T0 + timedelta(minutes=61))
    assert smtp.sink.messages()[-1]["Subject"] == "[HD-6] Re: Next hour"


def test_no_acknowledgement_when_switched_off(app, db, smtp, monkeypatch):
    monkeypatch.setenv("HELPDESK_PLUGIN_EMAIL_ACK_ENABLED", "false")
    assert ingest_message(make_mail()).outcome == "ticket"
    assert smtp.sink.envelopes == []


def test_a_bouncing_address_gets_no_acknowledgement_and_no_reply(app, db, smtp, customer, agent):
    customer.identities[0].bouncing = True
    db.session.commit()
    result = ingest_message(make_mail(sender=customer.email))
    assert result.outcome == "ticket" and smtp.sink.envelopes == []
    services.add_message(db.session.get(Ticket, result.ticket_id), agent, "Hi Carla, any news?")
    assert smtp.sink.envelopes == []


def test_notices_from_other_plugins_go_out_threaded_and_marked_automatic(app, db, smtp, customer):
    result = ingest_message(make_mail(message_id="<orig@client.example.test>"), now=T0)
    smtp.sink.envelopes.clear()
    ticket = db.session.get(Ticket, result.ticket_id)
    assert services.notify_customer(customer, "How did we do?", "Rate us: https://helpdesk.test/s/1", ticket=ticket)
    [notice] = smtp.sink.messages()
    assert notice["Subject"] == "[HD-1] How did we do?"
    assert notice["Auto-Submitted"] == "auto-replied" and notice["In-Reply-To"] == "<orig@client.example.test>"
    assert verified_ticket_id(notice["Message-ID"].strip("<>")) == ticket.id
    assert notice.get_content().startswith("Rate us:")


def test_an_agent_reply_with_a_file_links_it(app, db, smtp, agent):
    from helpdesk.services.tickets import NewAttachment

    result = ingest_message(make_mail())
    smtp.sink.envelopes.clear()
    services.add_message(db.session.get(Ticket, result.ticket_id), agent, "Hi Carla, the manual is attached.",
                         attachments=[NewAttachment("manual.pdf", b"%PDF", "application/pdf")])
    body = smtp.sink.messages()[0].get_content().replace("\r\n", "\n")
    assert "Attachments (sign in to download):\n- manual.pdf: http://helpdesk.test/attachments/" in body


def test_headers_given_to_queue_mail_replace_the_defaults(app, db, smtp):
    queue_mail("carla@example.test", "Notice", "text", headers={"Auto-Submitted": "auto-replied",
                                                               "Message-ID": "<mine@acme.test>"})
    queue_mail("carla@example.test", "Person", "text", headers={"auto-submitted": ""})
    queue_mail("carla@example.test", "Default", "text")
    notice, person, default = smtp.sink.messages()
    assert notice.get_all("Auto-Submitted") == ["auto-replied"] and notice.get_all("Message-ID") == ["<mine@acme.test>"]
    assert person.get_all("Auto-Submitted") is None and person["X-Helpdesk-Loop"] == "1"
    assert default.get_all("Auto-Submitted") == ["auto-generated"] and len(default.get_all("Message-ID")) == 1


def test_a_reply_written_in_markdown_goes_out_as_html_with_a_text_alternative(app, db, smtp, agent):
    from helpdesk.plugin_api import NewAttachment
    from helpdesk.richtext import compose

    first = ingest_message(make_mail(subject="Printer on fire", message_id="<md1@client.example.test>"))
    ticket = db.session.get(Ticket, first.ticket_id)
    smtp.sink.envelopes.clear()
    services.add_message(ticket, agent, attachments=[NewAttachment("shot.png", b"\x89PNG", "image/png")],
                         **compose("Hi Carla, **unplug** it: [guide](https://example.com/g)\n\n"
                                   "![shot](<attachment:shot.png>) <script>x</script>", ["shot.png"]))
    [mail] = smtp.sink.messages()
    assert mail.get_content_type() == "multipart/alternative"
    text = mail.get_body(("plain",)).get_content().replace("\r\n", "\n")
    html = mail.get_body(("html",)).get_content()
    assert text.startswith("Hi Carla, unplug it: guide (https://example.com/g)\n\n[image: shot] <script>x</script>")
    assert "<strong>unplug</strong>" in html and "&lt;script&gt;" in html and "<script" not in html
    token = ticket.messages[-1].attachments[0].token
    assert f'<img src="http://helpdesk.test/attachments/{token}" alt="shot">' in html
    assert "Reference HD-1: reply to this mail to answer." in html and "Reference HD-1" in text


def test_the_acknowledgement_is_in_the_customers_language(app, db, smtp, agent):
    from helpdesk.services.profiles import update_preferences

    carla = services.find_or_create_customer("email", "carla@example.test", name="Carla Customer")
    update_preferences(carla, agent, language="de")
    ingest_message(make_mail(subject="Drucker brennt"), now=T0)
    ingest_message(make_mail(sender="otto@example.test", subject="Printer"), now=T0)
    by_recipient = {m["To"]: m.get_content() for m in smtp.sink.messages()}
    german = by_recipient["carla@example.test"]
    assert german.startswith("Hallo Carla,") and "Ihre Referenz ist HD-1." in german
    assert "lassen Sie HD-1 im Betreff stehen" in german and "We received" not in german
    assert by_recipient["otto@example.test"].startswith("Hello otto,")  # named by the address
