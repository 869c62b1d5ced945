"""The live channel (issue 16): the event bus, the scoped stream, presence, never reply blind.

Browser tests (two agents) are in tests/browser/test_live_flow.py; the channel across two
gunicorn worker processes is in tests/test_live_workers.py.
"""
from __future__ import annotations

import json
import re

import pytest

from helpdesk import live, services
from helpdesk.models import Message, Team, Ticket, User


@pytest.fixture
def app_config():
    return {"LIVE_STREAM_SECONDS": 1, "LIVE_POLL_MS": 50}


def stream_events(response) -> list[dict]:
    """The events of a finished stream response, as the browser's EventSource parses them."""
    text = b"".join(response.response).decode()
    return [json.loads(line[len("data: "):]) for line in text.splitlines() if line.startswith("data: ")]


def seen_of(page_text: str) -> str:
    match = re.search(r'name="seen" type="hidden" value="([0-9:]*)"', page_text) or re.search(
        r'id="seen" name="seen" type="hidden" value="([0-9:]*)"', page_text)
    assert match, "the reply form carries what the page showed"
    return match.group(1)


def test_events_published_after_commit_reach_a_subscriber_and_resume(app, db, customer, agent, ticket):
    subscription = live.subscribe(["queue", f"ticket:{ticket.id}"])
    assert subscription.wait(0) == []
    services.add_message(ticket, agent, "Hi Carla, on it.")
    events = subscription.wait(1)
    assert [(e.topic, e.event["type"]) for e in events] == [  # the first reply also opened the ticket
        (f"ticket:{ticket.id}", "message"), ("queue", "ticket_updated"),
        (f"ticket:{ticket.id}", "changed"), ("queue", "ticket_updated")]
    assert events[0].event["author_name"] == "Alex Agent"
    assert events[2].event["changes"] == {"status": "open"}
    # A browser that saw the first event resumes after it (Last-Event-ID): it gets the rest.
    resumed = live.subscribe(["queue", f"ticket:{ticket.id}"], last_id=events[0].id)
    assert [e.event["type"] for e in resumed.wait(0)] == ["ticket_updated", "changed", "ticket_updated"]
    services.update_ticket(ticket, agent, status="pending")
    changed = [e.event for e in subscription.wait(1) if e.event["type"] == "changed"]
    assert changed == [{"type": "changed", "ticket_id": ticket.id, "reference": ticket.reference,
                        "actor_id": agent.id, "actor_name": "Alex Agent", "changes": {"status": "pending"}}]
    live.publish("user:7", {"type": "notification", "count": 1})  # the public API for other features
    assert live.subscribe(["user:7"], last_id="0").wait(0)[-1].event == {"type": "notification", "count": 1}
    with pytest.raises(ValueError):
        live.publish("everyone", {})


def test_presence_is_set_changed_and_left(app, db, agent, admin, ticket):
    assert live.set_presence(ticket.id, agent.id, "viewing") is True  # news: someone arrived
    assert live.set_presence(ticket.id, agent.id, "viewing") is False  # a heartbeat: nothing new
    assert live.set_presence(ticket.id, agent.id, "typing") is True
    live.set_presence(ticket.id, admin.id, "viewing")
    assert live.presence(ticket.id) == {agent.id: "typing", admin.id: "viewing"}
    assert live.set_presence(ticket.id, agent.id, "left") is True
    assert live.presence(ticket.id) == {admin.id: "viewing"}


def test_presence_page_answers_who_else_is_there(app, db, client, login, agent, admin, ticket, customer):
    live.set_presence(ticket.id, admin.id, "typing")
    login(client, agent)
    answer = client.post(f"/live/tickets/{ticket.reference}/presence", data={"state": "viewing"})
    assert answer.json == {"present": [{"user_id": admin.id, "name": "Ada Admin", "state": "typing"}]}
    assert client.post(f"/live/tickets/{ticket.reference}/presence", data={"state": "dancing"}).status_code == 400
    assert client.post(f"/live/tickets/{ticket.reference}/presence", data={"state": "viewing"},
                       csrf=False).status_code == 400  # CSRF
    login(client, customer)
    assert client.post(f"/live/tickets/{ticket.reference}/presence", data={"state": "viewing"}).status_code == 404
    assert client.get(f"/live/stream?topics=ticket:{ticket.id}").status_code == 404


