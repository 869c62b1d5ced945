"""Survey answers and feedback through the REST API (/api/v1/surveys/answers)."""
from __future__ import annotations

import pytest

from helpdesk import services
from helpdesk.models import Team
from helpdesk.services import api_tokens


def _get(client, url, user):
    token = api_tokens.create_token(user, "t", "read", 7)[1]
    return client.get(url, headers={"Authorization": f"Bearer {token}"})


@pytest.mark.plugins("surveys")
def test_answers_are_read_through_the_api_within_scope(client, db, customer, agent, make_user, light_agent):
    team, other = Team(name="Billing"), Team(name="HR")
    db.session.add_all([team, other])
    db.session.commit()
    mine = services.create_ticket(customer, "Invoice", "wrong", team_id=team.id)
    hidden = services.create_ticket(customer, "HR", "private", team_id=other.id)
    services.record_feedback(customer, "csat", score=5, comment="Quick!", ticket=mine)
    services.record_feedback(customer, "csat", score=1, comment="HR secret", ticket=hidden)
    services.record_feedback(customer, "nps", score=9)
    everything = _get(client, "/api/v1/surveys/answers", agent)
    assert everything.status_code == 200
    assert [(a["kind"], a["score"]) for a in everything.json["items"]] == [("nps", 9), ("csat", 1), ("csat", 5)]
    assert everything.json["items"][2]["ticket"] == mine.reference
    page = _get(client, "/api/v1/surveys/answers?kind=csat&limit=1", agent).json
    assert len(page["items"]) == 1 and page["next_cursor"]
    rest = _get(client, f"/api/v1/surveys/answers?kind=csat&cursor={page['next_cursor']}", agent).json
    assert [a["score"] for a in rest["items"]] == [5] and rest["next_cursor"] is None
    scoped = make_user("agent", team_scoped=True)
    team.members.append(scoped)
    db.session.commit()
    # a team-scoped agent: their team's answers; not HR's, nor answers about no ticket
    assert [a["comment"] for a in _get(client, "/api/v1/surveys/answers", scoped).json["items"]] == ["Quick!"]
    assert _get(client, "/api/v1/surveys/answers", customer).status_code == 403
    assert _get(client, "/api/v1/surveys/answers", light_agent).status_code == 403
    assert "/api/v1/surveys/answers" in client.get("/api/v1/openapi.json").json["paths"]


def test_answers_answer_404_while_the_plugin_is_disabled(client, db, agent):
    assert _get(client, "/api/v1/surveys/answers", agent).status_code == 404
