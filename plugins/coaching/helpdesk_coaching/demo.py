"""Demo data: a review of a solved ticket, with a reply and a focus, so `make run` shows coaching at work."""
from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import func, select

from helpdesk.plugin_api import Message, Team, Ticket, User, db_session, utcnow
from helpdesk_coaching import reviews
from helpdesk_coaching.models import Focus, Review, ReviewReply, ReviewScore

COMMENTS = {
    "greeting": "Warm opening with the customer's name.",
    "clarity": "The second reply packs three steps into one sentence; a numbered list would help.",
    "empathy": "You acknowledged the trouble before fixing it. Good.",
    "follow_up": "Say how to come back if the fix does not hold.",
}


def seed(rng: random.Random) -> str:
    if db_session().scalar(select(func.count()).select_from(Review)):
        return "reviews already present, nothing added"
    items = reviews.active_items()
    solved = list(db_session().scalars(select(Ticket).where(
        Ticket.status.in_(("resolved", "closed")), Ticket.assignee_id.is_not(None))
        .order_by(Ticket.id.desc()).limit(40)))
    admin = db_session().scalar(select(User).where(User.role == "admin", User.active.is_(True)).order_by(User.id))
    if not solved or admin is None:
        return "no solved ticket or no admin: no reviews"
    # The first agent's tickets first (the demo's agent@example.com signs in and finds a review).
    first_agent = db_session().scalar(select(User).where(User.role == "agent", User.active.is_(True)).order_by(User.id))
    solved.sort(key=lambda t: (t.assignee_id != (first_agent.id if first_agent else None), -t.id))
    made = 0
    for ticket in solved[:4]:
        reviewer = _lead_of(ticket.assignee_id) or admin
        if reviewer.id == ticket.assignee_id:
            reviewer = admin
        if reviewer.id == ticket.assignee_id:
            continue
        messages = list(db_session().scalars(select(Message.id).where(Message.ticket_id == ticket.id)
                                             .order_by(Message.id)))
        scores = []
        for item in items:
            score = rng.choice([2, 2, 2, 1, 1, 0, None])
            scores.append(ReviewScore(item_id=item.id, score=score, comment=COMMENTS.get(item.key, ""),
                                      message_id=messages[-1] if item.key == "clarity" and messages else None))
        review = Review(ticket_id=ticket.id, agent_id=ticket.assignee_id, reviewer_id=reviewer.id, scores=scores,
                        overall="A friendly, correct answer that solved the problem on the first reply.",
                        suggestion="Break long instructions into numbered steps.",
                        created_at=utcnow() - timedelta(days=made * 9 + rng.randint(0, 3)))
        db_session().add(review)
        made += 1
        if made == 2:
            db_session().flush()
            db_session().add(ReviewReply(review_id=review.id, author_id=ticket.assignee_id,
                                         body="Thanks! I'll try numbered steps on the next how-to."))
            review.read_at = utcnow()
    if first_agent is not None:
        clarity = next((i for i in items if i.key == "clarity"), None)
        db_session().add(Focus(agent_id=first_agent.id, lead_id=(_lead_of(first_agent.id) or admin).id,
                               item_id=clarity.id if clarity else None, note="numbered steps for how-to answers",
                               checkin_on=(utcnow() + timedelta(days=14)).date()))
    db_session().commit()
    return f"{made} conversation reviews, a focus"


def _lead_of(agent_id: int | None) -> User | None:
    if agent_id is None:
        return None
    for team in db_session().scalars(select(Team).where(Team.lead_id.is_not(None)).order_by(Team.id)):
        if any(m.id == agent_id for m in team.members) and team.lead_id != agent_id:
            return team.lead
    return None
