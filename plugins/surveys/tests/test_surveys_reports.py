"""Report arithmetic against hand-checked fixtures, CSV, charts, slots, portal feedback and admin pages."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

import pytest
from helpdesk_surveys.models import SurveyInvitation, SurveyResponse, SurveyType
from helpdesk_surveys.reports import build_report, csat_percent, fmt_nps, fmt_percent, nps_value
from sqlalchemy import func, select
from surveys_testkit import alerts, attributes, field_errors, text, texts

from helpdesk.models import AdminAuditEntry
from helpdesk.plugin_api import Team, services, utcnow

pytestmark = pytest.mark.plugins("surveys")

MONDAY = datetime(2030, 3, 4, 10, 0)  # a Monday
RANGE = "from=2030-03-01&to=2030-03-31"


def add(db, kind, score, when=MONDAY, comment="", **fields):
    response = SurveyResponse(kind=kind, score=score, comment=comment, source="survey", created_at=when,
                              updated_at=when, **fields)
    db.session.add(response)
    db.session.commit()
    return response


def sent(db, customer, n, answered, when=MONDAY, **fields):
    for i in range(n):
        db.session.add(SurveyInvitation(kind="csat", purpose="resolution", customer_id=customer.id, status="sent",
                                        send_after=when, sent_at=when, answered_at=when if i < answered else None,
                                        **fields))
    db.session.commit()


def test_arithmetic_by_hand():
    # CSAT: 5, 4, 3, 2, 1, 5 → three of six are 4–5 → 50 %.
    assert csat_percent([5, 4, 3, 2, 1, 5]) == 50.0
    # NPS: 10, 9, 8, 7, 6, 0, 10 → promoters 3, passives 2, detractors 2 → (3 − 2) / 7 = 14.29 → "+14".
    assert nps_value([10, 9, 8, 7, 6, 0, 10]) == pytest.approx(100 / 7)
    assert fmt_nps(nps_value([10, 9, 8, 7, 6, 0, 10])) == "+14"
    assert nps_value([7, 8, 7, 8]) == 0.0 and fmt_nps(0.0) == "0"  # all passives
    assert nps_value([0, 6, 10]) == pytest.approx(-100 / 3) and fmt_nps(-100 / 3) == "-33"
    assert csat_percent([]) is None and nps_value([]) is None
    assert fmt_percent(None) == "—" and fmt_nps(None) == "—" and fmt_percent(66.666) == "67 %"


def test_no_responses_show_dashes_not_zeros(client, login, agent):
    login(client, agent)
    page = client.get("/surveys/reports")
    assert page.status_code == 200
    summary = text(page.text, id="report-summary")
    assert summary.startswith("— CSAT: satisfied (4–5) of 0 answers — NPS of 0 answers: 0 promoters, 0 passives, "
                              "0 detractors — Response rate: 0 answered of 0 sent —")
    assert "No answers in this period" in page.text  # the charts say so
    assert "No answers and no invitations in this period." in texts(page.text, cls="empty-state")


def test_hand_checked_figures_overall_and_by_agent_team_channel(db, client, login, make_user, customer, agent):
    other = make_user("agent", name="Bea Agent", email="bea@example.test")
    team = Team(name="Printers")
    db.session.add(team)
    db.session.commit()
    alex = {"agent_id": agent.id, "team_id": team.id, "channel": "email"}
    bea = {"agent_id": other.id, "channel": "web"}
    for score in (5, 4, 3, 2):  # Alex: 2 of 4 satisfied = 50 %
        add(db, "csat", score, **alex)
    for score in (5, 5):  # Bea: 100 %
        add(db, "csat", score, **bea)
    for score in (10, 9, 8, 7, 6, 0, 10):  # NPS for Alex: +14 (3 promoters, 2 passives, 2 detractors)
        add(db, "nps", score, **alex)
    for score in (7, 8, 7, 8):  # Bea: all passives → 0
        add(db, "nps", score, **bea)
    add(db, "comment", None, comment="Nice portal", customer_id=customer.id)  # not a rating
    sent(db, customer, 10, 7, **alex)  # Alex: 70 %
    sent(db, customer, 4, 1, **bea)  # Bea: 25 %

    data = build_report(datetime(2030, 3, 1), datetime(2030, 4, 1))
    assert (data.total.csat_n, data.total.csat) == (6, pytest.approx(4 / 6 * 100))
    assert (data.total.promoters, data.total.passives, data.total.detractors) == (3, 6, 2)
    assert data.total.nps == pytest.approx(100 / 11)
    assert (data.total.sent, data.total.answered, data.total.rate) == (14, 8, pytest.approx(800 / 14))

    login(client, agent)
    page = client.get(f"/surveys/reports?{RANGE}")
    summary = text(page.text, id="report-summary")
    assert "67 % CSAT: satisfied (4–5) of 6 answers" in summary
    assert "+9 NPS of 11 answers: 3 promoters, 6 passives, 2 detractors" in summary
    assert "57 % Response rate: 8 answered of 14 sent" in summary
    assert texts(page.text, id="by-agent")[0].split(" Alex Agent ")[1:] == [
        "50 % 4 +14 3 / 2 / 2 10 7 70 % Bea Agent 100 % 2 0 0 / 4 / 0 4 1 25 %"]
    assert "Printers 50 % 4 +14 3 / 2 / 2 10 7 70 %" in text(page.text, id="by-team")
    assert "(none) 100 % 2 0 0 / 4 / 0 4 1 25 %" in text(page.text, id="by-team")
    channels = texts(page.text, id="by-channel")[0]
    assert "email 50 % 4 +14" in channels and "web 100 % 2 0" in channels
    assert texts(page.text, cls="report-comment-text") == ["Nice portal"]
    assert 'class="surveys-chart chart-csat"' in page.text and "<rect" in page.text


def test_over_time_by_week_and_by_month(db, client, login, agent):
    add(db, "csat", 5, when=datetime(2030, 3, 3, 23, 0))  # Sunday: the week of Monday 25 February
    add(db, "csat", 1, when=datetime(2030, 3, 4, 0, 30))  # Monday
    add(db, "csat", 4, when=datetime(2030, 3, 10, 12, 0))  # Sunday of the same week
    add(db, "nps", 10, when=datetime(2030, 4, 2, 9, 0))
    data = build_report(datetime(2030, 2, 1), datetime(2030, 5, 1), "week")
    assert [(p, t.csat_n, t.csat) for p, t in data.periods() if t.csat_n] == [
        ("2030-02-25", 1, 100.0), ("2030-03-04", 2, 50.0)]
    monthly = build_report(datetime(2030, 2, 1), datetime(2030, 5, 1), "month")
    assert [(p, t.csat_n, t.nps_n) for p, t in monthly.periods()] == [("2030-03-01", 3, 0), ("2030-04-01", 0, 1)]
    login(client, agent)
    page = client.get("/surveys/reports?from=2030-02-01&to=2030-04-30&bucket=month")
    assert [row.split(" ")[0] for row in texts(page.text, id="by-period")[0].split("2030-")[1:]] == ["03-01", "04-01"]


def test_days_are_the_sites_days_not_utc_days(db, client, login, agent, customer):
    """On a site in Berlin, an answer at 23:30 UTC on 31 March is 01:30 on 1 April there (the
    clocks went forward that night): it counts in April, on the page, in the CSVs and in the
    core reports' section; one at 21:30 UTC (23:30 in Berlin) stays in March."""
    from helpdesk.services.settings import save_site_settings

    save_site_settings({"timezone": "Europe/Berlin"})
    db.session.commit()
    late = datetime(2030, 3, 31, 23, 30)
    add(db, "csat", 5, when=late, customer_id=customer.id, comment="Late but good")
    add(db, "csat", 1, when=datetime(2030, 3, 31, 21, 30), customer_id=customer.id, comment="Still March")
    sent(db, customer, 2, 1, when=late)
    login(client, agent)  # Alex has no time zone of his own: the site's days

    page = client.get("/surveys/reports?from=2030-03-01&to=2030-04-30&bucket=month").text
    assert [row.split(" ")[:3] for row in texts(page, cls="tally-row") if row.startswith("2030-")] == [
        ["2030-03-01", "0", "%"], ["2030-04-01", "100", "%"]]
    april = text(client.get("/surveys/reports?from=2030-04-01&to=2030-04-01").text, id="report-summary")
    assert "100 % CSAT: satisfied (4–5) of 1 answers" in april
    assert "50 % Response rate: 1 answered of 2 sent" in april
    march_31 = client.get("/surveys/reports?from=2030-03-31&to=2030-03-31").text
    assert "0 % CSAT: satisfied (4–5) of 1 answers" in text(march_31, id="report-summary")
    assert texts(march_31, cls="report-comment-text") == ["Still March"]

    periods = list(csv.reader(io.StringIO(client.get(
        "/surveys/reports.csv?what=period&from=2030-03-01&to=2030-04-30&bucket=month").text)))
    assert [(row[0], row[2], row[7]) for row in periods[1:]] == [("2030-03-01", "1", "0"), ("2030-04-01", "1", "2")]
    answers = list(csv.reader(io.StringIO(client.get(
        "/surveys/reports.csv?what=responses&from=2030-04-01&to=2030-04-01").text)))
    assert [(row[0], row[3]) for row in answers[1:]] == [("2030-03-31 23:30:00", "Late but good")]

    section = text(client.get("/reports?start=2030-04-01&end=2030-04-01").text, id="surveys-report-section")
    assert "CSAT 100 % 1 satisfied of 1 answers" in section


