"""The weekly digest, against a real SMTP server, with the clock passed in: content, privacy, once a week."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from recognition_testkit import set_private

pytestmark = pytest.mark.plugins("recognition")

MONDAY = datetime(2025, 3, 10, 8, 0)  # the job's slot; it covers 3–9 March, ISO week 2025-W10
LAST_WEEK = datetime(2025, 3, 5, 14, 30)


@pytest.fixture
def week_of_recognition(db, people, customer):
    """Last week: Bo thanked Ana (who is private), Cy thanked Bo, Bo earned a badge. Plus noise outside the week."""
    from helpdesk_recognition.models import Award, Kudos

    from helpdesk.plugin_api import services

    ana, bo, cy = people["ana"], people["bo"], people["cy"]
    set_private(ana)
    set_private(bo, private=False, digest=True)
    ticket = services.create_ticket(customer, "Printer on fire", "Smoke")
    db.session.add_all([
        Kudos(recipient_id=ana.id, giver_id=bo.id, source="peer", message="Ana stayed late for the outage.",
              created_at=LAST_WEEK),
        Kudos(recipient_id=bo.id, giver_id=cy.id, source="peer", message="Bo wrote the runbook.",
              value_tag="teamwork", created_at=LAST_WEEK + timedelta(days=1)),
        Kudos(recipient_id=bo.id, giver_id=customer.id, source="rating", score=5, ticket_id=ticket.id,
              message="Super fast and friendly!", created_at=LAST_WEEK + timedelta(days=2)),
        Award(user_id=bo.id, badge="five_star", detail="your first five-star rating",
              created_at=LAST_WEEK + timedelta(days=2, minutes=1)),
        Kudos(recipient_id=bo.id, giver_id=cy.id, source="peer", message="Too early",
              created_at=datetime(2025, 3, 2, 23, 59)),
        Kudos(recipient_id=bo.id, giver_id=cy.id, source="peer", message="This week already",
              created_at=datetime(2025, 3, 10, 7, 0)),
        Kudos(recipient_id=cy.id, giver_id=bo.id, source="peer", message="Cy is in no team", created_at=LAST_WEEK),
    ])
    db.session.commit()
    return ticket


def by_recipient(smtp) -> dict:
    return {m["To"]: m for m in smtp.sink.messages()}


def test_the_lead_and_the_members_who_opted_in_get_the_weeks_recognition(db, smtp, people, week_of_recognition):
    from helpdesk_recognition.digest import weekly_digest

    assert weekly_digest.call_local(now=MONDAY) == 2
    mails = by_recipient(smtp)
    assert set(mails) == {"lee@acme.test", "bo@acme.test"}  # Ana and Cy did not opt in; Cy is in no team

    lead = mails["lee@acme.test"]
    assert lead["Subject"] == "Recognition digest 2025-W10: 4 items"
    body = lead.get_content().replace("\r\n", "\n")
    reference = week_of_recognition.reference
    assert body.split("\n\n")[:3] == [
        "Hi Lee,",
        "here is the recognition in your team for the week of 03 Mar – 09 Mar 2025 (2025-W10):",
        "Support (you lead this team)\n"
        "----------------------------\n"
        "- Ana Agent: kudos from Bo Bright (a colleague): “Ana stayed late for the outage.”\n"
        "- Bo Bright: kudos from Cy Colleague (a colleague) [teamwork]: “Bo wrote the runbook.”\n"
        f"- Bo Bright: kudos from Carla Customer (a customer) ({reference}): “Super fast and friendly!”\n"
        "- Bo Bright earned the “Five stars” badge: your first five-star rating",
    ]
    assert "https://support.acme.test/recognition/" in body
    assert "Too early" not in body and "This week already" not in body and "Cy is in no team" not in body

    member = mails["bo@acme.test"].get_content()
    assert "Support (your team)" in member
    assert "Bo wrote the runbook." in member and "Super fast and friendly!" in member
    assert "Ana stayed late" not in member  # Ana is private: only she and her lead see it
    assert mails["bo@acme.test"]["Subject"] == "Recognition digest 2025-W10: 3 items"



def test_the_digest_is_written_in_each_recipients_language(db, smtp, people, week_of_recognition):
    """A German lead's digest names the week as German writes it; an English member's stays English."""
    from helpdesk_recognition.digest import weekly_digest

    people["lee"].language = "de"
    db.session.commit()
    assert weekly_digest.call_local(now=MONDAY) == 2
    mails = by_recipient(smtp)
    lead = mails["lee@acme.test"].get_content()
    assert "03 März – 09 März 2025 (2025-W10)" in lead and "Mar 2025" not in lead
    assert "03 Mar – 09 Mar 2025 (2025-W10)" in mails["bo@acme.test"].get_content()

def test_sent_once_a_week_and_again_the_next_week(db, smtp, people, week_of_recognition):
    from helpdesk_recognition.digest import weekly_digest
    from helpdesk_recognition.models import DigestSent, Kudos

    assert weekly_digest.call_local(now=MONDAY) == 2
    assert weekly_digest.call_local(now=MONDAY + timedelta(hours=3)) == 0  # a retry, a second worker
    assert len(smtp.sink.envelopes) == 2
    assert sorted((r.week, r.items) for r in db.session.query(DigestSent)) == [("2025-W10", 3), ("2025-W10", 4)]

    db.session.add(Kudos(recipient_id=people["bo"].id, giver_id=people["ana"].id, source="peer",
                         message="Next week's thanks", created_at=MONDAY + timedelta(days=2)))
    db.session.commit()
    assert weekly_digest.call_local(now=MONDAY + timedelta(days=7)) == 2
    latest = [m for m in smtp.sink.messages()[2:]]
    assert {m["Subject"] for m in latest} == {"Recognition digest 2025-W11: 2 items"}
    assert all("Next week's thanks" in m.get_content() for m in latest)


def test_a_quiet_week_sends_nothing(db, smtp, people):
    from helpdesk_recognition.digest import weekly_digest

    assert weekly_digest.call_local(now=MONDAY) == 0
    assert smtp.sink.envelopes == []


def test_the_schedule_is_monday_eight_utc():
    from helpdesk_recognition.digest import weekly_digest

    task = weekly_digest.s()
    assert task.validate_datetime(MONDAY)
    assert not task.validate_datetime(MONDAY + timedelta(hours=1))
    assert not task.validate_datetime(MONDAY + timedelta(minutes=1))
    assert not task.validate_datetime(MONDAY + timedelta(days=1))
    assert task.validate_datetime(MONDAY + timedelta(days=7))


@pytest.mark.plugins()
def test_a_disabled_plugin_sends_no_digest(db, smtp, people, week_of_recognition):
    from helpdesk_recognition.digest import weekly_digest

    assert weekly_digest.call_local(now=MONDAY) is None
    assert smtp.sink.envelopes == []
