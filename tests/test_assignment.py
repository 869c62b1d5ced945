"""The core's automatic assignment: team strategies, availability, the cap, and concurrency."""
from __future__ import annotations

import logging
import multiprocessing
import re
from collections import Counter

import pytest
from pagetext import alerts, attributes, field_errors, text, texts
from sqlalchemy import select

from helpdesk import services
from helpdesk.models import AuditEvent, BusinessHours, Team, Ticket, User
from helpdesk.plugin_api import Route
from helpdesk.plugin_manager import manager
from helpdesk.testing import make_plugin


def make_team(db, name: str, strategy: str, members: list, cap: int | None = None) -> Team:
    team = Team(name=name, assignment_strategy=strategy, max_open_per_agent=cap)
    team.members = list(members)
    db.session.add(team)
    db.session.commit()
    return team


def open_ticket(customer, team: Team | None, subject: str = "Help") -> Ticket:
    return services.create_ticket(customer, subject, "Something is broken.",
                                  team_id=team.id if team else None)


def assignments(db, ticket: Ticket) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(
        AuditEvent.ticket_id == ticket.id, AuditEvent.action == "assigned").order_by(AuditEvent.id)))


@pytest.fixture
def assignment_log():
    """The log lines of helpdesk.assignment (caplog is unavailable under ``-p no:logging``)."""
    lines: list[str] = []
    handler = logging.Handler(logging.INFO)
    handler.emit = lambda record: lines.append(record.getMessage())
    logger = logging.getLogger("helpdesk.assignment")
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield lines
    logger.removeHandler(handler)
    logger.setLevel(old_level)


@pytest.fixture
def agents(make_user):
    return [make_user("agent", name=name) for name in ("Ann Agent", "Ben Agent", "Cy Agent")]


# ------------------------------------------------------------- round robin


def test_round_robin_takes_turns_and_skips_away_disabled_and_customers(db, make_user, agents, customer):
    away = make_user("agent", name="Ava Away", available=False)
    gone = make_user("agent", name="Dan Disabled", active=False)
    member_customer = make_user("customer", name="Cleo Customer")
    team = make_team(db, "Tech", "round_robin", [*agents, away, gone, member_customer])

    tickets = [open_ticket(customer, team, f"Ticket {i}") for i in range(9)]

    ids = [a.id for a in sorted(agents, key=lambda u: u.id)]
    assert [t.assignee_id for t in tickets] == ids * 3  # in turn, by id
    assert Counter(t.assignee_id for t in tickets) == {ids[0]: 3, ids[1]: 3, ids[2]: 3}
    assert db.session.get(Team, team.id).rr_counter == 9
    [event] = assignments(db, tickets[0])
    assert event.actor_id is None and event.new_value == f"Ann Agent (#{ids[0]})"
    assert event.reason == ("round robin in Tech: turn 1, Ann Agent of 3 available "
                            "(Ann Agent, Ben Agent, Cy Agent)")


def test_round_robin_skips_agents_at_the_cap(db, agents, customer):
    ann, ben, cy = agents
    team = make_team(db, "Tech", "round_robin", agents, cap=2)
    busy = open_ticket(customer, None, "Earlier")
    services.update_ticket(busy, ann, assignee_id=ann.id)
    services.update_ticket(open_ticket(customer, None, "Earlier too"), ann, assignee_id=ann.id)

    tickets = [open_ticket(customer, team, f"T{i}") for i in range(4)]
    assert [t.assignee_id for t in tickets] == [ben.id, cy.id, ben.id, cy.id]
    assert "at the cap: Ann Agent" in assignments(db, tickets[0])[0].reason
    assert "cap 2" in assignments(db, tickets[0])[0].reason
    # Everybody is at the cap now: the next ticket waits in the team's queue, unassigned.
    waiting = open_ticket(customer, team, "One too many")
    assert waiting.assignee_id is None and assignments(db, waiting) == []
    # A resolved ticket no longer counts.
    services.update_ticket(busy, ann, status="resolved")
    assert open_ticket(customer, team, "Room again").assignee_id == ann.id


def test_nobody_available_leaves_the_ticket_unassigned(db, make_user, customer, assignment_log):
    away = make_user("agent", name="Ava Away", available=False)
    team = make_team(db, "Tech", "round_robin", [away])
    ticket = open_ticket(customer, team)
    assert ticket.assignee_id is None and ticket.team_id == team.id
    assert assignments(db, ticket) == []
    assert assignment_log == [f"{ticket.reference} not assigned in Tech (round_robin): "
                              "no active, available agent in the team"]


