"""Milestone badges: configurable, awarded once (even by two processes at the same moment), announced."""
from __future__ import annotations

import multiprocessing

import pytest
from recognition_testkit import alerts, field_errors, text, texts
from sqlalchemy import func, select

from helpdesk.models import AdminAuditEntry
from helpdesk.plugin_api import services

pytestmark = pytest.mark.plugins("recognition")


def awards(db, user=None) -> list[tuple[str, str, str]]:
    from helpdesk_recognition.models import Award

    db.session.expire_all()
    query = select(Award).order_by(Award.id)
    if user is not None:
        query = query.where(Award.user_id == user.id)
    return [(a.user.name, a.badge, a.period) for a in db.session.scalars(query)]


def set_badges(client, **settings) -> None:
    """Save the admin page: ``five_star=(True, 1)`` etc.; unnamed badges keep their defaults."""
    from helpdesk_recognition.config import BADGES

    data = {}
    for key, badge in BADGES.items():
        enabled, threshold = settings.get(key, (True, badge.default_threshold))
        data[f"{key}-threshold"] = str(threshold)
        if enabled:
            data[f"{key}-enabled"] = "y"
    answer = client.post("/recognition/admin/badges", data=data, follow_redirects=True)
    assert alerts(answer.text) == ["Milestone badges saved."]


def assigned_ticket(customer, agent, subject="Help", tags=()):
    ticket = services.create_ticket(customer, subject, "Please help.", tags=list(tags))
    services.update_ticket(ticket, None, assignee_id=agent.id)
    return ticket


def test_first_five_star_rating_is_awarded_once_and_announced(db, client, login, people, customer):
    ana = people["ana"]
    first, second = assigned_ticket(customer, ana, "One"), assigned_ticket(customer, ana, "Two")
    services.record_feedback(customer, "csat", score=4, ticket=first)
    assert awards(db) == []
    services.record_feedback(customer, "csat", score=5, ticket=first)
    services.record_feedback(customer, "csat", score=5, ticket=second)
    assert awards(db) == [("Ana Agent", "five_star", "")]

    login(client, people["cy"])
    feed = client.get("/recognition/").text
    assert texts(feed, cls="award-item")[0].startswith(
        "🏅 Ana Agent earned the “Five stars” badge: your first five-star rating")
    profile = client.get(f"/recognition/agents/{ana.id}").text
    assert text(profile, id="profile-milestones").startswith("Milestones 🏅 Five stars your first five-star rating")


def test_resolved_tickets_count_only_while_not_reopened(db, client, login, admin, people, customer):
    login(client, admin)
    set_badges(client, resolved=(True, 2))
    ana = people["ana"]
    one, two = assigned_ticket(customer, ana, "One"), assigned_ticket(customer, ana, "Two")
    services.update_ticket(one, ana, status="resolved")
    services.add_message(one, customer, "It broke again.")  # reopens it
    services.update_ticket(two, ana, status="resolved")
    assert awards(db) == []  # one resolved ticket: the reopened one does not count
    services.update_ticket(one, ana, status="resolved")
    assert awards(db) == [("Ana Agent", "resolved", "")]
    assert "2 tickets resolved" in text(client.get(f"/recognition/agents/{ana.id}").text, id="profile-milestones")


def test_kudos_in_a_calendar_month(db, client, login, admin, people):
    from helpdesk_recognition.kudos import give_peer_kudos
    from helpdesk_recognition.milestones import month_key

    from helpdesk.plugin_api import utcnow

    login(client, admin)
    set_badges(client, monthly_kudos=(True, 3))
    bo = people["bo"]
    for giver in ("ana", "cy", "lee", "ana"):
        give_peer_kudos(people[giver], bo.id, f"Thanks from {giver}")
    assert awards(db) == [("Bo Bright", "monthly_kudos", month_key(utcnow()))]
    assert f"3 kudos in {utcnow():%B %Y}" in text(client.get(f"/recognition/agents/{bo.id}").text,
                                                   id="profile-milestones")



def test_an_award_is_stored_in_english_and_announced_in_the_winners_language(db, client, login, admin, people):
    """A German giver's kudos earns an English-speaking colleague a badge: the Award row and the
    winner's notification are English; a German winner is told in German (the month as German
    writes it), and each reader sees the stored detail in their own language."""
    from flask_babel import force_locale
    from helpdesk_recognition.kudos import give_peer_kudos
    from helpdesk_recognition.models import Award, Notification

    from helpdesk.plugin_api import utcnow

    login(client, admin)
    set_badges(client, monthly_kudos=(True, 2))
    bo, lee = people["bo"], people["lee"]
    lee.language = "de"
    db.session.commit()
    month_en, month_de = f"{utcnow():%B %Y}", None
    with force_locale("de"):  # the givers' requests are German
        from helpdesk.plugin_api import local_date

        month_de = local_date(utcnow(), "MMMM yyyy")
        for giver in ("ana", "cy"):
            give_peer_kudos(people[giver], bo.id, f"Thanks from {giver}")
            give_peer_kudos(people[giver], lee.id, f"Danke von {giver}")
    assert month_de != month_en  # "Dezember 2026": CLDR's German, whatever the catalogue holds
    details = dict(db.session.execute(select(Award.user_id, Award.detail)).all())
    assert details == {bo.id: f"2 kudos in {month_en}", lee.id: f"2 kudos in {month_en}"}
    told = dict(db.session.execute(select(Notification.user_id, Notification.text).where(
        Notification.award_id.is_not(None))).all())
    assert told[bo.id] == f"You earned the “Kudos magnet” badge: 2 kudos in {month_en}."
    assert month_de in told[lee.id] and month_en not in told[lee.id]

    login(client, people["cy"])  # an English reader: the detail as stored
    assert f"2 kudos in {month_en}" in text(client.get(f"/recognition/agents/{lee.id}").text, id="profile-milestones")
    login(client, lee)  # a German reader: the month in German
    mine = text(client.get(f"/recognition/agents/{lee.id}").text, id="profile-milestones")
    assert month_de in mine and month_en not in mine

