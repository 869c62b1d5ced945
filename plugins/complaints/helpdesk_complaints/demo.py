"""Demo data: a complaints clock, one routing rule, and a few complaints that go through it."""
from __future__ import annotations

import random

from sqlalchemy import func, select

from helpdesk.plugin_api import SlaPolicy, Team, User, db_session, services
from helpdesk_complaints.models import ComplaintRule

COMPLAINTS = (
    ("Charged twice again", "This is the third time I write about this. I was charged twice for my "
     "subscription and nobody answered. I want a refund now."),
    ("Still not delivered", "My order was supposed to arrive last week and it still has not arrived. "
     "Your tracking page is useless and I am really disappointed."),
    ("Terrible support", "I waited 40 minutes on the phone and was cut off. This is unacceptable."),
)


def seed(rng: random.Random) -> str:
    billing = db_session().scalar(select(Team).where(Team.name == "Billing"))
    if not db_session().scalar(select(SlaPolicy.id).where(SlaPolicy.tag == "complaint")):
        lowest = db_session().scalar(select(func.min(SlaPolicy.position))) or 0
        db_session().add(SlaPolicy(name="Complaints", position=lowest - 10, tag="complaint",
                                 first_response_minutes=60, resolution_minutes=24 * 60,
                                 warn_before_minutes=15, pause_statuses="pending"))
    if billing is not None and not db_session().scalar(select(ComplaintRule.id)):
        db_session().add(ComplaintRule(
            name="Money complaints to Billing", position=10,
            conditions={"is_complaint": True, "words": ["charged", "refund", "invoice"]},
            actions={"team_id": billing.id, "assign": "least_loaded", "acknowledge": True}))
    db_session().commit()
    customers = list(db_session().scalars(select(User).where(User.role == "customer").order_by(User.id).limit(40)))
    for subject, body in COMPLAINTS:
        services.create_ticket(rng.choice(customers), subject, body)
    return f"a complaints SLA policy, a routing rule and {len(COMPLAINTS)} complaints"
