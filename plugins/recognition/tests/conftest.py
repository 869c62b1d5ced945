"""Fixtures for the recognition plugin's tests: a team with a lead, agents, a worked ticket, SMTP."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
if str(ROOT / "tests") not in sys.path:  # the core's SMTP sink and page-text helpers live in tests/
    sys.path.insert(0, str(ROOT / "tests"))

from smtp_sink import SMTPServer, free_port  # noqa: E402


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def smtp(smtp_port):
    """A real SMTP server (aiosmtpd) the helpdesk delivers to."""
    server = SMTPServer(smtp_port).start()
    yield server
    server.stop()


@pytest.fixture
def app_config(request, smtp_port):
    config = {"EXTERNAL_URL": "https://support.acme.test", "MAIL_FROM": "help@acme.test"}
    if "smtp" in request.fixturenames:
        config.update({"SMTP_HOST": "127.0.0.1", "SMTP_PORT": smtp_port})
    return config


@pytest.fixture
def people(make_user, db):
    """A team "Support" led by Lee, with agents Ana and Bo; Cy is an agent in no team."""
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
def worked_ticket(people, customer):
    """Carla's ticket assigned to Ana, with a public reply from Bo and an internal note from Cy."""
    from helpdesk.plugin_api import services

    ticket = services.create_ticket(customer, "Printer on fire", "The printer in room 4 is smoking.")
    services.update_ticket(ticket, None, assignee_id=people["ana"].id)
    services.add_message(ticket, people["bo"], "Hi Carla, unplug it please; we are on our way.")
    services.add_message(ticket, people["cy"], "Facilities know.", internal=True)
    return ticket
