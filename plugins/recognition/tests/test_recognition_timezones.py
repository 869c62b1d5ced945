"""The leaderboard's periods are the viewer's calendar (issue 17: time zones everywhere)."""
from __future__ import annotations

from datetime import datetime

import pytest

pytestmark = pytest.mark.plugins("recognition")


def test_a_viewer_in_tokyo_gets_tokyos_week_and_month(app, db, make_user):
    from helpdesk_recognition.stats import viewers_period

    lead = make_user("agent", name="Kei Lead", timezone="Asia/Tokyo")
    sunday_evening_utc = datetime(2025, 2, 2, 20, 0)  # Monday 3 February 05:00 in Tokyo
    week = viewers_period("week", sunday_evening_utc, 0, lead)
    assert week.label == "Week of 03 Feb 2025 – 09 Feb 2025"
    assert (week.start, week.end) == (datetime(2025, 2, 2, 15, 0), datetime(2025, 2, 9, 15, 0))  # in UTC
    assert viewers_period("month", datetime(2025, 1, 31, 16, 0), 0, lead).label == "February 2025"
    utc_viewer = make_user("agent", name="Uma UTC")
    assert viewers_period("week", sunday_evening_utc, 0, utc_viewer).label == "Week of 27 Jan 2025 – 02 Feb 2025"
