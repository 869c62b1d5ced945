"""Who may use each route of the coaching plugin (the core's access matrix reads it).

Reviews are private to the reviewed agent, the reviewer, the agent's team leads and admins:
in the matrix's world the agent is reviewed by the admin, so the team-scoped agent (another
agent) gets 404 on the review, its reply and read routes and on the agent's growth page.
Reviewing needs a solved ticket the reader leads (or peer reviews switched on); the world's
agent is the assignee (nobody reviews their own ticket), so only the admin gets through.
"""
from __future__ import annotations

ROLES = ("anonymous", "customer_a", "customer_b", "agent", "team_agent", "light_agent", "admin")
PUBLIC = set(ROLES)
AGENTS = {"agent", "team_agent", "admin"}
PRIVATE = {"agent", "admin"}  # the reviewed agent and an admin; not another agent
ADMIN = {"admin"}

RULES: dict[str, set[str]] = {
    "coaching.static": PUBLIC,
    "coaching.index": AGENTS,
    "coaching.new_review": ADMIN,
    "coaching.review": PRIVATE,
    "coaching.reply": PRIVATE,
    "coaching.mark_read": PRIVATE,
    "coaching.suggested": ADMIN,
    "coaching.growth": PRIVATE,
    "coaching.set_focus": ADMIN,
    "coaching.panel": PRIVATE,
    "coaching.compare": PRIVATE,  # the world's solved ticket has no team: out of the team agent's scope
    "coaching.scorecard": ADMIN,
    "coaching.scorecard_item": ADMIN,
}


def values(world: dict) -> dict:
    """A solved ticket of customer A worked by the agent, reviewed by the admin."""
    from helpdesk.plugin_api import db_session, services
    from helpdesk_coaching import reviews
    from helpdesk_coaching.models import Review, ReviewScore

    users = world["users"]
    ticket = services.create_ticket(users["customer_a"], "Coaching probe", "Please help.")
    services.update_ticket(ticket, None, assignee_id=users["agent"].id)
    services.add_message(ticket, users["agent"], "Hi, done.")
    services.update_ticket(ticket, None, status="resolved")
    item = reviews.active_items()[0]
    review = Review(ticket_id=ticket.id, agent_id=users["agent"].id, reviewer_id=users["admin"].id,
                    overall="Good.", suggestion="Greet by name.", scores=[ReviewScore(item_id=item.id, score=2)])
    db_session().add(review)
    db_session().commit()
    return {"coaching_ticket": ticket.id, "coaching_review": review.id, "coaching_item": item.id}
