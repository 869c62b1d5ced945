"""Demo data: the demo's tickets plus generated portal feedback over ten weeks, grouped into
themes, with one theme rising this week (so ``make run`` shows themes, a trend and an alarm)."""
from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import select, update

from helpdesk.plugin_api import Message, Ticket, User, db_session, utcnow
from helpdesk_insights import engine, store
from helpdesk_insights.corpus import generate
from helpdesk_insights.models import InsightsText

RISING = "app crashes"


def seed(rng: random.Random) -> str:
    tickets = list(db_session().scalars(select(Ticket).order_by(Ticket.id)))
    for ticket in tickets:
        first = db_session().scalar(select(Message).where(Message.ticket_id == ticket.id).order_by(Message.id).limit(1))
        if first is not None:
            store.ingest_ticket(ticket, first)
    customers = list(db_session().scalars(select(User).where(User.role == "customer").order_by(User.id)))
    if not customers:
        return "no customers to give feedback"
    now = utcnow()
    rows = []
    for index, (theme, text) in enumerate(generate(seed=rng.randint(0, 10**6), per_theme=20)):
        recent = theme == RISING and rng.random() < 0.6  # most of it this week: a rising theme
        when = now - timedelta(days=rng.uniform(0, 6.5) if recent else rng.uniform(0, 70))
        customer = rng.choice(customers)
        rows.append(InsightsText(reference=f"demo:{index}", source="portal", customer_id=customer.id,
                                 channel=rng.choice(("web", "web", "email", "chat")), text=text,
                                 sentiment=engine.sentiment(text), created_at=when))
    db_session().add_all(rows)
    db_session().commit()
    # Spread the demo tickets' texts over the same weeks.
    for row_id in db_session().scalars(select(InsightsText.id).where(InsightsText.source.in_(("ticket", "complaint")))):
        db_session().execute(update(InsightsText).where(InsightsText.id == row_id)
                             .values(created_at=now - timedelta(days=rng.uniform(0, 70))))
    db_session().commit()
    model = store.recompute()
    return f"{model.texts} texts in {model.themes} themes"
