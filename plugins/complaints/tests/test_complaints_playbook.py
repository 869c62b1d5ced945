"""The playbook on the ticket page, the remedy rule, acknowledgements in the portal, and follow-ups."""
from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from complaints_helpers import COMPLAINT, QUESTION, alerts, audit_rows, outbox, text, texts
from flask_babel import force_locale, gettext
from helpdesk_complaints.models import ComplaintFlag, ComplaintFollowUp, ComplaintStep
from helpdesk_complaints.notices import send_due_followups
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import select

from helpdesk.plugin_api import services, utcnow
from helpdesk.plugin_manager import manager
from helpdesk.testing import make_plugin

pytestmark = pytest.mark.plugins("complaints")


@pytest.fixture
def complaint(customer):
    return services.create_ticket(customer, "Late order", COMPLAINT)


def steps_shown(page: str) -> dict[str, str]:
    return {m.group(1): m.group(2) for m in re.finditer(r'data-step="(\w+)" data-done="(yes|no)"', page)}


def test_badge_and_panel_show_why_it_was_flagged(client, login, agent, complaint):
    login(client, agent)
    page = client.get(f"/tickets/{complaint.reference}").text
    badge = re.search(r'<span class="badge text-bg-danger complaint-badge"[^>]*title="([^"]*)"', page)
    assert badge and "Flagged as a complaint: sentiment" in badge.group(1) and "phrase: unacceptable" in badge.group(1)
    assert text(page, id="complaint-badge") == "Complaint"
    assert "phrase: unacceptable" in texts(page, cls="complaint-signals")[0]
    assert steps_shown(page) == {"acknowledge": "yes", "listen": "no", "remedy": "no", "resolve": "no",
                                 "follow_up": "no"}
    assert "automatically" in texts(page, cls="step-when")[0]  # the acknowledgement went out by itself


def test_customer_sees_the_acknowledgement_in_the_portal(client, login, customer, other_customer, complaint):
    login(client, customer)
    page = client.get(f"/portal/tickets/{complaint.reference}").text
    shown = text(page, id="complaint-ack")
    assert shown.startswith("We are on it We sent you an acknowledgement on")
    assert "Hi Carla, thank you for telling us about this. We are sorry" in shown
    assert complaint.reference in shown
    question = services.create_ticket(customer, "Q", QUESTION)
    assert "complaint-ack" not in client.get(f"/portal/tickets/{question.reference}").text


def test_resolving_needs_a_remedy_or_a_reason(db, client, login, agent, customer, complaint):
    with pytest.raises(services.ServiceError, match="record the remedy offered"):
        services.update_ticket(complaint, agent, status="resolved")
    db.session.expire_all()
    assert complaint.status == "new"

    login(client, agent)
    refused = client.post(f"/tickets/{complaint.reference}/fields", data={
        "status": "resolved", "priority": complaint.priority, "assignee_id": "", "team_id": "", "tags": "complaint"})
    assert refused.status_code == 422
    assert ("This is a complaint: record the remedy offered (or why there is none) in the complaint playbook "
            "before resolving it.") in refused.text

    empty = client.post(f"/complaints/tickets/{complaint.reference}/remedy", data={"kind": "none", "text": ""},
                        follow_redirects=True)
    assert "Write what was offered, or why there is no remedy." in alerts(empty.text)
    saved = client.post(f"/complaints/tickets/{complaint.reference}/remedy",
                        data={"kind": "none", "text": "the courier lost it; we re-sent at once"}, follow_redirects=True)
    assert "Recorded why there is no remedy." in alerts(saved.text)
    assert text(saved.text, cls="remedy-text") == "No remedy, because: the courier lost it; we re-sent at once"
    done = services.update_ticket(complaint, agent, status="resolved")
    assert done["status"] == ("new", "resolved")
    page = client.get(f"/tickets/{complaint.reference}").text
    assert steps_shown(page)["resolve"] == "yes" and steps_shown(page)["remedy"] == "yes"


def test_customers_and_automatic_changes_are_never_refused(db, customer, complaint):
    services.update_ticket(complaint, customer, status="resolved")  # "Mark as solved" in the portal
    assert complaint.status == "resolved"
    step = db.session.scalar(select(ComplaintStep).where(ComplaintStep.step == "resolve"))
    assert step.done_by_id is None and step.note == "marked solved by the customer"


