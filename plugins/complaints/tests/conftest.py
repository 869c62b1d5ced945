"""Fixtures of the complaints plugin's tests."""
from __future__ import annotations

import pytest


@pytest.fixture
def team_factory(db):
    from helpdesk.plugin_api import Team

    def make(name: str, members: list, strategy: str = "manual", lead=None, cap: int | None = None) -> Team:
        team = Team(name=name, assignment_strategy=strategy, max_open_per_agent=cap,
                    lead_id=lead.id if lead is not None else None)
        db.session.add(team)
        team.members = list(members)
        db.session.commit()
        return team

    return make


@pytest.fixture
def rule_factory(db):
    from helpdesk_complaints.models import ComplaintRule

    def make(name: str, conditions: dict, actions: dict, position: int | None = None, stop: bool = False,
             active: bool = True) -> ComplaintRule:
        if position is None:
            position = 10 * (len(db.session.query(ComplaintRule).all()) + 1)
        rule = ComplaintRule(name=name, conditions=conditions, actions=actions, position=position, stop=stop,
                             active=active)
        db.session.add(rule)
        db.session.commit()
        return rule

    return make
