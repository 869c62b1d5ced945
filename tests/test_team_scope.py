"""Team-scoped agents ("sees only tickets of my teams") and light agents (internal notes only).

Billing agents must not read HR cases; colleagues from other departments read and add notes
but never write to customers. One scoping function (helpdesk/access.py) decides for every
page, search, count and download; the services refuse what light agents may not do.
"""
from __future__ import annotations

import pytest
from pagetext import attributes, body, field_errors, text, texts
from sqlalchemy import func, select

from helpdesk import services
from helpdesk.access import can_see_ticket, visible_tickets
from helpdesk.models import Message, OutboxMail, Team, Ticket
from helpdesk.services import PermissionDenied, ServiceError
from helpdesk.services.tickets import NewAttachment


@pytest.fixture
def office(db, make_user, customer, agent):
    """Billing and HR teams, a ticket for each, one without a team, one assigned to the billing agent."""
    billing, hr = Team(name="Billing"), Team(name="HR")
    billing_agent = make_user("agent", name="Bill Billing", team_scoped=True)
    light = make_user("light_agent", name="Lee Light")
    billing.members = [billing_agent]
    db.session.add_all([billing, hr])
    db.session.commit()
    invoice = services.create_ticket(customer, "Invoice wrong", "invoice-words", team_id=billing.id)
    grievance = services.create_ticket(customer, "Grievance", "grievance-words", team_id=hr.id,
                                       attachments=[NewAttachment("hr.txt", b"private", "text/plain")])
    unrouted = services.create_ticket(customer, "Unrouted question", "unrouted-words")
    mine = services.create_ticket(customer, "Asked for Bill", "personal-words", team_id=hr.id)
    services.update_ticket(mine, agent, assignee_id=billing_agent.id)
    return {"billing_agent": billing_agent, "light": light, "invoice": invoice, "grievance": grievance,
            "unrouted": unrouted, "mine": mine, "billing": billing, "hr": hr}


def queue_refs(client, query: str = "") -> set[str]:
    page = client.get("/queue" + query)
    assert page.status_code == 200
    return {a["data-reference"] for a in attributes(page.text, cls="ticket-row")}


def test_the_scoping_function_limits_a_team_scoped_agent(db, office, agent, admin):
    bill = office["billing_agent"]
    seen = set(db.session.scalars(visible_tickets(bill).with_only_columns(Ticket.subject)))
    assert seen == {"Invoice wrong", "Asked for Bill"}  # their team's, and the one assigned to them
    assert not can_see_ticket(bill, office["grievance"]) and not can_see_ticket(bill, office["unrouted"])
    assert can_see_ticket(bill, office["invoice"]) and can_see_ticket(bill, office["mine"])
    for everyone in (agent, admin, office["light"]):
        assert db.session.scalar(select(func.count()).select_from(visible_tickets(everyone).subquery())) == 4
    admin.team_scoped = True  # the setting never limits an admin
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(visible_tickets(admin).subquery())) == 4


def test_team_scoped_agent_pages_search_counts_and_downloads(client, login, db, office):
    login(client, office["billing_agent"])
    refs = {t.reference for t in (office["invoice"], office["mine"])}
    assert queue_refs(client) == refs
    assert queue_refs(client, "?status=all") == refs
    assert queue_refs(client, "?q=grievance-words") == set()  # full-text search is scoped too
    assert queue_refs(client, f"?q={office['grievance'].reference}") == set()
    assert queue_refs(client, f"?team={office['hr'].id}") == {office["mine"].reference}
    assert client.get(f"/tickets/{office['grievance'].reference}").status_code == 404
    assert client.get(f"/tickets/{office['unrouted'].reference}").status_code == 404
    token = office["grievance"].messages[0].attachments[0].token
    assert client.get(f"/attachments/{token}").status_code == 404
    dashboard = client.get("/dashboard").text
    assert "Grievance" not in dashboard and "Unrouted question" not in dashboard
    customer_page = client.get(f"/customers/{office['invoice'].customer_id}").text
    assert "Invoice wrong" in customer_page and "Grievance" not in customer_page
    bulk = client.post("/queue/bulk", data={"action": "status", "value": "pending",
                                            "ticket_ids": [str(office["grievance"].id)]})
    assert bulk.status_code == 302
    db.session.expire_all()
    assert db.session.get(Ticket, office["grievance"].id).status == "new"  # out of scope: untouched


