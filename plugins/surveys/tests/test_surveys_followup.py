"""Closing the loop: a low score opens a follow-up case; closing it re-surveys the customer."""
from __future__ import annotations

from datetime import timedelta

import pytest
from helpdesk_surveys.models import SurveyFollowUp, SurveyInvitation, SurveyResponse
from helpdesk_surveys.sending import send_due
from sqlalchemy import select
from surveys_testkit import (
    after_delay,
    alerts,
    field_errors,
    invitation_mails,
    local_path,
    resolve,
    score_link,
    text,
    text_part,
    texts,
)

from helpdesk.models import Notification
from helpdesk.plugin_api import Team, services, utcnow

pytestmark = pytest.mark.plugins("surveys")


@pytest.fixture
def lead(make_user):
    return make_user("agent", name="Lena Lead", email="lena@example.test")


@pytest.fixture
def team(db, lead, agent):
    team = Team(name="Printers", lead_id=lead.id)
    db.session.add(team)
    db.session.commit()
    return team


def answer(client, mail, score: int, comment: str | None = None):
    page = client.post(local_path(score_link(mail, score)), data={"score": str(score)}, follow_redirects=True)
    if comment:
        page = client.post(local_path(score_link(mail, score)).split("?")[0] + "/comment", data={"comment": comment},
                           follow_redirects=True)
    return page


def test_detractor_case_steps_close_and_resurvey_recover_the_customer(db, client, login, smtp, customer, agent, lead,
                                                                      team):
    ticket = services.create_ticket(customer, "Printer on fire", "Help", team_id=team.id)
    services.update_ticket(ticket, agent, assignee_id=agent.id)
    resolve(ticket, agent)
    send_due(now=after_delay())
    [invitation_mail] = invitation_mails(smtp)
    before = utcnow()
    answer(client, invitation_mail, 2, "Took a week and nobody called back.")

    db.session.expire_all()
    [case] = db.session.scalars(select(SurveyFollowUp)).all()
    assert (case.owner_id, case.status, case.ticket_id) == (lead.id, "open", ticket.id)  # the team's lead
    assert timedelta(hours=48) <= case.due_at - before < timedelta(hours=48, seconds=10)
    acknowledgement = [m for m in smtp.sink.messages() if m["Subject"] == "Thank you for telling us"]
    assert len(acknowledgement) == 1 and acknowledgement[0]["To"] == "carla@example.test"
    assert text_part(acknowledgement[0]).startswith(
        f"Thank you, Carla — Lena Lead will get in touch with you about {ticket.reference} personally.")
    # The case's owner is told (issue 16: "a follow-up case assigned to me"): the bell and,
    # by the kind's default, an automatic mail at once; nobody else is.
    [note] = db.session.scalars(select(Notification)).all()
    assert (note.recipient_id, note.kind, note.ticket_id) == (lead.id, "surveys.followup_case", ticket.id)
    assert note.text == f"Follow-up case for you: Carla Customer gave a low CSAT score on {ticket.reference}."
    [case_mail] = [m for m in smtp.sink.messages() if m["To"] == "lena@example.test"]
    assert case_mail["Subject"] == note.text and case_mail["Auto-Submitted"] == "auto-generated"

    login(client, lead)
    mine = client.get("/surveys/cases?show=mine")
    assert [row.split(" ")[0:2] for row in texts(mine.text, cls="case-row")] == [["Case", str(case.id)]]
    page = client.get(f"/surveys/cases/{case.id}")
    assert text(page.text, id="case-comment") == "Took a week and nobody called back."
    assert text(page.text, id="case-score") == "CSAT 2"

    refused = client.post(f"/surveys/cases/{case.id}", data={"owner_id": lead.id, "contacted": "y",
                                                              "remedy": "Free toner", "outcome": "", "action": "close"})
    assert refused.status_code == 422
    assert field_errors(refused.text) == ["Record the outcome before closing the case."]
    assert db.session.get(SurveyFollowUp, case.id).status == "open"

    closed = client.post(f"/surveys/cases/{case.id}", follow_redirects=True, data={
        "owner_id": lead.id, "contacted": "y", "remedy": "Free toner for a year",
        "outcome": "Carla accepted; printer replaced.", "action": "close"})
    assert alerts(closed.text)[0].startswith("Case closed. The customer will be asked again after")
    db.session.expire_all()
    case = db.session.get(SurveyFollowUp, case.id)
    assert case.status == "closed" and case.contacted_at is not None and case.remedy == "Free toner for a year"
    resurvey = db.session.get(SurveyInvitation, case.resurvey_invitation_id)
    assert (resurvey.purpose, resurvey.status, resurvey.kind, resurvey.ticket_id) == (
        "resurvey", "scheduled", "csat", ticket.id)

    # A day later the customer is asked again (the throttle does not hold back a re-survey).
    assert send_due(now=utcnow() + timedelta(hours=23)) == {}
    assert send_due(now=utcnow() + timedelta(hours=25)) == {"sent": 1}
    second_mail = invitation_mails(smtp)[-1]
    assert second_mail is not invitation_mail
    answer(client.application.test_client(), second_mail, 5)

    report = client.get("/surveys/reports")
    assert "100 % Recovered detractors: 1 of 1 re-surveyed after a follow-up case" in text(
        report.text, id="report-summary")
    assert text(client.get(f"/surveys/cases/{case.id}").text, id="case-resurvey") == "sent: answered 5"


