"""Growth pages, the ticket page's lazy panel (no extra statements), the dashboard, and the check-in reminder."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from coaching_testkit import review_form
from pagetext import attributes, text, texts
from sqlalchemy import select

pytestmark = pytest.mark.plugins("coaching")


def _items():
    from helpdesk_coaching import reviews

    return reviews.active_items()


def _notifications(user, kind):
    from helpdesk.models import Notification
    from helpdesk.plugin_api import db_session

    return [n.text for n in db_session().scalars(select(Notification).where(
        Notification.recipient_id == user.id, Notification.kind == kind).order_by(Notification.id))]


def test_growth_puts_trends_csat_and_reviews_side_by_side(as_user, people, solve, customer, plugins):
    from helpdesk.plugin_api import services

    first, second = solve("First"), solve("Second")
    lee = as_user(people["lee"])
    items = _items()
    lee.post(f"/coaching/tickets/{first.id}/review", data=review_form(items))
    lee.post(f"/coaching/tickets/{second.id}/review", data=review_form(items, score="1"))
    services.record_feedback(customer, "csat", score=4, ticket=first)
    services.record_feedback(customer, "csat", score=5, ticket=second)
    for client in (as_user(people["ana"]), lee):
        page = client.get(f"/coaching/agents/{people['ana'].id}")
        assert page.status_code == 200
        assert text(page.text, id="growth-name") == "Ana Agent"
        assert text(page.text, id="growth-csat") == "4.5 / 5 from 2 ratings"
        assert len(texts(page.text, cls="coaching-review-row")) == 2
        assert attributes(page.text, cls="coaching-trend")  # the SVG chart (plugin_api's column_chart)
        assert "75%" in page.text  # the month's average of 100% and 50%
        assert "Kudos appear here when the recognition plugin is enabled." in text(page.text, id="growth-kudos")
    plugins.enable("recognition")
    assert "recognition profile" in text(lee.get(f"/coaching/agents/{people['ana'].id}").text, id="growth-kudos")
    # A lead sees their team: the index lists it; a teammate sees nothing of Ana's growth.
    assert texts(lee.get("/coaching/").text, id="coaching-team") == ["Ana Agent Bo Bright"]
    assert as_user(people["bo"]).get(f"/coaching/agents/{people['ana'].id}").status_code == 404
    assert as_user(people["cy"]).get(f"/coaching/agents/{people['lee'].id}").status_code == 404


def test_empty_growth_page_says_so(as_user, people):
    page = as_user(people["cy"]).get(f"/coaching/agents/{people['cy'].id}")
    assert "No reviews in the last six months yet." in page.text
    assert text(page.text, id="growth-csat") == "No CSAT ratings yet."
    assert text(page.text, id="no-reviews") == "No reviews yet."
    assert "Your lead sets one with you." in text(page.text, id="growth-focus")


def test_the_ticket_panel_is_lazy_and_shows_only_readable_reviews(as_user, people, solve):
    ticket = solve()
    lee, bo = as_user(people["lee"]), as_user(people["bo"])
    page = lee.get(f"/tickets/{ticket.reference}")
    (panel,) = attributes(page.text, id="coaching-panel")
    assert panel["data-coaching-panel"] == f"/coaching/tickets/{ticket.id}/panel"
    assert "Review this conversation" in lee.get(panel["data-coaching-panel"]).text
    lee.post(f"/coaching/tickets/{ticket.id}/review", data=review_form(_items()))
    assert "Review by Lee Lead · 100%" in text(lee.get(panel["data-coaching-panel"]).text, id="coaching-panel-reviews")
    assert "No reviews of this ticket that you can see." in bo.get(panel["data-coaching-panel"]).text
    assert "Review by Lee Lead" in as_user(people["ana"]).get(panel["data-coaching-panel"]).text


def test_the_ticket_page_runs_no_statement_for_coaching(as_user, people, solve, db, plugins, statements):
    ticket = solve()
    as_user(people["lee"]).post(f"/coaching/tickets/{ticket.id}/review", data=review_form(_items()))
    lee = as_user(people["lee"])
    lee.get(f"/tickets/{ticket.reference}")  # warm: the session, settings and plugin states
    with statements:
        assert 'id="coaching-panel"' in lee.get(f"/tickets/{ticket.reference}").text
    on = statements.count
    plugins.disable("coaching")
    lee.get(f"/tickets/{ticket.reference}")
    with statements:
        assert 'id="coaching-panel"' not in lee.get(f"/tickets/{ticket.reference}").text
    off = statements.count
    assert on == off, f"{on} statements with coaching, {off} without"


def test_unread_reviews_on_the_dashboard(as_user, people, solve):
    ticket = solve()
    ana = as_user(people["ana"])
    assert 'id="coaching-dashboard"' not in ana.get("/dashboard").text
    as_user(people["lee"]).post(f"/coaching/tickets/{ticket.id}/review", data=review_form(_items()))
    assert f"{ticket.reference} · Printer on fire" in text(ana.get("/dashboard").text, id="coaching-dashboard")


def test_the_checkin_reminder_comes_once_on_the_day(people, app):
    from helpdesk_coaching import jobs
    from helpdesk_coaching.models import Focus

    from helpdesk.plugin_api import db_session, site_timezone, utcnow

    today = utcnow().replace(tzinfo=__import__("datetime").UTC).astimezone(site_timezone()).date()
    db_session().add_all([
        Focus(agent_id=people["ana"].id, lead_id=people["lee"].id, note="numbered steps", checkin_on=today),
        Focus(agent_id=people["bo"].id, lead_id=people["lee"].id, note="later", checkin_on=today + timedelta(days=3)),
        Focus(agent_id=people["cy"].id, lead_id=None, note="no date", checkin_on=None),
    ])
    db_session().commit()
    assert jobs.due_checkins() == 1
    assert _notifications(people["ana"], "coaching.checkin") == ["Check-in today on your focus: numbered steps."]
    assert _notifications(people["lee"], "coaching.checkin") == [
        "Check-in today with Ana Agent on their focus: numbered steps."]
    assert jobs.due_checkins() == 0  # once
    assert _notifications(people["bo"], "coaching.checkin") == []
    assert isinstance(today, date)
