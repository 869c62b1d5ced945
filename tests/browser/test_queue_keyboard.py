"""The queue in the browser: keyboard shortcuts and their help, unread marks, the hover
preview, bulk actions with pickers, and "Send and next"."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from helpdesk import services
from helpdesk.models import Message, Team, Ticket

PASSWORD = "long-password-1"

pytestmark = pytest.mark.browser


@pytest.fixture
def alex(make_user):
    return make_user("agent", name="Alex Agent", email="alex@example.com", password=PASSWORD)


@pytest.fixture
def three(db, customer):
    """Three tickets, listed newest update first: C, B, A."""
    made = [services.create_ticket(customer, f"Question {name}", f"Body of {name}: the printer again")
            for name in "ABC"]
    for i, t in enumerate(made):
        t.updated_at = t.updated_at.replace(year=2020, day=1 + i)
    db.session.commit()
    return made[::-1]


def test_keyboard_queue_and_ticket_page(live_server, sign_in, db, alex, three):
    page = sign_in(alex)
    page.goto(f"{live_server}/queue")
    rows = page.locator(".ticket-row")
    expect(page.locator(".ticket-unread")).to_have_count(3)  # nobody opened them yet

    page.locator("#f-q").press("j")  # typing in a field is typing, not a shortcut
    expect(page.locator("#f-q")).to_have_value("j")
    page.locator("#f-q").fill("")
    page.locator("h1").click()
    page.keyboard.press("?")
    expect(page.locator("#shortcut-help")).to_be_visible()
    expect(page.locator("#shortcut-help")).to_contain_text("Tick the selected ticket")
    page.keyboard.press("Escape")
    expect(page.locator("#shortcut-help")).to_be_hidden()

    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("k")
    expect(rows.nth(0)).to_have_class(re.compile("is-current"))
    page.keyboard.press("j")
    page.keyboard.press("x")
    expect(rows.nth(1).locator(".ticket-check")).to_be_checked()
    expect(page.locator("#queue-preview")).to_have_count(0)
    rows.nth(2).locator(".subject-link").hover()
    expect(page.locator("#queue-preview")).to_contain_text("Body of A")

    page.keyboard.press("o")
    expect(page).to_have_url(f"{live_server}/tickets/{three[1].reference}")
    page.wait_for_load_state()
    page.keyboard.press("?")
    expect(page.locator("#shortcut-help")).to_contain_text("Reply: go to the reply box")
    page.keyboard.press("?")
    page.keyboard.press("n")
    expect(page.locator("#reply-body")).to_be_focused()
    expect(page.locator("#reply-internal")).to_be_checked()
    page.locator("h1").click()
    page.keyboard.press("r")
    expect(page.locator("#reply-body")).to_be_focused()
    expect(page.locator("#reply-internal")).not_to_be_checked()
    page.keyboard.type("e")  # typed into the composer: no shortcut fires
    expect(page.locator("#reply-body")).to_have_value("e")

    page.goto(f"{live_server}/queue")  # the opened ticket is read now, the others not
    expect(page.locator(".ticket-unread")).to_have_count(2)
    expect(page.locator(f'.ticket-row[data-reference="{three[1].reference}"]')).not_to_have_class(
        re.compile("ticket-unread"))

    page.locator(f'.ticket-row[data-reference="{three[1].reference}"] .ticket-link').click()
    expect(page).to_have_url(f"{live_server}/tickets/{three[1].reference}")
    expect(page.locator("#ticket-status")).to_contain_text("new")
    page.wait_for_load_state()  # shortcuts.js listens from the page's load on
    page.keyboard.press("e")  # resolve: the sidebar's status set to resolved and saved
    expect(page.locator("#flash-messages")).to_contain_text("Saved.")
    expect(page.locator("#ticket-status")).to_contain_text("resolved")


def test_bulk_pickers_assign_move_and_close(live_server, sign_in, db, make_user, alex, three):
    bea = make_user("agent", name="Bea Backup", email="bea@example.com")
    billing = Team(name="Billing")
    db.session.add(billing)
    db.session.commit()
    page = sign_in(alex)
    page.goto(f"{live_server}/queue")
    bar = page.locator(".bulk-bar")

    page.locator(f"#sel-{three[0].id}").check()
    page.locator(f"#sel-{three[1].id}").check()
    bar.get_by_label("Action").select_option(label="Assign to")
    expect(bar.get_by_label("Team")).to_be_hidden()  # only the picker the action needs
    bar.get_by_label("Agent").select_option(label="Bea Backup")
    bar.get_by_role("button", name="Apply").click()
    expect(page.locator("#flash-messages")).to_contain_text("Updated 2 of 2 tickets.")

    page.locator(f"#sel-{three[2].id}").check()
    bar.get_by_label("Action").select_option(label="Move to team")
    bar.get_by_label("Team").select_option(label="Billing")
    bar.get_by_role("button", name="Apply").click()
    expect(page.locator("#flash-messages")).to_contain_text("Updated 1 of 1 tickets.")

    page.locator(f"#sel-{three[0].id}").check()
    bar.get_by_label("Action").select_option(label="Close")
    expect(bar.get_by_label("Agent")).to_be_hidden()
    bar.get_by_role("button", name="Apply").click()
    expect(page.locator("#flash-messages")).to_contain_text("Updated 1 of 1 tickets.")
    expect(page.locator(".ticket-row")).to_have_count(2)  # the closed one left the active queue

    db.session.expire_all()
    assert [(t.assignee_id, t.team_id, t.status) for t in three] == [
        (bea.id, None, "closed"), (bea.id, None, "new"), (None, billing.id, "new")]


def test_send_and_next(live_server, sign_in, db, alex, three):
    page = sign_in(alex)
    page.goto(f"{live_server}/queue")
    page.locator(".ticket-row").nth(0).locator(".ticket-link").click()
    expect(page).to_have_url(f"{live_server}/tickets/{three[0].reference}")
    page.locator("#reply-body").fill(f"Hi Carla, the printer is fixed ({three[0].reference}).")
    page.get_by_role("button", name="Send and next").click()
    expect(page).to_have_url(f"{live_server}/tickets/{three[1].reference}")
    expect(page.locator("#flash-messages")).to_contain_text("Reply sent.")
    db.session.expire_all()
    assert db.session.scalar(select(Message.body).where(Message.ticket_id == three[0].id)
                             .order_by(Message.id.desc()).limit(1)).startswith("Hi Carla, the printer is fixed")
    assert db.session.get(Ticket, three[1].id).message_count == 1


def test_bulk_merge_with_the_ticket_picker_and_mark_as_spam(live_server, sign_in, db, other_customer, alex, three):
    junk = services.create_ticket(other_customer, "WIN A PRIZE", "Click here")
    page = sign_in(alex)
    page.goto(f"{live_server}/queue")
    bar = page.locator(".bulk-bar")
    target = bar.get_by_label("Merge into ticket")

    page.locator(f"#sel-{three[0].id}").check()  # C and B into A (same customer)
    page.locator(f"#sel-{three[1].id}").check()
    bar.get_by_label("Action").select_option(label="Merge into")
    expect(target).to_be_visible()
    expect(bar.get_by_label("Agent")).to_be_hidden()
    target.press_sequentially("Question A", delay=20)  # the picker asks the server as the agent types
    options = page.locator("#bulk-targets option")
    expect(options).to_have_count(1)
    label = options.first.get_attribute("value")
    assert label == f"{three[2].reference} · Question A"
    target.fill(label)  # what choosing the suggestion puts in the field
    bar.get_by_role("button", name="Apply").click()
    expect(page.locator("#flash-messages")).to_contain_text(f"Merged 2 of 2 tickets into {three[2].reference}.")
    expect(page.locator(".ticket-row")).to_have_count(2)  # A and the prize mail; C and B live on inside A

    page.locator(f"#sel-{junk.id}").check()
    bar.get_by_label("Action").select_option(label="Mark as spam")
    expect(target).to_be_hidden()
    bar.get_by_role("button", name="Apply").click()
    expect(page.locator("#flash-messages")).to_contain_text("Updated 1 of 1 tickets.")
    expect(page.locator(".ticket-row")).to_have_count(1)
    page.goto(f"{live_server}/queue?tag=spam&status=all")
    expect(page.locator(".ticket-row")).to_have_count(1)
    expect(page.locator(".ticket-row")).to_contain_text("WIN A PRIZE")

    db.session.expire_all()
    assert [t.merged_into_id for t in three] == [three[2].id, three[2].id, None]
    assert db.session.get(Ticket, junk.id).status == "closed"
    assert [t.name for t in db.session.get(Ticket, junk.id).tags] == ["spam"]
