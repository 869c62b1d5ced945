"""Coaching in the browser: a lead reviews a solved ticket from its page; the agent reads, replies and disputes."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from helpdesk import services
from helpdesk.models import Team

PASSWORD = "long-password-1"

pytestmark = [pytest.mark.browser, pytest.mark.plugins("coaching")]


def test_a_lead_reviews_and_the_agent_reads_and_replies(live_server, sign_in, screenshot, browser_problems,
                                                         db, make_user):
    lee = make_user("agent", name="Lee Lead", email="lee@example.com", password=PASSWORD)
    ana = make_user("agent", name="Ana Agent", email="ana@example.com", password=PASSWORD)
    carla = make_user("customer", name="Carla Customer", email="carla@example.com")
    team = Team(name="Support", lead_id=lee.id)
    team.members = [lee, ana]
    db.session.add(team)
    db.session.commit()
    ticket = services.create_ticket(carla, "Printer on fire", "The printer in room 4 is smoking.")
    services.update_ticket(ticket, None, assignee_id=ana.id)
    services.add_message(ticket, ana, "Hi Carla, unplug it and we will replace the printer, the fuse and the cable "
                                      "this afternoon so that you can print again before the end of the day.")
    services.update_ticket(ticket, None, status="resolved")

    lead = sign_in(lee)
    lead.goto(f"{live_server}/tickets/{ticket.reference}")
    panel = lead.locator("#coaching-panel")
    expect(panel).to_have_attribute("data-loaded", "1")  # filled after the page loaded
    panel.get_by_role("link", name="Review this conversation").click()
    expect(lead.locator("h1")).to_contain_text(f"Review {ticket.reference}: Printer on fire")
    form = lead.locator("#review-form")
    form.locator("[data-item='greeting']").get_by_label("Met").check()
    clarity = form.locator("[data-item='clarity']")
    clarity.get_by_label("Partly").check()
    clarity.get_by_label("Comment (optional)").fill("One long sentence: three steps in a row.")
    clarity.get_by_label("About message").select_option(label="#2 Ana Agent")
    form.get_by_label("Overall comment").fill("Quick, friendly and right.")
    form.get_by_role("button", name="Send review").click()
    # Refused (no suggestion): nothing sent, what was typed is kept.
    expect(lead.locator("#review-errors")).to_contain_text("Nothing was sent")
    expect(lead.locator("#suggestion ~ .field-error")).to_have_text("Give one suggestion for next time.")
    expect(form.get_by_label("Overall comment")).to_have_value("Quick, friendly and right.")
    form.get_by_label("One suggestion for next time").fill("Give steps as a numbered list.")
    form.get_by_role("button", name="Send review").click()
    expect(lead.locator("#flash-messages")).to_contain_text("Review sent to Ana Agent.")
    expect(lead.locator("#review-percent")).to_have_text("75%")
    expect(lead.locator("#review-read-state")).to_have_text("Ana Agent has not read it yet.")
    screenshot(lead, "review-sent")

    agent = sign_in(ana)
    agent.goto(f"{live_server}/dashboard")
    expect(agent.locator("#coaching-dashboard")).to_contain_text(f"{ticket.reference} · Printer on fire")
    agent.locator(".nav-plugin-link", has_text="Coaching").click()
    row = agent.locator(".coaching-review-row")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("unread")
    row.get_by_role("link").click()
    expect(agent.locator("[data-item='clarity']")).to_contain_text("One long sentence: three steps in a row.")
    expect(agent.locator("[data-item='clarity'] .review-message-quote")).to_contain_text("Ana Agent: Hi Carla, unplug")
    expect(agent.locator("#review-suggestion")).to_have_text("Give steps as a numbered list.")
    agent.get_by_role("button", name="Mark as read").click()
    expect(agent.locator("#flash-messages")).to_contain_text("Marked as read.")
    agent.get_by_label("Your reply").fill("Carla asked for one message; I will number the steps next time.")
    agent.get_by_label("I disagree with this review (dispute it)").check()
    agent.get_by_role("button", name="Send reply").click()
    expect(agent.locator("#flash-messages")).to_contain_text("Your reply was added.")
    expect(agent.locator("#review-disputed")).to_have_text("disputed")
    screenshot(agent, "review-replied")

    lead.reload()
    expect(lead.locator(".coaching-reply")).to_contain_text("Carla asked for one message")
    expect(lead.locator("#review-read-state")).to_have_text("Ana Agent has read it.")
    browser_problems.check()
