"""Background jobs: the follow-up questions, sent when they fall due."""
from __future__ import annotations

from helpdesk.plugin_api import crontab, periodic_task
from helpdesk_complaints.notices import send_due_followups


@periodic_task(crontab(minute="*/10"), plugin="complaints")
def send_followups_job() -> int:
    """Every ten minutes on the worker: send the follow-ups that are due (skipped while disabled)."""
    return send_due_followups()
