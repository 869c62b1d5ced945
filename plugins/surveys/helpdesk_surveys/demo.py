"""Demo data: survey answers spread over the last months, so the reports have something to show."""
from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import select

from helpdesk.plugin_api import Ticket, db_session, utcnow
from helpdesk_surveys.models import SurveyResponse

NPS_WEIGHTS = (2, 1, 1, 2, 2, 4, 6, 10, 14, 22, 20)  # mostly promoters and passives, some detractors
COMMENTS = {5: ["Quick and friendly, thank you!", "Solved in one reply.", ""],
            4: ["Good, took a day longer than I hoped.", ""],
            3: ["OK in the end.", ""],
            2: ["I had to explain it twice.", ""],
            1: ["Nobody read my first message.", ""]}


def seed(rng: random.Random) -> str:
    tickets = list(db_session().scalars(select(Ticket).where(Ticket.status.in_(("resolved", "closed")))
                                      .order_by(Ticket.id.desc()).limit(120)))
    now = utcnow()
    rows = []
    for ticket in tickets:
        if rng.random() < 0.35:  # not everyone answers
            continue
        score = rng.choices((5, 4, 3, 2, 1), weights=(45, 25, 12, 10, 8))[0]
        when = now - timedelta(days=rng.randint(0, 120), minutes=rng.randint(0, 1440))
        rows.append(SurveyResponse(kind="csat", score=score, comment=rng.choice(COMMENTS[score]),
                                   customer_id=ticket.customer_id, ticket_id=ticket.id, agent_id=ticket.assignee_id,
                                   team_id=ticket.team_id, channel=ticket.channel, source="demo",
                                   created_at=when, day=when.date(), updated_at=when))
    customers = sorted({t.customer_id for t in tickets})[:40]
    for customer_id in customers:
        when = now - timedelta(days=rng.randint(0, 120))
        score = rng.choices(range(11), weights=NPS_WEIGHTS)[0]
        rows.append(SurveyResponse(kind="nps", score=score, customer_id=customer_id, source="demo",
                                   created_at=when, day=when.date(), updated_at=when))
    db_session().add_all(rows)
    db_session().commit()
    return f"{len(rows)} survey answers (CSAT and NPS) over the last four months"