def test_a_question_can_be_resolved_freely(agent, customer):
    ticket = services.create_ticket(customer, "Q", QUESTION)
    assert services.update_ticket(ticket, agent, status="resolved")


def test_agents_tick_and_untick_steps(db, client, login, agent, complaint):
    login(client, agent)
    page = client.post(f"/complaints/tickets/{complaint.reference}/step", data={"step": "listen", "done": "yes"},
                       follow_redirects=True)
    assert "Listen and apologise: done." in alerts(page.text)
    assert steps_shown(page.text)["listen"] == "yes"
    assert "Alex Agent" in texts(page.text, cls="step-when")[1]
    again = client.post(f"/complaints/tickets/{complaint.reference}/step", data={"step": "listen", "done": "yes"},
                        follow_redirects=True)
    assert "Listen and apologise was already done." in alerts(again.text)
    undone = client.post(f"/complaints/tickets/{complaint.reference}/step", data={"step": "listen", "done": "no"},
                         follow_redirects=True)
    assert steps_shown(undone.text)["listen"] == "no"
    bad = client.post(f"/complaints/tickets/{complaint.reference}/step", data={"step": "resolve", "done": "yes"},
                      follow_redirects=True)
    assert "Not a valid choice." in alerts(bad.text)  # resolve is done by resolving, not by a tick
    forged = client.post(f"/complaints/tickets/{complaint.reference}/step", data={"step": "listen", "done": "yes"},
                         csrf=False)
    assert forged.status_code == 400  # no CSRF token: refused before the view
    assert steps_shown(client.get(f"/tickets/{complaint.reference}").text)["listen"] == "no"
    actions = [(r.action, r.field) for r in audit_rows(db, complaint.id)]
    assert actions.count(("playbook", "listen")) == 2



def test_a_german_agents_tick_is_stored_in_english(db, client, login, agent, complaint):
    """The playbook's audit reason is stored, and read by every agent in the ticket's history:
    English whatever the language of the agent who ticked (the step's name is shown translated)."""
    agent.language = "de"  # the agent's own setting (the profile page)
    db.session.commit()
    login(client, agent)
    client.post(f"/complaints/tickets/{complaint.reference}/step", data={"step": "listen", "done": "yes"})
    client.post(f"/complaints/tickets/{complaint.reference}/step", data={"step": "listen", "done": "no"})
    reasons = [r.reason for r in audit_rows(db, complaint.id) if (r.action, r.field) == ("playbook", "listen")]
    assert reasons == ["Listen and apologise marked done", "Listen and apologise marked not done"]
    # … and read in each agent's language: the step's name is German for this agent.
    trail = texts(client.get(f"/tickets/{complaint.reference}").text, cls="audit-event")
    assert any("Zuhören und entschuldigen als erledigt markiert" in entry for entry in trail)
    assert not any("Listen and apologise" in entry for entry in trail)

def test_an_agents_public_reply_acknowledges_too(db, agent, customer, make_user):
    ticket = services.create_ticket(customer, "Order", COMPLAINT, meta={})
    db.session.execute(ComplaintStep.__table__.delete())
    db.session.commit()
    services.add_message(ticket, agent, "Internal thought", internal=True)
    assert db.session.scalar(select(ComplaintStep)) is None
    services.add_message(ticket, agent, "Hi Carla, I am so sorry; I am on it.")
    step = db.session.scalar(select(ComplaintStep))
    assert (step.step, step.done_by_id, step.note) == ("acknowledge", agent.id, "answered by an agent")


def test_flag_by_hand_counts_as_a_miss(db, client, login, agent, customer):
    ticket = services.create_ticket(customer, "Q", QUESTION)
    login(client, agent)
    page = client.post(f"/complaints/tickets/{ticket.reference}/flag", data={"reason": "angry on the phone"},
                       follow_redirects=True)
    assert "Flagged as a complaint: the playbook is open." in alerts(page.text)
    assert text(page.text, id="complaint-badge") == "Complaint"
    flag = db.session.scalar(select(ComplaintFlag))
    assert flag.source == "agent" and flag.signals == ["flagged by Alex Agent: angry on the phone"]


