"""Who may use each route of the recognition plugin (given to the core's access matrix by the
``helpdesk_access_rules`` hook).

Every page is for agents and admins (team-scoped agents too: no page shows a ticket's
content); light agents and customers get 404 and visitors the sign-in page. The
milestone-badge settings are for admins. Privacy between agents (private recognition) is
not a route rule: the pages answer and leave out what the viewer may not see, which
``test_recognition_privacy.py`` checks page by page.
"""
from __future__ import annotations

# Every role of the core's access matrix (see the ``helpdesk_access_rules`` hook).
ROLES = ("anonymous", "customer_a", "customer_b", "agent", "team_agent", "light_agent", "admin")
PUBLIC = set(ROLES)
AGENTS = {"agent", "team_agent", "admin"}  # pages about no ticket in particular (light agents: none)
IN_SCOPE = {"agent", "admin"}  # pages about the world's ticket, which is outside the team agent's teams
ADMIN = {"admin"}

RULES: dict[str, set[str]] = {
    "recognition.static": PUBLIC,
    "recognition.feed_index": AGENTS,
    "recognition.profile": AGENTS,
    "recognition.give": AGENTS,
    "recognition.react": AGENTS,
    "recognition.notifications_read": AGENTS,
    "recognition.leaderboard": AGENTS,
    "recognition.preferences": AGENTS,
    "recognition.badges": ADMIN,
}


def values(world: dict) -> dict:
    """A public kudos from the admin to the agent, for the reaction route."""
    from helpdesk.plugin_api import db_session
    from helpdesk_recognition.models import Kudos

    users = world["users"]
    kudos = Kudos(recipient_id=users["agent"].id, giver_id=users["admin"].id, source="peer",
                  message="Thanks for covering my shift.")
    db_session().add(kudos)
    db_session().commit()
    return {"kudos_id": kudos.id}
