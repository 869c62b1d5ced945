"""Detection: the labelled set's precision and recall, and what a flag looks like on a ticket."""
from __future__ import annotations

import csv
from pathlib import Path

import pytest
from complaints_helpers import COMPLAINT, QUESTION, audit_rows, outbox, text
from helpdesk_complaints.detection import detect, parse_phrases
from helpdesk_complaints.models import ComplaintAck, ComplaintFlag
from sqlalchemy import select

from helpdesk.plugin_api import services

DATA = Path(__file__).parent / "data" / "labelled_messages.csv"


def _scores(rows: list[dict]) -> tuple[float, float, list[str]]:
    tp = fp = fn = 0
    misses = []
    for row in rows:
        predicted = detect(row["text"]).complaint
        gold = row["label"] == "1"
        tp += predicted and gold
        fp += predicted and not gold
        fn += gold and not predicted
        if predicted != gold:
            misses.append(f"{'FP' if predicted else 'FN'} #{row['id']}: {row['text']}")
    return tp / (tp + fp), tp / (tp + fn), misses


def test_labelled_set_precision_and_recall():
    rows = list(csv.DictReader(DATA.open(encoding="utf-8")))
    assert len(rows) >= 60
    assert {r["label"] for r in rows} == {"0", "1"}
    assert len({r["language"] for r in rows}) >= 5  # several languages
    assert {"sarcasm", "polite", "negative-unrelated", "other-language"} <= {r["kind"] for r in rows}
    figures = {}
    for name, subset in (("all", rows), ("dev", [r for r in rows if r["split"] == "dev"]),
                         ("holdout", [r for r in rows if r["split"] == "holdout"])):
        precision, recall, misses = _scores(subset)
        figures[name] = (precision, recall)
        f1 = 2 * precision * recall / (precision + recall)
        print(f"complaint detection, {name} ({len(subset)} messages): precision {precision:.2f}, "
              f"recall {recall:.2f}, F1 {f1:.2f}")
        for miss in misses:
            print("   ", miss)
    # Measured: all 0.96 / 1.00, dev (tuned on) 1.00 / 1.00, holdout (written first, never tuned on)
    # 0.91 / 1.00. The floors leave a small margin.
    assert figures["all"][0] >= 0.9 and figures["all"][1] >= 0.9
    assert figures["holdout"][0] >= 0.85 and figures["holdout"][1] >= 0.9


def test_detection_explains_itself():
    found = detect("I was charged twice and nobody has answered my emails. Unacceptable.")
    assert found.complaint
    assert "phrase: unacceptable" in found.signals
    assert "cue: charged wrongly" in found.signals and "cue: nobody answers" in found.signals
    calm = detect("Could you send me a copy of my invoice for April, please?")
    assert not calm.complaint and calm.signals == []
    # Speed is measured by bench/bench_complaints.py (1–2 ms a message), not asserted here.


def test_phrases_match_whole_words_in_any_case_and_language():
    phrases = parse_phrases("Beschwerde\nmake a complaint; réclamation")
    assert phrases == ["Beschwerde", "make a complaint", "réclamation"]
    assert detect("Ich habe eine BESCHWERDE.", phrases=phrases).complaint
    assert "phrase: réclamation" in detect("Je fais une Réclamation.", phrases=phrases).signals
    assert detect("I want to make   a complaint", phrases=phrases).complaint
    # Not inside another word.
    assert not any(s.startswith("phrase") for s in detect("Beschwerdestelle", phrases=phrases).signals)
    assert parse_phrases("") == []


@pytest.mark.plugins("complaints")
def test_a_complaint_ticket_is_tagged_raised_labelled_flagged_and_acknowledged(app, db, customer):
    ticket = services.create_ticket(customer, "Order 48213", COMPLAINT)

    assert "complaint" in [t.name for t in ticket.tags]
    assert ticket.priority == "high"
    labels = ticket.messages[0].meta["labels"]["complaints"]
    assert labels["complaint"] is True and -1 <= labels["score"] <= 1  # calm wording: VADER alone misses it
    assert "cue: expected: supposed to / promised / told" in labels["signals"]
    flag = db.session.scalar(select(ComplaintFlag).where(ComplaintFlag.ticket_id == ticket.id))
    assert flag.source == "detection" and flag.signals == labels["signals"]
    reasons = [row.reason for row in audit_rows(db, ticket.id) if row.field == "tags"]
    assert reasons == ["classified by complaints"]
    [mail] = outbox(db)
    assert mail.to_addr == "carla@example.test" and ticket.reference in mail.subject
    assert mail.body_text.startswith("Hi Carla,")
    assert "We are sorry" in mail.body_text and "What happens next:" in mail.body_text


@pytest.mark.plugins("complaints")
def test_a_question_is_not_flagged(app, db, customer):
    ticket = services.create_ticket(customer, "Email address", QUESTION)
    assert [t.name for t in ticket.tags] == [] and ticket.priority == "normal"
    assert ticket.messages[0].meta["labels"]["complaints"]["complaint"] is False
    assert db.session.scalar(select(ComplaintFlag)) is None and outbox(db) == []


