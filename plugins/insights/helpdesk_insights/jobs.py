"""Background jobs: a new text finds its theme (seconds after the commit), themes are
re-grouped every night, rising themes are looked for every hour."""
from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from helpdesk.plugin_api import User, crontab, db_session, get_by_id, notify_agents, periodic_task, task, utcnow
from helpdesk_insights import analytics, store
from helpdesk_insights.config import setting
from helpdesk_insights.models import InsightsAlert

log = logging.getLogger(__name__)
KIND = "insights.rising"


@task(plugin="insights")
def assign_text(text_id: int) -> None:
    store.assign(text_id)


@periodic_task(crontab(minute="40", hour="2"), plugin="insights")
def nightly_recompute() -> None:
    model = store.recompute()
    log.info("insights: %s texts grouped into %s themes", model.texts, model.themes)


@task(plugin="insights")
def recompute_now() -> None:
    store.recompute()


@periodic_task(crontab(minute="7"), plugin="insights")
def hourly_rising() -> None:
    check_rising()


def leads() -> list[User]:
    chosen = get_by_id(User, setting("rising_notify"))
    if chosen is not None:
        return [chosen]
    return list(db_session().scalars(select(User).where(User.role == "admin", User.active.is_(True))))


def check_rising(now: datetime | None = None) -> list[InsightsAlert]:
    """Raise each rising theme once a week: an alert row and a notification to the lead."""
    now = now or utcnow()
    year, week, _ = now.isocalendar()
    raised = []
    for stats in analytics.rising_themes(now):
        alert = InsightsAlert(theme_id=stats.theme.id, week=f"{year}-W{week:02d}", recent=stats.recent,
                              baseline=round(stats.baseline, 2), created_at=now)
        try:
            with db_session().begin_nested():
                db_session().add(alert)
            db_session().commit()
        except IntegrityError:  # raised already this week
            db_session().rollback()
            continue
        text = (f"Theme “{stats.theme.name}” is rising: {stats.recent} in the last 7 days, "
                f"usually {stats.baseline:.1f} a week.")
        alert.notified = notify_agents(KIND, leads(), text=text)
        db_session().commit()
        raised.append(alert)
    return raised
