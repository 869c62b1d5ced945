"""Who may use each route of the surveys plugin (loaded by tests/test_access_matrix.py).

The survey pages behind a link (``/s/<survey_token>...``) are public: the signed token is
the permission, so a visitor who is not signed in and staff get through. The one refusal
is a signed-in customer who is not the invitation's customer (403): the matrix's token
belongs to customer_a, so customer_b is refused there.
"""
from __future__ import annotations

from datetime import timedelta

PUBLIC = {"anonymous", "customer_a", "customer_b", "agent", "admin"}
LINK_HOLDERS = {"anonymous", "customer_a", "agent", "admin"}  # not another signed-in customer
CUSTOMERS = {"customer_a", "customer_b"}
STAFF = {"agent", "admin"}
ADMIN = {"admin"}

RULES: dict[str, set[str]] = {
    "surveys.static": PUBLIC,
    "surveys.answer": LINK_HOLDERS,
    "surveys.comment": LINK_HOLDERS,
    "surveys.unsubscribe_page": LINK_HOLDERS,
    "surveys.feedback": CUSTOMERS,
    "surveys.report": STAFF,
    "surveys.report_csv": STAFF,
    "surveys.cases": STAFF,
    "surveys.case": STAFF,
    "surveys.admin": ADMIN,
    "surveys.type_edit": ADMIN,
}


def values(world: dict) -> dict:
    """A sent CSAT invitation for customer_a's ticket (its link) and a follow-up case."""
    from helpdesk_surveys.models import SurveyFollowUp, SurveyInvitation, SurveyResponse
    from helpdesk_surveys.tokens import make_token

    from helpdesk.plugin_api import db, utcnow

    ticket = world["ticket"]
    now = utcnow()
    invitation = SurveyInvitation(kind="csat", purpose="resolution", customer_id=ticket.customer_id,
                                  ticket_id=ticket.id, status="sent", send_after=now, sent_at=now,
                                  expires_at=now + timedelta(days=14))
    db.session.add(invitation)
    db.session.flush()
    response = SurveyResponse(invitation_id=invitation.id, kind="csat", score=2, comment="Slow.",
                              customer_id=ticket.customer_id, ticket_id=ticket.id, source="survey")
    db.session.add(response)
    db.session.flush()
    case = SurveyFollowUp(response_id=response.id, customer_id=ticket.customer_id, ticket_id=ticket.id,
                          status="open", due_at=now + timedelta(hours=48))
    db.session.add(case)
    db.session.commit()
    return {"survey_token": make_token(invitation.id, ticket.customer_id), "case_id": case.id,
            "survey_kind": "csat"}
