"""Opting out: a private agent's recognition is seen only by them and their lead, on every page.

Admins are not special: an admin sees private recognition only as the agent's team lead.
"""
from __future__ import annotations

import pytest
from recognition_testkit import alerts, set_private, text, texts
from sqlalchemy import select

from helpdesk.plugin_api import Team

pytestmark = pytest.mark.plugins("recognition")

SECRET = "Ana rebuilt the printer queue overnight."


@pytest.fixture
def world(db, people, customer, admin, make_user, worked_ticket):
    from helpdesk_recognition.models import Award, Kudos

    ana, bo = people["ana"], people["bo"]
    set_private(ana)
    db.session.add_all([
        Kudos(recipient_id=ana.id, giver_id=bo.id, source="peer", message=SECRET, ticket_id=worked_ticket.id),
        Kudos(recipient_id=bo.id, giver_id=ana.id, source="peer", message="Bo is public."),
        Award(user_id=ana.id, badge="five_star", detail="your first five-star rating"),
    ])
    db.session.commit()
    boss = make_user("admin", name="Bea Boss", email="bea@acme.test")
    other = Team(name="Night shift", lead_id=boss.id)
    other.members = [ana]
    db.session.add(other)
    db.session.commit()
    return {**people, "admin": admin, "boss": boss, "ticket": worked_ticket}


# viewer → does the viewer see Ana's recognition?
VIEWERS = [
    ("cy", False),     # another agent, not in her team
    ("bo", False),     # a teammate, but not the lead
    ("admin", False),  # an admin who leads none of her teams
    ("lee", True),     # her team lead
    ("boss", True),    # an admin who leads another team of hers
    ("ana", True),     # herself
]


def test_each_page_per_viewer(db, client, login, world):
    """Feed (and its team filter), leaderboard, profile, ticket sidebar and reactions, for every kind of viewer."""
    from helpdesk_recognition.models import Kudos

    secret_id = db.session.scalar(select(Kudos.id).where(Kudos.message == SECRET))
    for viewer, sees in VIEWERS:
        login(client, world[viewer])

        feed = text(client.get("/recognition/").text, id="feed")
        assert (SECRET in feed) is sees, viewer
        assert ("Ana Agent earned the “Five stars” badge: your first five-star rating" in feed) is sees, viewer
        assert "Bo is public." in feed, viewer  # public recognition is there for everyone
        team_feed = text(client.get(f"/recognition/?team={world['team'].id}").text, id="feed")
        assert (SECRET in team_feed) is sees, viewer

        board = client.get("/recognition/leaderboard?period=month").text
        names = [" ".join(row.split(" ")[:2]) for row in texts(board, cls="leaderboard-row")]
        assert ("Ana Agent" in names) is sees, viewer
        assert "Bo Bright" in names, viewer
        assert ("Ana Agent" in text(board, id="leaderboard-charts")) is sees, viewer

        profile = client.get(f"/recognition/agents/{world['ana'].id}")
        assert profile.status_code == 200, viewer
        assert (SECRET in profile.text) is sees, viewer
        if sees:
            assert "Five stars" in text(profile.text, id="profile-milestones"), viewer
            assert text(profile.text, id="profile-stats").startswith("1 kudos"), viewer
        else:
            assert text(profile.text, id="profile-private").startswith(
                "Ana Agent keeps their recognition private."), viewer
            assert "Five stars" not in profile.text, viewer
            assert "Thank Ana" in profile.text, viewer  # she can still be thanked

        sidebar = text(client.get(f"/tickets/{world['ticket'].reference}").text, id="recognition-sidebar")
        assert (SECRET in sidebar) is sees, viewer
        answer = client.post(f"/recognition/kudos/{secret_id}/react", data={"emoji": "heart", "back": "/recognition/"})
        assert answer.status_code == (302 if sees else 404), viewer


def feed_text(client) -> str:
    return text(client.get("/recognition/").text, id="feed")


def test_going_private_and_back_through_the_preferences_page(db, client, login, people):
    from helpdesk_recognition.models import Kudos

    bo = people["bo"]
    db.session.add(Kudos(recipient_id=bo.id, giver_id=people["ana"].id, source="peer", message="Bo's good deed"))
    db.session.commit()
    login(client, bo)
    saved = client.post("/recognition/preferences", data={"visibility": "private", "digest": "y"},
                        follow_redirects=True)
    assert alerts(saved.text) == ["Your recognition preferences are saved."]
    assert "Bo's good deed" in feed_text(client)  # he still sees his own
    assert text(client.get(f"/recognition/agents/{bo.id}").text, id="profile-private-note").startswith(
        "Your recognition is private")

    login(client, people["cy"])
    assert "Bo's good deed" not in feed_text(client)
    login(client, people["lee"])
    lead_view = client.get(f"/recognition/agents/{bo.id}").text
    assert "Bo's good deed" in text(lead_view, id="profile-feed")
    assert text(lead_view, id="profile-private-note") == (
        "Bo Bright's recognition is private: you see it as their team lead.")

    login(client, bo)
    client.post("/recognition/preferences", data={"visibility": "public"})
    login(client, people["cy"])
    assert "Bo's good deed" in feed_text(client)


def test_preferences_refuse_an_unknown_choice(db, client, login, people):
    login(client, people["bo"])
    answer = client.post("/recognition/preferences", data={"visibility": "everyone-and-their-dog"})
    assert answer.status_code == 422
    assert "Not a valid choice." in texts(answer.text, cls="invalid-feedback")


def test_private_by_default_when_the_admin_says_so(db, client, login, people, monkeypatch):
    from helpdesk_recognition.models import Kudos

    monkeypatch.setenv("HELPDESK_PLUGIN_RECOGNITION_DEFAULT_PUBLIC", "false")
    db.session.add(Kudos(recipient_id=people["bo"].id, giver_id=people["ana"].id, source="peer", message="Quiet"))
    db.session.commit()
    login(client, people["cy"])
    assert "Quiet" not in client.get("/recognition/").text
    login(client, people["lee"])
    assert "Quiet" in client.get("/recognition/").text
