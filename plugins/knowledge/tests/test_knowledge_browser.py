"""The knowledge base in Chromium: a customer searches the help centre, is offered an article
while writing a ticket and marks it solved (no ticket is opened); an agent inserts a
suggested article into a reply."""
from __future__ import annotations

import os

import pytest
from browser.conftest import CHROMIUM
from playwright.sync_api import expect
from sqlalchemy import func, select

from helpdesk import services

PASSWORD = "long-password-1"

pytestmark = [pytest.mark.browser, pytest.mark.plugins("knowledge"),
              pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} not found")]


def test_customer_finds_an_answer_and_opens_no_ticket(live_server, sign_in, open_page, db, make_user, kb):
    from helpdesk_knowledge.models import KnowledgeDeflection

    from helpdesk.models import Ticket

    visitor = open_page()  # the help centre is public: no sign-in
    visitor.goto(f"{live_server}/help")
    visitor.get_by_label("Search the help centre").fill("forgot password")
    visitor.get_by_role("button", name="Search").click()
    results = visitor.locator("#help-results .help-result")
    expect(results.first).to_contain_text("Reset your password")
    expect(visitor.locator("#help-results")).not_to_contain_text("Unlock a locked account")  # internal
    results.first.get_by_role("link").click()
    expect(visitor.locator("#help-article")).to_contain_text("follow the link in the email")

    carla = make_user("customer", name="Carla Customer", email="carla@example.com", password=PASSWORD)
    page = sign_in(carla)
    page.goto(f"{live_server}/portal/new")
    page.get_by_label("Subject").fill("Cannot sign in")
    page.get_by_label("Message").press_sequentially("I forgot my password <b>help</b>", delay=5)
    suggestion = page.locator("#knowledge-suggest-list .knowledge-suggestion").first
    expect(suggestion).to_contain_text("Reset your password")
    suggestion.get_by_role("button", name="This solved it").click()
    expect(page.locator("#knowledge-solved-note")).to_contain_text("Glad that helped: no ticket was opened.")
    expect(page.locator("#new-ticket-form")).to_be_hidden()

    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(KnowledgeDeflection)) == 1
    assert db.session.scalar(select(func.count()).select_from(Ticket)) == 0


def test_agent_inserts_a_suggested_article_into_a_reply(live_server, sign_in, db, make_user, kb):
    ana = make_user("agent", name="Ana Agent", email="ana@example.com", password=PASSWORD)
    carla = make_user("customer", name="Carla Customer", email="carla@example.com")
    ticket = services.create_ticket(carla, "Locked out", "I forgot my password and cannot sign in.")
    article_id = kb["public"].id

    page = sign_in(ana)
    page.goto(f"{live_server}/tickets/{ticket.reference}")
    item = page.locator("#knowledge-panel .knowledge-panel-item", has_text="Reset your password")
    expect(item).to_have_count(1)
    page.locator("#reply-body").fill("Hi Carla, this explains it:")
    item.get_by_role("button", name="Insert link").click()
    expect(page.locator("#reply-body")).to_have_value(
        f"Hi Carla, this explains it:\n\n[Reset your password](http://helpdesk.test/help/articles/{article_id})")
    page.locator("#reply-submit").click()
    message = page.locator(".message-markdown a", has_text="Reset your password")
    expect(message.first).to_have_attribute("href", f"http://helpdesk.test/help/articles/{article_id}")
