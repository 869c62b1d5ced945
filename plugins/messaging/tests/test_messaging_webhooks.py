"""Provider webhooks in, replies out to loopback servers playing each provider's API."""
from __future__ import annotations

import base64
import time
from datetime import timedelta

import pytest
from helpdesk_messaging.models import MessagingReceived
from messaging_testkit import (
    EXTERNAL,
    hub_post,
    slack_event,
    slack_post,
    sms,
    telegram_post,
    telegram_update,
    twilio_post,
    whatsapp_payload,
)
from sqlalchemy import func, select

from helpdesk.models import Delivery
from helpdesk.plugin_api import Message, Ticket, find_customer, services, utcnow

pytestmark = pytest.mark.plugins("messaging")


def count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# ------------------------------------------------------------------ SMS


def test_texts_become_one_ticket_and_the_reply_goes_back_by_sms(db, client, agent, provider):
    first = twilio_post(client, sms("SM1", "+1 555 0100", "My router blinks red"))
    assert first.status_code == 200 and first.mimetype == "text/xml"
    twilio_post(client, sms("SM2", "+15550100", "Still blinking"))
    ticket = db.session.scalar(select(Ticket))
    assert ticket.channel == "sms" and ticket.message_count == 2
    assert find_customer("phone", "+15550100").id == ticket.customer_id

    services.add_message(ticket, agent, "Please unplug it for ten seconds.")
    sent = provider.requests[-1]
    assert sent["path"] == "/2010-04-01/Accounts/AC123/Messages.json"
    assert sent["headers"]["Authorization"] == "Basic " + base64.b64encode(b"AC123:twilio-token").decode()
    assert sent["body"] == b"To=%2B15550100&From=%2B15550001111&Body=Please+unplug+it+for+ten+seconds."


def test_sms_signature_missing_or_wrong_creates_nothing(db, client):
    assert twilio_post(client, sms("SM1", "+15550100", "Hi"), signature="").status_code == 401
    assert twilio_post(client, sms("SM1", "+15550100", "Hi"), token="guessed").status_code == 403
    from helpdesk_messaging.providers import twilio_signature

    original = sms("SM1", "+15550100", "Hi")
    signature = twilio_signature("twilio-token", f"{EXTERNAL}/messaging/webhooks/sms", original)
    tampered = client.post("/messaging/webhooks/sms", data={**original, "Body": "Changed"}, csrf=False,
                           headers={"X-Twilio-Signature": signature})
    assert tampered.status_code == 403
    assert count(db, Ticket) == 0 and count(db, MessagingReceived) == 0


def test_the_same_provider_message_twice_is_one_message(db, client):
    for _ in range(2):
        assert twilio_post(client, sms("SM7", "+15550100", "Hello")).status_code == 200
    assert count(db, Message) == 1 and count(db, MessagingReceived) == 1


def test_unknown_payload_is_400_and_logged(db, client):
    import logging

    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger("helpdesk_messaging.views")
    logger.addHandler(handler)
    try:
        answer = twilio_post(client, {"CallSid": "CA1", "From": "+15550100"})
    finally:
        logger.removeHandler(handler)
    assert answer.status_code == 400 and "unknown payload" in answer.json["error"]
    assert any("unknown payload" in r.getMessage() for r in records) and count(db, Ticket) == 0


def test_a_long_sms_reply_is_shortened_with_a_link_to_the_whole(db, client, agent, provider):
    twilio_post(client, sms("SM1", "+15550100", "Tell me everything"))
    ticket = db.session.scalar(select(Ticket))
    long_reply = "Here is how. " + "Step after step. " * 150
    services.add_message(ticket, agent, long_reply)
    from urllib.parse import parse_qs

    body = parse_qs(provider.requests[-1]["body"].decode())["Body"][0]
    assert len(body) <= 1600 and body.startswith("Here is how. Step after step.")
    link = body.rsplit(" ", 1)[1]
    assert link.startswith(f"{EXTERNAL}/m/")
    page = client.get(client.get(link.removeprefix(EXTERNAL)).location.removeprefix(EXTERNAL))
    assert page.status_code == 200 and "Step after step. " * 3 in page.text
    assert client.get("/messaging/read/forged-token").status_code == 404


# ------------------------------------------------------------------ Telegram


def test_telegram_updates_and_split_replies(db, client, agent, provider):
    assert telegram_post(client, telegram_update(1, 77, "Bot, help")).status_code == 200
    ticket = db.session.scalar(select(Ticket))
    assert ticket.channel == "telegram" and ticket.customer.name == "Tom Grey"
    services.add_message(ticket, agent, "Paragraph. " * 800)  # 8,800 characters: three parts
    parts = [r for r in provider.requests if r["path"] == "/bot123:bot/sendMessage"]
    assert len(parts) == 3
    bodies = [provider.json(provider.requests.index(r)) for r in parts]
    assert all(b["chat_id"] == 77 and len(b["text"]) <= 4096 for b in bodies)
    assert [b["text"][-5:] for b in bodies] == ["(1/3)", "(2/3)", "(3/3)"]


