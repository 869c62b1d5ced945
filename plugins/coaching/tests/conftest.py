"""Fixtures for the coaching plugin's tests: a team led by Lee, agents Ana and Bo, Cy in no team,
and solved tickets Ana worked."""
from __future__ import annotations

import pytest


@pytest.fixture
def people(make_user, db):
    from helpdesk.plugin_api import Team

    lee = make_user("agent", name="Lee Lead", email="lee@acme.test")
    ana = make_user("agent", name="Ana Agent", email="ana@acme.test")
    bo = make_user("agent", name="Bo Bright", email="bo@acme.test")
    cy = make_user("agent", name="Cy Colleague", email="cy@acme.test")
    team = Team(name="Support", lead_id=lee.id)
    team.members = [lee, ana, bo]
    db.session.add(team)
    db.session.commit()
    return {"lee": lee, "ana": ana, "bo": bo, "cy": cy, "team": team}


@pytest.fixture
def solve(people, customer):
    """``solve(subject, agent=ana)``: a ticket from Carla, answered by the agent and resolved."""
    from helpdesk.plugin_api import services

    def make(subject: str = "Printer on fire", agent=None, reply: str = "Hi Carla, unplug it please.", **fields):
        agent = agent or people["ana"]
        ticket = services.create_ticket(customer, subject, "The printer in room 4 is smoking.", **fields)
        services.update_ticket(ticket, None, assignee_id=agent.id)
        services.add_message(ticket, agent, reply)
        services.update_ticket(ticket, None, status="resolved")
        return ticket

    return make


@pytest.fixture
def as_user(app, login):
    """``as_user(user)``: a test client signed in as ``user`` (CSRF tokens filled in)."""
    from helpdesk.testing import CSRFClient

    def sign_in(user):
        app.test_client_class = CSRFClient
        return login(app.test_client(), user)

    return sign_in

