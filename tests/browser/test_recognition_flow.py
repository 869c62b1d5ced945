"""Recognition in the browser: an agent thanks a colleague from a ticket; the colleague sees it."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from helpdesk import services

PASSWORD = "long-password-1"

pytestmark = [pytest.mark.browser, pytest.mark.plugins("recognition")]


def test_kudos_from_a_ticket_reach_the_colleague(live_server, sign_in, screenshot, browser_problems,
                                                 db, make_user):
    ana = make_user("agent", name="Ana Agent", email="ana@example.com", password=PASSWORD)
    bo = make_user("agent", name="Bo Bright", email="bo@example.com", password=PASSWORD)
    carla = make_user("customer", name="Carla Customer", email="carla@example.com")
    ticket = services.create_ticket(carla, "Printer on fire", "The printer in room 4 is smoking.")
    services.add_message(ticket, bo, "Hi Carla, unplug it; we are on our way.")

    agent = sign_in(ana)
    agent.goto(f"{live_server}/tickets/{ticket.reference}")
    sidebar = agent.locator("#recognition-sidebar")
    expect(sidebar).to_contain_text(f"Thank a colleague for their work on {ticket.reference}.")
    # A refused kudos first (no message): the give-kudos page shows why next to the field and keeps the
    # ticket, and nothing is sent.
    sidebar.get_by_label("Colleague").select_option(label="Bo Bright")
    sidebar.get_by_role("button", name="Give kudos").click()
    expect(agent.locator("#kudos-message ~ .invalid-feedback")).to_have_text(
        "Write a few words: what did they do well?")
    expect(agent.locator("main")).to_contain_text(f"For the work on {ticket.reference}")

    form = agent.locator("#kudos-form")
    form.get_by_label("Colleague").select_option(label="Bo Bright")
    form.get_by_label("Message").fill("You got Carla safe in two minutes. Calm and clear.")
    form.get_by_label("Value (optional)").select_option("empathy")
    form.get_by_role("button", name="Give kudos").click()
    expect(agent).to_have_url(f"{live_server}/tickets/{ticket.reference}")
    expect(agent.locator("#flash-messages")).to_contain_text("Kudos sent to Bo Bright.")
    expect(agent.locator("#ticket-kudos .ticket-kudos")).to_have_count(1)
    expect(agent.locator("#ticket-kudos")).to_contain_text("You got Carla safe in two minutes.")

    colleague = sign_in(bo)
    nav_link = colleague.locator(".nav-plugin-link", has_text="Kudos")
    expect(nav_link).to_have_text("Kudos (1)")
    colleague.goto(f"{live_server}/dashboard")
    notification = colleague.locator("#kudos-notifications .kudos-notification")
    expect(notification).to_have_count(1)
    expect(notification).to_contain_text(f"Ana Agent gave you kudos for empathy on {ticket.reference}.")
    expect(notification).to_contain_text("You got Carla safe in two minutes.")
    screenshot(colleague, "colleague-dashboard")

    nav_link.click()
    expect(colleague).to_have_url(f"{live_server}/recognition/")
    entry = colleague.locator("#feed .kudos-item")
    expect(entry).to_have_count(1)
    expect(entry.locator(".kudos-headline")).to_contain_text("Bo Bright received kudos from Ana Agent")
    expect(entry.locator(".kudos-value")).to_have_text("empathy")
    expect(entry.locator(".kudos-message")).to_have_text("You got Carla safe in two minutes. Calm and clear.")
    entry.locator(".reaction-button[data-emoji='heart']").click()  # react, without any JavaScript
    expect(colleague.locator("#feed .reaction-button[data-emoji='heart'] .reaction-count")).to_have_text("1")

    colleague.goto(f"{live_server}/dashboard")
    colleague.get_by_role("button", name="Mark as read").click()
    expect(colleague.locator("#flash-messages")).to_contain_text("1 notification marked as read.")
    expect(colleague.locator(".nav-plugin-link", has_text="Kudos")).to_have_text("Kudos")
    screenshot(colleague, "dashboard-read")

    colleague.locator(".nav-plugin-link", has_text="Kudos").click()
    colleague.locator("#recognition-nav").get_by_role("link", name="Leaderboard").click()
    row = colleague.locator("#leaderboard-table .leaderboard-row", has_text="Bo Bright")
    expect(row.locator("[data-measure='kudos']")).to_have_text("1")
    expect(colleague.locator("#leaderboard-charts svg.recognition-chart")).to_have_count(4)
    screenshot(colleague, "leaderboard")
    screenshot(agent, "ticket-sidebar")
    browser_problems.check()
