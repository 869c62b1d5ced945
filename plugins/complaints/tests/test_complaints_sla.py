"""Complaint clocks (the core's SLA engine with a policy for the ``complaint`` tag), escalation
exactly once per breach, and the complaints dashboard. Time is the engine's, set by the test."""
from __future__ import annotations

import types
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from complaints_helpers import COMPLAINT, QUESTION, audit_rows, outbox, text, texts
from helpdesk_complaints import escalation
from helpdesk_complaints.models import ComplaintAlert, ComplaintEscalation
from sqlalchemy import select

from helpdesk.models import BusinessHours, SlaPolicy, SlaTarget
from helpdesk.plugin_api import services
from helpdesk.sla import engine
from helpdesk.sla.engine import check_sla

pytestmark = pytest.mark.plugins("complaints")
BERLIN = ZoneInfo("Europe/Berlin")


def berlin(*args: int) -> datetime:
    """A Berlin wall-clock time as the naive UTC the database keeps."""
    return datetime(*args, tzinfo=BERLIN).astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


@pytest.fixture
def clock(monkeypatch):
    state = types.SimpleNamespace(now=datetime(2025, 3, 3, 9, 0))
    monkeypatch.setattr(engine, "utcnow", lambda: state.now)
    return state


@pytest.fixture
def policies(db):
    office = BusinessHours(name="Office", timezone="Europe/Berlin",
                           schedule={str(d): [["09:00", "17:00"]] for d in range(1, 6)},
                           holidays=["2025-12-25", "2025-12-26"])
    db.session.add(office)
    db.session.commit()
    complaints = SlaPolicy(name="Complaints", position=0, tag="complaint", business_hours_id=office.id,
                           first_response_minutes=60, resolution_minutes=480, warn_before_minutes=15)
    standard = SlaPolicy(name="Standard", position=10, business_hours_id=office.id, first_response_minutes=480,
                         warn_before_minutes=30)
    db.session.add_all([complaints, standard])
    db.session.commit()
    return complaints, standard


def first_response(db, ticket) -> SlaTarget:
    db.session.expire_all()
    return db.session.scalar(select(SlaTarget).where(SlaTarget.ticket_id == ticket.id,
                                                     SlaTarget.kind == "first_response"))


@pytest.mark.parametrize(("opened", "complaint_due", "standard_due"), [
    # Tuesday morning: an hour later the same morning; the standard eight hours end on Wednesday.
    (berlin(2025, 3, 4, 10, 0), berlin(2025, 3, 4, 11, 0), berlin(2025, 3, 5, 10, 0)),
    # Friday 16:30: half an hour on Friday, the rest on Monday morning (the weekend does not count).
    (berlin(2025, 3, 7, 16, 30), berlin(2025, 3, 10, 9, 30), berlin(2025, 3, 10, 16, 30)),
    # Saturday: nothing counts until Monday 09:00.
    (berlin(2025, 3, 8, 11, 0), berlin(2025, 3, 10, 10, 0), berlin(2025, 3, 10, 17, 0)),
    # Christmas Eve 16:45: the 25th and 26th are holidays, then a weekend: Monday the 29th.
    (berlin(2025, 12, 24, 16, 45), berlin(2025, 12, 29, 9, 45), berlin(2025, 12, 29, 16, 45)),
    # Summer time (UTC+2): the wall clock still decides.
    (berlin(2025, 7, 4, 16, 15), berlin(2025, 7, 7, 9, 15), berlin(2025, 7, 7, 16, 15)),
])
def test_complaints_get_the_tight_clock_across_business_hours_weekends_and_holidays(
        db, customer, clock, policies, opened, complaint_due, standard_due):
    complaints, standard = policies
    clock.now = opened
    complaint = services.create_ticket(customer, "Order", COMPLAINT)
    question = services.create_ticket(customer, "Question", QUESTION)
    target = first_response(db, complaint)
    assert (target.policy_id, target.due_at) == (complaints.id, complaint_due)
    other = first_response(db, question)
    assert (other.policy_id, other.due_at) == (standard.id, standard_due)