@pytest.mark.parametrize(("zone", "answers"), [
    # UTC time of an answer → its local day. Two answers of one UTC day may fall on two local days.
    ("America/New_York", [(datetime(2030, 4, 1, 3, 0), 31), (datetime(2030, 4, 1, 12, 0), 1)]),  # 23:00 / 08:00
    ("Asia/Kolkata", [(datetime(2030, 4, 1, 18, 40), 2), (datetime(2030, 4, 1, 18, 20), 1)]),  # 00:10 / 23:50
    ("Pacific/Auckland", [(datetime(2030, 4, 1, 10, 59), 1), (datetime(2030, 4, 1, 11, 0), 2)]),  # +13: 23:59 / 00:00
    ("UTC", [(datetime(2030, 4, 1, 23, 59), 1), (datetime(2030, 4, 1, 0, 0), 1)]),
])
def test_an_answer_counts_on_its_local_day_in_any_zone(db, zone, answers):
    from helpdesk.services.settings import save_site_settings

    save_site_settings({"timezone": zone})
    db.session.commit()
    expected = {31: 0, 1: 0, 2: 0}
    for when, local_day in answers:
        add(db, "nps", 10, when=when)
        expected[local_day] += 1
    days = {31: datetime(2030, 3, 31), 1: datetime(2030, 4, 1), 2: datetime(2030, 4, 2)}
    counts = {n: build_report(day, day + timedelta(days=1)).total.nps_n for n, day in days.items()}
    assert counts == expected
    months = build_report(days[31], days[2] + timedelta(days=1), "month").periods()
    assert {month: tally.nps_n for month, tally in months} == {
        month: n for month, n in (("2030-03-01", expected[31]), ("2030-04-01", expected[1] + expected[2])) if n}


