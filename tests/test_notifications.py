"""Agents' notifications: rules per kind and preference, mail through a real SMTP sink,
never for one's own action, scoping, mentions and following, the daily digest."""
from __future__ import annotations

from datetime import datetime

import pytest
from flask_babel import force_locale
from smtp_sink import SMTPServer, free_port
from sqlalchemy import select, update

from helpdesk import services
from helpdesk.models import Notification, Team
from helpdesk.services import notifications as notes


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def app_config(smtp_port):
    return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": smtp_port, "MAIL_FROM": "help@acme.test",
            "EXTERNAL_URL": "https://support.acme.test/"}


@pytest.fixture
def smtp(smtp_port):
    server = SMTPServer(smtp_port).start()
    yield server
    server.stop()


def mails_to(smtp, address):
    return [m for m in smtp.sink.messages() if m["To"] == address]


def kinds_of(db, user):
    db.session.expire_all()
    return [n.kind for n in db.session.scalars(select(Notification).where(Notification.recipient_id == user.id)
                                               .order_by(Notification.id))]


def test_assignment_is_mailed_once_marked_automatic_and_never_for_ones_own_action(
        db, smtp, ticket, agent, admin, make_user):
    lea = make_user("agent", name="Lea Park", email="lea@acme.test")
    services.update_ticket(ticket, admin, assignee_id=lea.id)
    [mail] = mails_to(smtp, "lea@acme.test")
    assert mail["Auto-Submitted"] == "auto-generated" and mail["X-Auto-Response-Suppress"] == "All"
    assert mail["Subject"] == f"{admin.name} assigned {ticket.reference} to you: Printer on fire"
    assert f"https://support.acme.test/tickets/{ticket.reference}" in mail.get_content()
    # A retried job sends nothing more.
    [note] = db.session.scalars(select(Notification)).all()
    assert notes.send_notification_mail.call_local(note.id) is False
    assert len(mails_to(smtp, "lea@acme.test")) == 1
    # Assigning a ticket to oneself tells nobody.
    services.update_ticket(ticket, agent, assignee_id=agent.id)
    assert kinds_of(db, agent) == []


def test_customer_reply_reaches_owner_and_followers_by_their_preference(db, smtp, ticket, agent, customer, make_user):
    follower = make_user("agent", name="Fay Follow", email="fay@acme.test")
    services.update_ticket(ticket, None, assignee_id=agent.id)
    assert notes.follow(follower, ticket)
    notes.save_preferences(follower, {"customer_replied": "app"})
    notes.save_preferences(agent, {"customer_replied": "immediately"})  # the default is the bell only
    services.add_message(ticket, customer, "Still broken")
    assert kinds_of(db, agent) == ["assigned", "customer_replied"]
    assert kinds_of(db, follower) == ["customer_replied"]
    assert [m["Subject"] for m in mails_to(smtp, agent.email)][-1].startswith("Carla Customer replied on")
    assert mails_to(smtp, "fay@acme.test") == []  # the bell only
    notes.save_preferences(follower, {"customer_replied": "off"})
    services.add_message(ticket, customer, "Hello?")
    assert kinds_of(db, follower) == ["customer_replied"]


def test_mention_in_a_note_notifies_and_follows_but_not_out_of_scope(db, smtp, ticket, agent, make_user):
    lea = make_user("agent", name="Lea Park", email="lea@acme.test")
    hr, billing = Team(name="HR"), Team(name="Billing")
    scoped = make_user("agent", name="Tess Team", email="tess@acme.test", team_scoped=True)
    billing.members = [scoped]
    ticket.team = hr
    db.session.add_all([hr, billing])
    db.session.commit()
    body = f"{notes.mention_token(lea)} and {notes.mention_token(scoped)} and me {notes.mention_token(agent)}: look"
    services.add_message(ticket, agent, body, internal=True)
    assert kinds_of(db, lea) == ["mention"] and notes.is_following(lea, ticket)
    assert kinds_of(db, scoped) == [] and not notes.is_following(scoped, ticket)
    assert kinds_of(db, agent) == []
    assert mails_to(smtp, "lea@acme.test")[0]["Subject"].startswith(f"{agent.name} mentioned you")
    # Out of scope, also for team assignment and plain notifications.
    services.update_ticket(ticket, agent, team_id=hr.id)
    assert notes.unread_count(scoped) == 0


