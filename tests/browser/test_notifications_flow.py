"""@mention in an internal note with the agent picker; the mentioned agent's bell rings live,
they see the notification and that they now follow the ticket."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

PASSWORD = "long-password-1"


def test_mention_picker_bell_notification_and_follow(live_server, sign_in, screenshot, browser_problems,
                                                     make_user, ticket):
    alex = make_user("agent", name="Alex Writer", email="alex@example.com", password=PASSWORD)
    lea = make_user("agent", name="Lea Park", email="lea@example.com", password=PASSWORD)

    other = sign_in(lea)  # Lea has her profile open while Alex writes: every staff page's bell is live
    other.goto(f"{live_server}/profile/")
    expect(other.locator("#notification-count")).to_be_hidden()
    expect(other.locator('#live-channel[data-state="connected"]')).to_have_count(1)

    page = sign_in(alex)
    page.goto(f"{live_server}/tickets/{ticket.reference}")
    page.locator("#reply-internal").check()
    body = page.locator("#reply-body")
    body.click()
    body.press_sequentially("Can you check this, @pa")
    option = page.locator("#mention-picker .mention-option", has_text="Lea Park")
    expect(option).to_be_visible()
    screenshot(page, "mention-picker")
    body.press("Enter")
    expect(body).to_have_value(f"Can you check this, @[Lea Park](user:{lea.id}) ")
    page.locator("#reply-submit").click()
    expect(page.locator(".message-internal").last).to_contain_text("Lea Park")

    # Lea's bell rings without a reload (the live channel, topic user:<id>).
    expect(other.locator("#notification-count")).to_have_text("1", timeout=8_000)
    expect(other.locator("#notification-count")).to_be_visible()
    # Its label is the page's own rendered text (base.html's data-texts), the count filled in by live.js.
    expect(other.locator("#notification-bell")).to_have_attribute("aria-label", "Notifications, 1 unread")
    other.locator("#notification-bell").click()
    expect(other.locator("#notification-list .notification")).to_contain_text(
        f"Alex Writer mentioned you in a note on {ticket.reference}")
    other.locator(".notification-ticket").first.click()
    expect(other.locator("#follow-button")).to_have_text("Following")
    other.goto(f"{live_server}/notifications")
    other.get_by_role("button", name="Mark all read (1)").click()
    expect(other.locator("#notification-count")).to_be_hidden()
    browser_problems.check()
