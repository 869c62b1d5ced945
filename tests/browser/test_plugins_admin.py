"""Admin → Plugins in the browser: switching the hello plugin off and on, and its settings form."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from helpdesk.models import PluginState

pytestmark = [pytest.mark.browser, pytest.mark.plugins("hello")]

PASSWORD = "long-password-1"
SIDEBAR_HEADING = "Hello from the hello plugin"


@pytest.fixture
def ada(make_user):
    return make_user("admin", name="Ada Admin", email="ada@example.com", password=PASSWORD)


def go_to_plugins(page: Page) -> None:
    """Admin (main navigation) → Plugins (admin navigation)."""
    page.get_by_role("navigation", name="Main navigation").get_by_role("link", name="Admin").click()
    page.locator("#admin-nav").get_by_role("link", name="Plugins").click()
    expect(page.get_by_role("heading", name="Plugins", level=1)).to_be_visible()


def hello_row(page: Page):
    return page.locator('#plugins-table tr.plugin-row[data-plugin="hello"]')


def stored_state(db) -> PluginState:
    db.session.expire_all()
    return db.session.get(PluginState, "hello")


def test_disable_and_enable_hello(live_server, sign_in, screenshot, browser_problems, db, ada, ticket):
    page = sign_in(ada)
    ticket_url = f"{live_server}/tickets/{ticket.reference}"
    page.goto(ticket_url)
    expect(page.locator("#sidebar").get_by_text(SIDEBAR_HEADING)).to_be_visible()
    expect(page.locator("#sidebar")).to_contain_text("Hello, Carla!")

    go_to_plugins(page)
    row = hello_row(page)
    expect(row).to_have_attribute("data-enabled", "true")
    # "Disable" asks first (data-confirm → window.confirm); Playwright would dismiss it.
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Disable").click()
    expect(page.locator("#flash-messages")).to_contain_text("hello is disabled.")
    expect(row).to_have_attribute("data-enabled", "false")
    expect(row.locator(".plugin-state")).to_have_text("Disabled")
    assert stored_state(db).enabled is False

    page.goto(ticket_url)
    expect(page.locator("#ticket-header")).to_have_attribute("data-reference", ticket.reference)
    expect(page.get_by_text(SIDEBAR_HEADING)).to_have_count(0)
    expect(page.locator(".nav-plugin-link", has_text="Hello")).to_have_count(0)
    response = page.goto(f"{live_server}/hello/")
    assert response is not None and response.status == 404

    go_to_plugins(page)  # from the 404 page, which keeps the navigation
    row.get_by_role("button", name="Enable").click()
    expect(page.locator("#flash-messages")).to_contain_text("hello is enabled.")
    expect(row).to_have_attribute("data-enabled", "true")
    assert stored_state(db).enabled is True

    page.goto(ticket_url)
    expect(page.locator("#sidebar").get_by_text(SIDEBAR_HEADING)).to_be_visible()
    page.locator(".nav-plugin-link", has_text="Hello").click()
    expect(page).to_have_url(f"{live_server}/hello/")
    expect(page.get_by_role("heading", name="Hello", level=1)).to_be_visible()
    expect(page.get_by_role("link", name=ticket.reference)).to_be_visible()  # the greeted ticket

    screenshot(page, "hello-enabled-again")
    browser_problems.check()


def test_hello_settings_reject_bad_value(live_server, sign_in, screenshot, browser_problems, db, ada, ticket):
    page = sign_in(ada)
    go_to_plugins(page)
    hello_row(page).get_by_role("link", name="Settings").click()
    expect(page.locator("#plugin-header")).to_have_attribute("data-plugin", "hello")

    form = page.locator("#plugin-settings-form")
    greeting, max_per_day = form.locator("#setting-greeting"), form.locator("#setting-max_per_day")
    expect(max_per_day).to_have_value("50")  # the default
    greeting.fill("Bonjour")
    max_per_day.fill("0")  # below min=1; the form is novalidate, so the server answers
    form.get_by_role("button", name="Save settings").click()

    expect(page.locator("#flash-messages")).to_contain_text("Some settings need fixing")
    expect(page.locator("#setting-max_per_day-error")).to_have_text("Must be at least 1.")
    expect(max_per_day).to_have_class(re.compile(r"\bis-invalid\b"))
    expect(max_per_day).to_have_value("0")  # shown back for fixing
    assert "max_per_day" not in (stored_state(db).settings or {})
    assert "greeting" not in (stored_state(db).settings or {})  # nothing is saved while one value is bad

    # Not a whole number: the browser lets "1.5" into a number field; the server refuses it.
    max_per_day.fill("1.5")
    form.get_by_role("button", name="Save settings").click()
    expect(page.locator("#setting-max_per_day-error")).to_have_text("Enter a whole number.")
    assert "max_per_day" not in (stored_state(db).settings or {})

    page.goto(page.url)  # a fresh GET: the stored values
    expect(max_per_day).to_have_value("50")
    expect(greeting).to_have_value("Hello")
    expect(page.locator("#setting-max_per_day-error")).to_have_count(0)

    # A good value is saved, with the rest of the form.
    greeting.fill("Bonjour")
    max_per_day.fill("20")
    form.get_by_role("button", name="Save settings").click()
    expect(page.locator("#flash-messages")).to_contain_text("Settings of hello saved.")
    expect(max_per_day).to_have_value("20")
    assert stored_state(db).settings == {"greeting": "Bonjour", "max_per_day": 20}
    page.goto(f"{live_server}/tickets/{ticket.reference}")
    expect(page.locator("#sidebar")).to_contain_text("Bonjour, Carla!")

    screenshot(page, "settings-saved")
    browser_problems.check()
