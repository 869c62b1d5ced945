"""The customer page in a browser: an agent edits a preference and a custom field, sees the
timeline (with a filter and the next page), and opens the organisation; a ticket's fields
card fills in after the page loaded."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from helpdesk import services
from helpdesk.extensions import db
from helpdesk.models import User
from helpdesk.services.custom_fields import save_field
from helpdesk.services.organisations import save_organisation

pytestmark = pytest.mark.browser
PASSWORD = "long-password-1"


def test_agent_edits_a_preference_and_sees_the_timeline(live_server, sign_in, screenshot, browser_problems,
                                                        make_user, admin):
    agent = make_user("agent", name="Alex Agent", email="alex@example.com", password=PASSWORD)
    save_organisation(admin, name="Acme", domains="acme.test")
    save_field(admin, applies_to="customer", key="plan", label="Plan", kind="choice", choices="free, pro")
    save_field(admin, applies_to="ticket", key="order", label="Order number", kind="text")
    carla = services.find_or_create_customer("email", "carla@acme.test", name="Carla Berger")
    ticket = services.create_ticket(carla, "Kettle leaks", "It leaks on the table.")
    services.add_message(ticket, agent, "Sorry, a new one is on its way.")
    for n in range(30):  # more than one page of timeline
        services.add_message(ticket, carla, f"Update number {n}")

    page = sign_in(agent)
    page.goto(f"{live_server}/customers/{carla.id}")
    expect(page.locator("#customer-organisation")).to_contain_text("Acme")
    page.locator("#pf-name").fill("Carlita")
    page.locator("#pf-language").select_option("de")
    page.locator("#pf-consent-updates").uncheck()
    page.locator("#pf-cf-plan").select_option("pro")
    page.locator("#profile-save").click()
    expect(page.locator("#flash-messages")).to_contain_text("Profile saved.")
    expect(page.locator("#pf-name")).to_have_value("Carlita")
    expect(page.locator("#pf-language")).to_have_value("de")
    expect(page.locator("#pf-consent-updates")).not_to_be_checked()

    entries = page.locator("#timeline-entries .timeline-entry")
    expect(entries).to_have_count(25)
    expect(entries.first).to_contain_text("Update number 29")
    screenshot(page, "customer-timeline")
    page.locator("#timeline-older").click()
    expect(entries.last).to_contain_text(f"Opened {ticket.reference}")
    page.locator("#timeline-kind").select_option("ticket")
    page.locator("#timeline-filter").get_by_role("button", name="Filter").click()
    expect(entries).to_have_count(1)
    expect(entries.first).to_contain_text("Kettle leaks")

    page.goto(f"{live_server}/tickets/{ticket.reference}")
    panel = page.locator("#ticket-custom-fields")
    expect(panel).to_contain_text("Order number")  # filled in after load
    panel.locator("#tf-cf-order").fill("A-77")
    panel.get_by_role("button", name="Save fields").click()
    expect(page.locator("#flash-messages")).to_contain_text("Fields saved.")
    expect(page.locator("#tf-cf-order")).to_have_value("A-77")

    page.goto(f"{live_server}/customers/{carla.id}")
    page.locator("#customer-organisation").get_by_role("link", name="Acme").click()
    expect(page.locator("#organisation-tickets")).to_contain_text(ticket.reference)
    browser_problems.check()

    db.session.expire_all()
    saved = db.session.get(User, carla.id)
    assert (saved.preferred_name, saved.language, saved.custom_fields) == ("Carlita", "de", {"plan": "pro"})
    assert not saved.consents_to("updates")
