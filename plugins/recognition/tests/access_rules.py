"""Who may use each route of the recognition plugin (loaded by tests/test_access_matrix.py).

Every page is for staff (agents and admins); customers get 404 and visitors the sign-in
page. The milestone-badge settings are for admins. Privacy between agents (private
recognition) is not a route rule: the pages answer and leave out what the viewer may not
see, which ``test_recognition_privacy.py`` checks page by page.
"""
from __future__ import annotations

PUBLIC = {"anonymous", "customer_a", "customer_b", "agent", "admin"}
STAFF = {"agent", "admin"}
ADMIN = {"admin"}

RULES: dict[str, set[str]] = {
    "recognition.static": PUBLIC,
    "recognition.feed_index": STAFF,
    "recognition.profile": STAFF,
    "recognition.give": STAFF,
    "recognition.react": STAFF,
    "recognition.notifications_read": STAFF,
    "recognition.leaderboard": STAFF,
    "recognition.preferences": STAFF,
    "recognition.badges": ADMIN,
}


def values(world: dict) -> dict:
    """A public kudos from the admin to the agent, for the reaction route."""
    from helpdesk_recognition.models import Kudos

    from helpdesk.plugin_api import db

    users = world["users"]
    kudos = Kudos(recipient_id=users["agent"].id, giver_id=users["admin"].id, source="peer",
                  message="Thanks for covering my shift.")
    db.session.add(kudos)
    db.session.commit()
    return {"kudos_id": kudos.id}
