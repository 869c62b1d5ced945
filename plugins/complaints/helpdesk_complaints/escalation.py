"""A complaint missed its clock: reassign, raise the priority, tell the team lead. Once per breach.

The core fires ``helpdesk_sla_breached`` once per target and cycle; a unique row
(ticket, target kind, cycle) in ``complaints_escalations`` makes it exactly once here too,
even if the hook were delivered twice.
"""
from __future__ import annotations

import logging

from sqlalchemy.exc import IntegrityError

from helpdesk.plugin_api import (
    PRIORITIES,
    PRIORITY_NAMES,
    Team,
    Text,
    Ticket,
    User,
    audit,
    choose_agent,
    db_session,
    english_text,
    joined,
    lazy_gettext,
    services,
    words_of,
)
from helpdesk_complaints.config import setting
from helpdesk_complaints.flags import flag_of
from helpdesk_complaints.models import ComplaintAlert, ComplaintEscalation
from helpdesk_complaints.notices import email_alerts

log = logging.getLogger(__name__)

# Parts of the summary and the lead's alert, stored as words (read in each reader's language).
KIND_LABELS = {"first_response": lazy_gettext("first response"), "next_response": lazy_gettext("next response"),
               "periodic_update": lazy_gettext("update to the customer"), "resolution": lazy_gettext("resolution")}


def _available(person: User | None) -> bool:
    return person is not None and person.is_active and person.is_staff and person.available


def _new_assignee(ticket: Ticket, team: Team | None) -> tuple[int | None, Text]:
    """The team lead (when the setting says so and they are available), else the least loaded."""
    if team is None:
        return None, lazy_gettext("no team to reassign within")
    if setting("escalate_to") == "lead" and _available(team.lead):
        if team.lead_id == ticket.assignee_id:
            return None, lazy_gettext("already with the team lead %(name)s", name=team.lead.name)
        return team.lead_id, lazy_gettext("the team lead %(name)s", name=team.lead.name)
    route = choose_agent(ticket, team, "least_loaded")
    if route is None or route.assignee_id is None:
        return None, lazy_gettext("nobody available in %(team)s", team=team.name)
    if route.assignee_id == ticket.assignee_id:
        return None, lazy_gettext("the assignee is already the least loaded")
    return route.assignee_id, route.reason


def _priority_label(priority: str) -> Text:
    return PRIORITY_NAMES.get(priority, priority)


def escalate(ticket: Ticket, target) -> ComplaintEscalation | None:
    """``helpdesk_sla_breached`` for complaint tickets (see the module doc)."""
    flag = flag_of(ticket.id)
    if flag is None or not flag.active or not ticket.is_open:
        return None
    kind_label = KIND_LABELS.get(target.kind, target.kind)
    escalation = ComplaintEscalation(ticket_id=ticket.id, target_kind=target.kind, cycle=target.cycle)
    db_session().add(escalation)
    try:
        db_session().commit()
    except IntegrityError:  # escalated already for this breach
        db_session().rollback()
        return None
    team = db_session().get(Team, ticket.team_id) if ticket.team_id else None
    old_priority = ticket.priority
    rank = PRIORITIES.index(old_priority) if old_priority in PRIORITIES else 1
    new_priority = PRIORITIES[min(rank + 1, len(PRIORITIES) - 1)]
    assignee_id, how = _new_assignee(ticket, team)
    changes: dict = {}
    if new_priority != old_priority:
        changes["priority"] = new_priority
    if assignee_id is not None:
        changes["assignee_id"] = assignee_id
    db_session().commit()  # end the assignment lookup's transaction (and its locks) before changing
    refused = None
    try:
        done = services.update_ticket(ticket, None, **changes) if changes else {}
    except services.ServiceError as exc:  # another plugin's workflow refused it: still tell the lead
        done, refused = {}, exc.message
    assignee = db_session().get(User, assignee_id) if assignee_id else None
    reassigned = "assignee_id" in done and assignee is not None
    # Names and references stay plain parameters: words_text renders them into a str that the
    # page escapes (a lazy text printed by Jinja would not be).
    parts: list[Text] = [lazy_gettext("reassigned to %(name)s (%(how)s)", name=assignee.name, how=how)
                         if reassigned else lazy_gettext("not reassigned: %(how)s", how=how)]
    if "priority" in done:
        parts.append(lazy_gettext("priority %(old)s → %(new)s", old=_priority_label(old_priority),
                                  new=_priority_label(new_priority)))
    if refused:
        parts.append(lazy_gettext("change refused: %(error)s", error=refused))
    lead = team.lead if team is not None and team.lead is not None and team.lead.is_active else None
    if lead is None:
        fallback = setting("supervisor")
        lead = db_session().get(User, fallback) if fallback else None
    if lead is not None:
        parts.append(lazy_gettext("%(name)s notified", name=lead.name))
    summary = lazy_gettext("Complaint %(target)s target missed (cycle %(cycle)s): %(parts)s", target=kind_label,
                           cycle=str(target.cycle), parts=joined(parts))
    english = english_text(summary) or ""
    escalation = db_session().get(ComplaintEscalation, escalation.id)
    escalation.summary, escalation.words = english[:500], words_of(summary)
    audit(ticket, None, "escalated", target.kind, None, new_priority, reason=summary)
    alert = None
    if lead is not None:
        text = lazy_gettext("Complaint %(reference)s missed its %(target)s target", reference=ticket.reference,
                            target=kind_label)
        alert = ComplaintAlert(user_id=lead.id, ticket_id=ticket.id, kind="escalation",
                               text=(english_text(text) or "")[:500], words=words_of(text))
        db_session().add(alert)
    db_session().commit()
    if alert is not None:
        email_alerts(ticket.id)
    log.info("%s: %s", ticket.reference, english)
    return escalation