# ------------------------------------------------------------------ follow-up


def _resolve(agent, ticket) -> None:
    from helpdesk_complaints.playbook import record_remedy

    record_remedy(ticket, agent, "a 20 euro voucher", no_remedy=False)
    services.update_ticket(ticket, agent, status="resolved")


def _link(mail_body: str) -> str:
    return re.search(r"http://helpdesk\.test(/complaints/followup/\S+)", mail_body).group(1)


def test_follow_up_is_scheduled_sent_once_and_answered_into_the_surveys(app, db, client, agent, customer, complaint):
    seen = []
    manager(app).register(make_plugin("survey_spy", helpdesk_feedback_received=lambda ticket, feedback:
                                      seen.append((ticket.id, feedback))), "survey_spy")
    _resolve(agent, complaint)
    followup = db.session.scalar(select(ComplaintFollowUp))
    resolved_at = utcnow()
    assert timedelta(days=2, hours=23) < followup.due_at - resolved_at <= timedelta(days=3)
    assert send_due_followups(now=followup.due_at - timedelta(minutes=1)) == 0
    assert send_due_followups(now=followup.due_at + timedelta(minutes=1)) == 1
    assert send_due_followups(now=followup.due_at + timedelta(hours=1)) == 0  # once
    mail = outbox(db)[-1]
    assert mail.subject == f"Did we resolve your concern? [{complaint.reference}]"
    link = _link(mail.body_text)

    form = client.get(link)  # no sign-in needed: the signed link is the credential
    assert form.status_code == 200 and "Did we resolve your concern?" in form.text
    unanswered = client.post(link, data={"comment": "hm"})
    assert unanswered.status_code == 422 and "Choose yes or no." in unanswered.text
    answered = client.post(link, data={"resolved": "yes", "comment": "Thanks, the voucher helped"})
    assert "Thank you for telling us. We are glad it is sorted." in text(answered.text, id="followup-thanks")
    assert seen == [(complaint.id, {"kind": "csat", "score": 5, "comment": "Thanks, the voucher helped",
                                    "source": "complaint_followup", "ticket_id": complaint.id,
                                    "reference": f"complaint_followup:{complaint.id}", "updated": False})]
    twice = client.post(link, data={"resolved": "no"})
    assert "We already have your answer" in text(twice.text, id="followup-thanks")
    assert len(seen) == 1
    step = db.session.scalar(select(ComplaintStep).where(ComplaintStep.step == "follow_up"))
    assert step.note == "resolved: Thanks, the voucher helped"
    db.session.expire_all()
    assert complaint.status == "resolved"


def test_the_follow_up_answer_reads_in_the_agents_language(app, db, client, login, agent, customer, complaint):
    """The answer is noted on the playbook step in English and as words: a German agent reads it in German."""
    _resolve(agent, complaint)
    send_due_followups(now=utcnow() + timedelta(days=4))
    client.post(_link(outbox(db)[-1].body_text), data={"resolved": "yes"})
    step = db.session.scalar(select(ComplaintStep).where(ComplaintStep.step == "follow_up"))
    assert (step.note, step.note_words) == ("resolved", {"msgid": "resolved", "params": {}})
    login(client, agent)
    english = client.get(f"/tickets/{complaint.reference}").text
    assert re.search(r'data-step="follow_up".*?<div class="text-body-secondary">resolved</div>', english, re.S)
    agent.language = "de"
    db.session.commit()
    german = client.get(f"/tickets/{complaint.reference}").text
    with app.test_request_context(), force_locale("de"):
        word = gettext("resolved")  # the catalogues' German for it
    assert word != "resolved"
    assert re.search(rf'data-step="follow_up".*?<div class="text-body-secondary">{word}</div>', german, re.S)


def test_a_no_reopens_the_complaint(app, db, client, agent, customer, complaint):
    _resolve(agent, complaint)
    send_due_followups(now=utcnow() + timedelta(days=4))
    answered = client.post(_link(outbox(db)[-1].body_text), data={"resolved": "no", "comment": "Still broken"})
    assert "we have reopened your request" in text(answered.text, id="followup-thanks")
    db.session.expire_all()
    assert complaint.status == "open"
    assert any(r.action == "follow_up" and r.reason == "customer answered the follow-up: Still broken"
               for r in audit_rows(db, complaint.id))


