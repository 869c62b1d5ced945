"""One customer across channels (linking a contact), calls logged and opened, inbound calls."""
from __future__ import annotations

import base64
import hashlib
import hmac

import pytest
from messaging_testkit import EXTERNAL, sms, twilio_post
from sqlalchemy import select

from helpdesk.models.notifications import Notification
from helpdesk.plugin_api import Message, Ticket, User, find_customer, services

pytestmark = pytest.mark.plugins("messaging")


def test_an_agent_links_a_texting_stranger_to_the_known_customer(db, client, agent, customer, login):
    services.create_ticket(customer, "Invoice", "By email first")
    twilio_post(client, sms("SM1", "+15550100", "It's Carla, texting now"))
    sms_ticket = db.session.scalar(select(Ticket).where(Ticket.channel == "sms"))
    stranger_id = sms_ticket.customer_id
    assert stranger_id != customer.id

    login(client, agent)
    page = client.get(f"/tickets/{sms_ticket.reference}")
    assert "Link this contact to a known customer" in page.text and "Log a call" in page.text
    form = client.get(f"/messaging/tickets/{sms_ticket.reference}/link")
    assert "phone: +15550100" in form.text
    unknown = client.post(f"/messaging/tickets/{sms_ticket.reference}/link", data={"customer": "nobody@example.test"})
    assert "No customer has that email address or phone number." in unknown.text
    asked = client.post(f"/messaging/tickets/{sms_ticket.reference}/link", data={"customer": customer.email})
    assert f"into <strong>{customer.name}</strong>" in asked.text  # asks before linking
    assert db.session.get(User, stranger_id).merged_into_id is None
    done = client.post(f"/messaging/tickets/{sms_ticket.reference}/link",
                       data={"customer": customer.email, "confirm": "yes"})
    assert done.status_code == 302
    db.session.expire_all()
    assert db.session.get(Ticket, sms_ticket.id).customer_id == customer.id
    assert find_customer("phone", "+15550100").id == customer.id
    # The next text lands with the known customer.
    twilio_post(client, sms("SM2", "+15550100", "Thanks"))
    assert db.session.get(Ticket, sms_ticket.id).message_count == 2


def test_customers_cannot_link_or_log(db, client, customer, login, ticket):
    login(client, customer)
    assert client.get(f"/messaging/tickets/{ticket.reference}/link").status_code == 404
    assert client.post(f"/messaging/tickets/{ticket.reference}/call", data={"summary": "x"}).status_code == 404


def test_a_call_is_logged_in_the_conversation(db, client, agent, ticket, login):
    login(client, agent)
    bad = client.post(f"/messaging/tickets/{ticket.reference}/call", data={"direction": "inbound", "minutes": "abc"})
    assert "Write what was said." in bad.text and "Minutes: a whole number" in bad.text
    ok = client.post(f"/messaging/tickets/{ticket.reference}/call", data={
        "direction": "outbound", "number": "+1 555 0100", "minutes": "7", "summary": "Walked through the reset."})
    assert ok.status_code == 302
    note = db.session.scalar(select(Message).where(Message.ticket_id == ticket.id, Message.internal.is_(True)))
    assert note.body == "Call (outbound, +15550100, 7 min): Walked through the reset."
    assert note.meta["call"]["minutes"] == 7
    assert "Walked through the reset." in client.get(f"/tickets/{ticket.reference}").text


def test_a_ticket_opened_from_a_call_finds_the_caller_by_number(db, client, agent, login):
    login(client, agent)
    twilio_post(client, sms("SM1", "+15550100", "hello"))
    texter = find_customer("phone", "+15550100")
    answer = client.post("/messaging/calls/new", data={"subject": "Billing question", "number": "+15550100",
                                                       "direction": "inbound", "summary": "Asked about VAT."})
    assert answer.status_code == 302
    phone_ticket = db.session.scalar(select(Ticket).where(Ticket.channel == "phone"))
    assert phone_ticket.customer_id == texter.id and phone_ticket.subject == "Billing question"


def voice_signature(params: dict[str, str]) -> str:
    """The provider's X-Twilio-Signature of a call to our voice webhook."""
    url = f"{EXTERNAL}/messaging/webhooks/voice"
    return base64.b64encode(hmac.new(b"twilio-token", (url + "".join(k + params[k] for k in sorted(params)))
                                     .encode(), hashlib.sha1).digest()).decode()


def test_an_inbound_call_opens_the_ticket_and_alerts_agents(db, client, agent, monkeypatch):
    params = {"CallSid": "CA1", "From": "+15550199", "To": "+15550001111", "CallStatus": "ringing"}
    signature = voice_signature(params)
    answer = client.post("/messaging/webhooks/voice", data=params, headers={"X-Twilio-Signature": signature},
                         csrf=False)
    assert answer.status_code == 200 and answer.mimetype == "text/xml"
    ticket = db.session.scalar(select(Ticket))
    assert ticket.channel == "phone" and ticket.messages[0].body == "Incoming call from +15550199"
    alert = db.session.scalar(select(Notification).where(Notification.recipient_id == agent.id))
    assert alert.kind == "messaging.incoming_call" and alert.ticket_id == ticket.id
    # The provider retries the webhook: still one ticket, no second alert.
    client.post("/messaging/webhooks/voice", data=params, headers={"X-Twilio-Signature": signature}, csrf=False)
    assert len(db.session.scalars(select(Notification)).all()) == 1
    unsigned = client.post("/messaging/webhooks/voice", data=params, csrf=False)
    assert unsigned.status_code == 401


def test_the_admin_page_lists_every_provider_and_keeps_secrets(db, client, admin, login):
    login(client, admin)
    page = client.get("/admin/plugins/messaging")
    assert page.status_code == 200
    for label in ("SMS: auth token", "Telegram: webhook secret token", "WhatsApp: app secret",
                  "Slack: signing secret", "Social: webhook secret", "Replay window (seconds)"):
        assert label in page.text
    assert "twilio-token" not in page.text  # secrets are never shown back


def test_the_incoming_call_alert_is_written_in_each_agents_language(app, db, client, agent, make_user):
    """The alert is a lazy text: each agent's notification is written in their own language
    (the message id has no German yet: the German agent's row is what gettext gives in German)."""
    german = make_user("agent", name="Greta Deutsch", email="greta@example.test")
    german.language = "de"
    db.session.commit()
    params = {"CallSid": "CA2", "From": "+15550177", "To": "+15550001111", "CallStatus": "ringing"}
    client.post("/messaging/webhooks/voice", data=params, headers={"X-Twilio-Signature": voice_signature(params)},
                csrf=False)
    alerts = {n.recipient_id: n.text for n in db.session.scalars(select(Notification))}
    assert alerts[agent.id] == "Incoming call from +15550177: HD-1"
    assert alerts[german.id] == "Eingehender Anruf von +15550177: HD-1"