def test_a_team_scoped_agent_gets_no_event_presence_or_stream_of_another_team(app, db, client, login, make_user,
                                                                             customer, agent):
    billing, hr = Team(name="Billing"), Team(name="HR")
    bill = make_user("agent", name="Bill Billing", team_scoped=True)
    billing.members = [bill]
    db.session.add_all([billing, hr])
    db.session.commit()
    invoice = services.create_ticket(customer, "Invoice wrong", "invoice-words", team_id=billing.id)
    grievance = services.create_ticket(customer, "Grievance", "grievance-words", team_id=hr.id)
    login(client, bill)
    assert client.get(f"/live/stream?topics=ticket:{grievance.id}").status_code == 404
    assert client.post(f"/live/tickets/{grievance.reference}/presence").status_code == 404
    # Asking for several topics: the foreign ones are dropped, the rest is filtered per event.
    response = client.get(f"/live/stream?topics=queue,ticket:{grievance.id},ticket:{invoice.id},user:{agent.id}")
    assert response.status_code == 200 and response.headers["X-Accel-Buffering"] == "no"
    services.add_message(grievance, agent, "Hi Carla, HR here.")
    live.set_presence(grievance.id, agent.id, "typing")
    live.publish(f"ticket:{grievance.id}", {"type": "presence", "ticket_id": grievance.id, "present": []})
    services.add_message(invoice, agent, "Hi Carla, billing here.")
    events = stream_events(response)
    assert {e["ticket_id"] for e in events} == {invoice.id}
    assert {(e["topic"], e["type"]) for e in events} == {
        (f"ticket:{invoice.id}", "message"), (f"ticket:{invoice.id}", "changed"), ("queue", "ticket_updated")}


def test_the_stream_is_for_signed_in_staff_and_ends_on_its_own(app, db, client, login, agent, customer, ticket):
    assert client.get("/live/stream?topics=queue").status_code in (302, 401)
    login(client, customer)
    assert client.get("/live/stream?topics=queue").status_code == 404
    login(client, agent)
    assert client.get("/live/stream?topics=nothing").status_code == 404
    response = client.get("/live/stream?topics=queue")
    assert response.mimetype == "text/event-stream"
    text = b"".join(response.response).decode()  # ends after LIVE_STREAM_SECONDS: the browser reconnects
    assert text.startswith("retry: 3000\n: connected\n\n") and ": keep-alive" in text


def test_a_reply_written_while_a_colleague_replied_asks_first_without_javascript(
        app, db, client, login, make_user, agent, customer, ticket):
    lea = make_user("agent", name="Lea Lang")
    login(client, agent)
    page = client.get(f"/tickets/{ticket.reference}")
    seen = seen_of(page.text)
    services.add_message(ticket, lea, "Hi Carla, I replaced the printer.")
    services.update_ticket(ticket, lea, status="pending")
    body = f"Hi Carla,\n\nabout {ticket.reference}: we are on it."
    answer = client.post(f"/tickets/{ticket.reference}", data={"body": body, "seen": seen})
    assert answer.status_code == 409
    assert "New on this ticket since you opened it" in answer.text
    assert re.search(r"Lea Lang replied (just now|\d+ s ago)", answer.text)
    assert re.search(r"Status changed to pending by Lea Lang", answer.text)
    assert "we are on it." in answer.text  # what the agent typed is kept
    assert db.session.query(Message).filter_by(author_id=agent.id).count() == 0  # not sent
    # "Send anyway" sends the form as re-rendered: it carries the marks of what it showed.
    again = client.post(f"/tickets/{ticket.reference}", data={"body": body, "seen": seen_of(answer.text)})
    assert again.status_code == 302
    assert db.session.query(Message).filter_by(author_id=agent.id).count() == 1