def test_invalid_filters_are_explained_next_to_the_fields(client, login, agent):
    login(client, agent)
    page = client.get("/surveys/reports?from=yesterday&to=2030-01-01&bucket=year")
    assert page.status_code == 422
    assert field_errors(page.text) == ["Use the form YYYY-MM-DD.", "Choose week or month."]
    backwards = client.get("/surveys/reports?from=2030-02-01&to=2030-01-01")
    assert field_errors(backwards.text) == ["The end must not be before the start."]


def test_csv_exports_answers_and_aggregates(db, client, login, customer, agent, ticket):
    add(db, "csat", 2, comment="=HYPERLINK(\"http://evil.example\")", customer_id=customer.id, ticket_id=ticket.id,
        agent_id=agent.id, channel="web")
    add(db, "nps", 9, customer_id=customer.id)
    login(client, agent)
    answers = client.get(f"/surveys/reports.csv?what=responses&{RANGE}")
    assert answers.status_code == 200 and answers.mimetype == "text/csv"
    assert "attachment" in answers.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(answers.text)))
    assert rows[0][:5] == ["answered_at_utc", "kind", "score", "comment", "ticket"]
    assert rows[1] == ["2030-03-04 10:00:00", "csat", "2", "'=HYPERLINK(\"http://evil.example\")", ticket.reference,
                       "Carla Customer", "carla@example.test", "Alex Agent", "", "web", "survey"]
    assert len(rows) == 3
    by_agent = list(csv.reader(io.StringIO(client.get(f"/surveys/reports.csv?what=agent&{RANGE}").text)))
    assert by_agent[1][:4] == ["Alex Agent", "0.0", "1", ""] and by_agent[2][:5] == ["(none)", "", "0", "100.0", "1"]
    assert client.get(f"/surveys/reports.csv?what=secrets&{RANGE}").status_code == 404


