"""Who may use each route of the insights plugin (the core's access matrix reads it).

Themes quote tickets of every team, so readers are staff who see every ticket (the
team-scoped agent and light agents are refused). Theme edits are for admins; the action
and the follow-up for leads (admins and team leads: the matrix's agent leads no team).
The opt-out page behind a signed link is public: the link is the permission.
"""
from __future__ import annotations

ROLES = ("anonymous", "customer_a", "customer_b", "agent", "team_agent", "light_agent", "admin")
PUBLIC = set(ROLES)
READERS = {"agent", "admin"}
ADMIN = {"admin"}

RULES: dict[str, set[str]] = {
    "insights.index": READERS,
    "insights.themes_csv": READERS,
    "insights.recompute": ADMIN,
    "insights.theme": READERS,
    "insights.rename": ADMIN,
    "insights.hide": ADMIN,
    "insights.pin": ADMIN,
    "insights.merge": ADMIN,
    "insights.split": ADMIN,
    "insights.action": ADMIN,
    "insights.follow_up": ADMIN,
    "insights.at_risk": READERS,
    "insights.optout": PUBLIC,
    "insights.customer_health": READERS,
    "insights.static": PUBLIC,
}


def values(world: dict) -> dict:
    """A theme with one text of customer_a's ticket, and customer_a's opt-out link."""
    from helpdesk.plugin_api import db_session
    from helpdesk_insights.followups import optout_token
    from helpdesk_insights.models import InsightsText, InsightsTheme

    ticket = world["ticket"]
    theme = InsightsTheme(name="Late delivery", key_phrases=["late delivery"], centroid={"late": 1.0})
    db_session().add(theme)
    db_session().flush()
    db_session().add(InsightsText(reference=f"matrix:{ticket.id}", source="ticket", ticket_id=ticket.id,
                                  customer_id=ticket.customer_id, channel="web", text="My parcel is late",
                                  theme_id=theme.id))
    db_session().commit()
    return {"theme_id": theme.id, "optout_token": optout_token(ticket.customer_id)}