def test_team_assignment_and_sla(app, db, smtp, customer, agent, make_user):
    from datetime import timedelta

    from helpdesk.models import SlaPolicy
    from helpdesk.models.base import utcnow
    from helpdesk.sla.engine import check_sla

    team = Team(name="Support")
    team.members = [agent]
    db.session.add_all([team, SlaPolicy(name="Fast", first_response_minutes=60, warn_before_minutes=15)])
    db.session.commit()
    ticket = services.create_ticket(customer, "Help", "Broken", team_id=team.id)
    assert kinds_of(db, agent) == ["team_assigned"]
    services.update_ticket(ticket, None, assignee_id=agent.id)
    check_sla(now=utcnow() + timedelta(minutes=50))
    check_sla(now=utcnow() + timedelta(minutes=61))
    assert kinds_of(db, agent) == ["team_assigned", "assigned", "sla_warning", "sla_breached"]


def test_daily_digest_at_the_agents_local_hour(app, db, smtp, ticket, customer, make_user):
    lea = make_user("agent", name="Lea Park", email="lea@acme.test")
    lea.timezone = "Asia/Tokyo"  # 08:00 there is 23:00 UTC
    db.session.commit()
    notes.save_preferences(lea, {"customer_replied": "digest"})
    assert notes.follow(lea, ticket)
    services.add_message(ticket, customer, "One")
    services.add_message(ticket, customer, "Two")
    db.session.execute(update(Notification).where(Notification.recipient_id == lea.id)
                       .values(created_at=datetime(2030, 1, 1, 9, 30)))  # 18:30 in Tokyo
    db.session.commit()
    assert mails_to(smtp, "lea@acme.test") == []
    assert notes.send_digests(datetime(2030, 1, 1, 12, 0)) == 0  # 21:00 in Tokyo
    assert notes.send_digests(datetime(2030, 1, 1, 23, 0)) == 1
    [digest] = mails_to(smtp, "lea@acme.test")
    assert digest["Subject"] == "Your daily digest: 2 notifications"
    assert digest["Auto-Submitted"] == "auto-generated"
    assert digest.get_content().count("Carla Customer replied on") == 2
    assert digest.get_content().count("- 01 Jan 18:30 JST Carla Customer replied on") == 2  # her zone, named
    assert notes.send_digests(datetime(2030, 1, 1, 23, 0)) == 0  # sent once


def test_pages_bell_list_mark_read_preferences_follow(client, login, db, ticket, agent, admin):
    services.update_ticket(ticket, admin, assignee_id=agent.id)
    login(client, agent)
    assert 'id="notification-count">1<' in client.get("/queue").text
    page = client.get("/notifications").text
    assert "assigned" in page and f"Open {ticket.reference}" in page
    client.post("/notifications/read", data={})
    assert 'id="notification-count" hidden>0<' in client.get("/queue").text
    answer = client.post("/profile/notifications", data={"kind-assigned": "sometimes"})
    assert answer.status_code == 400 and "Choose one of" in answer.text
    client.post("/profile/notifications", data={"kind-assigned": "digest"})
    assert notes.preferences(agent)["assigned"] == "digest"
    client.post(f"/tickets/{ticket.reference}/follow", data={"action": "follow"})
    assert 'id="follow-button"' in (page := client.get(f"/tickets/{ticket.reference}").text) and "Following" in page
    agents = client.get(f"/agents/mentionable?ticket={ticket.reference}&q=ad").json
    assert [a["token"] for a in agents] == [notes.mention_token(admin)]


@pytest.mark.plugins("recognition")
def test_kudos_for_me_rings_the_bell(db, smtp, agent, make_user):
    from helpdesk_recognition.kudos import give_peer_kudos

    lea = make_user("agent", name="Lea Park", email="lea@acme.test")
    give_peer_kudos(lea, agent.id, "Thanks for covering my shift")
    assert kinds_of(db, agent) == ["recognition.kudos"] and kinds_of(db, lea) == []
    db.session.expire_all()
    [note] = db.session.scalars(select(Notification)).all()
    assert note.text == "Lea Park gave you kudos." and note.actor_id == lea.id