def test_telegram_secret_and_replay_window(db, client):
    assert telegram_post(client, telegram_update(1, 77, "x"), secret=None).status_code == 401
    assert telegram_post(client, telegram_update(1, 77, "x"), secret="wrong").status_code == 403
    old = telegram_update(2, 77, "from yesterday", when=time.time() - 86400)
    assert telegram_post(client, old).status_code == 403
    edited = {"update_id": 3, "edited_message": {"text": "changed"}}
    assert telegram_post(client, edited).status_code == 400
    assert count(db, Ticket) == 0


# ------------------------------------------------------------------ WhatsApp


def test_whatsapp_joins_the_sms_customer_by_number_and_answers_with_its_api(db, client, agent, provider):
    twilio_post(client, sms("SM1", "+15550100", "Texting first"))
    answer = hub_post(client, "/messaging/webhooks/whatsapp", whatsapp_payload("wamid.1", "15550100", "Now on WA"),
                      "wa-secret")
    assert answer.status_code == 200, answer.text
    tickets = db.session.scalars(select(Ticket).order_by(Ticket.id)).all()
    assert [t.channel for t in tickets] == ["sms", "whatsapp"]
    assert tickets[0].customer_id == tickets[1].customer_id  # one customer, one phone number

    services.add_message(tickets[1], agent, "Hello on WhatsApp")
    sent = provider.requests[-1]
    assert sent["path"] == "/10001/messages" and sent["headers"]["Authorization"] == "Bearer wa-access"
    assert provider.json() == {"messaging_product": "whatsapp", "to": "15550100", "type": "text",
                               "text": {"body": "Hello on WhatsApp"}}


def test_whatsapp_signature_handshake_and_receipts(db, client):
    payload = whatsapp_payload("wamid.1", "15550100", "Hi")
    assert hub_post(client, "/messaging/webhooks/whatsapp", payload, "wa-secret", signature="").status_code == 401
    assert hub_post(client, "/messaging/webhooks/whatsapp", payload, "guess").status_code == 403
    handshake = client.get("/messaging/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=wa-verify"
                           "&hub.challenge=1158201444")
    assert handshake.status_code == 200 and handshake.text == "1158201444"
    assert client.get("/messaging/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=no"
                      "&hub.challenge=1").status_code == 403
    receipt = {"object": "whatsapp_business_account", "entry": [{"changes": [{"value": {
        "statuses": [{"id": "wamid.out", "status": "delivered"}]}}]}]}
    assert hub_post(client, "/messaging/webhooks/whatsapp", receipt, "wa-secret").status_code == 200
    image = whatsapp_payload("wamid.2", "15550100", "")
    image["entry"][0]["changes"][0]["value"]["messages"][0]["type"] = "sticker"
    assert hub_post(client, "/messaging/webhooks/whatsapp", image, "wa-secret").status_code == 400
    assert count(db, Ticket) == 0


# ------------------------------------------------------------------ Slack