def test_feedback_from_other_plugins_is_stored_and_reported(db, client, login, customer, agent, ticket):
    services.update_ticket(ticket, agent, assignee_id=agent.id)
    services.record_feedback(customer, "csat", score=1, comment="Still broken", ticket=ticket,
                             source="complaint_followup")
    [response] = db.session.scalars(select(SurveyResponse)).all()
    assert (response.invitation_id, response.source, response.agent_id, response.score) == (
        None, "complaint_followup", agent.id, 1)
    login(client, agent)
    sidebar = text(client.get(f"/tickets/{ticket.reference}").text, id="surveys-sidebar")
    assert "CSAT 1" in sidebar and "complaint_followup" in sidebar and "Still broken" in sidebar
    assert "0 % CSAT: satisfied (4–5) of 1 answers" in text(client.get("/surveys/reports").text, id="report-summary")


def test_portal_feedback_form_for_customers(db, client, login, customer, agent):
    login(client, customer)
    home = client.get("/portal/")
    assert ("Give feedback", "/surveys/feedback") in [(a["href"] and "Give feedback", a["href"]) for a in
                                                      attributes(home.text, cls="nav-plugin-link")]
    empty = client.post("/surveys/feedback", data={"comment": "  "})
    assert empty.status_code == 422
    assert field_errors(empty.text) == ["Tell us what you think: the feedback is empty."]
    sent_page = client.post("/surveys/feedback", data={"comment": "Love the new portal!"}, follow_redirects=True)
    assert "Thank you for your feedback. We read every message." in alerts(sent_page.text)
    [response] = db.session.scalars(select(SurveyResponse)).all()
    assert (response.kind, response.score, response.comment, response.source) == (
        "comment", None, "Love the new portal!", "portal")
    login(client, agent)
    assert client.get("/surveys/feedback").status_code == 404
    assert texts(client.get("/surveys/reports").text, cls="report-comment-text") == ["Love the new portal!"]


