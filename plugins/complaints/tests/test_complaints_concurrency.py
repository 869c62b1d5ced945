"""Rules that assign by round robin or least loaded, with two processes creating tickets at once.

Runs on the test database of the session: a SQLite file, or PostgreSQL with HELPDESK_TEST_DB=postgres.
"""
from __future__ import annotations

import multiprocessing
import re
from collections import Counter

import pytest
from complaints_helpers import audit_rows
from sqlalchemy import select

from helpdesk.plugin_api import Ticket, services

pytestmark = pytest.mark.plugins("complaints")
PER_PROCESS = 12


def _create_tickets(uri: str, instance: str, customer_id: int, label: str, count: int, barrier, results) -> None:
    """Child process: its own app and connections; waits for the other, then opens tickets."""
    try:
        from helpdesk import create_app
        from helpdesk.plugin_api import User, db_session

        app = create_app({"SQLALCHEMY_DATABASE_URI": uri, "INSTANCE_PATH": instance, "TESTING": True,
                          "JOBS_IMMEDIATE": True, "SECRET_KEY": "x"})
        with app.app_context():
            customer = db_session().get(User, customer_id)
            barrier.wait(timeout=60)
            ids = [services.create_ticket(customer, f"{label} {i}", "Please route me.").id for i in range(count)]
            engine = db_session().get_bind()
            db_session().remove()
            engine.dispose()
        results.put((label, ids, None))
    except BaseException as exc:  # report to the parent rather than dying silently
        results.put((label, [], f"{type(exc).__name__}: {exc}"))


def run_two_processes(app, db, tmp_path, customer) -> list[int]:
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    db.session.commit()  # hold no transaction (and no lock) while the children write
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(2), ctx.Queue()
    processes = [ctx.Process(target=_create_tickets, args=(uri, str(tmp_path / label), customer.id, label,
                                                           PER_PROCESS, barrier, results))
                 for label in ("one", "two")]
    for process in processes:
        process.start()
    outcome = [results.get(timeout=120) for _ in processes]
    for process in processes:
        process.join(timeout=30)
    errors = [f"{label}: {error}" for label, _, error in outcome if error]
    assert not errors, errors
    db.session.expire_all()
    return sorted(i for _, ids, _ in outcome for i in ids)


@pytest.fixture
def three_agents(make_user):
    return [make_user("agent", name=name) for name in ("Ann Agent", "Ben Agent", "Cy Agent")]


def test_round_robin_rule_is_fair_under_concurrent_creation(app, db, tmp_path, customer, three_agents, make_user,
                                                             team_factory, rule_factory):
    away = make_user("agent", name="Ava Away", available=False)
    team = team_factory("Care", [*three_agents, away])  # the team's own strategy is manual
    rule = rule_factory("Care by turns", {"channel": ["web"]}, {"team_id": team.id, "assign": "round_robin"})
    ids = run_two_processes(app, db, tmp_path, customer)

    tickets = list(db.session.scalars(select(Ticket).where(Ticket.id.in_(ids))))
    assert len(tickets) == 2 * PER_PROCESS and {t.team_id for t in tickets} == {team.id}
    counts = Counter(t.assignee_id for t in tickets)
    assert set(counts) == {a.id for a in three_agents}  # never the agent who is away
    assert max(counts.values()) - min(counts.values()) <= 1
    turns = {}
    for ticket in tickets:
        [assigned] = [r for r in audit_rows(db, ticket.id) if r.action == "assigned"]
        assert assigned.reason.startswith(f"rule 'Care by turns' (#{rule.id}): channel in (web) — round robin")
        turns[int(re.search(r"turn (\d+)", assigned.reason).group(1))] = ticket.assignee_id
    assert sorted(turns) == list(range(1, 2 * PER_PROCESS + 1))  # every turn handed out once
    assert all(turns[n] != turns[n + 1] for n in range(1, 2 * PER_PROCESS))


def test_least_loaded_rule_is_correct_under_concurrent_creation(app, db, tmp_path, customer, three_agents,
                                                                team_factory, rule_factory):
    ann = three_agents[0]
    for i in range(3):  # Ann starts with three open tickets from elsewhere
        services.update_ticket(services.create_ticket(customer, f"Earlier {i}", "x"), ann, assignee_id=ann.id)
    team = team_factory("Care", three_agents)
    rule_factory("Care least loaded", {"channel": ["web"]}, {"team_id": team.id, "assign": "least_loaded"})
    run_two_processes(app, db, tmp_path, customer)

    open_counts = Counter(db.session.scalars(select(Ticket.assignee_id).where(
        Ticket.assignee_id.is_not(None), Ticket.status.in_(("new", "open", "pending")))))
    total = 3 + 2 * PER_PROCESS  # 27 open tickets over three agents: 9 each, exactly
    assert sum(open_counts.values()) == total
    assert sorted(open_counts.values()) == [total // 3] * 3