def test_follow_then_unfollow_on_the_ticket_page(client, login, db, smtp, ticket, customer, make_user):
    fay = make_user("agent", name="Fay Follow", email="fay@acme.test")
    login(client, fay)
    page = client.post(f"/tickets/{ticket.reference}/follow", data={"action": "follow"}, follow_redirects=True).text
    assert f"You follow {ticket.reference}" in page and 'aria-pressed="true"' in page
    services.add_message(ticket, customer, "Still broken")
    assert kinds_of(db, fay) == ["customer_replied"]
    page = client.post(f"/tickets/{ticket.reference}/follow", data={"action": "unfollow"}, follow_redirects=True).text
    assert f"You no longer follow {ticket.reference}." in page and 'aria-pressed="false"' in page
    assert not notes.is_following(fay, ticket)
    services.add_message(ticket, customer, "Hello?")
    assert kinds_of(db, fay) == ["customer_replied"]  # nothing more once unfollowed


def test_a_mail_whose_job_was_lost_after_the_commit_is_still_delivered(db, smtp, ticket, admin, make_user,
                                                                       monkeypatch):
    """The notification and its mail are committed together: a process that dies before it
    starts the delivery job (or a job queue that drops it) loses nothing; the sweeper sends it."""
    from datetime import timedelta

    from helpdesk.models import OutboxMail
    from helpdesk.models.base import utcnow
    from helpdesk.services.delivery import sweep
    from helpdesk.services.mail import lease

    lea = make_user("agent", name="Lea Park", email="lea@acme.test")
    monkeypatch.setattr(notes, "deliver_mail", lambda mail_id: None)  # the job never starts
    services.update_ticket(ticket, admin, assignee_id=lea.id)
    assert kinds_of(db, lea) == ["assigned"] and mails_to(smtp, "lea@acme.test") == []
    [mail] = db.session.scalars(select(OutboxMail).where(OutboxMail.to_addr == "lea@acme.test")).all()
    assert mail.status == "queued" and mail.headers["Auto-Submitted"] == "auto-generated"
    assert sweep(now=utcnow() + lease() + timedelta(seconds=1))["mails"] == 1
    [sent] = mails_to(smtp, "lea@acme.test")
    assert sent["Subject"] == f"{admin.name} assigned {ticket.reference} to you: Printer on fire"
    assert sweep(now=utcnow() + 2 * lease() + timedelta(seconds=2))["mails"] == 0  # sent once
    assert len(mails_to(smtp, "lea@acme.test")) == 1


# ------------------------------------------------------------------ in the recipient's language (issue 24)


def test_each_agent_reads_the_assignment_in_their_own_language(db, smtp, ticket, admin, make_user):
    jonas = make_user("agent", name="Jonas Weber", email="jonas@acme.test")
    jonas.language = "de"
    lea = make_user("agent", name="Lea Park", email="lea@acme.test")
    db.session.commit()
    with force_locale("en"):  # the admin works in English
        services.update_ticket(ticket, admin, assignee_id=jonas.id)
        services.update_ticket(ticket, admin, assignee_id=lea.id)
    texts = {n.recipient_id: n.text for n in db.session.scalars(select(Notification))}
    assert texts[jonas.id] == f"{admin.name} hat Ihnen {ticket.reference} zugewiesen: Printer on fire"
    assert texts[lea.id] == f"{admin.name} assigned {ticket.reference} to you: Printer on fire"
    [german] = [m for m in smtp.sink.messages() if m["To"] == "jonas@acme.test"]
    body = german.get_content()
    assert body.startswith("Hallo Jonas,")
    assert "Ihre Benachrichtigungen: https://support.acme.test/notifications" in body
    [english] = [m for m in smtp.sink.messages() if m["To"] == "lea@acme.test"]
    assert english.get_content().startswith("Hi Lea,")


def test_the_digest_is_in_the_agents_language(db, smtp, ticket, customer, make_user):
    jonas = make_user("agent", name="Jonas Weber", email="jonas@acme.test")
    jonas.language = "de"
    db.session.commit()
    notes.save_preferences(jonas, {"customer_replied": "digest"})
    assert notes.follow(jonas, ticket)
    services.add_message(ticket, customer, "Eins")
    db.session.execute(update(Notification).where(Notification.recipient_id == jonas.id)
                       .values(created_at=datetime(2030, 1, 1, 7, 30)))
    db.session.commit()
    assert notes.send_digests(datetime(2030, 1, 1, 8, 0)) == 1
    [digest] = [m for m in smtp.sink.messages() if m["To"] == "jonas@acme.test"]
    assert digest["Subject"] == "Ihre tägliche Zusammenfassung: 1 Benachrichtigung"
    assert f"{customer.name} hat auf {ticket.reference} geantwortet" in digest.get_content()