# ------------------------------------------------------------ least loaded


def test_least_loaded_picks_the_agent_with_fewest_open_tickets(db, agents, customer):
    ann, ben, cy = agents
    for owner, count in ((ann, 2), (ben, 1), (cy, 3)):
        for i in range(count):
            services.update_ticket(open_ticket(customer, None, f"{owner.name} {i}"), owner, assignee_id=owner.id)
    done = open_ticket(customer, None, "Solved")
    services.update_ticket(done, ben, assignee_id=ben.id, status="resolved")  # not open: not counted
    team = make_team(db, "Tech", "least_loaded", agents)

    first = open_ticket(customer, team)
    assert first.assignee_id == ben.id
    [event] = assignments(db, first)
    assert event.reason == ("least loaded in Tech: Ben Agent has 1 open "
                            "(open tickets: Ann Agent 2, Ben Agent 1, Cy Agent 3)")
    second = open_ticket(customer, team)
    assert second.assignee_id in (ann.id, ben.id)  # both have 2 now; ties take turns
    third = open_ticket(customer, team)
    assert {second.assignee_id, third.assignee_id} == {ann.id, ben.id}
    assert "has 2 open" in assignments(db, third)[0].reason


def test_least_loaded_respects_the_cap_and_leaves_the_audit_trail_alone(db, agents, customer, assignment_log):
    team = make_team(db, "Tech", "least_loaded", agents[:2], cap=1)
    first, second = open_ticket(customer, team), open_ticket(customer, team)
    assert {first.assignee_id, second.assignee_id} == {agents[0].id, agents[1].id}
    third = open_ticket(customer, team)
    assert third.assignee_id is None and third.team_id == team.id
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.ticket_id == third.id)).all()
    assert actions == ["created"]
    assert assignment_log == [f"{third.reference} not assigned in Tech (least_loaded): every available agent "
                              "is at the cap of 1 open tickets (Ann Agent, Ben Agent)"]


def test_manual_and_teamless_tickets_are_not_assigned(db, agents, customer):
    team = make_team(db, "Tech", "manual", agents)
    manual = open_ticket(customer, team)
    loose = open_ticket(customer, None)
    assert manual.assignee_id is None and loose.assignee_id is None
    assert assignments(db, manual) == [] and assignments(db, loose) == []
    assert db.session.get(Team, team.id).rr_counter == 0


def test_a_ticket_with_an_assignee_is_left_alone(db, agents, customer):
    from helpdesk.assignment import helpdesk_route_ticket

    ann, ben, _ = agents
    team = make_team(db, "Tech", "round_robin", agents)
    ticket = open_ticket(customer, team)
    assert ticket.assignee_id == ann.id
    services.update_ticket(ticket, ben, assignee_id=ben.id)
    assert helpdesk_route_ticket(ticket=ticket, message=ticket.messages[0]) is None
    assert db.session.get(Team, team.id).rr_counter == 1


# ---------------------------------------------------------------- plugins


def test_a_plugins_route_answer_overrides_the_core(app, db, agents, make_user, customer):
    ann, ben, cy = agents
    vip = make_user("agent", name="Vera VIP")
    team = make_team(db, "Tech", "round_robin", agents)
    plugin = make_plugin("vip_router", helpdesk_route_ticket=lambda ticket: Route(
        assignee_id=vip.id, reason="VIP customers go to Vera") if "VIP" in ticket.subject else None)
    manager(app).register(plugin, "vip_router")

    vip_ticket = open_ticket(customer, team, "VIP: broken")
    assert vip_ticket.assignee_id == vip.id and vip_ticket.team_id == team.id  # no team in the answer
    assert [e.reason for e in assignments(db, vip_ticket)] == ["VIP customers go to Vera"]
    assert db.session.get(Team, team.id).rr_counter == 0  # the core was not asked

    normal = open_ticket(customer, team, "Plain question")  # the plugin says None: the core decides
    assert normal.assignee_id == ann.id
    assert assignments(db, normal)[0].reason.startswith("round robin in Tech: turn 1")