def test_reopening_cancels_a_pending_follow_up(db, agent, customer, complaint):
    _resolve(agent, complaint)
    services.update_ticket(complaint, agent, status="open")
    assert send_due_followups(now=utcnow() + timedelta(days=10)) == 0
    assert db.session.scalar(select(ComplaintFollowUp)).cancelled_at is not None


def test_forged_and_expired_links_show_a_clear_page_and_record_nothing(app, db, client, agent, customer,
                                                                     complaint, monkeypatch):
    _resolve(agent, complaint)
    followup = db.session.scalar(select(ComplaintFollowUp))
    forged = client.get("/complaints/followup/not-a-token")
    assert forged.status_code == 400
    assert "This link is not valid." in text(forged.text, id="followup-invalid")

    other_key = URLSafeTimedSerializer("another-secret", salt="complaints-followup").dumps(
        {"f": followup.id, "t": complaint.id})
    assert client.post(f"/complaints/followup/{other_key}", data={"resolved": "yes"}).status_code == 400

    class TwoDaysAgo(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - 2 * 86400

    monkeypatch.setenv("HELPDESK_PLUGIN_COMPLAINTS_FOLLOWUP_LINK_DAYS", "1")
    old = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="complaints-followup", signer=TwoDaysAgo).dumps(
        {"f": followup.id, "t": complaint.id})
    expired = client.post(f"/complaints/followup/{old}", data={"resolved": "yes"})
    assert expired.status_code == 400 and "This link has expired." in text(expired.text, id="followup-invalid")
    missing = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="complaints-followup").dumps(
        {"f": followup.id + 7, "t": complaint.id})
    assert client.get(f"/complaints/followup/{missing}").status_code == 404
    db.session.expire_all()
    assert db.session.get(ComplaintFollowUp, followup.id).answered_at is None


def test_no_follow_up_for_auto_replies_or_when_turned_off(db, agent, customer, monkeypatch):
    monkeypatch.setenv("HELPDESK_PLUGIN_COMPLAINTS_FOLLOWUP_DAYS", "0")
    ticket = services.create_ticket(customer, "Order", COMPLAINT)
    _resolve(agent, ticket)
    assert db.session.scalar(select(ComplaintFollowUp)) is None


def test_the_acknowledgement_is_in_the_customers_language(db, agent, customer, other_customer):
    from helpdesk.services.profiles import update_preferences

    update_preferences(customer, agent, language="de")
    german = services.create_ticket(customer, "Late order", COMPLAINT)
    english = services.create_ticket(other_customer, "Late order", COMPLAINT)
    mails = {row.subject: row.body_text for row in outbox(db)}
    text_de = mails[f"Wir haben Ihre Nachricht [{german.reference}]"]
    assert text_de.startswith("Hallo Carla,") and f"Ihre Anfrage ist {german.reference}" in text_de
    assert mails[f"We have your message [{english.reference}]"].startswith("Hi Otto,")


def test_an_acknowledgement_whose_job_was_lost_is_sent_by_the_sweeper(db, customer):
    """Written pending with the ticket, sent by a job after the commit: if that job is lost
    (the process died), the ten-minute job sends it, once (issue 19)."""
    from helpdesk_complaints.models import ComplaintAck
    from helpdesk_complaints.notices import send_pending_acks

    from helpdesk.jobs import huey

    huey._immediate = False  # the acknowledgement's job is queued, and then lost
    try:
        ticket = services.create_ticket(customer, "Late order", COMPLAINT)
    finally:
        huey._immediate = True
    huey.flush()
    ack = db.session.scalar(select(ComplaintAck).where(ComplaintAck.ticket_id == ticket.id))
    assert ack.status == "pending" and not [m for m in outbox(db) if ticket.reference in m.subject]
    assert send_pending_acks(utcnow()) == 0  # not yet: its job may still be on its way
    assert send_pending_acks(utcnow() + timedelta(minutes=3)) == 1
    assert send_pending_acks(utcnow() + timedelta(minutes=3)) == 0
    subjects = [m.subject for m in outbox(db) if ticket.reference in m.subject]
    assert subjects == [f"We have your message [{ticket.reference}]"]
