"""The widget's API: origins, visitors, tickets on channel chat, identity, limits, rating."""
from __future__ import annotations

import pytest
from chat_testkit import SITE, Widget, signed
from helpdesk_chat.models import ChatVisitor
from sqlalchemy import select

from helpdesk.plugin_api import Message, Ticket, User, find_customer, services

pytestmark = pytest.mark.plugins("chat")


def test_the_script_loads_from_anywhere_but_the_api_answers_allowed_origins_only(client):
    script = client.get("/chat/widget.js")
    assert script.status_code == 200 and script.mimetype == "text/javascript"
    assert "textContent" in script.text and "innerHTML" not in script.text

    refused = Widget(client, origin="https://evil.example.test").get("config")
    assert refused.status_code == 403 and "Access-Control-Allow-Origin" not in refused.headers
    assert client.get("/chat/api/config").status_code == 403  # no Origin at all

    allowed = Widget(client).get("config")
    assert allowed.status_code == 200
    assert allowed.headers["Access-Control-Allow-Origin"] == SITE
    assert allowed.json["greeting"] == "Hi! How can we help?" and allowed.json["open"] is True

    preflight = client.open("/chat/api/messages", method="OPTIONS", headers={
        "Origin": SITE, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,x-chat-token"})
    assert preflight.status_code == 204
    assert "X-Chat-Token" in preflight.headers["Access-Control-Allow-Headers"]


def test_a_visitor_opens_a_chat_ticket_and_keeps_it_across_visits(db, widget, client, agent):
    widget.start()
    first = widget.say("Hello, is the blue kettle in stock?")
    assert first.status_code == 200, first.text
    ticket = db.session.scalar(select(Ticket))
    assert ticket.channel == "chat" and ticket.messages[0].body == "Hello, is the blue kettle in stock?"
    assert ticket.customer.email is None  # nobody typed an address, nobody was looked up

    services.add_message(ticket, agent, "Yes, we have three.")
    again = Widget(client)
    again.token = widget.token  # a reload / return visit: the token kept in localStorage
    resumed = again.start()
    assert [m["body"] for m in resumed["messages"]] == ["Hello, is the blue kettle in stock?", "Yes, we have three."]
    assert [m["from"] for m in resumed["messages"]] == ["visitor", "agent"]

    widget.say("Great, thanks!")
    assert db.session.scalar(select(Ticket).where(Ticket.id == ticket.id)).message_count == 3
    assert len(db.session.scalars(select(Ticket)).all()) == 1


def test_a_forged_or_foreign_token_starts_a_new_visitor(db, widget, client):
    widget.start()
    widget.say("Private question")
    forged = Widget(client)
    forged.token = widget.token[:-3] + "abc"
    assert forged.get("messages").status_code == 401
    other_site = Widget(client, origin="https://evil.example.test")
    other_site.token = widget.token
    assert other_site.get("messages").status_code == 403


def test_internal_notes_never_reach_the_visitor(db, widget, agent):
    widget.start()
    widget.say("Hi")
    ticket = db.session.scalar(select(Ticket))
    services.add_message(ticket, agent, "Customer seems angry", internal=True)
    assert [m["body"] for m in widget.get("messages").json["messages"]] == ["Hi"]


def test_a_typed_email_never_joins_a_known_customer(db, widget, customer):
    services.create_ticket(customer, "My order", "Secret order details")
    widget.start(email=customer.email, name="Mallory")
    widget.say("Show me my orders")
    chat = db.session.scalar(select(Ticket).where(Ticket.channel == "chat"))
    assert chat.customer_id != customer.id
    assert "Secret order details" not in widget.get("messages").text
    visitor = db.session.scalar(select(ChatVisitor))
    assert visitor.email == customer.email and visitor.verified_user is None


def test_a_verified_identity_joins_that_users_customer_record(db, client):
    one = Widget(client)
    one.start(user_id="u-42", user_hash=signed("u-42"), name="Ana")
    one.say("Signed-in question")
    two = Widget(client)  # another browser of the same signed-in user
    two.start(user_id="u-42", user_hash=signed("u-42"))
    assert [m["body"] for m in two.get("messages").json["messages"]] == []  # a new chat...
    two.say("From my phone")
    customers = {t.customer_id for t in db.session.scalars(select(Ticket))}
    assert len(customers) == 1  # ...of the same customer
    assert find_customer("chat_user", "u-42").name == "Ana"

    bad = Widget(client).post("session", json={"user_id": "u-42", "user_hash": signed("u-43")})
    assert bad.status_code == 403


def test_length_and_rate_limits_per_visitor(db, widget, monkeypatch):
    monkeypatch.setenv("HELPDESK_PLUGIN_CHAT_PER_MINUTE", "3")
    widget.start()
    too_long = widget.say("x" * 2001)
    assert too_long.status_code == 400 and "too long" in too_long.json["error"]
    for i in range(3):
        assert widget.say(f"message {i}").status_code == 200
    limited = widget.say("one more")
    assert limited.status_code == 429 and "wait" in limited.json["error"]
    assert db.session.scalar(select(Ticket)).message_count == 3


def test_markup_is_kept_as_text(db, widget):
    widget.start(name="<b>Bob</b>")
    widget.say("<script>alert(1)</script>")
    assert widget.get("messages").json["messages"][0]["body"] == "<script>alert(1)</script>"


def test_uploads_keep_the_core_limits(db, widget, app):
    app.config["MAX_ATTACHMENT_BYTES"] = 1000
    widget.start()
    import io
    ok = widget.post("upload", data={"file": (io.BytesIO(b"a" * 500), "receipt.txt")},
                     content_type="multipart/form-data")
    assert ok.status_code == 200, ok.text
    assert ok.json["messages"][-1]["files"] == [{"name": "receipt.txt", "size": 500}]
    big = widget.post("upload", data={"file": (io.BytesIO(b"a" * 1001), "big.bin")},
                      content_type="multipart/form-data")
    assert big.status_code == 413 and "too large" in big.json["error"]


def test_outside_business_hours_the_widget_says_so_and_needs_an_address(db, widget, monkeypatch):
    monkeypatch.setenv("HELPDESK_PLUGIN_CHAT_BUSINESS_HOURS", "Mon-Sun 00:00-00:00")
    config = widget.get("config").json
    assert config["open"] is False and "away" in config["offline_message"]
    widget.start()
    refused = widget.say("Anyone there?")
    assert refused.status_code == 400 and refused.json["field"] == "email"
    assert widget.post("details", json={"email": "me@example.test"}).status_code == 200
    assert widget.say("Anyone there?").status_code == 200


def test_a_reply_to_a_visitor_who_left_goes_by_email(db, widget, agent, app):
    from helpdesk.models import OutboxMail

    widget.start(email="visitor@example.test")
    widget.say("Call me back please")
    ticket = db.session.scalar(select(Ticket))
    services.add_message(ticket, agent, "We are still here!")
    assert db.session.scalars(select(OutboxMail)).all() == []  # they are here: live only

    from datetime import timedelta

    visitor = db.session.scalar(select(ChatVisitor))
    visitor.last_seen_at -= timedelta(minutes=5)
    db.session.commit()
    services.add_message(ticket, agent, "Here is the answer you asked for.")
    mails = db.session.scalars(select(OutboxMail)).all()
    assert [m.to_addr for m in mails] == ["visitor@example.test"]
    assert "Here is the answer you asked for." in mails[0].body_text


def test_one_click_rating_feeds_feedback_once(db, widget, agent, plugins):
    received = []

    from helpdesk.testing import make_plugin

    plugins.register(make_plugin("listener", helpdesk_feedback_received=lambda ticket, customer, feedback:
                                 received.append(feedback)))
    widget.start()
    widget.say("Thanks for the help")
    ticket = db.session.scalar(select(Ticket))
    services.update_ticket(ticket, agent, status="resolved")
    assert widget.get("messages").json["status"] == "resolved"
    assert widget.post("rate", json={"score": 5}).status_code == 200
    assert widget.post("rate", json={"score": 1}).status_code == 409
    assert [(f["kind"], f["score"], f["source"], f["ticket_id"]) for f in received] == [
        ("csat", 5, "chat", ticket.id)]


def test_visitor_typing_is_published_as_presence(db, widget):
    widget.start()
    widget.say("Hello")
    assert widget.post("typing", json={"typing": True}).status_code == 200
    from helpdesk import live

    ticket = db.session.scalar(select(Ticket))
    customer = db.session.get(User, ticket.customer_id)
    assert live.presence(ticket.id) == {customer.id: "typing"}
    assert db.session.scalars(select(Message)).all()[0].channel == "chat"


def test_a_required_pre_chat_form_is_enforced_by_the_server(db, widget, monkeypatch):
    monkeypatch.setenv("HELPDESK_PLUGIN_CHAT_PRECHAT", "required")
    assert widget.get("config").json["prechat"] == "required"
    widget.start()
    refused = widget.say("Hi")
    assert refused.status_code == 400 and refused.json["field"] == "name"
    assert widget.post("details", json={"name": "Vera", "email": "not an address"}).status_code == 400
    assert widget.post("details", json={"name": "Vera", "email": "vera@example.test"}).status_code == 200
    assert widget.say("Hi").status_code == 200


def test_the_admin_sets_the_allowed_websites(db, client, admin, login, monkeypatch):
    monkeypatch.delenv("HELPDESK_PLUGIN_CHAT_ALLOWED_ORIGINS")
    login(client, admin)
    page = client.get("/admin/plugins/chat")
    assert page.status_code == 200 and "Allowed websites" in page.text and "Business hours" in page.text
    other = Widget(client, origin="https://blog.example.test")
    assert other.get("config").status_code == 403
    saved = client.post("/admin/plugins/chat", data={"allowed_origins": "https://blog.example.test/\n",
                                                     "color": "#112233", "prechat": "optional",
                                                     "away_seconds": "60", "max_chars": "2000", "per_minute": "20",
                                                     "greeting": "Hello", "offline_message": "Away"})
    assert saved.status_code == 302, saved.text
    answer = other.get("config")
    assert answer.status_code == 200 and answer.json["color"] == "#112233"
