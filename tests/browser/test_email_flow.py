"""The email channel in Chromium: an agent reads a folded mail reply; an admin tests a mailbox."""
from __future__ import annotations

import re
import socket

import pytest
from playwright.sync_api import expect

PASSWORD = "long-password-1"

pytestmark = [pytest.mark.browser, pytest.mark.plugins("email")]

FIRST = (b"From: Carla Customer <carla@example.com>\r\nTo: support@helpdesk.test\r\nSubject: Scanner jams\r\n"
         b"Message-ID: <first@client.example.com>\r\n\r\nThe scanner jams on every page.\r\n")
REPLY = (b"From: Carla Customer <carla@example.com>\r\nTo: support@helpdesk.test\r\nSubject: Re: Scanner jams\r\n"
         b"Message-ID: <second@client.example.com>\r\nIn-Reply-To: <first@client.example.com>\r\n\r\n"
         b"It also smells of smoke now.\r\n\r\n-- \r\nCarla, 3rd floor\r\n\r\n"
         b"On Mon, 2 Jun 2025 at 10:00, Carla Customer <carla@example.com> wrote:\r\n"
         b"> The scanner jams on every page.\r\n")


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_agent_reads_a_mail_reply_with_the_quote_folded(live_server, sign_in, screenshot, browser_problems,
                                                        make_user):
    from helpdesk_email.ingest import ingest_message

    alex = make_user("agent", name="Alex Agent", email="alex@example.com", password=PASSWORD)
    first = ingest_message(FIRST)
    reply = ingest_message(REPLY)
    assert (first.outcome, reply.outcome, reply.ticket_id) == ("ticket", "message", first.ticket_id)

    agent = sign_in(alex)
    agent.goto(f"{live_server}/tickets/{first.reference}")
    message = agent.locator(f"#message-{reply.message_id}")
    expect(message.locator(".message-body")).to_have_text("It also smells of smoke now.")
    quoted = message.locator(".email-quoted-text")
    expect(quoted).to_be_hidden()
    message.get_by_text("Show quoted text").click()
    expect(quoted).to_be_visible()
    expect(quoted).to_contain_text("> The scanner jams on every page.")
    expect(message.locator(".email-signature")).to_contain_text("Carla, 3rd floor")
    with agent.expect_download() as download:
        message.get_by_role("link", name="Original message").click()
    assert re.fullmatch(r"HD-1-message-\d+\.eml", download.value.suggested_filename)
    screenshot(agent, "email-folded-reply")
    browser_problems.check()


def test_admin_adds_a_mailbox_and_sees_why_the_connection_fails(live_server, sign_in, screenshot,
                                                                browser_problems, make_user):
    ada = make_user("admin", name="Ada Admin", email="ada@example.com", password=PASSWORD)
    port = closed_port()
    admin = sign_in(ada)
    admin.goto(f"{live_server}/admin/email/mailboxes")
    expect(admin.locator(".empty-state")).to_contain_text("No mailbox yet")
    admin.locator("#new-mailbox").click()
    form = admin.locator("#mailbox-form")
    form.get_by_label("Name", exact=True).fill("Support")
    form.get_by_label("IMAP server").fill("127.0.0.1")
    form.get_by_label("Port").fill(str(port))
    form.get_by_label("Security").select_option("none")
    form.get_by_label("User name").fill("support")
    form.get_by_label("Password").fill("imap-password")
    form.get_by_role("button", name="Test connection").click()
    expect(admin.locator("#test-result")).to_contain_text("Connection failed.")
    expect(admin.locator("#test-result")).to_contain_text(f"127.0.0.1:{port}: connection refused")
    admin.locator("#mailbox-form").get_by_label("Password").fill("imap-password")
    admin.locator("#mailbox-form").get_by_role("button", name="Save mailbox").click()
    expect(admin.locator("#flash-messages")).to_contain_text("Saved mailbox Support.")
    expect(admin.locator(".mailbox-row")).to_have_count(1)
    screenshot(admin, "email-mailboxes")
    browser_problems.check()
