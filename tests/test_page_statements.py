"""Statements per page (issue 19): a count, not a time, so a regression fails CI.

Every bundled plugin is enabled, and the ticket has each plugin's data (kudos, a complaint
flag with its acknowledgement and follow-up, a survey answer), so a plugin that reads its
data one ticket at a time shows up here.
"""
from __future__ import annotations

import os
from contextlib import contextmanager

import pytest
from sqlalchemy import event, select

from helpdesk import services

BUNDLED = ("email", "surveys", "complaints", "recognition")
QUEUE_BUDGET = 4
TICKET_BUDGET = 6


@contextmanager
def statements(db):
    """The SQL statements run inside the block, starting from an empty session."""
    db.session.expunge_all()
    seen: list[str] = []

    def on_execute(_conn, _cursor, statement, *_args):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", on_execute)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", on_execute)


def show(seen: list[str]) -> str:
    return "\n".join(f"{i + 1}. {s[:300]}" for i, s in enumerate(seen))


@pytest.fixture
def staff(client, login, agent):
    return login(client, agent)


def plugin_data(db, ticket, agent, customer):
    from helpdesk_complaints.models import ComplaintAck, ComplaintFlag, ComplaintFollowUp
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


@pytest.mark.plugins(*BUNDLED)
def test_dump(staff, db, ticket, agent, customer):
    for i in range(3):
        services.add_message(ticket, customer if i % 2 else agent, f"message {i}")
    services.update_ticket(ticket, agent, assignee_id=agent.id)
    plugin_data(db, ticket, agent, customer)
    staff.get("/queue"), staff.get(f"/tickets/{ticket.reference}")
    with statements(db) as q:
        page = staff.get("/queue")
    assert page.status_code == 200
    with statements(db) as t:
        page = staff.get(f"/tickets/{ticket.reference}")
    assert page.status_code == 200
    print("QUEUE", len(q)); print(show(q))
    print("TICKET", len(t)); print(show(t))
