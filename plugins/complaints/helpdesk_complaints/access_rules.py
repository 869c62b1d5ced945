"""Who may use each route of the complaints plugin (given to the core's access matrix by the
``helpdesk_access_rules`` hook)."""
from __future__ import annotations

# Every role of the core's access matrix (see the ``helpdesk_access_rules`` hook).
ROLES = ("anonymous", "customer_a", "customer_b", "agent", "team_agent", "light_agent", "admin")
PUBLIC = set(ROLES)
AGENTS = {"agent", "team_agent", "admin"}  # pages about no ticket in particular (light agents: none)
IN_SCOPE = {"agent", "admin"}  # pages about the world's ticket, which is outside the team agent's teams
ADMIN = {"admin"}

RULES: dict[str, set[str]] = {
    "complaints.dashboard": AGENTS,
    "complaints.dismiss_alert": {"agent"},  # an alert belongs to one person (the world's is the agent's)
    "complaints.rules": ADMIN,
    "complaints.rule_edit": ADMIN,
    "complaints.rule_move": ADMIN,
    "complaints.rule_delete": ADMIN,
    "complaints.detector": ADMIN,
    "complaints.detector_use": ADMIN,
    "complaints.detector_retrain": ADMIN,
    "complaints.detector_sensitivity": ADMIN,
    "complaints.explain_ticket": IN_SCOPE,
    "complaints.step": IN_SCOPE,
    "complaints.remedy": IN_SCOPE,
    "complaints.clear": IN_SCOPE,
    "complaints.flag": IN_SCOPE,
    "complaints.followup": PUBLIC,  # the signed link is the credential
}


def values(world: dict) -> dict:
    """A rule, an alert for the agent and a follow-up link, for the URL placeholders."""
    from helpdesk.plugin_api import db_session, utcnow
    from helpdesk_complaints.models import ComplaintAlert, ComplaintFollowUp, ComplaintRule
    from helpdesk_complaints.notices import followup_token

    ticket = world["ticket"]
    rule = ComplaintRule(name="Access", position=10, conditions={"words": ["never-matches-xyz"]},
                         actions={"priority": "high"})
    alert = ComplaintAlert(user_id=world["users"]["agent"].id, ticket_id=ticket.id, kind="rule", text="Look")
    followup = ComplaintFollowUp(ticket_id=ticket.id, due_at=utcnow(), sent_at=utcnow())  # links exist once sent
    db_session().add_all([rule, alert, followup])
    db_session().commit()
    return {"rule_id": rule.id, "alert_id": alert.id, "followup_token": followup_token(followup)}
