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


# ------------------------------------------------------------------ on pages
def _ticket_opened_at(db, ticket, moment: datetime):
    ticket.created_at = moment
    db.session.commit()
    return ticket


def _opened_title(page_text: str) -> str:
    """The absolute time in the title of "opened 3d ago" on the ticket page."""
    import re

    return re.search(r'opened <time datetime="[^"]+" title="([^"]+)"', page_text).group(1)


def test_ticket_page_shows_the_agents_own_time_zone(app, db, client, login, agent, ticket):
    _ticket_opened_at(db, ticket, datetime(2030, 1, 15, 12, 0))
    agent.timezone = "Asia/Tokyo"
    db.session.commit()
    login(client, agent)
    page = client.get(f"/tickets/{ticket.reference}")
    assert page.status_code == 200, page.status_code
    assert _opened_title(page.text) == "2030-01-15 21:00 JST"


def test_the_site_zone_changes_times_for_people_without_their_own(app, db, client, login, agent, customer, ticket):
    _ticket_opened_at(db, ticket, datetime(2030, 1, 15, 12, 0))
    login(client, agent)
    assert _opened_title(client.get(f"/tickets/{ticket.reference}").text) == "2030-01-15 12:00 UTC"
    save_site_settings({"timezone": "America/New_York"})
    assert _opened_title(client.get(f"/tickets/{ticket.reference}").text) == "2030-01-15 07:00 EST"
    # A customer sets their own zone on the profile page; their portal follows it.
    portal = app.test_client()
    login(portal, customer)
    saved = portal.post("/profile/", data={"name": customer.name, "timezone": "Europe/Berlin"})
    assert saved.status_code == 302
    assert _opened_title(portal.get(f"/portal/tickets/{ticket.reference}").text) == "2030-01-15 13:00 CET"


def test_no_template_formats_a_time_itself():
    """Times in templates go through ``|localtime`` (the reader's zone); a ``.strftime(`` in a
    template would show UTC (or the server's zone) to everyone, so none may come back."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    folders = [root / "templates", *root.glob("plugins/*/helpdesk_*/templates")]
    offenders = [str(path.relative_to(root)) for folder in folders for path in folder.rglob("*.htm*")
                 if ".strftime(" in path.read_text(encoding="utf-8")]
    assert len(folders) > 1 and offenders == []


def test_an_sla_breach_in_the_audit_trail_shows_the_readers_time(app, db, client, login, agent, ticket):
    from pagetext import texts

    from helpdesk.services.tickets import audit

    audit(ticket, None, "sla_breached", "first_response", None, "2030-01-15 12:00 UTC", reason="target missed")
    db.session.commit()
    agent.timezone = "Asia/Tokyo"
    db.session.commit()
    login(client, agent)
    changes = texts(client.get(f"/tickets/{ticket.reference}").text, cls="audit-change")
    assert "— → 2030-01-15 21:00 JST" in changes
