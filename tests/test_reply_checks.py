"""Reply checks advise by default, each can be switched off, and only blocking ones hold a
reply back (issue 17, broken 3). Admin → Reply checks sets the modes."""
from __future__ import annotations

import pytest
from pagetext import alerts, text, texts
from sqlalchemy import func, select

from helpdesk.models import Message, OutboxMail


@pytest.fixture
def staff(app, client, login, agent):
    return login(app.test_client(), agent)  # a second browser (CSRF-filling, like `client`)


@pytest.fixture
def boss(client, login, admin):
    return login(client, admin)


def test_a_reply_without_greeting_is_sent_and_the_warnings_are_shown(staff, db, ticket):
    sent = staff.post(f"/tickets/{ticket.reference}", data={"body": "Thanks, fixed."}, follow_redirects=True)
    said = alerts(sent.text)
    assert "Reply sent." in said
    assert 'Reply check: You did not greet the customer by name (try "Hi Carla,").' in said
    assert any(f"no ticket reference ({ticket.reference})" in a for a in said)
    assert "Thanks, fixed." in texts(sent.text, cls="message-staff")[0]
    assert "reply-warnings-box" not in sent.text  # nothing was held back
    assert db.session.scalar(select(OutboxMail.subject)) == f"[{ticket.reference}] Re: Printer on fire"


def test_a_check_switched_off_is_not_shown(boss, staff, db, ticket):
    page = boss.get("/admin/reply-checks/")
    assert [r.split()[0] for r in texts(page.text, cls="reply-check")] == ["core.greeting", "core.reference"]
    saved = boss.post("/admin/reply-checks/", data={"mode-core.greeting": "off", "mode-core.reference": "advise"},
                      follow_redirects=True)
    assert "Reply checks saved." in alerts(saved.text)
    sent = staff.post(f"/tickets/{ticket.reference}", data={"body": "Thanks, fixed."}, follow_redirects=True)
    said = " | ".join(alerts(sent.text))
    assert "Reply sent." in said and "greet" not in said and f"({ticket.reference})" in said
    checked = staff.post(f"/tickets/{ticket.reference}/checks", data={"body": "Thanks, fixed."},
                         headers={"X-CSRFToken": staff.csrf_token()})
    assert [w for w in checked.json["warnings"] if "greet" in w] == []


def test_a_blocking_check_holds_the_reply_and_keeps_the_text(boss, staff, db, ticket):
    boss.post("/admin/reply-checks/", data={"mode-core.greeting": "block", "mode-core.reference": "off"})
    held = staff.post(f"/tickets/{ticket.reference}", data={"body": "Thanks, fixed.", "send_anyway": "y"})
    assert held.status_code == 200
    assert texts(held.text, id="reply-warnings") == ['You did not greet the customer by name (try "Hi Carla,").']
    assert "Your reply was not sent" in text(held.text, id="reply-warnings-box")
    assert text(held.text, id="reply-body") == "Thanks, fixed."  # the typed text is kept
    assert db.session.scalar(select(func.count()).select_from(Message)) == 1
    assert db.session.scalar(select(OutboxMail)) is None
    checked = staff.post(f"/tickets/{ticket.reference}/checks", data={"body": "Thanks, fixed."},
                         headers={"X-CSRFToken": staff.csrf_token()})
    assert checked.json["blocking"] == ['You did not greet the customer by name (try "Hi Carla,").']
    # Greeted: it goes out, whatever the (switched-off) reference check would say.
    sent = staff.post(f"/tickets/{ticket.reference}", data={"body": "Hi Carla, fixed."}, follow_redirects=True)
    assert alerts(sent.text) == ["Reply sent."]


def test_only_admins_set_the_modes_and_nonsense_is_refused(boss, staff, db):
    assert staff.get("/admin/reply-checks/").status_code == 403
    refused = boss.post("/admin/reply-checks/", data={"mode-core.greeting": "loud", "mode-core.reference": "off"})
    assert refused.status_code == 422
    assert "Choose off, advise or block for core.greeting." in text(refused.text, id="reply-checks-error")
    assert 'value="off" selected' in refused.text  # what was chosen is kept