def test_a_rule_can_apply_the_complaint_policy_to_any_ticket(db, customer, clock, policies, rule_factory):
    complaints, _standard = policies
    rule_factory("Legal threats", {"words": ["lawyer"]}, {"sla_policy_id": complaints.id})
    clock.now = berlin(2025, 3, 4, 10, 0)
    ticket = services.create_ticket(customer, "Contract", "My lawyer would like a copy of the contract.")
    assert "complaint" in [t.name for t in ticket.tags]
    assert first_response(db, ticket).due_at == berlin(2025, 3, 4, 11, 0)
    [applied] = [r for r in audit_rows(db, ticket.id) if r.action == "sla_policy"]
    assert applied.reason.endswith("— SLA policy 'Complaints'")


# ------------------------------------------------------------------ escalation


@pytest.fixture
def desk(db, make_user, team_factory):
    ann = make_user("agent", name="Ann Agent", email="ann@example.test")
    lena = make_user("agent", name="Lena Lead", email="lena@example.test", password="long-password-1")
    team = team_factory("Care", [ann], strategy="round_robin", lead=lena)
    policy = SlaPolicy(name="Complaints", position=0, tag="complaint", first_response_minutes=60,
                       next_response_minutes=60, warn_before_minutes=15)
    db.session.add(policy)
    db.session.commit()
    return types.SimpleNamespace(ann=ann, lena=lena, team=team)


def mails_to(db, address: str) -> list:
    """The complaint mails to ``address`` (not the core's agent notifications, e.g. "assigned to you")."""
    return [m for m in outbox(db) if m.to_addr == address and "Complaint" in m.subject]


def test_a_breach_escalates_exactly_once(app, db, client, login, customer, clock, desk):
    t0 = clock.now
    ticket = services.create_ticket(customer, "Order", COMPLAINT, team_id=desk.team.id)
    assert (ticket.assignee_id, ticket.priority) == (desk.ann.id, "high")

    assert check_sla(now=t0 + timedelta(minutes=59))["breached"] == 0
    assert check_sla(now=t0 + timedelta(minutes=61))["breached"] == 1
    db.session.expire_all()
    assert (ticket.assignee_id, ticket.priority) == (desk.lena.id, "urgent")
    [row] = db.session.scalars(select(ComplaintEscalation)).all()
    assert (row.target_kind, row.cycle) == ("first_response", 1)
    assert row.summary == ("Complaint first response target missed (cycle 1): reassigned to Lena Lead "
                           "(the team lead Lena Lead); priority high → urgent; Lena Lead notified")
    [escalated] = [r for r in audit_rows(db, ticket.id) if r.action == "escalated"]
    assert escalated.reason == row.summary
    [mail] = mails_to(db, "lena@example.test")
    assert mail.subject == f"[{ticket.reference}] Complaint {ticket.reference} missed its first response target"
    assert f"http://helpdesk.test/tickets/{ticket.reference}" in mail.body_text

    # Again: the core does not fire twice, and a repeated hook call is refused by the unique row.
    assert check_sla(now=t0 + timedelta(minutes=90))["breached"] == 0
    target = first_response(db, ticket)
    assert escalation.escalate(ticket, target) is None
    assert len(db.session.scalars(select(ComplaintEscalation)).all()) == 1
    assert len(mails_to(db, "lena@example.test")) == 1

    login(client, desk.lena)
    dashboard = client.get("/dashboard").text
    [shown] = texts(dashboard, cls="complaint-alert")
    assert shown.startswith(f"{ticket.reference} Complaint {ticket.reference} missed its first response target")
    alert = db.session.scalar(select(ComplaintAlert))
    page = client.post(f"/complaints/alerts/{alert.id}/dismiss", follow_redirects=True)
    assert "complaint-alert" not in page.text

    # A new breach (the next response, a new clock) escalates once more; the lead keeps it.
    clock.now = t0 + timedelta(minutes=100)
    services.add_message(ticket, desk.lena, "Hi Carla, I am sorry; I am on it.")
    clock.now = t0 + timedelta(minutes=120)
    services.add_message(ticket, customer, "Any news?")
    assert check_sla(now=t0 + timedelta(minutes=181))["breached"] == 1
    kinds = [(e.target_kind, e.cycle) for e in db.session.scalars(select(ComplaintEscalation)
                                                                  .order_by(ComplaintEscalation.id))]
    assert kinds == [("first_response", 1), ("next_response", 1)]
    last = db.session.scalars(select(ComplaintEscalation).order_by(ComplaintEscalation.id.desc())).first()
    assert "not reassigned: already with the team lead Lena Lead" in last.summary
    assert len(mails_to(db, "lena@example.test")) == 2