def test_owner_falls_back_to_the_agent_then_an_admin(db, client, smtp, customer, agent, admin):
    from helpdesk_surveys.responses import case_owner

    ticket = services.create_ticket(customer, "No team", "Help")
    assert case_owner(ticket) == admin
    services.update_ticket(ticket, agent, assignee_id=agent.id)
    assert case_owner(ticket) == agent


def test_nps_detractors_open_cases_and_passives_do_not(db, client, smtp, make_user, customer, admin):
    from helpdesk_surveys.scheduling import schedule_relationship

    other = make_user("customer", name="Paula Passive", email="paula@example.test")
    for person in (customer, other):
        services.create_ticket(person, "Hello", "Hi")
    assert schedule_relationship() == 2
    send_due(now=after_delay(1))
    mails = {m["To"]: m for m in invitation_mails(smtp)}
    answer(client, mails["carla@example.test"], 6)
    answer(client.application.test_client(), mails["paula@example.test"], 7)
    db.session.expire_all()
    [case] = db.session.scalars(select(SurveyFollowUp)).all()
    assert case.response.score == 6 and case.owner_id == admin.id and case.ticket_id is None


def test_changing_a_low_answer_keeps_one_case(db, client, smtp, customer, agent, ticket):
    resolve(ticket, agent)
    send_due(now=after_delay())
    [mail] = invitation_mails(smtp)
    answer(client, mail, 1)
    answer(client, mail, 2)
    answer(client, mail, 5)
    db.session.expire_all()
    assert len(db.session.scalars(select(SurveyFollowUp)).all()) == 1
    assert db.session.scalars(select(SurveyResponse.score)).all() == [5]


def test_case_list_filters_and_pages(db, client, login, customer, agent, admin):
    now = utcnow()
    for n in range(23):
        response = SurveyResponse(kind="csat", score=1, customer_id=customer.id, source="survey", comment="")
        db.session.add(response)
        db.session.flush()
        db.session.add(SurveyFollowUp(response_id=response.id, customer_id=customer.id,
                                      owner_id=agent.id if n < 3 else admin.id,
                                      status="closed" if n == 22 else "open", remedy="", outcome="",
                                      due_at=now - timedelta(hours=1) if n < 5 else now + timedelta(hours=n)))
    db.session.commit()
    login(client, agent)

    def rows(query: str) -> int:
        return len(texts(client.get(f"/surveys/cases?{query}").text, cls="case-row"))

    assert rows("show=open") == 20 and rows("show=open&page=2") == 2
    assert rows("show=overdue") == 5 and rows("show=mine") == 3 and rows("show=closed") == 1
    assert rows("show=all&page=2") == 3
    assert "overdue" in text(client.get("/surveys/cases?show=overdue").text, id="cases-table")
    empty = client.get("/surveys/cases?show=mine")
    login(client, admin)
    assert rows("show=mine") == 19
    assert empty.status_code == 200


def test_a_closed_case_cannot_be_changed(db, client, login, customer, agent):
    response = SurveyResponse(kind="csat", score=1, customer_id=customer.id, source="survey", comment="")
    db.session.add(response)
    db.session.flush()
    case = SurveyFollowUp(response_id=response.id, customer_id=customer.id, status="closed", remedy="", outcome="x",
                          due_at=utcnow())
    db.session.add(case)
    db.session.commit()
    login(client, agent)
    answer = client.post(f"/surveys/cases/{case.id}", data={"outcome": "changed", "action": "save"},
                         follow_redirects=True)
    assert "This case is closed; it cannot be changed." in alerts(answer.text)
    assert db.session.get(SurveyFollowUp, case.id).outcome == "x"
    assert client.get("/surveys/cases/999").status_code == 404
