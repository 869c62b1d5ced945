"""Times are shown in the reader's zone: the user's own, else the site's."""
from __future__ import annotations

from datetime import datetime

from flask_login import login_user

from helpdesk.services.settings import save_site_settings
from helpdesk.timezones import format_local


def test_user_zone_wins_over_site_zone(app, db, agent):
    moment = datetime(2030, 1, 15, 12, 0)  # naive UTC
    save_site_settings({"timezone": "America/New_York"})
    db.session.commit()
    assert format_local(moment, None) == "2030-01-15 07:00"
    agent.timezone = "Europe/Berlin"
    assert format_local(moment, agent) == "2030-01-15 13:00"
    assert format_local(moment, agent, "%d %b %Y %H:%M") == "15 Jan 2030 13:00"
    assert format_local(None, agent) == ""


def test_localtime_filter_uses_signed_in_user(app, db, agent):
    agent.timezone = "Asia/Tokyo"
    db.session.commit()
    with app.test_request_context():
        login_user(agent)
        rendered = app.jinja_env.from_string("{{ t|localtime }}|{{ t|localtime('%H') }}").render(
            t=datetime(2030, 1, 15, 12, 0))
    assert rendered == "2030-01-15 21:00|21"
