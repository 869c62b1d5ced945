"""Two (or four) real processes changing the same tickets at the same instant."""
from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import HERE, wait_for
from sqlalchemy import func, select

from helpdesk import services
from helpdesk.models import AuditEvent, Message, Ticket
from helpdesk.services.tickets import TRANSITIONS


@pytest.fixture
def app_config() -> dict:
    return {"JOBS_IMMEDIATE": False}  # replies' deliveries are only queued: no worker here


def run_together(child_env, gate, *commands: list[str], timeout: float = 120) -> list[str]:
    """Start every command, let them go at once, return their outputs."""
    procs = [subprocess.Popen([sys.executable, str(HERE / "edit_main.py"), *command], env=child_env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for command in commands]
    wait_for(lambda: len(list(gate.glob("ready-*"))) == len(procs), timeout=60, what="every process to start")
    (gate / "go").touch()
    outputs = []
    for proc in procs:
        out, _ = proc.communicate(timeout=timeout)
        assert proc.returncode == 0, out
        outputs.append(out)
    return outputs


def fresh(db):
    db.session.rollback()
    db.session.expire_all()
    return db.session


def test_closing_and_setting_pending_at_once_leaves_closed_tickets_and_valid_audit_chains(
        db, customer, agent, make_user, child_env, gate):
    colleague = make_user("agent", name="Bea Colleague")
    tickets = [services.create_ticket(customer, f"Race {n}", "Hello") for n in range(30)]
    for ticket in tickets:
        services.update_ticket(ticket, agent, status="open")
    ids = ",".join(str(t.id) for t in tickets)

    outputs = run_together(child_env, gate, ["status", str(agent.id), "closed", ids],
                           ["status", str(colleague.id), "pending", ids])

    session = fresh(db)
    statuses = dict(session.execute(
        select(Ticket.id, Ticket.status).where(Ticket.id.in_([t.id for t in tickets]))).all())
    # Whoever came first, closed means closed: pending then closed, or closed and pending refused.
    assert set(statuses.values()) == {"closed"}
    refused = int(outputs[1].split()[-1])
    for ticket in tickets:
        chain = list(session.execute(select(AuditEvent.old_value, AuditEvent.new_value).where(
            AuditEvent.ticket_id == ticket.id, AuditEvent.field == "status").order_by(AuditEvent.id)))
        current = "new"
        for old, new in chain:
            assert old == current and new in TRANSITIONS[old], (ticket.reference, chain)
            current = new
        assert current == "closed"
    # every refusal is a ticket that was closed first, and the trail has no pending for it
    pending_first = sum(1 for t in tickets if session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.ticket_id == t.id, AuditEvent.new_value == "pending")))
    assert pending_first + refused == len(tickets)


def test_concurrent_replies_and_notes_are_all_counted(db, customer, agent, child_env, gate):
    tickets = [services.create_ticket(customer, f"Busy {n}", "Hello") for n in range(3)]
    ids = ",".join(str(t.id) for t in tickets)
    run_together(child_env, gate, ["note", str(agent.id), "10", ids], ["note", str(agent.id), "10", ids],
                 ["reply", str(customer.id), "10", ids], ["reply", str(customer.id), "10", ids])
    session = fresh(db)
    for ticket in tickets:
        real = session.scalar(select(func.count()).select_from(Message).where(Message.ticket_id == ticket.id))
        assert real == 1 + 4 * 10
        assert session.get(Ticket, ticket.id).message_count == real
