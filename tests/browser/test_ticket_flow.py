"""A ticket's life in the browser: the customer opens it, an agent answers with a canned reply."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from helpdesk import services
from helpdesk.models import CannedReply, Message, Ticket

PASSWORD = "long-password-1"

pytestmark = pytest.mark.browser

CANNED_BODY = ("Hi {{ customer.first_name }},\n\nthanks for contacting us about {{ ticket.reference }}."
               "\n\n{{ agent.name }}")


@pytest.fixture
def carla(make_user):
    return make_user("customer", name="Carla Customer", email="carla@example.com", password=PASSWORD)


@pytest.fixture
def alex(make_user):
    return make_user("agent", name="Alex Agent", email="alex@example.com", password=PASSWORD)


def open_ticket_in_portal(page: Page, base: str, subject: str, body: str) -> str:
    """Fill the portal's new-ticket form; return the new ticket's reference."""
    page.goto(f"{base}/portal/")
    page.get_by_role("link", name="New ticket").click()
    form = page.locator("#new-ticket-form")
    form.get_by_label("Subject").fill(subject)
    form.get_by_label("Message").fill(body)
    form.get_by_role("button", name="Send").click()
    expect(page).to_have_url(re.compile(r"/portal/tickets/HD-\d+$"))
    expect(page.locator("#flash-messages")).to_contain_text("is open")
    reference = page.locator("#ticket-header").get_attribute("data-reference")
    assert reference
    return reference


def test_customer_ticket_answered_with_canned_reply(live_server, sign_in, screenshot, browser_problems,
                                                    db, carla, alex, make_user):
    # An unrelated ticket, so the search has something to leave out.
    other = make_user("customer", name="Otto Other", email="otto@example.com")
    services.create_ticket(other, "Printer on fire", "The printer in room 4 is smoking.")
    db.session.add(CannedReply(title="Thanks for contacting us", body=CANNED_BODY))
    db.session.commit()

    customer = sign_in(carla)
    reference = open_ticket_in_portal(customer, live_server, "Invoice shows the wrong amount",
                                      "The March invoice lists twelve flamingos instead of two.")
    expect(customer.locator("#conversation .message-body")).to_contain_text("twelve flamingos")

    agent = sign_in(alex)
    expect(agent).to_have_url(f"{live_server}/queue")
    expect(agent.locator("#queue-table .ticket-row")).to_have_count(2)
    agent.get_by_role("searchbox", name="Search").fill("flamingo")  # a prefix: full-text, not a reference
    agent.locator("#queue-filters").get_by_role("button", name="Filter").click()
    rows = agent.locator("#queue-table .ticket-row")
    expect(rows).to_have_count(1)
    expect(rows).to_have_attribute("data-reference", reference)
    rows.get_by_role("link", name=reference).click()
    expect(agent.locator("#ticket-header")).to_have_attribute("data-reference", reference)

    # The composer's canned-reply control: the JavaScript fetches the rendered text.
    agent.locator("#canned-replies summary").click()
    agent.locator("#canned-replies").get_by_role("link", name="Thanks for contacting us").click()
    expected = f"Hi Carla,\n\nthanks for contacting us about {reference}.\n\nAlex Agent"
    expect(agent.locator("#reply-body")).to_have_value(expected)
    expect(agent).to_have_url(f"{live_server}/tickets/{reference}")  # inserted in place, no page load

    agent.locator("#reply-submit").click()
    expect(agent.locator("#flash-messages")).to_contain_text("Reply sent.")
    expect(agent.locator("#reply-warnings-box")).to_have_count(0)  # greeted by name, has the reference
    staff_reply = agent.locator("#conversation .message-staff")
    expect(staff_reply).to_have_count(1)
    expect(staff_reply.locator(".message-body")).to_contain_text("Hi Carla,")

    customer.reload()
    reply = customer.locator("#conversation .message-staff")
    expect(reply).to_have_count(1)
    expect(reply.locator(".message-author")).to_have_text("Alex Agent")
    expect(reply.locator(".message-body")).to_contain_text("Hi Carla,")
    expect(reply.locator(".message-body")).to_contain_text(f"thanks for contacting us about {reference}.")

    db.session.expire_all()
    ticket = db.session.scalar(select(Ticket).where(Ticket.subject == "Invoice shows the wrong amount"))
    assert ticket.reference == reference and ticket.customer_id == carla.id
    bodies = db.session.scalars(select(Message.body).where(Message.ticket_id == ticket.id)
                                .order_by(Message.id)).all()
    assert bodies[-1].replace("\r\n", "\n") == expected

    screenshot(customer, "customer-sees-reply")
    browser_problems.check()


def test_reply_guardrails_advise_and_the_reply_goes_out(live_server, sign_in, screenshot, browser_problems,
                                                       db, carla, alex):
    ticket = services.create_ticket(carla, "Cannot sign in", "The password reset mail never arrives.")

    agent = sign_in(alex)
    agent.goto(f"{live_server}/tickets/{ticket.reference}")
    agent.locator("#reply-body").fill("ok")
    # "Check reply" asks the server through fetch (CSRF header from the meta tag), without sending.
    agent.get_by_role("button", name="Check reply").click()
    expect(agent.locator("#reply-check-result .reply-check-warnings li")).to_have_count(2)
    expect(agent.locator("#reply-check-result .reply-check-blocking")).to_have_count(0)  # advice only
    agent.locator("#reply-submit").click()

    # Checks advise by default: the reply is sent and the warnings are shown with it.
    flashes = agent.locator("#flash-messages")
    expect(flashes).to_contain_text("Reply sent.")
    expect(flashes).to_contain_text("greet the customer by name")
    expect(flashes).to_contain_text(ticket.reference)
    expect(agent.locator("#reply-warnings-box")).to_have_count(0)
    expect(agent.locator("#conversation .message-staff .message-body")).to_have_text("ok")

    db.session.expire_all()
    bodies = db.session.scalars(select(Message.body).where(Message.ticket_id == ticket.id)
                                .order_by(Message.id)).all()
    assert bodies == ["The password reset mail never arrives.", "ok"]

    screenshot(agent, "sent-anyway")
    browser_problems.check()