@pytest.mark.plugins("complaints")
def test_auto_replies_are_never_flagged_or_acknowledged(app, db, customer):
    for meta in ({"auto_reply": True}, {"email": {"auto_reply": True, "message_id": "<x@y>"}}):
        ticket = services.create_ticket(customer, "Out of office", COMPLAINT, channel="web", meta=meta)
        assert "complaint" not in [t.name for t in ticket.tags]
        assert "labels" not in ticket.messages[0].meta
    assert db.session.scalar(select(ComplaintFlag)) is None
    assert db.session.scalar(select(ComplaintAck)) is None and outbox(db) == []


@pytest.mark.plugins("complaints")
def test_repeat_contact_and_vip_signals(app, db, make_user):
    vip = make_user("customer", name="Vera Vip", tags="vip, wholesale")
    services.create_ticket(vip, "Question", QUESTION)
    # Mildly unhappy on its own; the second contact in a week and the VIP tag tip it over.
    second = services.create_ticket(vip, "Delivery", "The parcel is late.")
    labels = second.messages[0].meta["labels"]["complaints"]
    assert labels["complaint"] is True
    assert any(s.startswith("repeat contact: HD-") for s in labels["signals"])
    assert "VIP customer" in labels["signals"]
    assert second.priority == "urgent"  # VIP complaints get the VIP priority


@pytest.mark.plugins("complaints")
def test_a_later_customer_message_can_make_a_complaint_acknowledged_once(app, db, customer, agent):
    ticket = services.create_ticket(customer, "Printer", QUESTION)
    assert db.session.scalar(select(ComplaintFlag)) is None
    services.add_message(ticket, customer, "Why has nobody replied? I have asked three times already.")
    services.add_message(ticket, customer, "Still nothing. This is unacceptable.")
    flag = db.session.scalar(select(ComplaintFlag))
    assert flag.ticket_id == ticket.id and "wrote again before an answer" in flag.signals
    assert "complaint" in [t.name for t in ticket.tags]
    assert len(outbox(db)) == 1  # one acknowledgement, whatever the number of angry messages
    ack = db.session.scalar(select(ComplaintAck))
    assert ack.status == "sent" and ack.channel == "web"


@pytest.mark.plugins("complaints")
def test_low_survey_ratings_flag_the_ticket_or_the_latest(app, db, customer):
    ticket = services.create_ticket(customer, "Invoice", QUESTION)
    services.record_feedback(customer, "csat", score=4, ticket=ticket, source="survey")
    assert db.session.scalar(select(ComplaintFlag)) is None
    services.record_feedback(customer, "csat", score=2, comment="meh", ticket=ticket, source="survey")
    flag = db.session.scalar(select(ComplaintFlag))
    assert flag.source == "survey" and flag.signals == ["low survey rating: csat 2 (survey)"]
    db.session.expire_all()
    assert "complaint" in [t.name for t in ticket.tags]
    later = services.create_ticket(customer, "Other", "Can I pay by bank transfer?")
    services.record_feedback(customer, "nps", score=3, source="web")  # no ticket: the latest one
    flags = {f.ticket_id: f for f in db.session.scalars(select(ComplaintFlag))}
    assert flags[later.id].signals == ["low survey rating: nps 3 (web)"]
    services.record_feedback(customer, "nps", score=7, source="web")
    assert len(db.session.scalars(select(ComplaintFlag)).all()) == 2


@pytest.mark.plugins("complaints")
def test_a_cleared_flag_is_respected_on_later_messages(app, db, client, login, customer, agent):
    ticket = services.create_ticket(customer, "Order", COMPLAINT)
    login(client, agent)
    page = client.post(f"/complaints/tickets/{ticket.reference}/clear", data={"reason": "It was a joke"},
                       follow_redirects=True)
    assert "Complaint flag cleared." in text(page.text, id="flash-messages")
    assert "Flag cleared by Alex Agent" in text(page.text, id="complaint-cleared")
    assert "complaint-badge" not in page.text
    db.session.expire_all()
    assert "complaint" not in [t.name for t in ticket.tags]
    services.add_message(ticket, customer, "Still nothing. Unacceptable!")
    db.session.expire_all()
    assert "complaint" not in [t.name for t in ticket.tags]
    assert ticket.messages[-1].meta["labels"]["complaints"]["cleared"] is True
    flag = db.session.scalar(select(ComplaintFlag))
    assert flag.clear_reason == "It was a joke" and flag.cleared_by_id == agent.id


@pytest.mark.plugins()
def test_nothing_happens_while_the_plugin_is_disabled(app, db, client, login, customer, agent):
    ticket = services.create_ticket(customer, "Order", COMPLAINT)
    assert [t.name for t in ticket.tags] == [] and "labels" not in ticket.messages[0].meta
    assert db.session.scalar(select(ComplaintFlag)) is None
    login(client, agent)
    assert client.get("/complaints/").status_code == 404
    assert "complaint-panel" not in client.get(f"/tickets/{ticket.reference}").text