def trail_reasons(page: str, action: str) -> list[str]:
    """The reasons the ticket page's trail gives for its ``action`` entries, as a reader sees them."""
    import re

    return [" ".join(texts(item, cls="fst-italic"))
            for item in re.findall(rf'<li class="list-group-item audit-event" data-action="{action}".*?</li>', page,
                                   re.S)]


def test_the_escalation_reads_in_each_readers_language(app, db, client, login, customer, clock, desk):
    """The summary and the lead's alert are stored in English and as words: the German lead reads
    them in German, the English agent in English, whoever caused them (the SLA job, in English)."""
    desk.lena.language = "de"
    db.session.commit()
    t0 = clock.now
    ticket = services.create_ticket(customer, "Order", COMPLAINT, team_id=desk.team.id)
    assert check_sla(now=t0 + timedelta(minutes=61))["breached"] == 1
    english = ("Complaint first response target missed (cycle 1): reassigned to Lena Lead (the team lead Lena "
               "Lead); priority high → urgent; Lena Lead notified")
    row = db.session.scalar(select(ComplaintEscalation))
    assert row.summary == english  # search, exports and the log keep the English
    assert row.words["msgid"] == "Complaint %(target)s target missed (cycle %(cycle)s): %(parts)s"
    alert = db.session.scalar(select(ComplaintAlert))
    assert alert.text == f"Complaint {ticket.reference} missed its first response target"
    assert alert.words == {"msgid": "Complaint %(reference)s missed its %(target)s target",
                           "params": {"reference": ticket.reference,
                                      "target": {"msgid": "first response", "params": {}}}}
    [mail] = [m for m in outbox(db) if m.to_addr == "lena@example.test" and "hat das Ziel" in m.subject]
    assert mail.subject.startswith(f"[{ticket.reference}] Beschwerde {ticket.reference} hat das Ziel")
    assert mail.body_text.startswith("Hallo Lena,")  # her mail too is in her language

    login(client, desk.lena)
    [shown] = texts(client.get("/dashboard").text, cls="alert-text")
    assert shown.startswith(f"Beschwerde {ticket.reference} hat das Ziel")
    [reason] = trail_reasons(client.get(f"/tickets/{ticket.reference}").text, "escalated")
    assert reason == ("Beschwerde: Ziel „erste Antwort“ verfehlt (Zyklus 1): neu zugewiesen an Lena Lead "
                      "(der Teamleiter Lena Lead); Priorität hoch → dringend; Lena Lead benachrichtigt")

    login(client, desk.ann)  # English: the same rows read in English
    [reason] = trail_reasons(client.get(f"/tickets/{ticket.reference}").text, "escalated")
    assert reason == english


