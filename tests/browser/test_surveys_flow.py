"""A CSAT survey in a real browser: the link from the real mail answers in one click, then a comment,
then the agent sees it in the reports and on the ticket."""
from __future__ import annotations

import re
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from helpdesk import services
from helpdesk.models.base import utcnow

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests/: the real SMTP sink
from smtp_sink import SMTPServer, free_port  # noqa: E402

PASSWORD = "long-password-1"

pytestmark = [pytest.mark.browser, pytest.mark.plugins("surveys")]


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def smtp(smtp_port):
    server = SMTPServer(smtp_port).start()
    yield server
    server.stop()


@pytest.fixture
def app_config(smtp_port, monkeypatch):
    # Quiet hours off: the time of day the suite runs at must not matter.
    monkeypatch.setenv("HELPDESK_PLUGIN_SURVEYS_QUIET_HOURS_START", "0")
    monkeypatch.setenv("HELPDESK_PLUGIN_SURVEYS_QUIET_HOURS_END", "0")
    return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": smtp_port, "MAIL_FROM": "help@acme.test"}


def test_customer_answers_from_the_mail_in_one_click_and_the_agent_sees_it(
        app, db, live_server, open_page, sign_in, screenshot, smtp, make_user):
    from helpdesk_surveys.models import SurveyContact, SurveyResponse
    from helpdesk_surveys.sending import send_due

    app.config["EXTERNAL_URL"] = live_server  # links in mail point at the live server
    carla = make_user("customer", name="Carla Customer", email="carla@example.com", password=PASSWORD)
    alex = make_user("agent", name="Alex Agent", email="alex@example.com", password=PASSWORD)
    ticket = services.create_ticket(carla, "Printer on fire", "The printer in room 4 is smoking.")
    services.update_ticket(ticket, alex, assignee_id=alex.id)
    services.update_ticket(ticket, alex, status="resolved")

    assert send_due(now=utcnow() + timedelta(minutes=30)) == {}  # still within the delay
    assert send_due(now=utcnow() + timedelta(minutes=61)) == {"sent": 1}
    [mail] = [m for m in smtp.sink.messages() if m["Subject"] == f"How did we do on {ticket.reference}?"]
    html = mail.get_body(preferencelist=("html",)).get_content()
    link = next(url for url, score in re.findall(r'href="([^"]+\?score=(\d))"', html) if score == "4")

    # One click in the mail: the page opens with 4 chosen and sends it by itself.
    page = open_page()
    page.goto(link)
    expect(page.locator("#flash-messages")).to_contain_text("Thank you! Your answer is recorded.")
    expect(page.locator("#survey-recorded")).to_contain_text("Your answer: 4 (Satisfied).")
    expect(page.locator("#score-4")).to_be_checked()
    db.session.expire_all()
    [response] = db.session.scalars(select(SurveyResponse)).all()
    assert (response.score, response.ticket_id, response.agent_id) == (4, ticket.id, alex.id)
    zone = db.session.get(SurveyContact, carla.id).timezone
    assert zone  # the browser's time zone, for quiet hours next time

    page.get_by_label("Anything you would like to add?").fill("Fixed before lunch. Thank you, Alex!")
    page.get_by_role("button", name="Add comment").click()
    expect(page.locator("#flash-messages")).to_contain_text("Thank you for your comment.")
    screenshot(page, "survey-answered")

    # Changing one's mind: click 5 on the page and send.
    page.locator("label[for=score-5]").click()
    page.locator("#survey-send").click()
    expect(page.locator("#flash-messages")).to_contain_text("Your answer is updated.")
    db.session.expire_all()
    assert db.session.scalars(select(SurveyResponse.score)).all() == [5]

    agent = sign_in(alex)
    agent.get_by_role("link", name="Satisfaction").click()
    expect(agent.locator("#report-summary")).to_be_visible()
    # The invitation went out 61 minutes from now, which is tomorrow when the test runs late
    # in the evening: the report's period runs to that day.
    sent_day = (utcnow() + timedelta(minutes=61)).date().isoformat()
    agent.goto(f"{live_server}/surveys/reports?to={sent_day}")
    expect(agent.locator("[data-figure=csat]")).to_contain_text("100 %")
    expect(agent.locator("[data-figure=rate]")).to_contain_text("1 answered of 1 sent")
    expect(agent.locator("#report-comments")).to_contain_text("Fixed before lunch. Thank you, Alex!")
    expect(agent.locator(".chart-csat rect")).to_have_count(1)
    screenshot(agent, "survey-report")
    agent.goto(f"{live_server}/tickets/{ticket.reference}")
    expect(agent.locator("#surveys-sidebar")).to_contain_text("CSAT 5")
    agent.goto(f"{live_server}/dashboard")
    expect(agent.locator("#my-csat")).to_have_text("100 %")


def test_a_detractor_gets_a_case_the_lead_closes_it(app, db, live_server, open_page, sign_in, smtp, make_user):
    from helpdesk_surveys.sending import send_due

    from helpdesk.models import Team

    app.config["EXTERNAL_URL"] = live_server
    carla = make_user("customer", name="Carla Customer", email="carla@example.com", password=PASSWORD)
    lena = make_user("agent", name="Lena Lead", email="lena@example.com", password=PASSWORD)
    team = Team(name="Printers", lead_id=lena.id)
    db.session.add(team)
    db.session.commit()
    ticket = services.create_ticket(carla, "Printer on fire", "Smoke!", team_id=team.id)
    services.update_ticket(ticket, lena, status="resolved")
    send_due(now=utcnow() + timedelta(minutes=61))
    [mail] = [m for m in smtp.sink.messages() if "/s/" in m.get_body(preferencelist=("plain",)).get_content()]
    link = re.search(r"(http\S+\?score=1)", mail.get_body(preferencelist=("plain",)).get_content()).group(1)

    customer = open_page()
    customer.goto(link)
    expect(customer.locator("#survey-recorded")).to_contain_text("Your answer: 1 (Very unsatisfied).")
    customer.get_by_label("Anything you would like to add?").fill("Nobody called back.")
    customer.get_by_role("button", name="Add comment").click()
    expect(customer.locator("#flash-messages")).to_contain_text("Thank you for your comment.")

    lead = sign_in(lena)
    lead.get_by_role("link", name="Follow-ups").click()
    lead.get_by_role("link", name="Mine (open)").click()
    lead.locator(".case-row a").first.click()
    expect(lead.locator("#case-comment")).to_have_text("Nobody called back.")
    lead.get_by_label("Contact the customer: I did").check()
    lead.get_by_label("Offer a remedy: what was offered").fill("A replacement printer")
    lead.get_by_role("button", name="Close case and re-survey the customer").click()
    expect(lead.locator(".invalid-feedback")).to_have_text("Record the outcome before closing the case.")
    lead.get_by_label("Record the outcome").fill("Carla is happy with the new printer.")
    lead.get_by_role("button", name="Close case and re-survey the customer").click()
    expect(lead.locator("#flash-messages")).to_contain_text("Case closed. The customer will be asked again after")
    expect(lead.locator("#case-status")).to_have_text("closed")
