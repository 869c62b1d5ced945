"""Background jobs: the follow-up questions, sent when they fall due; the nightly retraining of the detector."""
from __future__ import annotations

from helpdesk.plugin_api import Ticket, crontab, db_session, periodic_task, task
from helpdesk_complaints.notices import acknowledge, send_due_followups, send_pending_acks


@task(plugin="complaints")
def send_acknowledgement_job(ticket_id: int) -> bool:
    """Queued after a new complaint's commit: send its pending acknowledgement (claimed first,
    so a late duplicate of this job, or the sweeper, sends nothing). True when it went out."""
    ticket = db_session().get(Ticket, ticket_id)
    if ticket is None:
        return False
    ack = acknowledge(ticket, detected=False)
    return ack is not None and ack.status == "sent"


@periodic_task(crontab(minute="*/10"), plugin="complaints")
def send_followups_job() -> int:
    """Every ten minutes on the worker: send the follow-ups that are due, and acknowledgements
    whose job was lost (skipped while disabled)."""
    return send_due_followups() + send_pending_acks()


@periodic_task(crontab(minute="40", hour="3"), plugin="complaints")
def retrain_detector_job() -> int | None:
    """Nightly on the worker: learn from the agents' corrections (from 50 labels, both classes).

    The new model is used only when it beats the built-in detector on held-back labels; the
    admin page (Complaints → Detector) shows its scores and switches back. Returns the model's id.
    """
    from helpdesk_complaints.learning import retrain

    record = retrain()
    return record.id if record is not None else None
