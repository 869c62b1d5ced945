"""API tokens and the API reference in a browser: make a token (shown once), use it, revoke it;
the reference page renders the spec with our own script (no outside assets, no CSP errors)."""
from __future__ import annotations

import urllib.error
import urllib.request

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

PASSWORD = "long-password-1"


def _me(live_server: str, token: str) -> int:
    request = urllib.request.Request(f"{live_server}/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_make_use_and_revoke_a_token(live_server, sign_in, screenshot, browser_problems, make_user):
    user = make_user("agent", name="Ivy Integrator", email="ivy@example.com", password=PASSWORD)
    page = sign_in(user)
    page.get_by_role("link", name="Profile").click()
    page.locator("#api-tokens-link").click()
    expect(page.locator("#no-tokens")).to_be_visible()
    form = page.locator("#token-form")
    form.get_by_role("button", name="Make token").click()  # no name: the form says so and keeps the choices
    expect(form.locator(".invalid-feedback")).to_contain_text("Give the token a name")
    form.get_by_label("Name").fill("Status page")
    form.get_by_label("Expires after").select_option("7")
    form.get_by_role("button", name="Make token").click()
    expect(page.locator("#new-token")).to_contain_text("shown only this once")
    token = page.locator("#new-token-value").inner_text().strip()
    assert token.startswith("hdk_")
    expect(page.locator(".token-row")).to_contain_text("Status page")
    screenshot(page, "api-tokens")
    assert _me(live_server, token) == 200

    page.goto(f"{live_server}/profile/api-tokens/")  # the token is not shown again
    expect(page.locator("#new-token")).to_have_count(0)
    page.on("dialog", lambda dialog: dialog.accept())
    page.locator(".token-row").get_by_role("button", name="Revoke").click()
    expect(page.locator("#flash-messages")).to_contain_text("is revoked")
    expect(page.locator(".token-state")).to_have_text("revoked")
    assert _me(live_server, token) == 401


def test_the_reference_page_renders_the_spec_offline(live_server, open_page, browser_problems):
    page = open_page()
    outside = []
    page.on("request", lambda request: outside.append(request.url)
            if not request.url.startswith(live_server) else None)
    page.goto(f"{live_server}/api/v1/docs")
    expect(page.locator(".api-operation").first).to_be_visible()
    expect(page.locator("#api-reference")).to_contain_text("/api/v1/tickets/{reference}/replies")
    expect(page.locator("#api-reference")).to_contain_text("TicketUpdate")
    assert not outside, outside
