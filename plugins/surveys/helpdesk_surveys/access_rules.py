"""Who may use each route of the surveys plugin (given to the core's access matrix by the
``helpdesk_access_rules`` hook).

The survey pages behind a link (``/s/<survey_token>...``) are public: the signed token is
the permission, so a visitor who is not signed in and staff get through. The one refusal
is a signed-in customer who is not the invitation's customer (403): the matrix's token
belongs to customer_a, so customer_b is refused there.
"""
from __future__ import annotations

from datetime import timedelta

# Every role of the core's access matrix (see the ``helpdesk_access_rules`` hook).
ROLES = ("anonymous", "customer_a", "customer_b", "agent", "team_agent", "light_agent", "admin")
PUBLIC = set(ROLES)
AGENTS = {"agent", "team_agent", "admin"}  # pages about no ticket in particular (light agents: none)
IN_SCOPE = {"agent", "admin"}  # pages about the world's ticket, which is outside the team agent's teams
ADMIN = {"admin"}
# Not another signed-in customer, nor a light agent (a colleague who is not the customer and
# has no business answering or previewing a customer's survey).
LINK_HOLDERS = PUBLIC - {"customer_b", "light_agent"}
CUSTOMERS = {"customer_a", "customer_b"}

RULES: dict[str, set[str]] = {
    "surveys.static": PUBLIC,
    "surveys.answer": LINK_HOLDERS,
    "surveys.comment": LINK_HOLDERS,
    "surveys.unsubscribe_page": LINK_HOLDERS,
    "surveys.feedback": CUSTOMERS,
    "surveys.report": AGENTS,
    "surveys.report_csv": AGENTS,
    "surveys.cases": AGENTS,
    "surveys.case": IN_SCOPE,
    "surveys.admin": ADMIN,
    "surveys.type_edit": ADMIN,
    "surveys_api.answers": AGENTS,  # /api/v1/surveys/answers (scoped like the tickets they are about)
}


def values(world: dict) -> dict:
    """A sent CSAT invitation for customer_a's ticket (its link) and a follow-up case."""
    from helpdesk.plugin_api import db_session, utcnow
    from helpdesk_surveys.models import SurveyFollowUp, SurveyInvitation, SurveyResponse
    from helpdesk_surveys.tokens import make_token

    ticket = world["ticket"]
    now = utcnow()
    invitation = SurveyInvitation(kind="csat", purpose="resolution", customer_id=ticket.customer_id,
                                  ticket_id=ticket.id, status="sent", send_after=now, sent_at=now,
                                  expires_at=now + timedelta(days=14))
    db_session().add(invitation)
    db_session().flush()
    response = SurveyResponse(invitation_id=invitation.id, kind="csat", score=2, comment="Slow.",
                              customer_id=ticket.customer_id, ticket_id=ticket.id, source="survey")
    db_session().add(response)
    db_session().flush()
    case = SurveyFollowUp(response_id=response.id, customer_id=ticket.customer_id, ticket_id=ticket.id,
                          status="open", due_at=now + timedelta(hours=48))
    db_session().add(case)
    db_session().commit()
    return {"survey_token": make_token(invitation.id, ticket.customer_id), "case_id": case.id,
            "survey_kind": "csat"}