def test_an_alert_stored_before_words_shows_its_english(app, db, client, login, customer, clock, desk):
    """Rows written before the words column (words NULL) show the English they were stored with."""
    desk.lena.language = "de"
    db.session.commit()
    ticket = services.create_ticket(customer, "Order", COMPLAINT, team_id=desk.team.id)
    db.session.add(ComplaintAlert(user_id=desk.lena.id, ticket_id=ticket.id, kind="escalation",
                                  text=f"Complaint {ticket.reference} missed its first response target"))
    db.session.commit()
    login(client, desk.lena)
    page = client.get("/dashboard").text
    assert "Beschwerden, die Sie brauchen" in page  # the German page around it
    assert texts(page, cls="alert-text") == [f"Complaint {ticket.reference} missed its first response target"]


def test_names_in_an_escalation_are_shown_escaped(app, db, client, login, customer, clock, desk):
    """A name is a plain parameter inside the stored words: the page escapes it, in any language."""
    desk.lena.name = "Lena <b>x</b>"
    desk.lena.language = "de"
    db.session.commit()
    t0 = clock.now
    ticket = services.create_ticket(customer, "Order", COMPLAINT, team_id=desk.team.id)
    assert check_sla(now=t0 + timedelta(minutes=61))["breached"] == 1
    login(client, desk.lena)
    page = client.get(f"/tickets/{ticket.reference}").text
    [reason] = trail_reasons(page, "escalated")
    assert "neu zugewiesen an Lena <b>x</b> (der Teamleiter Lena <b>x</b>)" in reason and "hoch → dringend" in reason
    assert "<b>x</b>" not in page and "Lena &lt;b&gt;x&lt;/b&gt; benachrichtigt" in page


def test_other_tickets_and_cleared_flags_are_not_escalated(db, customer, agent, clock, desk):
    from helpdesk_complaints.flags import clear_flag

    db.session.add(SlaPolicy(name="All", position=5, first_response_minutes=30))
    db.session.commit()
    question = services.create_ticket(customer, "Q", QUESTION, team_id=desk.team.id)
    cleared = services.create_ticket(customer, "Order", COMPLAINT, team_id=desk.team.id)
    clear_flag(cleared, agent, "a test message")
    assert check_sla(now=clock.now + timedelta(hours=3))["breached"] >= 2
    assert db.session.scalar(select(ComplaintEscalation)) is None
    db.session.expire_all()
    assert question.assignee_id == desk.ann.id and cleared.assignee_id == desk.ann.id


# ------------------------------------------------------------------ dashboard


def test_dashboard_figures_trend_and_precision(db, client, login, agent, customer, make_user):
    from helpdesk_complaints.flags import clear_flag, flag_by_hand

    kept = services.create_ticket(customer, "Late order", COMPLAINT, tags=["delivery"])
    services.create_ticket(customer, "Double charge", "I was charged twice! Unacceptable.", tags=["billing"])
    wrong = services.create_ticket(customer, "Joke", "My order never arrived, said nobody ever. Thanks!")
    clear_flag(wrong, agent, "not a complaint")
    missed = services.create_ticket(customer, "Hmm", QUESTION)
    flag_by_hand(missed, agent, "angry on the phone")
    services.add_message(kept, agent, "Hi Carla, sorry about this, looking now.")

    login(client, agent)
    page = client.get("/complaints/").text
    assert text(page, id="open-complaints") == "3"
    assert text(page, id="precision") == "67%"  # 3 automatic flags, one cleared
    assert any("1 of 3 automatic flags cleared; 1 added by agents" in t for t in texts(page, cls="card-body"))
    assert text(page, id="median-first-response") in ("0m", "1m")
    causes = texts(page, cls="cause")
    assert sorted(causes) == ["billing 1", "delivery 1"]
    this_week = texts(page, cls="week-row")[0]
    assert this_week.split()[3:] == ["4", "1", "1", "67%"]
    assert 'data-flagged="4" data-cleared="1"' in page and "<svg" in page
    assert len(texts(page, cls="complaint-row")) == 3
    assert wrong.reference not in text(page, id="complaints-table")
