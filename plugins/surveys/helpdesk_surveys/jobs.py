"""The plugin's jobs. Both do nothing while the plugin is disabled (the core's ``task`` wrapper)."""
from __future__ import annotations

from helpdesk.plugin_api import crontab, periodic_task
from helpdesk_surveys.scheduling import schedule_relationship
from helpdesk_surveys.sending import send_due


@periodic_task(crontab(minute="*"), plugin="surveys")
def send_due_invitations() -> dict[str, int]:
    """Every minute: send the invitations whose time has come (claimed atomically)."""
    return send_due()


@periodic_task(crontab(minute="17", hour="3"), plugin="surveys")
def schedule_relationship_surveys() -> int:
    """Every night: schedule relationship surveys (NPS) for active customers not asked lately."""
    return schedule_relationship()
