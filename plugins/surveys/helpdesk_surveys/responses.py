"""Recording answers, comments and other plugins' feedback; closing the loop on low scores."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from helpdesk.plugin_api import Team, Ticket, User, db_session, gettext, notify_agents, services, utcnow
from helpdesk_surveys.config import setting
from helpdesk_surveys.models import SCALES, SurveyFollowUp, SurveyInvitation, SurveyResponse
from helpdesk_surveys.scheduling import schedule_resurvey

MAX_COMMENT = 5000


class AnswerError(ValueError):
    """A problem the customer can fix (a score out of range, an empty comment)."""


def is_low(kind: str, score: int | None) -> bool:
    """CSAT 1–2 and NPS 0–6 (detractors) start a follow-up case."""
    if score is None:
        return False
    return score <= 2 if kind == "csat" else kind == "nps" and score <= 6


def is_good(kind: str, score: int | None) -> bool:
    """Satisfied (CSAT 4–5) or promoter (NPS 9–10)."""
    if score is None:
        return False
    return score >= 4 if kind == "csat" else kind == "nps" and score >= 9


def check_score(kind: str, raw: object) -> int:
    low, high = SCALES[kind]
    try:
        score = int(str(raw))
    except (TypeError, ValueError):
        raise AnswerError(gettext("Choose a score from %(low)s to %(high)s.", low=low, high=high)) from None
    if not low <= score <= high:
        raise AnswerError(gettext("Choose a score from %(low)s to %(high)s.", low=low, high=high))
    return score


def _ticket_of(invitation: SurveyInvitation) -> Ticket | None:
    ticket = invitation.ticket
    # Customers can be merged: feedback on a ticket must come from its current customer.
    return ticket if ticket is not None and ticket.customer_id == invitation.customer_id else None


def record_answer(invitation: SurveyInvitation, raw_score: object,
                  now: datetime | None = None) -> tuple[SurveyResponse, str]:
    """Store the answer (one response per invitation; a different later answer updates it).

    Returns the response and ``"new"``, ``"changed"`` or ``"same"`` (a replay: nothing
    is recorded and no hook fires).
    """
    now = now or utcnow()
    score = check_score(invitation.kind, raw_score)
    response = invitation.response
    if response is not None and response.score == score:
        return response, "same"
    ticket = _ticket_of(invitation)
    outcome = "changed" if response is not None else "new"
    if response is None:
        response = SurveyResponse(invitation_id=invitation.id, kind=invitation.kind, customer_id=invitation.customer_id,
                                  source="survey", comment="", created_at=now)
        db_session().add(response)
    response.score = score
    response.updated_at = now
    # The ticket as it is now (agent, team, channel), for the reports.
    response.ticket_id = ticket.id if ticket is not None else invitation.ticket_id
    response.agent_id = ticket.assignee_id if ticket is not None else invitation.agent_id
    response.team_id = ticket.team_id if ticket is not None else invitation.team_id
    response.channel = ticket.channel if ticket is not None else invitation.channel
    if invitation.answered_at is None:
        invitation.answered_at = now
    db_session().commit()
    if is_low(response.kind, score) and _case_of(response) is None:
        open_case(response, now)
    services.record_feedback(invitation.customer, invitation.kind, score=score, comment=response.comment,
                             ticket=ticket, source="survey", reference=f"survey:{invitation.id}",
                             updated=outcome == "changed")
    return response, outcome


def add_comment(invitation: SurveyInvitation, comment: str, now: datetime | None = None) -> SurveyResponse:
    response = invitation.response
    if response is None:
        raise AnswerError(gettext("Choose a score first; then you can add a comment."))
    comment = (comment or "").replace("\r\n", "\n").strip()
    if not comment:
        raise AnswerError(gettext("Write a comment, or just close this page: your rating is saved."))
    if len(comment) > MAX_COMMENT:
        limit = f"{MAX_COMMENT:,}"
        raise AnswerError(gettext("Your comment is too long (%(limit)s characters at most).", limit=limit))
    response.comment = comment
    response.updated_at = now or utcnow()
    db_session().commit()
    # Fired again with the comment: recognition reads "5 with a comment" as praise.
    services.record_feedback(invitation.customer, response.kind, score=response.score, comment=comment,
                             ticket=_ticket_of(invitation), source="survey", reference=f"survey:{invitation.id}",
                             updated=True)
    return response


def store_external(ticket: Ticket | None, customer: User, feedback: dict) -> SurveyResponse | None:
    """Feedback from other sources (the portal form, the complaints plugin's check) as a response."""
    kind = feedback.get("kind")
    if feedback.get("source") == "survey" or kind not in ("csat", "nps", "comment"):
        return None
    now = utcnow()
    response = SurveyResponse(
        invitation_id=None, kind=kind, score=feedback.get("score"), comment=feedback.get("comment") or "",
        customer_id=customer.id, source=str(feedback.get("source") or "web")[:40], created_at=now, updated_at=now)
    if ticket is not None:
        response.ticket_id, response.agent_id = ticket.id, ticket.assignee_id
        response.team_id, response.channel = ticket.team_id, ticket.channel
    db_session().add(response)
    db_session().commit()
    return response


# ---------------------------------------------------------------- follow-up cases


def _case_of(response: SurveyResponse) -> SurveyFollowUp | None:
    return db_session().scalar(select(SurveyFollowUp).where(SurveyFollowUp.response_id == response.id))


def case_owner(ticket: Ticket | None) -> User | None:
    """The ticket team's lead, else the ticket's agent, else the fallback setting, else an admin."""
    candidates: list[int | None] = []
    if ticket is not None:
        team = db_session().get(Team, ticket.team_id) if ticket.team_id else None
        candidates += [team.lead_id if team else None, ticket.assignee_id]
    candidates.append(setting("followup_owner"))
    for user_id in candidates:
        user = db_session().get(User, user_id) if user_id else None
        if user is not None and user.is_staff and user.is_active:
            return user
    return db_session().scalar(select(User).where(User.role == "admin", User.active.is_(True),
                                                User.merged_into_id.is_(None)).order_by(User.id).limit(1))


def open_case(response: SurveyResponse, now: datetime) -> SurveyFollowUp:
    ticket = response.ticket
    owner = case_owner(ticket)
    case = SurveyFollowUp(response_id=response.id, customer_id=response.customer_id, ticket_id=response.ticket_id,
                          owner_id=owner.id if owner else None, status="open", remedy="", outcome="",
                          due_at=now + timedelta(hours=setting("followup_due_hours")), created_at=now)
    db_session().add(case)
    db_session().commit()
    customer = response.customer
    if owner is not None:
        about = f" on {ticket.reference}" if ticket is not None else ""
        who = customer.name if customer is not None else "A customer"
        notify_agents("surveys.followup_case", [owner], ticket=ticket,
                      text=f"Follow-up case for you: {who} gave a low {response.kind.upper()} score{about}.")
    if customer is not None:
        who = owner.name if owner is not None else "our team"
        about = f" about {ticket.reference}" if ticket is not None else ""
        text = (f"Thank you, {customer.first_name or customer.name} — {who} will get in touch with you"
                f"{about} personally. We are sorry we did not get it right, and we want to put it right.\n")
        services.notify_customer(customer, "Thank you for telling us", text, ticket=ticket)
    return case


def close_case(case: SurveyFollowUp, actor: User, now: datetime | None = None) -> SurveyInvitation:
    """Close the case and schedule the re-survey of the customer."""
    now = now or utcnow()
    if case.status == "closed":
        raise AnswerError(gettext("This case is already closed."))
    if not case.outcome.strip():
        raise AnswerError(gettext("Record the outcome before closing the case."))
    case.status, case.closed_at, case.closed_by_id = "closed", now, actor.id
    response = case.response
    invitation = schedule_resurvey(response.kind, case.customer_id, case.ticket, now)
    case.resurvey_invitation_id = invitation.id
    db_session().commit()
    return invitation
