"""The profile page in a browser: two devices signed in, one signs the other out, then logs out."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

PASSWORD = "long-password-1"


def test_sign_out_everywhere_else_from_the_profile(live_server, sign_in, screenshot, browser_problems, make_user):
    user = make_user("agent", name="Sam Agent", email="sam@example.com", password=PASSWORD, timezone="Europe/Berlin")
    laptop, other = sign_in(user), sign_in(user)

    laptop.get_by_role("link", name="Profile").click()
    expect(laptop.get_by_role("heading", name="Your profile", level=1)).to_be_visible()
    sessions = laptop.locator("#session-list .session-row")
    expect(sessions).to_have_count(2)
    expect(laptop.locator(".session-current")).to_contain_text("this device")
    expect(laptop.locator("#sessions")).to_contain_text("Times in Europe/Berlin")
    expect(laptop.locator(".session-last-seen").first).to_contain_text("CE")  # CET or CEST
    screenshot(laptop, "profile-sessions")

    laptop.get_by_role("button", name="Sign out everywhere else").click()
    expect(laptop.locator("#flash-messages")).to_contain_text("Signed out everywhere else.")
    expect(sessions).to_have_count(1)

    other.goto(f"{live_server}/queue")
    expect(other.locator("#login-form")).to_be_visible()

    laptop.locator("#logout-form").get_by_role("button", name="Sign out").click()
    expect(laptop.locator("#login-form")).to_be_visible()
    laptop.goto(f"{live_server}/profile/")
    expect(laptop.locator("#login-form")).to_be_visible()