def test_agent_dashboard_shows_this_months_csat_and_comments(db, client, login, customer, agent, make_user):
    other = make_user("agent", name="Bea Agent", email="bea@example.test")
    now = utcnow()
    for score in (5, 4, 2):
        add(db, "csat", score, when=now, agent_id=agent.id, customer_id=customer.id)
    add(db, "csat", 1, when=now - timedelta(days=40), agent_id=agent.id)  # an earlier month
    add(db, "csat", 5, when=now, agent_id=other.id, comment="Bea was great")
    add(db, "csat", 5, when=now, agent_id=agent.id, customer_id=customer.id, comment="Alex rocks")
    login(client, agent)
    block = text(client.get("/dashboard").text, id="surveys-dashboard")
    assert "75 % CSAT from 4 ratings since" in block
    assert "“Alex rocks” — Carla" in block and "Bea was great" not in block


def test_admin_edits_a_survey_type_with_preview(db, client, login, admin, agent):
    login(client, agent)
    assert client.get("/surveys/admin").status_code == 403
    login(client, admin)
    listing = client.get("/surveys/admin")
    assert [row.split(" ")[0] for row in texts(listing.text, cls="survey-type-row")] == ["CSAT", "NPS"]
    form = {"enabled": "y", "trigger": "resolution", "delay_minutes": "15", "interval_days": "90", "active_days": "90",
            "channels": "email, web", "question": "Happy with our help?",
            "subject": "{{ ticket.reference }}: one question", "body": "Hi {{ customer.first_name }}, {{ oops"}
    broken = client.post("/surveys/admin/types/csat", data={**form, "action": "preview"})
    assert broken.status_code == 422 and field_errors(broken.text)[0].startswith("Template error:")
    form["body"] = "Hi {{ customer.first_name }}, {{ agent.first_name }} helped you."
    preview = client.post("/surveys/admin/types/csat", data={**form, "action": "preview"})
    assert text(preview.text, id="preview-subject") == "HD-1234: one question"
    assert text(preview.text, id="preview-html").startswith("Hi Carla, Ada helped you. Happy with our help?")
    assert preview.text.count("?score=") == 5 + 5  # the buttons, and the links in the text version
    assert "5 - Very satisfied:" in text(preview.text, id="preview-text")
    assert db.session.get(SurveyType, "csat") is None  # a preview saves nothing
    saved = client.post("/surveys/admin/types/csat", data={**form, "action": "save"}, follow_redirects=True)
    assert "CSAT survey saved." in alerts(saved.text)
    row = db.session.get(SurveyType, "csat")
    assert (row.delay_minutes, row.channels, row.question) == (15, ["email", "web"], "Happy with our help?")
    entry = db.session.scalars(select(AdminAuditEntry)).one()
    assert (entry.kind, entry.target) == ("surveys.type", "CSAT survey")
    assert entry.after["question"] == "Happy with our help?"
    sandbox = client.post("/surveys/admin/types/nps", data={**form, "subject": "{{ ''.__class__.__mro__ }}",
                                                            "action": "save"})
    assert sandbox.status_code == 422 and field_errors(sandbox.text)[0].startswith("Template error:")
    assert client.get("/surveys/admin/types/xyz").status_code == 404


def test_reports_are_listed_for_admins_and_linked_for_staff(client, login, admin, agent, customer):
    login(client, admin)
    assert "Satisfaction: CSAT, NPS and response rate" in text(client.get("/admin/reports").text, id="report-list")
    login(client, agent)
    links = [a["href"] for a in attributes(client.get("/dashboard").text, cls="nav-plugin-link")]
    assert "/surveys/reports" in links and "/surveys/cases" in links
    login(client, customer)
    assert client.get("/surveys/reports").status_code == 404


@pytest.mark.plugins("surveys")
def test_demo_data_fills_the_reports(app, db, client, login, admin):
    from helpdesk.demo import seed_demo

    summary = seed_demo(60, seed=5, echo=lambda line: None)
    assert "surveys: " in summary and "survey answers" in summary
    login(client, admin)
    page = client.get("/surveys/reports")
    assert page.status_code == 200 and "<svg" in page.text
    assert db.session.scalar(select(func.count()).select_from(SurveyResponse)) > 0