def test_light_agent_reads_and_adds_notes_but_never_replies(client, login, db, office, customer):
    light = office["light"]
    login(client, light)
    ticket = office["grievance"]
    page = client.get(f"/tickets/{ticket.reference}")
    assert page.status_code == 200
    assert text(page.text, id="composer-heading") == "Internal note"
    assert "fields-form" not in page.text and "merge-form" not in page.text and "reply-internal" not in page.text
    assert "Status" in text(page.text, id="fields-readonly")
    assert "bulk-bar" not in client.get("/queue").text

    # Even with "internal" left unticked and a status asked for, it becomes a note and nothing else.
    mails = db.session.scalar(select(func.count()).select_from(OutboxMail))
    saved = client.post(f"/tickets/{ticket.reference}", data={"body": "HR: please call me first",
                                                              "status_after": "resolved"})
    assert saved.status_code == 302
    db.session.expire_all()
    note = db.session.scalars(select(Message).where(Message.ticket_id == ticket.id).order_by(Message.id)).all()[-1]
    assert (note.body, note.internal, note.author_id) == ("HR: please call me first", True, light.id)
    assert db.session.get(Ticket, ticket.id).status == "new"
    assert db.session.scalar(select(func.count()).select_from(OutboxMail)) == mails  # no mail to anyone
    assert "HR: please call me first" in client.get(f"/tickets/{ticket.reference}").text
    assert queue_refs(client, "?q=call me first") == {ticket.reference}  # notes are searchable for them

    assert client.post(f"/tickets/{ticket.reference}/fields", data={"status": "resolved"}).status_code == 404
    assert client.post(f"/tickets/{ticket.reference}/merge", data={"target": "1"}).status_code == 404
    assert client.post("/queue/bulk", data={"action": "status", "value": "closed",
                                            "ticket_ids": [str(ticket.id)]}).status_code == 404
    assert client.get(f"/customers/{customer.id}").status_code == 404
    assert client.get("/admin/").status_code == 403

    # The customer never sees the note.
    login(client, customer)
    assert "HR: please call me first" not in client.get(f"/portal/tickets/{ticket.reference}").text


def test_services_refuse_what_a_light_agent_may_not_do(db, office, agent):
    light, ticket = office["light"], office["invoice"]
    with pytest.raises(PermissionDenied, match="internal notes only"):
        services.add_message(ticket, light, "Dear customer, …")
    for change in ({"status": "resolved"}, {"priority": "urgent"}, {"assignee_id": light.id}, {"tags": ["x"]}):
        with pytest.raises(PermissionDenied, match="not change them"):
            services.update_ticket(ticket, light, **change)
    with pytest.raises(ServiceError, match="active agents"):  # they cannot be given tickets either
        services.update_ticket(ticket, agent, assignee_id=light.id)
    note = services.add_message(ticket, light, "Context from finance", internal=True)
    assert note.internal and ticket.status == "new"


def test_a_team_scoped_light_agent_combines_both(db, make_user, office):
    hr_helper = make_user("light_agent", name="Hana HR", team_scoped=True)
    office["hr"].members = [hr_helper]
    db.session.commit()
    seen = set(db.session.scalars(visible_tickets(hr_helper).with_only_columns(Ticket.subject)))
    assert seen == {"Grievance", "Asked for Bill"}


def test_admin_sets_the_role_and_the_team_setting(client, login, db, admin, agent):
    login(client, admin)
    form = client.get(f"/admin/users/{agent.id}").text
    assert "Sees only tickets of their teams" in body(form)
    assert 'value="light_agent"' in form
    saved = client.post(f"/admin/users/{agent.id}", data={
        "name": agent.name, "email": agent.email, "role": "light_agent", "active": "y", "team_scoped": "y"},
        follow_redirects=True)
    row = next(r for r in texts(saved.text, cls="user-row") if agent.email in r)
    assert "light agent · my teams only" in row
    db.session.expire_all()
    assert (agent.role, agent.team_scoped) == ("light_agent", True)
    wrong = client.post(f"/admin/users/{agent.id}", data={
        "name": agent.name, "email": agent.email, "role": "overlord", "active": "y"})
    assert wrong.status_code == 422 and field_errors(wrong.text)
    assert "light agent" in client.get("/admin/users?role=light_agent").text


def test_a_team_scoped_agent_sees_only_customers_with_a_ticket_in_scope(client, login, db, office, make_user,
                                                                        agent):
    hr_only = make_user("customer", name="Harriet Private", email="harriet@example.test")
    services.create_ticket(hr_only, "Sick leave", "private-words", team_id=office["hr"].id)
    login(client, office["billing_agent"])
    listing = client.get("/customers?q=example").text
    assert "Harriet Private" not in listing
    assert office["invoice"].customer.name in listing  # a customer of a billing ticket stays visible
    assert client.get(f"/customers/{hr_only.id}").status_code == 404
    login(client, agent)  # an agent who sees every ticket sees every customer
    assert client.get(f"/customers/{hr_only.id}").status_code == 200
