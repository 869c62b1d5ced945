"""A CSAT survey end to end through a real SMTP server: resolve → delay → mail → click → comment → report."""
from __future__ import annotations

import pytest
from helpdesk_surveys.models import SurveyInvitation, SurveyResponse, SurveyType
from helpdesk_surveys.sending import send_due
from sqlalchemy import func, select
from surveys_testkit import (
    after_delay,
    alerts,
    html_part,
    invitation_mails,
    local_path,
    resolve,
    score_link,
    survey_links,
    text,
    text_part,
    texts,
)

from helpdesk.plugin_api import services
from helpdesk.plugin_manager import manager
from helpdesk.testing import make_plugin

pytestmark = pytest.mark.plugins("surveys")


def count(db, model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def test_resolved_ticket_gets_a_survey_by_mail_after_the_delay_and_the_answer_reaches_the_report(
        app, db, client, login, smtp, customer, agent, ticket):
    heard = []
    manager(app).register(make_plugin("spy", helpdesk_feedback_received=lambda feedback: heard.append(
        (feedback["kind"], feedback["score"], feedback["comment"], feedback["source"]))), "spy")
    services.update_ticket(ticket, agent, assignee_id=agent.id)
    resolve(ticket, agent)

    assert send_due(now=after_delay(30)) == {}  # the delay (60 minutes) has not passed
    assert invitation_mails(smtp) == []
    assert send_due(now=after_delay(61)) == {"sent": 1}
    [mail] = invitation_mails(smtp)
    assert mail["To"] == "carla@example.test"
    assert mail["Subject"] == f"How did we do on {ticket.reference}?"
    assert mail["List-Unsubscribe"].startswith("<https://support.acme.test/s/")
    assert mail["List-Unsubscribe"].endswith("/unsubscribe>")
    body = text_part(mail)
    assert body.startswith(f"Hi Carla,\n\nyour request {ticket.reference} (\"Printer on fire\") was resolved by Alex.")
    links = survey_links(mail)
    assert [link.rsplit("=", 1)[1] for link in links] == ["1", "2", "3", "4", "5"]  # the text carries the links
    assert "5 - Very satisfied: https://support.acme.test/s/" in body
    assert html_part(mail).count("?score=") == 5  # five one-click buttons
    assert send_due(now=after_delay(120)) == {}  # sent once

    # The customer clicks "4" in the mail. The page shows 4 chosen; nothing is recorded by the GET.
    page = client.get(local_path(score_link(mail, 4)))
    assert page.status_code == 200
    assert text(page.text, id="survey-question") == "How did we do?"
    assert 'id="score-4" value="4" checked' in page.text and 'data-autosubmit="1"' in page.text
    assert count(db, SurveyResponse) == 0 and heard == []

    # The page's script presses "Send" (a form POST with the CSRF token).
    answered = client.post(local_path(score_link(mail, 4)), data={"score": "4"}, follow_redirects=True)
    assert answered.status_code == 200
    assert "Thank you! Your answer is recorded." in alerts(answered.text)
    assert text(answered.text, id="survey-recorded").startswith("Your answer: 4 (Satisfied).")
    assert 'data-autosubmit' not in answered.text  # no loop
    db.session.expire_all()
    [response] = db.session.scalars(select(SurveyResponse)).all()
    assert (response.kind, response.score, response.ticket_id, response.agent_id, response.channel) == (
        "csat", 4, ticket.id, agent.id, "web")
    assert heard == [("csat", 4, "", "survey")]

    commented = client.post(local_path(links[0]).split("?")[0] + "/comment",
                            data={"comment": "Quick and friendly, thanks!"}, follow_redirects=True)
    assert "Thank you for your comment." in alerts(commented.text)
    assert heard[-1] == ("csat", 4, "Quick and friendly, thanks!", "survey")
    assert db.session.get(SurveyInvitation, response.invitation_id).answered_at is not None

    login(client, agent)
    # The invitation went out 61 minutes from now, which is tomorrow when the test runs late
    # in the evening: the report's period runs to that day.
    report = client.get(f"/surveys/reports?to={after_delay(61).date().isoformat()}")
    assert report.status_code == 200
    summary = text(report.text, id="report-summary")
    assert "100 % CSAT: satisfied (4–5) of 1 answers" in summary
    assert "100 % Response rate: 1 answered of 1 sent" in summary
    assert texts(report.text, cls="report-comment-text") == ["Quick and friendly, thanks!"]
    agent_rows = [t for t in texts(report.text, cls="tally-row") if t.startswith("Alex Agent")]
    assert agent_rows == ["Alex Agent 100 % 1 — 0 / 0 / 0 1 1 100 %"]

    sidebar = text(client.get(f"/tickets/{ticket.reference}").text, id="surveys-sidebar")
    assert "CSAT 4" in sidebar and "Quick and friendly, thanks!" in sidebar


def test_a_mail_scanner_fetching_every_link_records_nothing(app, db, client, smtp, customer, agent, ticket):
    resolve(ticket, agent)
    send_due(now=after_delay())
    [mail] = invitation_mails(smtp)
    for link in survey_links(mail):
        assert client.get(local_path(link)).status_code == 200
    assert client.get(local_path(survey_links(mail)[0]).split("?")[0] + "/unsubscribe").status_code == 200
    assert count(db, SurveyResponse) == 0
    assert db.session.get(SurveyInvitation, 1).answered_at is None
    from helpdesk_surveys.models import SurveyContact

    assert count(db, SurveyContact) == 1 and db.session.get(SurveyContact, customer.id).unsubscribed_at is None


def test_a_later_different_click_updates_the_one_answer(app, db, client, smtp, customer, agent, ticket):
    heard = []
    manager(app).register(make_plugin("spy", helpdesk_feedback_received=lambda feedback: heard.append(
        feedback["score"])), "spy")
    resolve(ticket, agent)
    send_due(now=after_delay())
    [mail] = invitation_mails(smtp)
    client.post(local_path(score_link(mail, 2)), data={"score": "2"})
    changed = client.post(local_path(score_link(mail, 5)), data={"score": "5"}, follow_redirects=True)
    assert "Thank you! Your answer is updated." in alerts(changed.text)
    db.session.expire_all()
    assert db.session.scalars(select(SurveyResponse.score)).all() == [5]
    assert heard == [2, 5]
    # The GET of the link for the answer already given does not submit again.
    again = client.get(local_path(score_link(mail, 5)))
    assert "data-autosubmit" not in again.text and 'id="score-5" value="5" checked' in again.text


def test_relationship_nps_goes_to_active_customers_with_eleven_buttons(app, db, client, smtp, customer,
                                                                       other_customer, agent, ticket):
    from helpdesk_surveys.scheduling import schedule_relationship

    assert schedule_relationship() == 1  # Carla has a recent ticket; Otto has none
    assert schedule_relationship() == 0  # not twice within the interval
    assert send_due(now=after_delay(1)) == {"sent": 1}
    [mail] = invitation_mails(smtp)
    assert mail["To"] == "carla@example.test"
    assert mail["Subject"] == "A quick question from Helpdesk"
    assert html_part(mail).count("?score=") == 11
    assert "Answer from 0 (not at all likely) to 10 (extremely likely): https://support.acme.test/s/" in text_part(mail)
    answered = client.post(local_path(score_link(mail, 9)), data={"score": "9"}, follow_redirects=True)
    assert "Thank you! Your answer is recorded." in alerts(answered.text)
    db.session.expire_all()
    [response] = db.session.scalars(select(SurveyResponse)).all()
    assert (response.kind, response.score, response.ticket_id) == ("nps", 9, None)


def test_the_invitation_is_in_the_customers_language(db, agent, customer, other_customer):
    from surveys_testkit import after_delay, resolve

    from helpdesk.models import OutboxMail
    from helpdesk.services.profiles import update_preferences

    update_preferences(customer, agent, language="de")
    german = services.create_ticket(customer, "Drucker", "Hilfe")
    english = services.create_ticket(other_customer, "Printer", "Help")
    resolve(german, agent)
    resolve(english, agent)
    assert send_due(now=after_delay()) == {"sent": 2}
    mails = {m.to_addr: m for m in db.session.scalars(select(OutboxMail))}
    de, en = mails[customer.email], mails[other_customer.email]
    assert de.subject == f"Wie waren wir bei {german.reference}?"
    assert de.body_text.startswith(f"Hallo Carla,\n\nIhre Anfrage {german.reference}")
    assert "Klicken Sie auf die passende Antwort:" in de.body_text and "Sehr zufrieden" in de.body_text
    assert "Keine Umfragen mehr:" in de.body_text and "Ein Klick genügt." in de.body_html
    assert '<html lang="de">' in de.body_html
    assert en.subject == f"How did we do on {english.reference}?" and "Very satisfied" in en.body_text


def test_the_admins_own_text_has_a_version_per_language(db, client, login, admin, agent, customer, other_customer):
    """Other languages on the survey type's form: a German customer gets the admin's German subject
    and text, everyone else the admin's own; a broken German text is refused and nothing saved."""
    from surveys_testkit import after_delay, field_errors, resolve

    from helpdesk.models import OutboxMail
    from helpdesk.services.profiles import update_preferences

    login(client, admin)
    assert 'name="subject_de"' in client.get("/surveys/admin/types/csat").text
    form = {"enabled": "y", "trigger": "resolution", "delay_minutes": "60", "interval_days": "90",
            "active_days": "90", "channels": "", "question": "How did we do?",
            "subject": "Your ticket {{ ticket.reference }}", "body": "Hi {{ customer.first_name }}, rate us.",
            "action": "save"}
    broken = client.post("/surveys/admin/types/csat", data={**form, "subject_de": "Ihr Ticket",
                                                             "body_de": "Hallo {{ customer.first_name"})
    assert broken.status_code == 422
    assert any(e.startswith("Deutsch: ") for e in field_errors(broken.text)), field_errors(broken.text)
    assert "Hallo {{ customer.first_name" in broken.text
    assert db.session.get(SurveyType, "csat") is None
    saved = client.post("/surveys/admin/types/csat", data={
        **form, "subject_de": "Ihr Ticket {{ ticket.reference }}", "body_de": "Hallo {{ customer.first_name }}, "
                                                                           "bitte bewerten Sie uns."})
    assert saved.status_code == 302

    update_preferences(customer, agent, language="de")
    german = services.create_ticket(customer, "Drucker", "Hilfe")
    english = services.create_ticket(other_customer, "Printer", "Help")
    resolve(german, agent)
    resolve(english, agent)
    assert send_due(now=after_delay()) == {"sent": 2}
    mails = {m.to_addr: m for m in db.session.scalars(select(OutboxMail))}
    de, en = mails[customer.email], mails[other_customer.email]
    assert de.subject == f"Ihr Ticket {german.reference}"
    assert de.body_text.startswith("Hallo Carla, bitte bewerten Sie uns.")
    assert "Sehr zufrieden" in de.body_text  # the fixed words in German as before
    assert en.subject == f"Your ticket {english.reference}" and en.body_text.startswith("Hi Otto, rate us.")