def test_a_complaint_turned_into_five_stars(db, people, customer):
    ana = people["ana"]
    plain = assigned_ticket(customer, ana, "Question")
    services.record_feedback(customer, "csat", score=5, ticket=plain)
    assert ("Ana Agent", "complaint_turned", "") not in awards(db)
    complaint = assigned_ticket(customer, ana, "This is unacceptable", tags=["complaint"])
    services.record_feedback(customer, "csat", score=5, comment="You turned it around.", ticket=complaint,
                             source="complaint_followup")
    assert awards(db) == [("Ana Agent", "five_star", ""), ("Ana Agent", "complaint_turned", "")]


def test_admins_switch_badges_off_and_set_thresholds(db, client, login, admin, people, customer):
    login(client, admin)
    page = client.get("/recognition/admin/badges").text
    assert [r.split(" ")[0] for r in texts(page, cls="badge-row")] == ["Five", "Problem", "Kudos", "Turnaround"]
    set_badges(client, five_star=(False, 1))
    entry = db.session.scalars(select(AdminAuditEntry)).one()
    assert (entry.kind, entry.actor_id) == ("recognition.badges", admin.id)
    assert entry.before == {"five_star": {"enabled": True, "threshold": 1}}
    assert entry.after == {"five_star": {"enabled": False, "threshold": 1}}
    services.record_feedback(customer, "csat", score=5, ticket=assigned_ticket(customer, people["ana"]))
    assert awards(db) == []

    wrong = client.post("/recognition/admin/badges", data={"five_star-threshold": "0", "resolved-threshold": "x",
                                                           "monthly_kudos-threshold": "",
                                                           "complaint_turned-threshold": "1"})
    assert wrong.status_code == 422
    assert field_errors(wrong.text) == ["From 1 to 100,000.", "Not a valid integer value.", "Enter a number."]
    login(client, people["ana"])
    assert client.get("/recognition/admin/badges").status_code == 403


# ------------------------------------------------------------------ two processes


def _rate_at_once(uri: str, instance: str, customer_id: int, ticket_id: int, barrier, results) -> None:
    """Child process: its own app and connections; waits for the other, then gives a five-star rating."""
    try:
        from helpdesk import create_app
        from helpdesk.plugin_api import Ticket, User, db_session

        app = create_app({"SQLALCHEMY_DATABASE_URI": uri, "INSTANCE_PATH": instance, "TESTING": True,
                          "JOBS_IMMEDIATE": True, "SECRET_KEY": "x"})
        with app.app_context():
            customer, ticket = db_session().get(User, customer_id), db_session().get(Ticket, ticket_id)
            barrier.wait(timeout=60)
            services.record_feedback(customer, "csat", score=5, comment=f"Wonderful ({ticket_id})", ticket=ticket)
            engine = db_session().get_bind()
            db_session().remove()
            engine.dispose()
        results.put((ticket_id, None))
    except BaseException as exc:  # report to the parent rather than dying silently
        results.put((ticket_id, f"{type(exc).__name__}: {exc}"))


def test_a_milestone_is_awarded_exactly_once_when_two_events_arrive_together(app, db, tmp_path, client, login,
                                                                            admin, people, customer):
    from helpdesk_recognition.models import Award, Kudos, Notification

    login(client, admin)
    set_badges(client, monthly_kudos=(True, 2))  # both ratings reach it too, at the same moment
    ana = people["ana"]
    tickets = [assigned_ticket(customer, ana, f"Ticket {i}").id for i in range(2)]
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    db.session.commit()  # hold no transaction (and no lock) while the children write
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(2), ctx.Queue()
    processes = [ctx.Process(target=_rate_at_once, args=(uri, str(tmp_path / f"p{i}"), customer.id, ticket_id,
                                                         barrier, results)) for i, ticket_id in enumerate(tickets)]
    for process in processes:
        process.start()
    outcome = [results.get(timeout=120) for _ in processes]
    for process in processes:
        process.join(timeout=30)
    assert [error for _, error in outcome if error] == []

    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Kudos).where(Kudos.recipient_id == ana.id)) == 2
    assert sorted(badge for _, badge, _ in awards(db, ana)) == ["five_star", "monthly_kudos"]
    announced = db.session.scalars(select(Notification.text).where(
        Notification.user_id == ana.id, Notification.award_id.is_not(None))).all()
    month = f"{db.session.scalar(select(Award.created_at)):%B %Y}"
    assert sorted(announced) == ["You earned the “Five stars” badge: your first five-star rating.",
                                 f"You earned the “Kudos magnet” badge: 2 kudos in {month}."]
    login(client, people["cy"])
    assert len(texts(client.get("/recognition/").text, cls="award-item")) == 2