def test_the_news_before_a_reply_is_in_the_agents_language(app, db, client, login, make_user, agent, ticket):
    agent.language = "de"
    db.session.commit()
    lea = make_user("agent", name="Lea Lang")
    login(client, agent)
    seen = seen_of(client.get(f"/tickets/{ticket.reference}").text)
    services.add_message(ticket, lea, "Hi Carla, I replaced the printer.")
    services.update_ticket(ticket, lea, status="pending")
    answer = client.post(f"/tickets/{ticket.reference}", data={"body": "Hallo Carla", "seen": seen})
    assert answer.status_code == 409
    assert re.search(r"Lea Lang hat (gerade eben|vor \d+ s) geantwortet\.", answer.text)
    assert re.search(r"Status wurde (gerade eben|vor \d+ s) von Lea Lang auf \w+", answer.text)
    assert "pending by" not in answer.text


def test_own_changes_internal_notes_and_formless_posts_send_at_once(app, db, client, login, agent, customer, ticket):
    login(client, agent)
    seen = seen_of(client.get(f"/tickets/{ticket.reference}").text)
    services.update_ticket(ticket, agent, priority="high")  # my own change: nothing to confirm
    body = f"Hi Carla,\n\nabout {ticket.reference}: done."
    assert client.post(f"/tickets/{ticket.reference}", data={"body": body, "seen": seen}).status_code == 302
    services.add_message(ticket, customer, "Thanks! One more thing.")
    note = client.post(f"/tickets/{ticket.reference}", data={"body": "note to self", "internal": "y", "seen": seen})
    assert note.status_code == 302  # notes go to colleagues, not to the customer: no question
    assert client.post(f"/tickets/{ticket.reference}", data={"body": body}).status_code == 302  # no mark: no check
    answer = client.post(f"/tickets/{ticket.reference}", data={"body": body, "seen": seen})
    assert answer.status_code == 409 and "The customer (Carla Customer) replied" in answer.text


def test_pages_work_with_the_live_channel_down(app, db, client, login, make_user, agent, customer, ticket,
                                               monkeypatch):
    """The live backend unreachable (Redis gone): pages, replies and notifications work as
    before, the reply is still checked on the server, the stream and presence say 503."""
    from redis import Redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry
    from smtp_sink import free_port

    from helpdesk.services import notifications as notes

    dead = Redis(host="127.0.0.1", port=free_port(), socket_connect_timeout=0.5, retry=Retry(NoBackoff(), 0),
                 decode_responses=True)
    monkeypatch.setattr(live, "redis_client", lambda: dead)
    monkeypatch.setattr(live, "_blocking_client", lambda: dead)
    lea = make_user("agent", name="Lea Lang")
    login(client, agent)
    page = client.get(f"/tickets/{ticket.reference}")
    assert page.status_code == 200 and 'id="live-channel"' in page.text
    assert client.get("/queue").status_code == 200
    stream = client.get(f"/live/stream?topics=queue,ticket:{ticket.id}")
    assert stream.status_code == 503 and stream.headers["Retry-After"] == "10"
    presence = client.post(f"/live/tickets/{ticket.reference}/presence", data={"state": "viewing"})
    assert presence.status_code == 503 and presence.json == {"present": []}

    services.add_message(ticket, lea, "Hi Carla, I replaced the printer.")  # published to nowhere: saved
    body = f"Hi Carla,\n\nabout {ticket.reference}: we are on it."
    answer = client.post(f"/tickets/{ticket.reference}", data={"body": body, "seen": seen_of(page.text)})
    assert answer.status_code == 409 and "Lea Lang replied" in answer.text  # never reply blind, without live
    assert client.post(f"/tickets/{ticket.reference}",
                       data={"body": body, "seen": seen_of(answer.text)}).status_code == 302
    assert db.session.query(Message).filter_by(author_id=agent.id).count() == 1
    services.update_ticket(ticket, lea, assignee_id=agent.id)  # the bell's live count fails; the notification not
    assert notes.unread_count(agent) == 1