def test_a_plugin_that_picks_only_the_team_leaves_the_agent_to_the_teams_strategy(app, db, agents, customer):
    ann, _ben, _cy = agents
    billing = make_team(db, "Billing", "round_robin", agents)
    plugin = make_plugin("topic_router", helpdesk_route_ticket=lambda ticket: Route(
        team_id=billing.id, reason="invoices go to Billing") if "invoice" in ticket.subject else None)
    manager(app).register(plugin, "topic_router")

    ticket = open_ticket(customer, None, "Wrong invoice")
    assert ticket.team_id == billing.id and ticket.assignee_id == ann.id
    assert assignments(db, ticket)[0].reason.startswith("round robin in Billing: turn 1")


# ----------------------------------------------------------- availability


@pytest.fixture
def toggle_page(app):
    assert "availability" in app.blueprints  # the core's module registers its page like a plugin


def test_agents_set_themselves_away_and_back(app, db, client, login, agents, customer, toggle_page):
    ann = agents[0]
    team = make_team(db, "Tech", "round_robin", agents[:2])
    login(client, ann)
    dashboard = client.get("/dashboard")
    assert "Available" in text(dashboard.text, id="availability-state")

    away = client.post("/me/availability", headers={"Referer": "http://localhost/queue?status=open"})
    assert away.status_code == 302 and away.headers["Location"] == "/queue?status=open"
    page = client.get("/dashboard")
    assert "You are away: no new tickets are assigned to you." in alerts(page.text)
    assert "Away" in text(page.text, id="availability-state")
    assert attributes(page.text, id="availability")[0]["data-available"] == "no"
    db.session.expire_all()
    assert db.session.get(User, ann.id).available is False

    tickets = [open_ticket(customer, team, f"T{i}") for i in range(3)]
    assert {t.assignee_id for t in tickets} == {agents[1].id}  # Ann is skipped while away

    back = client.post("/me/availability", follow_redirects=True)  # no referrer: the dashboard
    assert back.request.path == "/dashboard"
    assert "You are available again." in alerts(back.text)
    db.session.expire_all()
    assert db.session.get(User, ann.id).available is True


def test_availability_redirect_never_leaves_the_site(client, login, agent, toggle_page):
    login(client, agent)
    for referrer in ("https://evil.example/phish", "http://localhost//evil.example/x", "javascript:alert(1)"):
        answer = client.post("/me/availability", headers={"Referer": referrer})
        assert answer.headers["Location"] == "/dashboard", referrer


def test_availability_needs_staff_and_a_csrf_token(app, db, client, login, customer, agent, toggle_page):
    assert client.post("/me/availability").status_code == 302  # anonymous: to the sign-in page
    login(client, customer)
    assert client.post("/me/availability").status_code == 404
    assert client.get("/me/availability").status_code in (404, 405)
    login(client, agent)
    assert client.post("/me/availability", data={}, csrf=False).status_code == 400
    assert client.post("/me/availability", data={"csrf_token": "forged"}, csrf=False).status_code == 400
    db.session.expire_all()
    assert db.session.get(User, agent.id).available is True


# ------------------------------------------------------------------ admin


@pytest.fixture
def boss(client, login, admin):
    login(client, admin)
    return client


