"""Who may use each route of the complaints plugin (loaded by tests/test_access_matrix.py)."""
from __future__ import annotations

PUBLIC = {"anonymous", "customer_a", "customer_b", "agent", "admin"}
STAFF = {"agent", "admin"}
ADMIN = {"admin"}

RULES: dict[str, set[str]] = {
    "complaints.dashboard": STAFF,
    "complaints.dismiss_alert": {"agent"},  # an alert belongs to one person (the world's is the agent's)
    "complaints.rules": ADMIN,
    "complaints.rule_edit": ADMIN,
    "complaints.rule_move": ADMIN,
    "complaints.rule_delete": ADMIN,
    "complaints.explain_ticket": STAFF,
    "complaints.step": STAFF,
    "complaints.remedy": STAFF,
    "complaints.clear": STAFF,
    "complaints.flag": STAFF,
    "complaints.followup": PUBLIC,  # the signed link is the credential
}


def values(world: dict) -> dict:
    """A rule, an alert for the agent and a follow-up link, for the URL placeholders."""
    from helpdesk_complaints.models import ComplaintAlert, ComplaintFollowUp, ComplaintRule
    from helpdesk_complaints.notices import followup_token

    from helpdesk.plugin_api import db, utcnow

    ticket = world["ticket"]
    rule = ComplaintRule(name="Access", position=10, conditions={"words": ["never-matches-xyz"]},
                         actions={"priority": "high"})
    alert = ComplaintAlert(user_id=world["users"]["agent"].id, ticket_id=ticket.id, kind="rule", text="Look")
    followup = ComplaintFollowUp(ticket_id=ticket.id, due_at=utcnow(), sent_at=utcnow())  # links exist once sent
    db.session.add_all([rule, alert, followup])
    db.session.commit()
    return {"rule_id": rule.id, "alert_id": alert.id, "followup_token": followup_token(followup)}