def test_a_ticket_moved_out_of_a_scoped_agents_teams_goes_quiet_at_once(app, db, client, login, make_user,
                                                                        customer, agent):
    """Checked per event with the agent's scope as it is then: the stream opened while Bill
    could see the ticket carries nothing about it once it moved to a team he is not in."""
    from helpdesk.services import notifications as notes

    billing, hr = Team(name="Billing"), Team(name="HR")
    bill = make_user("agent", name="Bill Billing", team_scoped=True)
    billing.members = [bill]
    db.session.add_all([billing, hr])
    db.session.commit()
    invoice = services.create_ticket(customer, "Invoice wrong", "invoice-words", team_id=billing.id)
    assert notes.follow(bill, invoice)
    login(client, bill)
    chunks = iter(client.get(f"/live/stream?topics=queue,ticket:{invoice.id},user:{bill.id}").response)

    def received() -> list[dict]:
        text = next(chunks).decode()
        return [json.loads(line[len("data: "):]) for line in text.splitlines() if line.startswith("data: ")]

    ids = (invoice.id, agent.id, customer.id, bill.id, billing.id, hr.id)
    assert received() == []  # connected
    services.add_message(invoice, agent, "Hi Carla, billing here.")  # still his ticket: he hears of it
    assert [(e["topic"], e["type"]) for e in received()] == [
        (f"ticket:{ids[0]}", "message"), ("queue", "ticket_updated"),
        (f"ticket:{ids[0]}", "changed"), ("queue", "ticket_updated")]
    # (the stream, run here in the test's thread, ended the session: load the objects again)
    invoice, billing, hr = db.session.get(Ticket, ids[0]), db.session.get(Team, ids[4]), db.session.get(Team, ids[5])
    agent, customer, bill = (db.session.get(User, i) for i in ids[1:4])
    services.update_ticket(invoice, agent, team_id=hr.id)  # now HR's: nothing more about it reaches him
    services.add_message(invoice, customer, "It is about my salary, actually.")
    live.set_presence(invoice.id, agent.id, "typing")
    live.publish(f"ticket:{invoice.id}", {"type": "presence", "ticket_id": invoice.id, "present": []})
    other = services.create_ticket(customer, "Refund", "refund-words", team_id=billing.id)  # his again
    later = [e for chunk in chunks for e in (json.loads(line[len("data: "):]) for line in chunk.decode().splitlines()
                                             if line.startswith("data: "))]
    assert [(e["type"], e.get("ticket_id"), e.get("unread")) for e in later] == [
        ("ticket_created", other.id, None), ("notifications", None, 1)]  # "came to your team": his bell
    # The customer's reply on the moved ticket is not announced to the follower who lost it.
    from helpdesk.models import Notification

    assert [(n.kind, n.ticket_id) for n in db.session.query(Notification).filter_by(recipient_id=bill.id)
            .order_by(Notification.id)] == [("team_assigned", invoice.id), ("team_assigned", other.id)]
    assert notes.unread_count(bill) == 1  # the one about the moved ticket is hidden from him too
    assert client.post(f"/live/tickets/{invoice.reference}/presence").status_code == 404


def test_every_staff_page_listens_for_its_persons_bell_and_customers_get_no_channel(
        app, db, client, login, agent, customer, ticket):
    def topics(path: str) -> list[str]:
        return re.findall(r'id="live-channel"[^>]*data-topics="([^"]*)"', client.get(path).text.replace("\n", " "))

    login(client, agent)
    assert topics("/queue") == [f"queue,user:{agent.id}"]
    assert topics(f"/tickets/{ticket.reference}") == [f"ticket:{ticket.id},user:{agent.id}"]
    assert topics("/notifications") == topics("/profile/") == [f"user:{agent.id}"]
    login(client, customer)
    page = client.get("/profile/")
    assert page.status_code == 200 and 'id="current-user"' in page.text and 'id="live-channel"' not in page.text
