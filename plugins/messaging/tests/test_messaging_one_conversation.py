"""Issue 20's "done when": a customer starts in the website chat, continues by SMS; the agent
links the two contacts to one customer, merges the tickets, and each answer goes out through
the channel the customer last used."""
from __future__ import annotations

import pytest
from messaging_testkit import sms, twilio_post
from sqlalchemy import select

from helpdesk.plugin_api import Ticket, services

SITE = "https://shop.example.test"
pytestmark = pytest.mark.plugins("chat", "messaging")


def widget(client, path: str, token: str | None = None, **body):
    headers = {"Origin": SITE, **({"X-Chat-Token": token} if token else {})}
    if body or path == "session":
        return client.post(f"/chat/api/{path}", json=body, headers=headers, csrf=False)
    return client.get(f"/chat/api/{path}", headers=headers)


def test_chat_then_sms_is_one_customer_and_one_conversation(db, client, agent, login, provider, monkeypatch):
    monkeypatch.setenv("HELPDESK_PLUGIN_CHAT_ALLOWED_ORIGINS", SITE)
    token = widget(client, "session").json["token"]
    assert widget(client, "messages", token, body="My order 1234 has not arrived").status_code == 200
    twilio_post(client, sms("SM1", "+15550100", "Texting about order 1234 too"))
    chat, text = db.session.scalars(select(Ticket).order_by(Ticket.id)).all()
    assert (chat.channel, text.channel) == ("chat", "sms") and chat.customer_id != text.customer_id

    login(client, agent)
    client.post(f"/messaging/tickets/{chat.reference}/link", data={"customer": "+15550100", "confirm": "yes"})
    services.merge_tickets(db.session.get(Ticket, chat.id), db.session.get(Ticket, text.id), agent)
    db.session.expire_all()
    ticket = db.session.get(Ticket, text.id)
    assert db.session.get(Ticket, chat.id).customer_id == ticket.customer_id

    services.add_message(ticket, agent, "Your parcel left today.")  # the customer last wrote by SMS
    assert b"Your+parcel+left+today." in provider.requests[-1]["body"]
    sent = len(provider.requests)

    assert widget(client, "messages", token, body="Thanks! Which carrier?").status_code == 200
    services.add_message(db.session.get(Ticket, text.id), agent, "DHL, tracking 00340.")  # now in the chat
    assert len(provider.requests) == sent  # no SMS this time
    seen = [m["body"] for m in widget(client, "messages", token).json["messages"]]
    assert seen == ["My order 1234 has not arrived", "Texting about order 1234 too",
                    f"Your request {chat.reference} (Chat: My order 1234 has not arrived) was merged into "
                    f"{text.reference}; we continue here.",
                    "Your parcel left today.", "Thanks! Which carrier?", "DHL, tracking 00340."]
