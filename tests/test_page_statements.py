"""Statements per page (issue 19): a count, not a time, so a regression fails CI.

Every bundled plugin is enabled, and the ticket has each plugin's data (kudos, a complaint
flag with its acknowledgement and follow-up, a survey answer), so a plugin that reads its
data one ticket at a time shows up here.
"""
from __future__ import annotations

import pytest
from sqlalchemy import select

from helpdesk import services

BUNDLED = ("email", "surveys", "complaints", "recognition", "chat", "messaging", "insights", "coaching",
           "knowledge")
QUEUE_BUDGET = 4
TICKET_BUDGET = 6


def count(statements, staff, path: str, expect: str | None = None) -> list[str]:
    """The statements of one GET of ``path`` (the ``statements`` fixture of helpdesk.testing)."""
    with statements:
        page = staff.get(path)
    assert page.status_code == 200 and (expect is None or expect in page.text)
    return list(statements.seen)


def show(seen: list[str]) -> str:
    return "\n".join(f"{i + 1}. {text[:300]}" for i, text in enumerate(seen))


@pytest.fixture
def staff(client, login, agent):
    return login(client, agent)


def plugin_data(db, ticket, agent, customer):
    from helpdesk_complaints.models import ComplaintFlag
    from helpdesk_recognition.models import Kudos
    from helpdesk_surveys.models import SurveyResponse

    db.session.add_all([
        Kudos(recipient_id=agent.id, giver_id=customer.id, source="thanks", ticket_id=ticket.id,
              message="Thank you so much"),
        SurveyResponse(kind="csat", score=2, comment="Slow", customer_id=customer.id, ticket_id=ticket.id,
                       agent_id=agent.id),
    ])
    if db.session.scalar(select(ComplaintFlag).where(ComplaintFlag.ticket_id == ticket.id)) is None:
        db.session.add(ComplaintFlag(ticket_id=ticket.id, score=-0.8, signals=["angry"]))
    db.session.commit()


def busy_ticket(db, ticket, agent, customer):
    for i in range(3):
        services.add_message(ticket, customer if i % 2 else agent, f"message {i}")
    services.update_ticket(ticket, agent, assignee_id=agent.id)
    plugin_data(db, ticket, agent, customer)


def count_pages(staff, statements, ticket) -> tuple[list[str], list[str]]:
    staff.get("/queue"), staff.get(f"/tickets/{ticket.reference}")  # warm: what a running process has
    queue = count(statements, staff, "/queue", expect=ticket.reference)
    with statements:
        page = staff.get(f"/tickets/{ticket.reference}")
    assert page.status_code == 200
    ticket_page = list(statements.seen)
    # The plugins' data is on the page: the kudos, the complaint playbook, the survey answer.
    assert "Thank you so much" in page.text and "Slow" in page.text and 'data-plugin="complaints"' in page.text
    return queue, ticket_page


@pytest.mark.plugins(*BUNDLED)
def test_statements_per_page_with_every_bundled_plugin(staff, db, statements, ticket, agent, customer):
    """Queue ≤ 4, ticket ≤ 6: the plugins' slot rows, the core's small reads and the navigation
    counts run as one batched statement (helpdesk_page_queries, helpdesk/page_batch.py)."""
    busy_ticket(db, ticket, agent, customer)
    queue, ticket_page = count_pages(staff, statements, ticket)
    assert len(queue) <= QUEUE_BUDGET, show(queue)
    assert len(ticket_page) <= TICKET_BUDGET, show(ticket_page)
    # Which is: sign-in, the ticket (people, team, tags), the audit trail, the conversation, and one batch.
    assert sum("json_group_array" in s or "json_agg" in s for s in ticket_page) == 1, show(ticket_page)


@pytest.mark.plugins(*BUNDLED)
def test_configuration_is_read_once_per_request(staff, statements, ticket):
    """Settings, plugin states, teams, agents and canned replies come from the process's snapshot."""
    staff.get("/queue")
    seen = count(statements, staff, "/queue")
    for table in ("site_settings", "plugin_states", "FROM teams", "canned_replies", "saved_views"):
        assert sum(table in s for s in seen) <= (1 if table == "site_settings" else 0), show(seen)


def test_another_process_sees_a_configuration_change_on_its_next_request(app, staff, db):
    """State lives in the database: a change made by another process shows without a restart."""
    from helpdesk import create_app
    from helpdesk.models import Team

    db.session.add(Team(name="Billing"))
    db.session.commit()
    assert "Billing" in staff.get("/queue").text
    other = create_app({"TESTING": True, "INSTANCE_PATH": app.instance_path, "SECRET_KEY": "test-secret",
                        "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"]})
    with other.app_context():
        from helpdesk.extensions import db as other_db

        other_db.session.scalar(select(Team).where(Team.name == "Billing")).name = "Invoices"
        other_db.session.commit()
        other_db.session.remove()
        other_db.engine.dispose()
    page = staff.get("/queue").text
    assert "Invoices" in page and "Billing" not in page