def test_csv_streams_every_row_from_a_real_server(app, db, login, customer, agent, ticket):
    """Served by a real HTTP server, the body is read after the view has returned: the rows
    must still come (they used to stop at 0 bytes, "Working outside of application context")."""
    import threading
    import urllib.request

    from werkzeug.serving import make_server

    for score in (1, 2, 3, 4, 5):
        add(db, "csat", score, comment=f"answer {score}", customer_id=customer.id, ticket_id=ticket.id,
            agent_id=agent.id, channel="web")
    cookie_jar = app.test_client()
    login(cookie_jar, agent)
    session_cookie = cookie_jar.get_cookie("session").value
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        request = urllib.request.Request(
            f"http://127.0.0.1:{server.server_port}/surveys/reports.csv?what=responses&{RANGE}",
            headers={"Cookie": f"session={session_cookie}"})
        with urllib.request.urlopen(request, timeout=30) as answer:
            assert answer.status == 200
            body = answer.read().decode()
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0][:3] == ["answered_at_utc", "kind", "score"]
    assert [row[3] for row in rows[1:]] == [f"answer {score}" for score in (1, 2, 3, 4, 5)]


def test_a_team_scoped_agent_sees_only_their_teams_answers_in_the_report(db, client, login, make_user, customer,
                                                                          agent):
    mine, theirs = Team(name="Billing"), Team(name="HR")
    scoped = make_user("agent", name="Tess Team", email="tess@example.test", team_scoped=True)
    mine.members = [scoped]
    db.session.add_all([mine, theirs])
    db.session.commit()
    billing = services.create_ticket(customer, "Invoice", "Wrong amount")
    hr = services.create_ticket(customer, "Payslip", "Private matter")
    services.update_ticket(billing, agent, team_id=mine.id)
    services.update_ticket(hr, agent, team_id=theirs.id)
    add(db, "csat", 5, ticket_id=billing.id, team_id=mine.id, channel="web")
    for score in (1, 1, 2):  # HR's unhappy answers: not for a billing agent's eyes
        add(db, "csat", score, ticket_id=hr.id, team_id=theirs.id, channel="web")
    add(db, "nps", 0, customer_id=customer.id)  # about no ticket: only for those who see every ticket

    everyone = build_report(MONDAY - timedelta(days=3), MONDAY + timedelta(days=3))
    assert everyone.total.csat_n == 4 and everyone.total.nps_n == 1
    login(client, scoped)
    summary = text(client.get(f"/surveys/reports?{RANGE}").text, id="report-summary")
    assert summary.startswith("100 % CSAT: satisfied (4–5) of 1 answers"), summary
    assert "NPS of 0 answers" in summary
    rows = list(csv.reader(io.StringIO(client.get(f"/surveys/reports.csv?{RANGE}&what=team").text)))
    assert [row[0] for row in rows[1:]] == ["Billing"]


def test_satisfaction_section_on_the_core_reports_page(db, client, login, customer, agent, make_user):
    team = Team(name="Billing")
    db.session.add(team)
    db.session.commit()
    for score in (5, 4, 2):
        add(db, "csat", score, customer_id=customer.id, agent_id=agent.id, team_id=team.id)
    login(client, agent)
    page = client.get("/reports?start=2030-03-01&end=2030-03-31").text
    section = text(page, id="surveys-report-section")
    assert "CSAT 67 % 2 satisfied of 3 answers" in section
    assert "Billing: 67 % of 3 answers" in page  # the bar's hover title
    assert page.count("Satisfaction (surveys)") == 1
    other = Team(name="Support")
    db.session.add(other)
    db.session.commit()
    page = client.get(f"/reports?start=2030-03-01&end=2030-03-31&team={other.id}").text
    assert "— 0 satisfied of 0 answers" in text(page, id="surveys-report-section")
