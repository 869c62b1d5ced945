"""Two agents on the same ticket in two browsers (issue 16): presence, live replies, never
reply blind, and the queue updating by itself."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from helpdesk import services
from helpdesk.models import Message
from helpdesk.services.reads import mark_seen

PASSWORD = "long-password-1"

pytestmark = pytest.mark.browser


@pytest.fixture
def app_config():
    # Quick polling and short-lived presence, so the test waits little.
    return {"LIVE_POLL_MS": 150, "LIVE_PRESENCE_SECONDS": 4, "LIVE_STREAM_SECONDS": 30}


def test_two_agents_see_each_other_and_never_reply_blind(live_server, sign_in, db, make_user, customer,
                                                         screenshot):
    lea = make_user("agent", name="Lea Lang", email="lea@example.test", password=PASSWORD)
    sam = make_user("agent", name="Sam Stone", email="sam@example.test", password=PASSWORD)
    ticket = services.create_ticket(customer, "Printer on fire", "The printer in room 4 is smoking.")
    url = f"{live_server}/tickets/{ticket.reference}"

    lea_page, sam_page = sign_in(lea), sign_in(sam)
    sam_page.goto(url)
    lea_page.goto(url)
    # Presence: each sees the other (within a few heartbeats of 5 s: a loaded CI machine can
    # need a stream reconnect first).
    expect(sam_page.locator("#live-presence")).to_contain_text("Lea Lang is viewing", timeout=20_000)
    expect(lea_page.locator("#live-presence")).to_contain_text("Sam Stone is viewing", timeout=20_000)

    # Lea types: Sam sees it. Lea sends: her reply appears on Sam's page without a reload.
    body = f"Hi Carla,\n\nabout {ticket.reference}: a new printer is on its way."
    lea_page.locator("#reply-body").fill(body)
    expect(sam_page.locator("#live-presence")).to_contain_text("Lea Lang is typing a reply…")
    lea_page.locator("#reply-submit").click()
    expect(lea_page.locator("#flash-messages")).to_contain_text("Reply sent.")
    expect(sam_page.locator("#conversation .message.live-new")).to_contain_text("a new printer is on its way")
    # What is new, and since when (the age counts on while the page stays open).
    expect(sam_page.locator("#live-banner")).to_contain_text(re.compile(r"Lea Lang replied (just now|\d+ s ago)\."))

    # Sam's reply, written on the page he opened before Lea's: the server asks first.
    sam_page.locator("#reply-body").fill(f"Hi Carla,\n\nabout {ticket.reference}: I will call you.")
    sam_page.locator("#reply-submit").click()
    expect(sam_page.locator("#reply-news")).to_contain_text("Lea Lang replied")
    expect(sam_page.locator("#reply-body")).to_have_value(f"Hi Carla,\n\nabout {ticket.reference}: I will call you.")
    db.session.expire_all()
    assert db.session.query(Message).filter_by(author_id=sam.id).count() == 0
    screenshot(sam_page, "reply-asks-first")
    sam_page.locator("#send-anyway").click()
    expect(sam_page.locator("#flash-messages")).to_contain_text("Reply sent.")

    # Lea leaves: Sam's page stops showing her within seconds.
    lea_page.close()
    expect(sam_page.locator("#live-presence")).not_to_contain_text("Lea Lang", timeout=12_000)


def test_the_queue_shows_new_and_updated_tickets_without_reload(live_server, sign_in, db, make_user, customer):
    sam = make_user("agent", name="Sam Stone", email="sam@example.test", password=PASSWORD)
    first = services.create_ticket(customer, "Printer on fire", "The printer in room 4 is smoking.")
    mark_seen(sam, first)  # Sam has read it
    page = sign_in(sam)
    page.goto(f"{live_server}/queue")
    expect(page.locator("tr.ticket-row")).to_have_count(1)
    expect(page.locator("tr.ticket-unread")).to_have_count(0)
    expect(page.locator('#live-channel[data-state="connected"]')).to_have_count(1)  # sends what happens from now
    new = services.create_ticket(customer, "Coffee machine leaks", "Water everywhere.")
    row = page.locator(f'tr.ticket-row[data-reference="{new.reference}"]')
    expect(row).to_have_class(re.compile(r"\blive-updated\b"), timeout=8_000)
    expect(row).to_contain_text("Coffee machine leaks")
    expect(row).to_have_class(re.compile(r"\bticket-unread\b"))  # Sam's unread marker until he opens it
    # The customer answers on the ticket Sam had read: it is highlighted and unread for him again.
    services.add_message(first, customer, "It is still smoking.")
    old = page.locator(f'tr.ticket-row[data-reference="{first.reference}"]')
    expect(old).to_have_class(re.compile(r"\blive-updated\b"), timeout=8_000)
    expect(old).to_have_class(re.compile(r"\bticket-unread\b"))
    expect(page.locator("tr.ticket-unread")).to_have_count(2)


def test_pages_work_with_the_live_channel_down(live_server, sign_in, db, make_user, customer):
    """Every request under /live/ fails (a proxy that does not pass it, Redis gone): the queue
    and the ticket page work, a reply is sent, and one written blind is still held back."""
    lea = make_user("agent", name="Lea Lang", email="lea@example.test", password=PASSWORD)
    sam = make_user("agent", name="Sam Stone", email="sam@example.test", password=PASSWORD)
    ticket = services.create_ticket(customer, "Printer on fire", "The printer in room 4 is smoking.")
    page = sign_in(sam)
    page.context.route("**/live/**", lambda route: route.fulfill(status=503, body="down"))
    page.goto(f"{live_server}/queue")
    expect(page.locator(f'tr.ticket-row[data-reference="{ticket.reference}"]')).to_contain_text("Printer on fire")
    page.locator(f'tr.ticket-row[data-reference="{ticket.reference}"] a.ticket-link').first.click()
    expect(page.locator('#live-channel[data-state="reconnecting"]')).to_have_count(1)
    expect(page.locator("#live-presence")).to_be_empty()
    body = f"Hi Carla,\n\nabout {ticket.reference}: a new printer is on its way."
    page.locator("#reply-body").fill(body)
    page.locator("#reply-submit").click()
    expect(page.locator("#flash-messages")).to_contain_text("Reply sent.")

    services.add_message(ticket, lea, "Hi Carla, I will bring it myself.")  # Sam's page is not told
    expect(page.locator("#live-banner")).to_be_hidden()
    page.locator("#reply-body").fill(f"Hi Carla,\n\nabout {ticket.reference}: tomorrow morning.")
    page.locator("#reply-submit").click()
    expect(page.locator("#reply-news")).to_contain_text("Lea Lang replied")
    page.locator("#send-anyway").click()
    expect(page.locator("#flash-messages")).to_contain_text("Reply sent.")
    db.session.expire_all()
    assert db.session.query(Message).filter_by(author_id=sam.id).count() == 2


def test_a_team_scoped_agents_live_queue_shows_only_his_teams_tickets(live_server, sign_in, db, make_user,
                                                                      customer):
    from helpdesk.models import Team

    billing, hr = Team(name="Billing"), Team(name="HR")
    bill = make_user("agent", name="Bill Billing", email="bill@example.test", password=PASSWORD, team_scoped=True)
    billing.members = [bill]
    db.session.add_all([billing, hr])
    db.session.commit()
    page = sign_in(bill)
    page.goto(f"{live_server}/queue")
    expect(page.locator('#live-channel[data-state="connected"]')).to_have_count(1)
    secret = services.create_ticket(customer, "Grievance about my manager", "Private.", team_id=hr.id)
    mine = services.create_ticket(customer, "Invoice wrong", "Twice charged.", team_id=billing.id)
    expect(page.locator(f'tr.ticket-row[data-reference="{mine.reference}"]')).to_have_class(
        re.compile(r"\blive-updated\b"), timeout=8_000)
    expect(page.locator("tr.ticket-row")).to_have_count(1)
    expect(page.locator(f'tr.ticket-row[data-reference="{secret.reference}"]')).to_have_count(0)
    expect(page.locator("#notification-count")).to_have_text("1")  # "came to your team": his team's only
    expect(page.get_by_text("Grievance about my manager")).to_have_count(0)
