"""The core reports page in Chromium: a lead opens Reports from the navigation and reads the
charts (values on hover), the tables beneath them and the breakdowns, under the strict CSP."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from helpdesk import services
from helpdesk.extensions import db
from helpdesk.models import Team

pytestmark = pytest.mark.browser

PASSWORD = "long-password-1"


def test_a_lead_reads_the_reports_page(live_server, sign_in, screenshot, make_user, customer):
    lead = make_user("agent", name="Lena Lead", email="lena@example.com", password=PASSWORD)
    team = Team(name="Billing")
    db.session.add(team)
    db.session.commit()
    for n in range(3):
        ticket = services.create_ticket(customer, f"Invoice {n}", "Wrong amount.", team_id=team.id)
        services.add_message(ticket, lead, "Fixed, sorry.")
        if n < 2:
            services.update_ticket(ticket, lead, status="resolved")

    page = sign_in(lead)
    page.get_by_role("link", name="Reports").click()
    expect(page.get_by_role("heading", name="Reports", exact=True)).to_be_visible()
    expect(page.locator('[data-metric="Created"] .metric-value')).to_have_text("3")
    expect(page.locator('[data-metric="Solved"] .metric-value')).to_have_text("2")
    expect(page.locator('[data-metric="One-touch resolution"] .metric-value')).to_have_text("100%")

    created = page.locator("#chart-created svg")
    expect(created).to_be_visible()
    bar = page.locator("#chart-created rect.bar").last
    bar.hover()
    assert bar.locator("title").text_content().endswith(": 3 created")
    assert page.locator("#chart-hours rect.cell title").filter(has_text="3 tickets created").count() == 1

    page.locator("#chart-created summary").click()
    table = page.locator("#chart-created table")
    expect(table).to_be_visible()
    expect(table.locator("tbody tr").last.locator("td")).to_have_text("3")
    expect(page.locator("#chart-created h3")).to_have_text("Tickets created per day")
    expect(page.locator("#by-team table")).to_contain_text("Billing")
    assert page.locator("#by-team .csv-link").get_attribute("href").startswith("/reports/team.csv")
    screenshot(page, "reports")
