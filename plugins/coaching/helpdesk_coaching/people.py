"""Who leads whom, who may review, and who may read a review: the plugin's one privacy rule.

A review is private to the agent, the reviewer, the agent's team leads (``Team.lead_id`` of a
team the agent belongs to) and admins. Everyone else gets 404, as if it did not exist.
"""
from __future__ import annotations

from sqlalchemy import exists, select

from helpdesk.plugin_api import Team, Ticket, User, can_see_ticket, db_session, get_setting, team_members
from helpdesk_coaching.config import PLUGIN
from helpdesk_coaching.models import Review

SOLVED = ("resolved", "closed")


def leads(user: User, agent_id: int) -> bool:
    """Whether ``user`` is an admin or leads a team ``agent_id`` belongs to."""
    if user.is_admin:
        return True
    if not user.is_staff:
        return False
    return bool(db_session().scalar(select(exists().where(
        Team.lead_id == user.id, team_members.c.team_id == Team.id, team_members.c.user_id == agent_id))))


def is_a_lead(user: User) -> bool:
    return user.is_admin or (user.is_staff and bool(db_session().scalar(select(exists().where(
        Team.lead_id == user.id)))))


def led_agents(user: User) -> list[User]:
    """The active agents ``user`` coaches: every agent for an admin, their teams' members for a lead."""
    query = select(User).where(User.role.in_(("agent", "admin")), User.active.is_(True),
                               User.merged_into_id.is_(None))
    if not user.is_admin:
        query = query.where(User.id.in_(
            select(team_members.c.user_id).join(Team, Team.id == team_members.c.team_id)
            .where(Team.lead_id == user.id)))
    return [u for u in db_session().scalars(query.order_by(User.name)) if u.id != user.id]


def may_review(user: User, ticket: Ticket) -> str | None:
    """None when ``user`` may review ``ticket``; otherwise why not (for the page)."""
    if not user.is_staff or not can_see_ticket(user, ticket):
        return "not found"
    if ticket.status not in SOLVED:
        return "Only solved tickets are reviewed: this one is still open."
    if ticket.assignee_id is None:
        return "This ticket has no assignee to review."
    if ticket.assignee_id == user.id:
        return "You cannot review your own ticket."
    if leads(user, ticket.assignee_id) or get_setting(PLUGIN, "peer_reviews"):
        return None
    return "not found"


def can_read(user: User, review: Review) -> bool:
    if not user.is_authenticated or not user.is_staff:
        return False
    return user.id in (review.agent_id, review.reviewer_id) or leads(user, review.agent_id)


def readable_reviews(user: User):
    """A WHERE clause: the reviews ``user`` may read (the same rule as ``can_read``)."""
    if user.is_admin:
        return Review.id.is_not(None)
    led = select(team_members.c.user_id).join(Team, Team.id == team_members.c.team_id).where(Team.lead_id == user.id)
    return (Review.agent_id == user.id) | (Review.reviewer_id == user.id) | Review.agent_id.in_(led)


def reviewed_tickets(user: User) -> set[int]:
    """The tickets ``user`` has reviewed (for blind calibration)."""
    return set(db_session().scalars(select(Review.ticket_id).where(Review.reviewer_id == user.id)))


def hidden_for(user: User, review: Review, reviewed: set[int]) -> bool:
    """Blind calibration: a lead or peer who has not yet reviewed this ticket does not see others'
    reviews of it (so two reviewers judge it independently). The agent, the reviewer and admins
    always see it; ``reviewed`` is ``reviewed_tickets(user)``."""
    if user.is_admin or user.id in (review.agent_id, review.reviewer_id) or review.ticket_id in reviewed:
        return False
    return review.ticket.status in SOLVED and review.ticket.assignee_id == review.agent_id
