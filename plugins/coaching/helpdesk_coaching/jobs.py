"""The check-in reminder: when a focus's agreed check-in date comes, the lead and the agent hear of it."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update

from helpdesk.plugin_api import User, crontab, db_session, periodic_task, utcnow
from helpdesk_coaching.config import PLUGIN
from helpdesk_coaching.models import Focus


def due_checkins(now: datetime | None = None) -> int:
    """Remind once per focus whose check-in day has begun (in the site's zone); returns how many."""
    from helpdesk.plugin_api import notify_agents, site_timezone

    now = now or utcnow()
    zone = site_timezone()
    from datetime import UTC

    today = now.replace(tzinfo=UTC).astimezone(zone).date()
    sent = 0
    candidates = list(db_session().scalars(select(Focus).where(
        Focus.closed_at.is_(None), Focus.reminded_at.is_(None), Focus.checkin_on.is_not(None),
        Focus.checkin_on <= today).order_by(Focus.id)))
    for focus in candidates:
        # Claim it first, so two workers running the job never remind twice.
        claimed = db_session().execute(update(Focus).where(Focus.id == focus.id, Focus.reminded_at.is_(None))
                                       .values(reminded_at=now)).rowcount  # type: ignore[attr-defined]
        db_session().commit()
        if not claimed:
            continue
        agent = db_session().get(User, focus.agent_id)
        lead = db_session().get(User, focus.lead_id) if focus.lead_id else None
        what = focus.text or "your focus"
        if agent is not None:
            notify_agents("coaching.checkin", [agent], text=f"Check-in today on your focus: {what}.")
            if lead is not None:
                notify_agents("coaching.checkin", [lead],
                              text=f"Check-in today with {agent.name} on their focus: {what}.")
        sent += 1
    return sent


@periodic_task(crontab(minute="7", hour="*"), plugin=PLUGIN)
def checkin_reminders() -> int:
    return due_checkins()

