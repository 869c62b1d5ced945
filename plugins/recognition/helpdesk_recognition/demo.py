"""Demo data: a few weeks of kudos, ratings and badges, so a newcomer's feed and leaderboard are not empty."""
from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import func, select

from helpdesk.plugin_api import Ticket, User, db_session, utcnow
from helpdesk_recognition.config import value_tags
from helpdesk_recognition.models import Award, Kudos, Notification, Rating

PEER_MESSAGES = [
    "Thanks for taking over my queue while I was out sick.",
    "Your write-up of the outage made the follow-ups easy.",
    "You stayed calm with a very upset customer. I learnt a lot listening in.",
    "That macro you built saves me ten minutes a day.",
    "Thanks for pairing on the billing escalation.",
    "You spotted the duplicate tickets before they piled up.",
]
CUSTOMER_QUOTES = [
    "Fixed in minutes and explained clearly. Thank you!",
    "Patient, friendly and it works now.",
    "Best support experience I've had this year.",
    "You went above and beyond, much appreciated.",
]


def seed(rng: random.Random) -> str:
    if db_session().scalar(select(func.count()).select_from(Kudos)):
        return "kudos already present, nothing added"
    agents = list(db_session().scalars(select(User).where(User.role == "agent", User.active.is_(True))
                                     .order_by(User.id)))
    if len(agents) < 2:
        return "fewer than two agents, no kudos"
    now, values = utcnow(), value_tags()
    peer = 0
    for _ in range(12):
        giver, recipient = rng.sample(agents, 2)
        db_session().add(Kudos(recipient_id=recipient.id, giver_id=giver.id, source="peer",
                             message=rng.choice(PEER_MESSAGES), value_tag=rng.choice([None, *values]),
                             created_at=now - timedelta(hours=rng.randint(1, 24 * 21))))
        peer += 1
    resolved = list(db_session().scalars(select(Ticket).where(
        Ticket.status.in_(("resolved", "closed")), Ticket.assignee_id.is_not(None))
        .order_by(Ticket.id.desc()).limit(8)))
    for ticket in resolved:
        at = now - timedelta(hours=rng.randint(1, 24 * 14))
        db_session().add(Rating(user_id=ticket.assignee_id, ticket_id=ticket.id, kind="csat", score=5, created_at=at))
        db_session().add(Kudos(recipient_id=ticket.assignee_id, giver_id=ticket.customer_id, source="rating", score=5,
                             ticket_id=ticket.id, message=rng.choice(CUSTOMER_QUOTES), created_at=at))
    for agent_id in sorted({t.assignee_id for t in resolved}):
        db_session().add(Award(user_id=agent_id, badge="five_star", detail="your first five-star rating",
                             created_at=now - timedelta(days=1)))
    db_session().flush()
    first = agents[0]  # the demo's agent@example.com: something new on the dashboard
    for kudos in db_session().scalars(select(Kudos).where(Kudos.recipient_id == first.id).limit(2)):
        who = kudos.giver.name if kudos.giver else "Someone"
        db_session().add(Notification(user_id=first.id, kudos_id=kudos.id, text=f"{who} gave you kudos."))
    db_session().commit()
    return f"{peer} peer kudos, {len(resolved)} five-star ratings with praise"