def test_admin_team_form_saves_strategy_cap_and_business_hours(boss, db, agent):
    hours = BusinessHours(name="Office hours", schedule={"1": [["09:00", "17:00"]]})
    db.session.add(hours)
    db.session.commit()
    form = boss.get("/admin/teams/new")
    options = texts(form.text, tag="option")
    assert "Round robin among available members" in options and "Office hours" in options
    saved = boss.post("/admin/teams/new", data={
        "name": "Tech", "lead_id": "", "members": [str(agent.id)], "assignment_strategy": "least_loaded",
        "max_open_per_agent": "5", "business_hours_id": str(hours.id)}, follow_redirects=True)
    assert "Saved team Tech." in alerts(saved.text)
    assert "Least loaded at most 5 open each" in text(saved.text, cls="team-strategy")
    team = db.session.scalar(select(Team))
    assert (team.assignment_strategy, team.max_open_per_agent, team.business_hours_id) == (
        "least_loaded", 5, hours.id)

    edit = boss.get(f"/admin/teams/{team.id}")
    selected = [a.get("value") for a in attributes(edit.text, tag="option") if "selected" in a]
    assert {"least_loaded", str(hours.id)} <= set(selected)
    assert attributes(edit.text, id="max_open_per_agent")[0]["value"] == "5"

    zero = boss.post(f"/admin/teams/{team.id}", data={
        "name": "Tech", "lead_id": "", "assignment_strategy": "round_robin", "max_open_per_agent": "0",
        "business_hours_id": ""})
    assert zero.status_code == 422
    assert "Number must be between 1 and 10000." in field_errors(zero.text)
    bogus = boss.post(f"/admin/teams/{team.id}", data={
        "name": "Tech", "lead_id": "", "assignment_strategy": "sometimes", "business_hours_id": "999"})
    assert bogus.status_code == 422 and "Not a valid choice." in field_errors(bogus.text)
    unknown_hours = boss.post(f"/admin/teams/{team.id}", data={
        "name": "Tech", "lead_id": "", "assignment_strategy": "manual", "business_hours_id": "999"})
    assert unknown_hours.status_code == 422
    assert "Choose business hours from the list." in field_errors(unknown_hours.text)
    db.session.expire_all()
    assert (team.assignment_strategy, team.max_open_per_agent) == ("least_loaded", 5)

    cleared = boss.post(f"/admin/teams/{team.id}", data={
        "name": "Tech", "lead_id": "", "assignment_strategy": "manual", "max_open_per_agent": "",
        "business_hours_id": ""}, follow_redirects=True)
    assert text(cleared.text, cls="team-strategy") == "Manual"
    db.session.expire_all()
    assert (team.assignment_strategy, team.max_open_per_agent, team.business_hours_id) == ("manual", None, None)


def test_admin_user_form_toggles_available(boss, db, agent):
    form = boss.get(f"/admin/users/{agent.id}")
    assert "checked" in attributes(form.text, id="available")[0]
    data = {"name": agent.name, "email": agent.email, "role": "agent", "password": "", "active": "y"}
    boss.post(f"/admin/users/{agent.id}", data=data)  # the box unticked: away
    db.session.expire_all()
    assert db.session.get(User, agent.id).available is False
    assert "checked" not in attributes(boss.get(f"/admin/users/{agent.id}").text, id="available")[0]
    boss.post(f"/admin/users/{agent.id}", data={**data, "available": "y"})
    db.session.expire_all()
    assert db.session.get(User, agent.id).available is True

    boss.post("/admin/users/new", data={"name": "Nia New", "email": "nia@example.test", "role": "agent",
                                        "password": "a long password", "active": "y"})
    assert db.session.scalar(select(User.available).where(User.email == "nia@example.test")) is False


# ------------------------------------------------------------ concurrency

PER_PROCESS = 15


def _create_tickets(uri: str, instance: str, team_id: int, customer_id: int, label: str, count: int,
                    barrier, results) -> None:
    """Child process: its own app and connections; waits for the other, then opens tickets."""
    try:
        from helpdesk import create_app
        from helpdesk.extensions import db
        from helpdesk.models import User

        app = create_app({"SQLALCHEMY_DATABASE_URI": uri, "INSTANCE_PATH": instance, "TESTING": True,
                          "JOBS_IMMEDIATE": True, "SECRET_KEY": "x"})
        with app.app_context():
            customer = db.session.get(User, customer_id)
            barrier.wait(timeout=60)
            ids = [services.create_ticket(customer, f"{label} {i}", "Concurrent.", team_id=team_id).id
                   for i in range(count)]
            db.session.remove()
            db.engine.dispose()
        results.put((label, ids, None))
    except BaseException as exc:  # report to the parent rather than dying silently
        results.put((label, [], f"{type(exc).__name__}: {exc}"))


def run_two_processes(app, tmp_path, team: Team, customer: User, other_team: Team | None = None
                      ) -> dict[str, list[int]]:
    """Two processes open PER_PROCESS tickets each at the same time (the second in ``other_team``)."""
    from helpdesk.extensions import db

    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    team_ids, customer_id = (team.id, (other_team or team).id), customer.id
    db.session.commit()  # hold no transaction (and no lock) while the children write
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(2), ctx.Queue()
    processes = [ctx.Process(target=_create_tickets, args=(
        uri, str(tmp_path / label), team_id, customer_id, label, PER_PROCESS, barrier, results))
        for label, team_id in zip(("one", "two"), team_ids, strict=True)]
    for process in processes:
        process.start()
    outcome = [results.get(timeout=120) for _ in processes]
    for process in processes:
        process.join(timeout=30)
    errors = [f"{label}: {error}" for label, _, error in outcome if error]
    assert not errors, errors
    assert all(p.exitcode == 0 for p in processes)
    return {label: ids for label, ids, _ in outcome}


