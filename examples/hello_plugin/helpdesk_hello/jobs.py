"""The plugin's background job. It runs in the worker, inside an app context."""
from __future__ import annotations

import logging

from sqlalchemy import func, select

from helpdesk.plugin_api import crontab, db_session, periodic_task, task
from helpdesk_hello.models import HelloGreeting

log = logging.getLogger(__name__)


def greeting_count() -> int:
    return db_session().scalar(select(func.count()).select_from(HelloGreeting)) or 0


@task(plugin="hello")
def count_greetings() -> int:
    """Count the greetings and log it. Does nothing while the plugin is disabled."""
    count = greeting_count()
    log.info("hello: %d greeting(s) so far", count)
    return count


@periodic_task(crontab(minute="0", hour="*/6"), plugin="hello")
def log_greeting_count() -> None:
    """Every six hours (UTC), the worker logs the count; skipped while the plugin is disabled."""
    log.info("hello: %d greeting(s) in all", greeting_count())
