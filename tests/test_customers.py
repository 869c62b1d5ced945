"""Knowing the customer: organisations matched by domain, preferences and custom fields,
placeholders, the one timeline (with the bundled plugins' entries)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from helpdesk import services
from helpdesk.canned import render_notice, render_reply
from helpdesk.extensions import db
from helpdesk.models import AdminAuditEntry, AuditEvent, User
from helpdesk.services import ServiceError
from helpdesk.services.custom_fields import save_field, set_ticket_fields
from helpdesk.services.organisations import normalise_domain, organisation_for_email, save_organisation
from helpdesk.services.profiles import update_preferences

# ------------------------------------------------------------------ organisations


def test_new_customers_join_their_domains_organisation(app, admin):
    acme = save_organisation(admin, name="Acme", domains="acme.example, @ACME-Corp.example ")
    assert [d.domain for d in acme.domains] == ["acme-corp.example", "acme.example"]
    by_mail = services.find_or_create_customer("email", "Wile@Mail.Acme.Example")  # a subdomain
    signed_up = services.create_user("Road Runner", "rr@acme-corp.example")
    elsewhere = services.find_or_create_customer("email", "someone@other.example")
    assert by_mail.organisation_id == acme.id and signed_up.organisation_id == acme.id
    assert elsewhere.organisation_id is None
    # The longest matching domain wins.
    labs = save_organisation(admin, name="Acme Labs", domains="labs.acme.example")
    assert organisation_for_email("x@labs.acme.example").id == labs.id
    assert organisation_for_email("x@acme.example").id == acme.id
    entry = db.session.scalar(select(AdminAuditEntry).where(AdminAuditEntry.kind == "organisation"))
    assert entry is not None and entry.actor_id == admin.id


def test_adding_a_domain_adopts_existing_customers_but_never_moves_anyone(app, admin, make_user):
    early = make_user("customer", email="early@initech.example")
    placed = make_user("customer", email="placed@initech.example")
    other = save_organisation(admin, name="Other")
    from helpdesk.services.organisations import set_customer_organisation
    set_customer_organisation(placed, other, admin)
    initech = save_organisation(admin, name="Initech", domains="initech.example")
    db.session.expire_all()
    assert early.organisation_id == initech.id
    assert placed.organisation_id == other.id  # an agent's choice stays


@pytest.mark.parametrize("text, error", [
    ("gmail.com", "public mail provider"), ("not a domain", "is not a domain"), ("localhost", "is not a domain"),
])
def test_bad_domains_are_refused_with_a_reason(app, text, error):
    with pytest.raises(ServiceError, match=error):
        normalise_domain(text)


def test_a_domain_belongs_to_one_organisation_and_agents_keep_only_notes(app, admin, agent):
    save_organisation(admin, name="Acme", domains="acme.example")
    with pytest.raises(ServiceError, match="acme.example already belongs to Acme"):
        save_organisation(admin, name="Copycat", domains="acme.example")
    with pytest.raises(ServiceError, match="Only admins"):
        save_organisation(agent, name="Agents' own")
    org = save_organisation(admin, name="Globex")
    with pytest.raises(ServiceError, match="Only admins"):
        save_organisation(agent, org, shared_tickets=True)
    save_organisation(agent, org, notes="Renewal in March", account_owner_id=agent.id)
    assert org.notes == "Renewal in March" and org.account_owner_id == agent.id


def test_organisation_page_lists_members_and_their_tickets(app, client, login, admin, agent, make_user):
    org = save_organisation(admin, name="Acme", domains="acme.example")
    wile = services.find_or_create_customer("email", "wile@acme.example", name="Wile E.")
    ticket = services.create_ticket(wile, "Rocket skates backfire", "Again.")
    login(client, agent)
    page = client.get(f"/organisations/{org.id}").text
    assert ticket.reference in page and "Wile E." in page
    listing = client.get("/organisations").text
    assert "Acme" in listing and "acme.example" in listing
    assert 'id="organisation-admin-form"' not in page  # agents: notes and owner only
    response = client.post(f"/organisations/{org.id}", data={"part": "account", "notes": "VIP", "account_owner": ""})
    assert response.status_code == 302 and org.notes == "VIP"


# ------------------------------------------------------------------ profile, custom fields, placeholders


def test_agent_edits_preferences_and_custom_fields_on_the_customer_page(app, client, login, admin, agent, customer):
    save_field(admin, applies_to="customer", key="plan", label="Plan", kind="choice", choices="free, pro")
    save_field(admin, applies_to="customer", key="since", label="Customer since", kind="date")
    login(client, agent)
    page = client.get(f"/customers/{customer.id}").text
    assert 'id="profile-form"' in page and "Plan" in page
    response = client.post(f"/customers/{customer.id}/profile", data={
        "preferred_name": "Carlita", "language": "de", "timezone": "Europe/Berlin", "preferred_channel": "web",
        "consent_service": "1", "consent_surveys": "1", "cf_plan": "pro", "cf_since": "2026-03-01"})
    assert response.status_code == 302
    db.session.expire_all()
    assert (customer.preferred_name, customer.language, customer.timezone) == ("Carlita", "de", "Europe/Berlin")
    assert customer.consents_to("surveys") and not customer.consents_to("updates")
    assert customer.custom_fields == {"plan": "pro", "since": "2026-03-01"}
    bad = client.post(f"/customers/{customer.id}/profile", data={"cf_plan": "platinum"}, follow_redirects=True)
    assert "Plan: choose one of free, pro" in bad.text
    db.session.expire_all()
    assert customer.custom_fields["plan"] == "pro"  # nothing half-saved


def test_custom_field_values_are_checked_by_kind(app, admin, agent, ticket):
    save_field(admin, applies_to="ticket", key="units", label="Units", kind="number")
    save_field(admin, applies_to="ticket", key="due", label="Due", kind="date")
    assert set_ticket_fields(ticket, agent, {"units": "3", "due": "2026-12-24"}) == {"units": 3, "due": "2026-12-24"}
    with pytest.raises(ServiceError, match="Units: enter a number"):
        set_ticket_fields(ticket, agent, {"units": "three"})
    with pytest.raises(ServiceError, match="Due: enter a date"):
        set_ticket_fields(ticket, agent, {"due": "24.12.2026"})
    with pytest.raises(ServiceError, match="Unknown ticket field"):
        set_ticket_fields(ticket, agent, {"colour": "red"})
    history = db.session.scalars(select(AuditEvent.field).where(AuditEvent.ticket_id == ticket.id)).all()
    assert "field:units" in history


def test_ticket_fields_card_is_filled_after_load(app, client, login, admin, agent, ticket):
    save_field(admin, applies_to="ticket", key="order", label="Order number", kind="text")
    login(client, agent)
    page = client.get(f"/tickets/{ticket.reference}").text
    assert 'data-lazy-url="/tickets/' in page and "Order number" not in page  # nothing queried for it here
    panel = client.get(f"/tickets/{ticket.reference}/custom-fields").text
    assert "Order number" in panel
    client.post(f"/tickets/{ticket.reference}/custom-fields", data={"cf_order": "A-77"})
    assert 'value="A-77"' in client.get(f"/tickets/{ticket.reference}/custom-fields").text


@pytest.mark.parametrize("language, expected", [
    ("en", "Hello Carlita (Acme, pro): your ticket {ref} of Dec 5, 2026 is open."),
    ("de", "Hallo Carlita (Acme, pro): Ihr Ticket {ref} vom 05.12.2026 ist offen."),
])
def test_placeholders_render_per_language_in_the_sandbox(app, admin, agent, customer, language, expected):
    save_field(admin, applies_to="customer", key="plan", label="Plan", kind="text")
    save_organisation(admin, name="Acme", domains="example.test")  # carla@example.test joins
    update_preferences(customer, agent, preferred_name="Carlita", language=language, custom_fields={"plan": "pro"})
    ticket = services.create_ticket(customer, "Help", "Please.")
    ticket.created_at = ticket.created_at.replace(year=2026, month=12, day=5, hour=12)
    db.session.commit()
    template = ('{% if customer.language == "de" %}Hallo {{ customer.greeting_name }} ({{ customer.organisation }}, '
                '{{ customer.fields.plan }}): Ihr Ticket {{ ticket.reference }} vom {{ ticket.created }} ist offen.'
                '{% else %}Hello {{ customer.greeting_name }} ({{ organisation.name }}, {{ customer.fields.plan }}): '
                'your ticket {{ ticket.reference }} of {{ ticket.created }} is open.{% endif %}')
    want = expected.format(ref=ticket.reference)
    assert render_reply(template, ticket, agent) == want
    assert render_notice(template, customer, ticket) == want
    # The sandbox still refuses attribute tricks.
    assert "could not be rendered" in render_reply("{{ customer.__class__ }}{{ ''.__class__.__mro__ }}", ticket, agent)
    with pytest.raises(ValueError, match="could not be filled in"):
        render_notice("{{ ''.__class__.__mro__[1].__subclasses__() }}", customer)


# ------------------------------------------------------------------ the timeline


@pytest.mark.plugins("surveys", "complaints", "recognition")
def test_timeline_has_every_kind_and_pages_by_time(app, client, login, agent, customer):
    from helpdesk_complaints.models import ComplaintFlag
    from helpdesk_recognition.models import Kudos
    from helpdesk_surveys.models import SurveyResponse

    ticket = services.create_ticket(customer, "Broken kettle", "It leaks.")
    services.add_message(ticket, agent, "Sorry! A new one is on its way.")
    services.notify_customer(customer, "We got your message", "Thanks.", ticket=ticket)
    later = ticket.created_at + timedelta(minutes=10)
    flag = db.session.scalar(select(ComplaintFlag).where(ComplaintFlag.ticket_id == ticket.id)) or ComplaintFlag(
        ticket_id=ticket.id, source="agent")  # the detector may have flagged "It leaks." already
    flag.flagged_at = later + timedelta(minutes=1)
    db.session.add_all([
        SurveyResponse(kind="csat", score=5, comment="Quick and kind", customer_id=customer.id, ticket_id=ticket.id,
                       created_at=later),
        flag,
        Kudos(recipient_id=agent.id, giver_id=customer.id, source="rating", ticket_id=ticket.id,
              message="Alex was great", created_at=later + timedelta(minutes=2)),
    ])
    db.session.commit()
    login(client, agent)
    page = client.get(f"/customers/{customer.id}").text
    for text in ("Opened " + ticket.reference, "A new one is on its way", "We got your message",
                 "Survey answer (csat) 5", "Complaint flagged on " + ticket.reference + " by ", "Kudos for Alex Agent"):
        assert text in page, text
    assert page.index("Kudos for") < page.index("Survey answer") < page.index("Opened " + ticket.reference)
    only = client.get(f"/customers/{customer.id}?kind=survey").text
    assert "Quick and kind" in only and "Kudos for" not in only
    # Paging: entries older than the cursor only.
    from helpdesk.timeline import customer_timeline

    first, cursor = customer_timeline(customer, agent, limit=2)
    assert [e.kind for e in first] == ["kudos", "complaint"] and cursor is not None
    rest, _ = customer_timeline(customer, agent, before=cursor, limit=50)
    assert {e.kind for e in rest} >= {"survey", "ticket", "message", "notice"}
    assert all(e.at < cursor for e in rest)


def test_timeline_is_scoped_to_the_reader(app, client, login, make_user, customer, agent):
    from helpdesk.models import Team
    from helpdesk.timeline import customer_timeline

    hr = Team(name="HR")
    db.session.add(hr)
    db.session.commit()
    secret = services.create_ticket(customer, "Salary question", "Private.")
    secret.team_id = hr.id
    db.session.commit()
    scoped = make_user("agent", team_scoped=True)
    entries, _ = customer_timeline(customer, scoped)
    assert not entries
    entries, _ = customer_timeline(customer, agent)
    assert any("Salary question" in e.title for e in entries)
    assert db.session.get(User, customer.id) is not None


def test_reports_filter_by_organisation(app, client, login, admin, agent):
    from helpdesk.reports.filters import parse_filters
    from helpdesk.reports.metrics import build_report

    acme = save_organisation(admin, name="Acme", domains="acme.example")
    services.create_ticket(services.find_or_create_customer("email", "a@acme.example"), "One", "x")
    services.create_ticket(services.find_or_create_customer("email", "b@acme.example"), "Two", "x")
    services.create_ticket(services.find_or_create_customer("email", "c@other.example"), "Three", "x")
    with app.test_request_context():
        everyone, _ = parse_filters({}, agent)
        only_acme, errors = parse_filters({"organisation": str(acme.id)}, agent)
        assert not errors and only_acme.organisation_id == acme.id
        assert build_report(agent, everyone).total.created == 3
        assert build_report(agent, only_acme).total.created == 2
    login(client, agent)
    page = client.get(f"/reports?organisation={acme.id}").text
    assert f'<option value="{acme.id}" selected>Acme</option>' in page
    assert "Choose an organisation" in client.get("/reports?organisation=abc").text
