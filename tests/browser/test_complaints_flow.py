"""Complaints in the browser: an admin builds a routing rule (tests it, saves it); a customer
complains in the portal; the ticket lands in the right team with the badge, and the customer
sees the acknowledgement."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from helpdesk import services
from helpdesk.models import Team, Ticket

PASSWORD = "long-password-1"

pytestmark = [pytest.mark.browser, pytest.mark.plugins("complaints")]

COMPLAINT = ("I ordered a birthday cake for Saturday and it was delivered on Sunday. The party was over. "
             "This is the second time this has happened and I am very disappointed.")


@pytest.fixture
def people(make_user, db):
    ada = make_user("admin", name="Ada Admin", email="ada@example.com", password=PASSWORD)
    carla = make_user("customer", name="Carla Customer", email="carla@example.com", password=PASSWORD)
    alex = make_user("agent", name="Alex Agent", email="alex@example.com", password=PASSWORD)
    desk = Team(name="Complaints desk")
    db.session.add(desk)
    desk.members = [alex]
    db.session.add(Team(name="Sales"))
    db.session.commit()
    return ada, carla, alex, desk


def test_admin_rule_then_customer_complaint_lands_in_the_team(live_server, sign_in, screenshot, browser_problems,
                                                               db, people, other_customer):
    ada, carla, alex, desk = people
    # History for the rule's test: one earlier complaint, one question.
    services.create_ticket(other_customer, "Broken", "The lamp arrived broken. Unacceptable.")
    services.create_ticket(other_customer, "Question", "Do you ship to Norway?")

    admin = sign_in(ada)
    admin.goto(f"{live_server}/complaints/rules")
    expect(admin.locator("#rules-empty")).to_contain_text("No routing rules yet.")
    admin.locator("#new-rule").click()
    form = admin.locator("#rule-form")
    form.get_by_label("Name").fill("Complaints to the desk")
    form.locator("select[name=is_complaint]").select_option(label="Yes")
    form.locator("select[name=set_team_id]").select_option(label="Complaints desk")
    form.locator("select[name=assign]").select_option("round_robin")
    form.get_by_role("button", name="Test against recent tickets").click()
    expect(admin.locator("#test-summary")).to_have_text("This rule would have matched 1 of the last 2 tickets.")
    expect(admin.locator("#test-sample .test-match")).to_contain_text("Broken")
    screenshot(admin, "rule-tested")

    admin.locator("#rule-form").get_by_role("button", name="Save rule").click()
    expect(admin.locator("#flash-messages")).to_contain_text("Created rule “Complaints to the desk”.")
    expect(admin.locator(".rule-row .rule-conditions")).to_have_text("is a complaint")
    expect(admin.locator(".rule-row .rule-actions")).to_contain_text("team → Complaints desk")

    customer = sign_in(carla)
    customer.goto(f"{live_server}/portal/")
    customer.get_by_role("link", name="New ticket").click()
    new = customer.locator("#new-ticket-form")
    new.get_by_label("Subject").fill("Cake delivered a day late")
    new.get_by_label("Message").fill(COMPLAINT)
    new.get_by_role("button", name="Send").click()
    expect(customer).to_have_url(re.compile(r"/portal/tickets/HD-\d+$"))
    reference = customer.locator("#ticket-header").get_attribute("data-reference")
    ack = customer.locator("#complaint-ack")
    expect(ack).to_contain_text("We sent you an acknowledgement on")
    expect(ack).to_contain_text("Hi Carla,")
    expect(ack).to_contain_text(reference)
    screenshot(customer, "customer-sees-acknowledgement")

    agent = sign_in(alex)
    agent.goto(f"{live_server}/tickets/{reference}")
    expect(agent.locator("#complaint-badge")).to_have_text("Complaint")
    expect(agent.locator("#ticket-header")).to_contain_text("Complaints desk")
    expect(agent.locator("#ticket-header")).to_contain_text("assigned to Alex Agent")
    expect(agent.locator("#playbook .playbook-step")).to_have_count(5)
    agent.locator("#explain-link").click()
    expect(agent.locator(".rule-verdict .verdict")).to_have_text("would fire now")
    expect(agent.locator("#decisions")).to_contain_text("rule 'Complaints to the desk'")
    screenshot(agent, "explain")

    db.session.expire_all()
    ticket = db.session.scalar(select(Ticket).where(Ticket.subject == "Cake delivered a day late"))
    assert ticket.reference == reference and ticket.team_id == desk.id and ticket.assignee_id == alex.id
    assert "complaint" in [t.name for t in ticket.tags]
    browser_problems.check()
