"""Teams: creating and editing them (Admin → Teams), recorded in the admin audit log."""
from __future__ import annotations

from collections.abc import Iterable

from flask_babel import gettext, lazy_gettext
from sqlalchemy import select

import helpdesk.services.admin_audit as admin_audit
from helpdesk.extensions import db
from helpdesk.models import BusinessHours, Team, User
from helpdesk.services.errors import ServiceError

STRATEGIES = ("manual", "round_robin", "least_loaded")
TEAM_AUDIT_FIELDS = ("name", "description", "lead_id", "assignment_strategy", "max_open_per_agent",
                     "business_hours_id")


def _snapshot(team: Team | None) -> dict | None:
    values = admin_audit.snapshot(team, TEAM_AUDIT_FIELDS)
    if values is not None:
        values["members"] = sorted(u.name for u in team.members)
    return values


def save_team(team: Team | None, *, name: str, description: str = "", lead_id: int | None = None,
              members: Iterable[User] = (), assignment_strategy: str = "manual",
              max_open_per_agent: int | None = None, business_hours_id: int | None = None) -> Team:
    """Create (``team=None``) or change a team; the change goes to the admin audit log."""
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise ServiceError(gettext('Enter a team name (120 characters at most).'), field="name")
    if db.session.scalar(select(Team.id).where(Team.name == name, Team.id != (team.id if team else 0))):
        raise ServiceError(gettext('A team with this name already exists.'), field="name")
    if business_hours_id is not None and db.session.get(BusinessHours, business_hours_id) is None:
        raise ServiceError(gettext('Choose business hours from the list.'), field="business_hours_id")
    if lead_id is not None:
        lead = db.session.get(User, lead_id)
        if lead is None or not lead.is_staff:
            raise ServiceError(gettext('Choose the team lead from the list of agents.'), field="lead_id")
    if assignment_strategy not in STRATEGIES:
        raise ServiceError(
            gettext('Unknown assignment strategy %(assignment_strategy)s.',
                    assignment_strategy=repr(assignment_strategy)), field="assignment_strategy")
    before = _snapshot(team)
    team = team or Team(name=name)
    team.name, team.description = name, (description or "").strip()
    team.lead_id = lead_id
    team.members = list(members)
    team.assignment_strategy = assignment_strategy
    team.max_open_per_agent = max_open_per_agent
    team.business_hours_id = business_hours_id
    db.session.add(team)
    db.session.flush()
    audit_target = lazy_gettext("team %(name)s (#%(id)s)", name=team.name, id=team.id)
    admin_audit.record_change("team", audit_target, before, _snapshot(team))
    db.session.commit()
    return team
