"""A ticket form saved after a colleague changed the ticket: refused, with what changed, and
the agent's own choices kept to re-apply."""
from __future__ import annotations

import pytest
from pagetext import attributes, text, texts

from helpdesk import services
from helpdesk.models import Ticket


@pytest.fixture
def app_config() -> dict:
    return {}


def shown_form(client, ticket) -> dict[str, str]:
    page = client.get(f"/tickets/{ticket.reference}").text
    return {name: attributes(page, id=name)[0]["value"] for name in ("version", "audit_mark")}


def fields(form: dict[str, str], **values: str) -> dict[str, str]:
    return {"status": "open", "priority": "normal", "assignee_id": "", "team_id": "", "tags": "", **form, **values}


def test_a_save_from_a_stale_form_is_refused_and_shows_what_changed(db, client, login, agent, make_user, ticket):
    services.update_ticket(ticket, agent, status="open")
    colleague = make_user("agent", name="Bea Colleague")
    login(client, agent)
    form = shown_form(client, ticket)  # the agent opens the ticket...

    services.update_ticket(db.session.get(Ticket, ticket.id), colleague, priority="urgent")  # ...Bea raises it

    answer = client.post(f"/tickets/{ticket.reference}/fields",
                         data=fields(form, status="pending", tags="printer, hardware"))
    assert answer.status_code == 409
    assert text(answer.text, id="stale-alert").startswith("Not saved.")
    [event] = texts(answer.text, cls="meanwhile-event")
    assert event.startswith("Bea Colleague changed priority: normal → urgent")
    rows = {row.split()[0]: row for row in texts(answer.text, cls="compare-row")}
    assert rows["Priority"] == "Priority urgent normal" and rows["Status"] == "Status open pending"
    # nothing was saved
    db.session.expire_all()
    saved = db.session.get(Ticket, ticket.id)
    assert (saved.status, saved.priority, [t.name for t in saved.tags]) == ("open", "urgent", [])
    # what the agent chose is kept in the form, stamped with the ticket's version now
    assert attributes(answer.text, id="tags")[0]["value"] == "printer, hardware"
    assert attributes(answer.text, id="version")[0]["value"] == str(saved.version)
    chosen = [o["value"] for o in attributes(answer.text, tag="option") if "selected" in o]
    assert chosen[:2] == ["pending", "normal"]  # status and priority as the agent chose them

    # re-applied, keeping the colleague's priority: saved
    again = {name: attributes(answer.text, id=name)[0]["value"] for name in ("version", "audit_mark")}
    done = client.post(f"/tickets/{ticket.reference}/fields",
                       data=fields(again, status="pending", priority="urgent", tags="printer, hardware"))
    assert done.status_code == 302
    db.session.expire_all()
    saved = db.session.get(Ticket, ticket.id)
    assert (saved.status, saved.priority, sorted(t.name for t in saved.tags)) == (
        "pending", "urgent", ["hardware", "printer"])


def test_a_form_that_is_current_saves_at_once(db, client, login, agent, ticket):
    login(client, agent)
    form = shown_form(client, ticket)
    answer = client.post(f"/tickets/{ticket.reference}/fields", data=fields(form, status="open", priority="high"))
    assert answer.status_code == 302
    db.session.expire_all()
    assert db.session.get(Ticket, ticket.id).priority == "high"


def test_a_reply_does_not_make_the_form_stale(db, client, login, agent, customer, ticket):
    """A new message is not a change of the fields the form edits."""
    login(client, agent)
    form = shown_form(client, ticket)
    services.add_message(db.session.get(Ticket, ticket.id), customer, "Any news?")
    answer = client.post(f"/tickets/{ticket.reference}/fields", data=fields(form, status="new", priority="high"))
    assert answer.status_code == 302


def test_the_service_refuses_a_stale_version(db, agent, ticket):
    version = ticket.version
    services.update_ticket(ticket, agent, priority="high")
    with pytest.raises(services.StaleTicket):
        services.update_ticket(ticket, agent, expected_version=version, priority="low")
    db.session.expire_all()
    assert db.session.get(Ticket, ticket.id).priority == "high"