def test_slack_handshake_events_and_replies(db, client, agent, provider):
    challenge = slack_post(client, {"type": "url_verification", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY"})
    assert challenge.json == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY"}
    assert slack_post(client, slack_event("Ev1", "U9", "VPN is down")).status_code == 200
    bot_echo = slack_event("Ev2", "U9", "our own reply")
    bot_echo["event"]["bot_id"] = "B1"
    assert slack_post(client, bot_echo).json["taken"] == 0
    ticket = db.session.scalar(select(Ticket))
    assert ticket.channel == "slack" and ticket.message_count == 1
    services.add_message(ticket, agent, "Restarting it now.")
    assert provider.requests[-1]["path"] == "/chat.postMessage"
    assert provider.requests[-1]["headers"]["Authorization"] == "Bearer xoxb-1"
    assert provider.json() == {"channel": "D42", "text": "Restarting it now."}


def test_slack_refuses_stale_and_unsigned_requests(db, client):
    event = slack_event("Ev1", "U9", "x")
    assert slack_post(client, event, stamp=int(time.time()) - 600).status_code == 403
    assert slack_post(client, event, signature="").status_code == 401
    assert slack_post(client, event, secret="guess").status_code == 403
    assert slack_post(client, {"type": "app_rate_limited"}).status_code == 400
    assert count(db, Ticket) == 0


# ------------------------------------------------------------------ social


def mention(status_id: str, visibility: str = "public") -> dict:
    return {"event": "mention", "created_at": "2026-12-05T07:00:00Z", "object": {
        "id": status_id, "visibility": visibility, "created_at": utcnow().isoformat() + "Z",
        "content": "<p>@support my parcel is <b>late</b> &amp; lost</p>",
        "account": {"acct": "paula@social.example", "display_name": "Paula"}}}


def test_social_mentions_answered_publicly_or_privately(db, client, agent, provider):
    assert hub_post(client, "/messaging/webhooks/social", mention("109"), "social-secret").status_code == 200
    ticket = db.session.scalar(select(Ticket))
    assert ticket.channel == "social" and ticket.messages[0].body == "@support my parcel is late & lost"
    services.add_message(ticket, agent, "Sorry! Checking now.")
    assert provider.json() == {"status": "@paula@social.example Sorry! Checking now.", "in_reply_to_id": "109",
                               "visibility": "public"}
    services.update_ticket(ticket, agent, tags=["private-reply"])
    services.add_message(ticket, agent, "Your tracking number is 123.")
    assert provider.json()["visibility"] == "direct"
    assert provider.requests[-1]["headers"]["Idempotency-Key"].startswith("helpdesk-")


# ------------------------------------------------------------------ delivery: retries, one conversation


def test_a_provider_failure_is_retried_by_the_durable_delivery(db, client, agent, provider):
    from helpdesk.services.delivery import sweep

    twilio_post(client, sms("SM1", "+15550100", "Hello?"))
    ticket = db.session.scalar(select(Ticket))
    provider.statuses = [500]
    services.add_message(ticket, agent, "We are on it.")
    delivery = db.session.scalar(select(Delivery))
    db.session.refresh(delivery)
    assert delivery.status == "pending" and "500" in delivery.last_error
    sweep(utcnow() + timedelta(hours=2))
    db.session.refresh(delivery)
    assert delivery.status == "done"
    assert len([r for r in provider.requests if b"We+are+on+it" in r["body"]]) == 2


def test_a_merged_conversation_is_answered_where_the_customer_last_wrote(db, client, agent, provider):
    twilio_post(client, sms("SM1", "+15550100", "Started by text"))
    hub_post(client, "/messaging/webhooks/whatsapp", whatsapp_payload("wamid.1", "15550100", "Then WhatsApp"),
             "wa-secret")
    sms_ticket, wa_ticket = db.session.scalars(select(Ticket).order_by(Ticket.id)).all()
    services.merge_tickets(wa_ticket, sms_ticket, agent)
    services.add_message(sms_ticket, agent, "One answer, one conversation.")
    assert provider.requests[-1]["path"] == "/10001/messages"  # the customer's last channel
    twilio_post(client, sms("SM2", "+15550100", "Back to texting"))
    services.add_message(sms_ticket, agent, "Got it by text.")
    assert provider.requests[-1]["path"].endswith("/Messages.json")


def test_notices_go_by_text_with_short_links(db, client, provider):
    twilio_post(client, sms("SM1", "+15550100", "Where is my refund?"))
    ticket = db.session.scalar(select(Ticket))
    long_link = f"{EXTERNAL}/s/" + "x" * 120 + "?score=5"
    assert services.notify_customer(ticket.customer, "How did we do?", f"Rate our help: {long_link}", ticket=ticket)
    from urllib.parse import parse_qs

    body = parse_qs(provider.requests[-1]["body"].decode())["Body"][0]
    assert body.startswith("Rate our help: ") and long_link not in body
    short = body.removeprefix("Rate our help: ")
    assert short.startswith(f"{EXTERNAL}/m/") and len(short) < 60
    assert client.get(short.removeprefix(EXTERNAL)).location == long_link


def test_an_announcement_reaches_a_customer_without_a_ticket_by_their_preferred_channel(db, client, admin,
                                                                                        provider):
    """Announcements go out with no ticket: where the customer last wrote on their preferred
    channel (Telegram here), or to their number for SMS; each copy once."""
    from urllib.parse import parse_qs

    from helpdesk.models import AnnouncementRecipient
    from helpdesk.services.announcements import create_announcement, send_announcement
    from helpdesk.services.profiles import update_preferences

    telegram_post(client, telegram_update(1, 77, "Bot, help"))
    ticket = db.session.scalar(select(Ticket))
    services.update_ticket(ticket, admin, status="closed")
    tom = ticket.customer
    texter = services.find_or_create_customer("phone", "+15550177", name="Paula Phone")
    for person, channel in ((tom, "telegram"), (texter, "sms")):
        update_preferences(person, admin, preferred_channel=channel)
        person.custom_fields = {"plan": "pro"}  # the segment: exactly these two
    db.session.commit()
    before = len(provider.requests)
    announcement = create_announcement(admin, subject="New opening hours",
                                       body="Hi {{ customer.first_name }}, we now open at 8.",
                                       segment={"field": "plan", "value": "pro"})
    assert send_announcement(announcement, admin) == {"sent": 2}
    sent = provider.requests[before:]
    telegram = [provider.json(provider.requests.index(r)) for r in sent if r["path"].endswith("/sendMessage")]
    assert len(telegram) == 1 and telegram[0]["chat_id"] == 77 and telegram[0]["text"].startswith("Hi Tom, we now")
    texts = [parse_qs(r["body"].decode()) for r in sent if "Messages" in r["path"]]
    assert len(texts) == 1 and texts[0]["To"] == ["+15550177"] and texts[0]["Body"][0].startswith("Hi Paula")
    rows = {r.customer_id: (r.status, r.channel) for r in db.session.scalars(select(AnnouncementRecipient))}
    assert rows == {tom.id: ("sent", "telegram"), texter.id: ("sent", "sms")}
    assert send_announcement(announcement, admin) == {} and len(provider.requests) == before + 2
