"""The complaint playbook: acknowledge → listen and apologise → remedy → resolve → follow up.

Steps are rows in ``complaints_steps`` (no row = not done). Some are done by themselves (the
acknowledgement is sent, the ticket is resolved, the customer answers the follow-up); the
agent ticks the others on the ticket page. Resolving a complaint needs the remedy step: what
was offered, or why nothing was (``helpdesk_ticket_change_check``).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select

from helpdesk.plugin_api import Ticket, User, audit, db_session, lazy_gettext, utcnow
from helpdesk_complaints.flags import flag_of
from helpdesk_complaints.models import STEP_LABELS, STEPS, ComplaintStep
from helpdesk_complaints.notices import cancel_followup, mark_step, schedule_followup

MANUAL_STEPS = ("acknowledge", "listen", "follow_up")
DONE_STATUSES = ("resolved", "closed")
REMEDY_NEEDED = lazy_gettext("This is a complaint: record the remedy offered (or why there is none) in the "
                             "complaint playbook before resolving it.")


@dataclass
class StepState:
    step: str
    label: str
    done: ComplaintStep | None

    @property
    def manual(self) -> bool:
        return self.step in MANUAL_STEPS


def steps(ticket: Ticket, loaded: list[ComplaintStep] | None = None) -> list[StepState]:
    """The playbook's steps for ``ticket`` (``loaded``: its step rows, already read for the page)."""
    found = loaded if loaded is not None else db_session().scalars(
        select(ComplaintStep).where(ComplaintStep.ticket_id == ticket.id))
    rows = {s.step: s for s in found}
    return [StepState(step, STEP_LABELS[step], rows.get(step)) for step in STEPS]


def set_step(ticket: Ticket, step: str, agent: User, done: bool) -> bool:
    """Tick or untick a manual step; True when something changed."""
    if step not in MANUAL_STEPS:
        raise ValueError(step)
    if done:
        changed = mark_step(ticket.id, step, agent)
    else:
        changed = bool(db_session().execute(delete(ComplaintStep).where(  # type: ignore[attr-defined]  # a CursorResult
            ComplaintStep.ticket_id == ticket.id, ComplaintStep.step == step)).rowcount)
    if changed:
        # Stored as words: every agent reads it in the history in their own language.
        reason = (lazy_gettext("%(step)s marked done", step=STEP_LABELS[step]) if done
                  else lazy_gettext("%(step)s marked not done", step=STEP_LABELS[step]))
        audit(ticket, agent, "playbook", step, None if done else "done", "done" if done else None, reason=reason)
    db_session().commit()
    return changed


def remedy(ticket: Ticket) -> ComplaintStep | None:
    return db_session().scalar(select(ComplaintStep).where(ComplaintStep.ticket_id == ticket.id,
                                                         ComplaintStep.step == "remedy"))


def record_remedy(ticket: Ticket, agent: User, text: str, *, no_remedy: bool) -> ComplaintStep:
    """What was offered (or why nothing was); replaces an earlier entry."""
    row = remedy(ticket) or ComplaintStep(ticket_id=ticket.id, step="remedy")
    old = row.note or None
    row.note, row.no_remedy, row.done_by_id, row.done_at = text.strip(), no_remedy, agent.id, utcnow()
    db_session().add(row)
    audit(ticket, agent, "playbook", "remedy", old, ("no remedy: " if no_remedy else "") + row.note,
          reason=lazy_gettext("remedy recorded"))
    db_session().commit()
    return row


def change_check(ticket: Ticket, changes: dict[str, tuple], actor: User | None) -> str | None:
    """Refuse resolving an active complaint with an empty remedy step (staff only: a customer
    marking their own ticket solved, or an automatic closure, is never refused)."""
    new_status = (changes.get("status") or (None, None))[1]
    if new_status not in DONE_STATUSES or actor is None or not actor.is_staff:
        return None
    flag = flag_of(ticket.id)
    if flag is None or not flag.active:
        return None
    if remedy(ticket) is None:
        return str(REMEDY_NEEDED)
    return None


def on_status_change(ticket: Ticket, old: str, new: str, actor: User | None, now: datetime | None = None) -> None:
    """Resolved → the resolve step is done and a follow-up is scheduled; reopened → undone."""
    flag = flag_of(ticket.id)
    if flag is None or not flag.active:
        return
    if new in DONE_STATUSES and old not in DONE_STATUSES:
        by_customer = actor is not None and not actor.is_staff
        mark_step(ticket.id, "resolve", actor if actor is not None and actor.is_staff else None,
                  note=lazy_gettext("marked solved by the customer") if by_customer else "", when=now)
        db_session().commit()
        schedule_followup(ticket, now=now)
    elif old in DONE_STATUSES and new not in DONE_STATUSES:
        db_session().execute(delete(ComplaintStep).where(ComplaintStep.ticket_id == ticket.id,
                                                       ComplaintStep.step == "resolve"))
        db_session().commit()
        cancel_followup(ticket)
