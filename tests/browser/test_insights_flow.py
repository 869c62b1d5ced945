"""Insights in a real browser: a team lead goes from the dashboard's rising theme to the theme,
writes what was done, previews the follow-up with its count and sends it (a real SMTP server)."""
from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from helpdesk import services
from helpdesk.models.base import utcnow

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests/: the real SMTP sink
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "plugins" / "insights" / "tests"))
from smtp_sink import SMTPServer, free_port  # noqa: E402

PASSWORD = "long-password-1"

pytestmark = [pytest.mark.browser, pytest.mark.plugins("insights")]


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def smtp(smtp_port):
    server = SMTPServer(smtp_port).start()
    yield server
    server.stop()


@pytest.fixture
def app_config(smtp_port):
    return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": smtp_port, "MAIL_FROM": "help@acme.test"}


def test_lead_opens_a_rising_theme_marks_an_action_previews_and_sends(
        app, db, live_server, sign_in, screenshot, smtp, make_user):
    from helpdesk_insights import store
    from insights_testkit import corpus, seed_texts

    from helpdesk.models import Team

    app.config["EXTERNAL_URL"] = live_server
    seed_texts([], corpus(), when=utcnow() - timedelta(days=60))
    store.recompute()
    lena = make_user("agent", name="Lena Lead", email="lena@example.com", password=PASSWORD)
    db.session.add(Team(name="Mobile", lead_id=lena.id))
    db.session.commit()
    crashes = ["The app crashes every time I open the basket.", "Since the update the app keeps crashing on start.",
               "The iPhone app freezes and closes when I tap checkout.", "Your Android app crashes after the splash "
               "screen.", "After updating the app it crashes immediately.", "App keeps freezing then crashes."]
    tickets = []
    for n, body in enumerate(crashes):
        customer = make_user("customer", name=f"Cust{n} Omer", email=f"c{n}@example.com")
        tickets.append(services.create_ticket(customer, "App crash", body))

    page = sign_in(lena)
    page.goto(f"{live_server}/dashboard")
    card = page.locator("#insights-rising")
    expect(card).to_be_visible()
    card.locator("a").first.click()
    expect(page.locator("#theme-name")).to_contain_text("Rising")
    expect(page.locator("#quotes")).to_contain_text("crash")
    page.get_by_label("What we did about it").fill("Fixed in version 2.3 of the app: update it from the store.")
    page.get_by_role("button", name="Save and preview the follow-up").click()
    expect(page.locator("#followup-count")).to_contain_text("6 customers will get this follow-up")
    expect(page.locator("#sample-text")).to_contain_text("Fixed in version 2.3")
    screenshot(page, "insights-follow-up-preview")
    assert smtp.sink.messages() == []
    page.get_by_role("button", name="Send to 6 customers").click()
    expect(page.locator("#flash-messages")).to_contain_text("Follow-up sent to 6 customers.")
    expect(page.locator("#followup-record")).to_contain_text("Cust0 Omer")
    mails = smtp.sink.messages()
    assert sorted(m["To"] for m in mails) == [f"c{n}@example.com" for n in range(6)]
    first = next(m for m in mails if m["To"] == "c0@example.com").get_body(preferencelist=("plain",)).get_content()
    assert "Hello Cust0," in first and tickets[0].reference in first

    # The ticket page's customer health panel is filled after load by the plugin's script.
    page.goto(f"{live_server}/tickets/{tickets[0].reference}")
    expect(page.locator("#insights-health-score")).to_have_text("100 · good")
