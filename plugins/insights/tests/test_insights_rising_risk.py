"""Rising themes with controlled time (a tripled theme found and its lead told once a week, a
stable one silent), and customers at risk with their reasons."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from helpdesk_insights import analytics, jobs, store
from helpdesk_insights.models import InsightsAlert, InsightsText
from insights_testkit import corpus, seed_texts, theme_of
from pagetext import text, texts
from sqlalchemy import select

from helpdesk.plugin_api import db_session, services, utcnow

pytestmark = pytest.mark.plugins("insights")
NOW = datetime(2026, 11, 20, 12, 0)


def add(theme, count: int, week: int, now: datetime) -> None:
    """``count`` texts in ``theme`` during the week ending ``week`` weeks before ``now`` (0: the last 7 days)."""
    end = now - timedelta(days=7 * week)
    for n in range(count):
        db_session().add(InsightsText(reference=f"t:{theme.id}:{week}:{n}", source="ticket", channel="web",
                                      text="x", theme_id=theme.id, created_at=end - timedelta(hours=1 + n * 3)))
    db_session().commit()


@pytest.fixture
def weekly_themes(app):
    seed_texts([], corpus(), when=NOW - timedelta(days=200))  # history far outside the windows
    store.recompute(now=NOW - timedelta(days=200))
    stable, tripled = theme_of("refund not received"), theme_of("app crashes")
    for week in range(5):
        add(stable, 6, week, NOW)
        add(tripled, 6 if week == 0 else 2, week, NOW)
    return stable, tripled


def test_a_tripled_theme_is_rising_and_a_stable_one_is_not(weekly_themes):
    stable, tripled = weekly_themes
    rising = {s.theme.id: s for s in analytics.rising_themes(NOW)}
    assert tripled.id in rising and stable.id not in rising
    assert rising[tripled.id].recent == 6 and rising[tripled.id].baseline == 2
    assert rising[tripled.id].growth == "3.0× the usual"


def test_a_stable_theme_never_raises_an_alarm_week_after_week(weekly_themes, admin):
    stable, _tripled = weekly_themes
    for weeks_later in range(1, 5):  # it goes on at 6 a week
        add(stable, 6, -weeks_later, NOW)
    for weeks_later in range(0, 5):
        raised = jobs.check_rising(NOW + timedelta(days=7 * weeks_later))
        assert stable.id not in [a.theme_id for a in raised]


def test_the_lead_is_told_once_a_week(weekly_themes, admin, client, login):
    _stable, tripled = weekly_themes
    raised = jobs.check_rising(NOW)
    assert [a.theme_id for a in raised] == [tripled.id] and raised[0].notified == 1
    assert jobs.check_rising(NOW + timedelta(hours=3)) == []  # the same week: no second alarm
    assert len(db_session().scalars(select(InsightsAlert)).all()) == 1
    login(client, admin)
    page = client.get("/notifications").get_data(as_text=True)
    assert f"Theme “{tripled.name}” is rising" in page


def test_rising_themes_are_highlighted_on_the_dashboard_and_the_list(app, client, login, agent):
    seed_texts([], corpus(), when=utcnow() - timedelta(days=200))
    store.recompute()
    tripled = theme_of("app crashes")
    add(tripled, 2, 2, utcnow())
    add(tripled, 8, 0, utcnow())
    login(client, agent)
    page = client.get("/dashboard").get_data(as_text=True)
    assert tripled.name in text(page, id="insights-rising")
    page = client.get("/insights/").get_data(as_text=True)
    rows = texts(page, cls="rising")
    assert len(rows) == 1 and tripled.name in rows[0] and "Rising" in rows[0]


def test_no_rising_themes_no_dashboard_card(app, client, login, agent):
    login(client, agent)
    assert 'id="insights-rising"' not in client.get("/dashboard").get_data(as_text=True)


def test_a_customer_with_repeated_negative_signals_is_at_risk_with_reasons(app, make_user, agent, client, login):
    from helpdesk.plugin_api import services as core

    unhappy, calm = make_user("customer", name="Una Unhappy"), make_user("customer", name="Carl Calm")
    ticket = core.create_ticket(unhappy, "Broken again", "It is broken again")
    core.update_ticket(ticket, agent, status="resolved")
    core.update_ticket(ticket, agent, status="open")  # reopened
    core.record_feedback(unhappy, "csat", score=1, comment="Terrible service", ticket=ticket, reference="s:1")
    core.record_feedback(unhappy, "nps", score=3, reference="s:2")
    core.record_feedback(calm, "csat", score=5, comment="Great", reference="s:3")
    core.record_feedback(calm, "csat", score=2, reference="s:4")
    login(client, agent)
    page = client.get("/insights/at-risk").get_data(as_text=True)
    rows = texts(page, cls="at-risk-row")
    assert len(rows) == 1 and "Una Unhappy" in rows[0]
    assert "2 low scores, 1 reopened ticket" in rows[0]
    assert "CSAT 1 on " + ticket.reference in rows[0] and "reopened" in rows[0]


def test_nobody_at_risk_says_so(app, client, login, agent):
    login(client, agent)
    page = client.get("/insights/at-risk").get_data(as_text=True)
    assert "No customer has 3 or more negative signals" in page


def test_signals_outside_the_window_do_not_count(app, make_user):
    from helpdesk_insights import risk

    customer = make_user("customer")
    old = utcnow() - timedelta(days=40)
    for n in range(3):
        store.add_signal(customer.id, "low_score", f"old:{n}", "CSAT 1", at=old)
    assert risk.at_risk() == []
    assert [r.customer.id for r in risk.at_risk(now=old + timedelta(days=1))] == [customer.id]


def test_a_changed_survey_answer_is_one_text(app, customer):
    services.record_feedback(customer, "csat", score=2, comment="Slow", reference="survey:9")
    services.record_feedback(customer, "csat", score=2, comment="Slow and rude", reference="survey:9", updated=True)
    rows = db_session().scalars(select(InsightsText).where(InsightsText.customer_id == customer.id)).all()
    assert [r.text for r in rows] == ["Slow and rude"]


@pytest.mark.plugins("insights", "complaints")
def test_a_complaint_found_by_the_complaints_plugin_is_a_text_and_a_signal(app, customer):
    ticket = services.create_ticket(customer, "Absolutely unacceptable",
                                    "This is the third time my order is late. I am furious and want to complain "
                                    "formally: your service is a disgrace and I demand compensation.")
    row = db_session().scalar(select(InsightsText).where(InsightsText.ticket_id == ticket.id))
    assert row.complaint and row.source == "complaint" and row.sentiment < 0
    from helpdesk_insights.models import InsightsSignal

    assert db_session().scalar(select(InsightsSignal.kind).where(InsightsSignal.ticket_id == ticket.id)) == "complaint"


def test_health_score_has_its_reasons_and_the_ticket_page_fills_it_lazily(app, customer, agent, client, login):
    from helpdesk.plugin_api import SlaTarget
    from helpdesk.plugin_manager import manager

    tickets = [services.create_ticket(customer, f"Problem {n}", "The export fails again.") for n in range(5)]
    services.update_ticket(tickets[0], agent, status="resolved")
    services.update_ticket(tickets[0], agent, status="open")
    services.record_feedback(customer, "csat", score=1, ticket=tickets[0], reference="s:10")
    services.record_feedback(customer, "csat", score=5, ticket=tickets[1], reference="s:11")
    target = SlaTarget(ticket_id=tickets[2].id, kind="first_response", cycle=1)
    db_session().add(target)
    db_session().commit()
    manager().call_event("helpdesk_sla_breached", ticket=tickets[2], target=target)

    from helpdesk_insights.health import health

    result = health(customer.id)
    # 100 − 10 (reopened) − 15 (CSAT 1) + 5 (CSAT 5) − 10 (missed target) − 10 (5 tickets: 2 beyond 3)
    assert result.score == 60 and result.band == "watch"

    login(client, agent)
    page = client.get(f"/tickets/{tickets[0].reference}").get_data(as_text=True)
    [url] = re.findall(r'data-insights-panel="([^"]+)"', page)
    assert text(page, id="insights-health") == "Customer health…"  # filled after load, by the page's script
    panel = client.get(url).get_data(as_text=True)
    assert text(panel, id="insights-health-score") == "60 · watch"
    reasons = text(panel, id="insights-health-reasons")
    for reason in (f"-10 {tickets[0].reference} reopened", f"-15 CSAT 1 on {tickets[0].reference}",
                   f"+5 CSAT 5 on {tickets[1].reference}", f"first response target missed on {tickets[2].reference}",
                   "-10 5 tickets in 30 days"):
        assert reason in reasons
    # The customer page shows the same panel, with the same reasons
    profile = client.get(f"/customers/{customer.id}").get_data(as_text=True)
    assert re.findall(r'data-insights-panel="([^"]+)"', profile) == [url]


def test_a_customer_with_nothing_wrong_is_healthy(app, customer, agent, client, login):
    login(client, agent)
    panel = client.get(f"/insights/customers/{customer.id}/health").get_data(as_text=True)
    assert text(panel, id="insights-health-score") == "100 · good"
    assert "Nothing went wrong" in panel
    assert client.get(f"/insights/customers/{agent.id}/health").status_code == 404