def test_round_robin_is_fair_under_concurrent_creation(app, db, tmp_path, agents, customer):
    team = make_team(db, "Tech", "round_robin", agents)
    created = run_two_processes(app, tmp_path, team, customer)

    tickets = list(db.session.scalars(select(Ticket).where(Ticket.team_id == team.id)))
    assert len(tickets) == 2 * PER_PROCESS and all(len(ids) == PER_PROCESS for ids in created.values())
    counts = Counter(t.assignee_id for t in tickets)
    assert set(counts) == {a.id for a in agents}
    assert max(counts.values()) - min(counts.values()) <= 1
    # Every turn was handed out exactly once, and consecutive turns went to different agents.
    turns = {}
    for ticket in tickets:
        [event] = assignments(db, ticket)
        turns[int(re.search(r"turn (\d+)", event.reason).group(1))] = ticket.assignee_id
    assert sorted(turns) == list(range(1, 2 * PER_PROCESS + 1))
    assert all(turns[n] != turns[n + 1] for n in range(1, 2 * PER_PROCESS))
    db.session.expire_all()
    assert db.session.get(Team, team.id).rr_counter == 2 * PER_PROCESS


def test_least_loaded_is_correct_under_concurrent_creation(app, db, tmp_path, agents, customer):
    ann = agents[0]
    for i in range(2):  # Ann starts with two open tickets of another queue
        services.update_ticket(open_ticket(customer, None, f"Earlier {i}"), ann, assignee_id=ann.id)
    base, extra = divmod(2 + 2 * PER_PROCESS, 3)
    cap = base + 1  # room for everybody, but only just
    team = make_team(db, "Tech", "least_loaded", agents, cap=cap)
    run_two_processes(app, tmp_path, team, customer)

    tickets = list(db.session.scalars(select(Ticket).where(Ticket.team_id == team.id)))
    assert len(tickets) == 2 * PER_PROCESS and all(t.assignee_id for t in tickets)
    open_counts = Counter(db.session.scalars(select(Ticket.assignee_id).where(
        Ticket.assignee_id.is_not(None), Ticket.status.in_(("new", "open", "pending")))))
    assert sorted(open_counts.values()) == [base] * (3 - extra) + [base + 1] * extra  # differ by at most 1
    assert max(open_counts.values()) <= cap


def test_least_loaded_cap_holds_under_concurrent_creation(app, db, tmp_path, agents, customer):
    cap = PER_PROCESS // 2
    team = make_team(db, "Tech", "least_loaded", agents, cap=cap)
    run_two_processes(app, tmp_path, team, customer)

    tickets = list(db.session.scalars(select(Ticket).where(Ticket.team_id == team.id)))
    counts = Counter(t.assignee_id for t in tickets)
    assert counts == {**{a.id: cap for a in agents}, None: 2 * PER_PROCESS - 3 * cap}


def test_the_cap_holds_across_teams_sharing_agents(app, db, tmp_path, agents, customer):
    cap = PER_PROCESS // 2
    first = make_team(db, "Tech", "least_loaded", agents, cap=cap)
    second = make_team(db, "Billing", "round_robin", agents, cap=cap)
    run_two_processes(app, tmp_path, first, customer, other_team=second)

    counts = Counter(db.session.scalars(select(Ticket.assignee_id)))
    assert counts == {**{a.id: cap for a in agents}, None: 2 * PER_PROCESS - 3 * cap}


def test_plugins_choose_an_agent_by_a_strategy_other_than_the_teams(db, agents, customer):
    from helpdesk.plugin_api import choose_agent

    ann, ben, cy = agents
    for _ in range(2):
        services.update_ticket(open_ticket(customer, None, "Ann's"), ann, assignee_id=ann.id)
    team = make_team(db, "Tech", "manual", agents)  # the team itself assigns nobody
    ticket = open_ticket(customer, team)
    assert ticket.assignee_id is None
    picked = choose_agent(ticket, team, "least_loaded")
    assert picked.assignee_id in (ben.id, cy.id) and picked.reason.startswith("least loaded in Tech")
    turns = [choose_agent(ticket, team, "round_robin").assignee_id for _ in range(3)]
    assert sorted(turns) == sorted(a.id for a in agents)  # one turn each
    with pytest.raises(ValueError):
        choose_agent(ticket, team, "manual")
