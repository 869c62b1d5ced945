"""The plugin's jobs. They do nothing while the plugin is disabled (the core's ``task`` wrapper)."""
from __future__ import annotations

from sqlalchemy import select

from helpdesk.plugin_api import crontab, db_session, periodic_task, task, utcnow
from helpdesk_surveys.models import SurveyInvitation
from helpdesk_surveys.scheduling import schedule_relationship
from helpdesk_surveys.sending import send_due


def _send_and_continue() -> dict[str, int]:
    counts = send_due()
    # A run stops after its time budget so no job holds a worker for long; when invitations
    # are still due, the next run starts now rather than at the next minute.
    more = db_session().scalar(select(SurveyInvitation.id).where(
        SurveyInvitation.status == "scheduled", SurveyInvitation.send_after <= utcnow()).limit(1))
    if more is not None and any(counts.values()):
        continue_sending()
    return counts


@task(plugin="surveys")
def continue_sending() -> dict[str, int]:
    """Go on with a long run of invitations (10,000 relationship surveys at night)."""
    return _send_and_continue()


@periodic_task(crontab(minute="*"), plugin="surveys")
def send_due_invitations() -> dict[str, int]:
    """Every minute: send the invitations whose time has come (claimed atomically)."""
    return _send_and_continue()


@periodic_task(crontab(minute="17", hour="3"), plugin="surveys")
def schedule_relationship_surveys() -> int:
    """Every night: schedule relationship surveys (NPS) for active customers not asked lately."""
    return schedule_relationship()
