"""Service levels and merging in the browser: an admin sets up a policy with business hours,
a new ticket shows its time left in the queue, and an agent merges two tickets."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from helpdesk import services
from helpdesk.models import BusinessHours, SlaPolicy, Ticket

pytestmark = pytest.mark.browser

PASSWORD = "long-password-1"
ALL_WEEK = "00:00-24:00"  # so the clock runs whatever day and hour the test runs


def test_admin_sets_up_a_policy_and_the_queue_shows_time_left(
        live_server, sign_in, screenshot, browser_problems, db, make_user, customer):
    admin = make_user("admin", name="Ada Admin", email="ada@example.com", password=PASSWORD)
    agent = make_user("agent", name="Alex Agent", email="alex@example.com", password=PASSWORD)
    page = sign_in(admin)

    page.goto(f"{live_server}/admin/sla/")
    page.locator("#new-hours").click()
    form = page.locator("#hours-form")
    form.get_by_label("Name").fill("Support desk")
    form.get_by_label("Time zone").fill("Europe/Berlin")
    for day in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"):
        form.get_by_label(day).fill(ALL_WEEK)
    form.locator("button[type=submit]").click()
    expect(page.locator("#hours-table")).to_contain_text("Support desk")

    page.locator("#new-policy").click()
    form = page.locator("#policy-form")
    form.get_by_label("Name").fill("Standard")
    form.locator("select[name=business_hours_id]").select_option(label="Support desk")
    form.locator("input[name=first_response_minutes]").fill("120")
    form.locator("input[name=resolution_minutes]").fill("2880")
    form.locator("button[type=submit]").click()
    expect(page.locator("#policies-table")).to_contain_text("Standard")
    db.session.expire_all()
    policy = db.session.query(SlaPolicy).one()
    assert policy.first_response_minutes == 120
    assert db.session.get(BusinessHours, policy.business_hours_id).timezone == "Europe/Berlin"
    screenshot(page, "policy")

    ticket = services.create_ticket(customer, "Invoice missing", "Where is my invoice?")
    agent_page = sign_in(agent)
    agent_page.goto(f"{live_server}/queue?sort=sla")
    row = agent_page.locator(f'.ticket-row[data-reference="{ticket.reference}"]')
    # Two hours of business time, all week: "1h 59m left" or "2h left" depending on the second.
    expect(row.locator(".sla-left")).to_have_text(re.compile(r"(1h 5\dm|2h)( 0m)? left"))
    agent_page.goto(f"{live_server}/tickets/{ticket.reference}")
    expect(agent_page.locator("#sidebar")).to_contain_text("First response")
    screenshot(agent_page, "time-left")
    browser_problems.check()


def test_agent_merges_two_tickets(live_server, sign_in, screenshot, browser_problems, db, make_user, customer):
    agent = make_user("agent", name="Alex Agent", email="alex@example.com", password=PASSWORD)
    first = services.create_ticket(customer, "Printer broken", "The printer shows error 42.")
    duplicate = services.create_ticket(customer, "Printer still broken", "Error 42 again, same printer.")
    page = sign_in(agent)
    page.goto(f"{live_server}/tickets/{duplicate.reference}")
    page.once("dialog", lambda dialog: dialog.accept())  # "Merge …? This cannot be undone."
    page.locator("#merge-target").fill(first.reference)
    page.locator("#merge-form button[type=submit]").click()

    expect(page).to_have_url(re.compile(rf"/tickets/{first.reference}$"))
    conversation = page.locator(".message")
    expect(conversation.filter(has_text="Error 42 again, same printer.")).to_have_count(1)
    expect(conversation.filter(has_text="The printer shows error 42.")).to_have_count(1)
    expect(page.locator("#merged-from")).to_contain_text(duplicate.reference)
    screenshot(page, "merged")

    page.goto(f"{live_server}/tickets/{duplicate.reference}")  # the old reference still resolves
    expect(page).to_have_url(re.compile(rf"/tickets/{first.reference}$"))
    db.session.expire_all()
    assert db.session.get(Ticket, duplicate.id).merged_into_id == first.id
    browser_problems.check()
