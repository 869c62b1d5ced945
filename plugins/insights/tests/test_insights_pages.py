"""The plugin adds no SQL to the queue or the ticket page; its report section on /reports."""
from __future__ import annotations

from datetime import timedelta

import pytest
from helpdesk_insights import store
from insights_testkit import corpus, seed_texts
from pagetext import text

from helpdesk.plugin_api import services, utcnow

pytestmark = pytest.mark.plugins("insights")


def test_the_queue_and_the_ticket_page_run_no_statement_of_ours(app, db, client, login, agent, customer, plugins,
                                                                statements):
    seed_texts([customer], corpus()[:120])
    store.recompute()
    ticket = services.create_ticket(customer, "Refund", "Where is my refund? The return was two weeks ago.")
    login(client, agent)
    with_us = {path: statements.page(client, path) for path in ("/queue", f"/tickets/{ticket.reference}")}
    plugins.disable("insights")
    without = {path: statements.page(client, path) for path in with_us}
    assert with_us == without


def test_the_report_section_lists_the_periods_themes(app, client, login, agent, make_user):
    customers = [make_user("customer") for _ in range(10)]
    seed_texts(customers, corpus(), when=utcnow() - timedelta(days=2))
    store.recompute()
    login(client, agent)
    page = client.get("/reports").get_data(as_text=True)
    section = text(page, id="insights-report-section")
    assert "refund" in section.lower() and "channel and team filters apply" in section
    page = client.get("/reports?channel=sms").get_data(as_text=True)
    assert "No customer themes in this period." in text(page, id="insights-report-section")


def test_a_team_scoped_agent_gets_no_report_section(app, client, login, make_user):
    seed_texts([], corpus(), when=utcnow() - timedelta(days=2))
    store.recompute()
    login(client, make_user("agent", team_scoped=True))
    page = client.get("/reports").get_data(as_text=True)
    assert 'id="insights-report-section"' not in page


def test_the_recompute_command_shows_progress(app):
    from helpdesk.cli import main

    seed_texts([], corpus())
    result = app.test_cli_runner().invoke(main, ["insights-recompute"])
    assert result.exit_code == 0, result.output
    assert "Finding themes" in result.output and "themes" in result.output.splitlines()[-1]
    assert len(store.live_centroids()) >= 10
