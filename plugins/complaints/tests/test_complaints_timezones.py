"""The weekly complaints chart counts in the viewer's weeks (issue 17: days for a viewer in a
far zone): a complaint on Sunday evening UTC is Monday morning in Tokyo."""
from __future__ import annotations

from datetime import datetime

import pytest
from complaints_helpers import COMPLAINT
from helpdesk_complaints import stats
from helpdesk_complaints.models import ComplaintFlag
from sqlalchemy import select

from helpdesk.plugin_api import Ticket, services

pytestmark = pytest.mark.plugins("complaints")


def test_weeks_are_the_viewers(db, customer, agent):
    ticket = services.create_ticket(customer, "Late order", COMPLAINT)
    flag = db.session.scalar(select(ComplaintFlag).where(ComplaintFlag.ticket_id == ticket.id))
    flag.flagged_at = datetime(2030, 1, 13, 20, 0)  # Sunday 20:00 UTC = Monday 14 Jan 05:00 in Tokyo
    db.session.commit()
    now = datetime(2030, 1, 15, 12, 0)
    visible = select(Ticket.id)

    in_utc = {w.label: w.flagged for w in stats.weekly(visible, weeks=2, now=now, viewer=agent)}
    assert in_utc == {"07 Jan": 1, "14 Jan": 0}
    agent.timezone = "Asia/Tokyo"
    in_tokyo = {w.label: w.flagged for w in stats.weekly(visible, weeks=2, now=now, viewer=agent)}
    assert in_tokyo == {"07 Jan": 0, "14 Jan": 1}
