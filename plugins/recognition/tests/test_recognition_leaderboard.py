"""The leaderboard: four measures side by side per period, a chart each, no single score; admins can switch it off."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from recognition_testkit import attributes, text, texts

from helpdesk.plugin_api import services, utcnow

pytestmark = pytest.mark.plugins("recognition")


@pytest.fixture
def month_of_work(db, people, customer):
    """This month: Ana 2 kudos, 1 five-star rating, 1 ticket resolved (another reopened), answers in 30 and 90
    minutes; Bo 1 kudos, answers in 10 minutes. Last month: Bo 3 kudos."""
    from helpdesk_recognition.models import Kudos
    from helpdesk_recognition.stats import period_bounds

    ana, bo = people["ana"], people["bo"]
    this_month = period_bounds("month", utcnow())
    last_month = this_month.start - timedelta(hours=1)

    def answered(agent, minutes, subject):
        ticket = services.create_ticket(customer, subject, "Help")
        services.update_ticket(ticket, None, assignee_id=agent.id)
        ticket.created_at = utcnow() - timedelta(minutes=minutes)
        db.session.commit()
        services.add_message(ticket, agent, "Hi Carla, on it.")
        return ticket

    first = answered(ana, 30, "One")
    second = answered(ana, 90, "Two")
    answered(bo, 10, "Three")
    services.update_ticket(first, ana, status="resolved")
    services.update_ticket(second, ana, status="resolved")
    services.add_message(second, customer, "Still broken.")  # reopened: no longer counts as resolved
    services.record_feedback(customer, "csat", score=5, ticket=first)
    db.session.add_all([
        Kudos(recipient_id=ana.id, giver_id=bo.id, source="peer", message="a"),
        Kudos(recipient_id=ana.id, giver_id=people["cy"].id, source="peer", message="b"),
        Kudos(recipient_id=bo.id, giver_id=ana.id, source="peer", message="c"),
        *[Kudos(recipient_id=bo.id, giver_id=ana.id, source="peer", message="old", created_at=last_month)
          for _ in range(3)],
    ])
    db.session.commit()
    return this_month


def rows(page: str) -> dict[str, dict[str, str]]:
    """First name → the row's cells by measure, in the table's order."""
    cells = texts(text_of_table(page), tag="td")
    out = {}
    for i in range(0, len(cells), 5):
        name, *values = cells[i:i + 5]
        out[name.split(" ")[0]] = dict(zip(["kudos", "five_star", "resolved", "first_response"], values, strict=True))
    return out


def text_of_table(page: str) -> str:
    start = page.index('id="leaderboard-table"')
    return page[start:page.index("</table>", start)]


def test_measures_side_by_side_for_the_month(client, login, people, month_of_work):
    login(client, people["cy"])
    page = client.get("/recognition/leaderboard?period=month").text
    assert text(page, id="period-label") == month_of_work.label
    assert texts(page, tag="th") == ["Agent", "Kudos received", "Five-star ratings", "Tickets resolved",
                                     "Median first response"]
    table = rows(page)
    assert [table["Ana"][k] for k in ("kudos", "five_star", "resolved")] == ["2", "1", "1"]
    assert table["Ana"]["first_response"] == "1.0 h"  # the median of 30 and 90 minutes
    assert [table["Bo"][k] for k in ("kudos", "five_star", "resolved")] == ["1", "0", "0"]
    assert table["Bo"]["first_response"] == "10 min"
    assert list(table)[:2] == ["Ana", "Bo"]  # sorted by kudos by default

    charts = attributes(page, tag="svg")
    assert [c["aria-label"] for c in charts if "recognition-chart" in c.get("class", "")] == [
        "Kudos received", "Five-star ratings", "Tickets resolved (not reopened)", "Median first response"]
    assert '<rect class="bar"' in page


def test_periods_and_earlier_periods(client, login, people, month_of_work):
    login(client, people["cy"])
    last = client.get("/recognition/leaderboard?period=month&back=1").text
    assert rows(last)["Bo"]["kudos"] == "3" and rows(last)["Ana"]["kudos"] == "0"
    week = client.get("/recognition/leaderboard?period=week").text
    assert text(week, id="period-label").startswith("Week of ")
    quarter = client.get("/recognition/leaderboard?period=quarter&sort=five_star").text
    assert text(quarter, id="period-label").startswith("Q")
    assert list(rows(quarter))[0] == "Ana"
    assert client.get("/recognition/leaderboard?period=decade&back=x&sort=bogus").status_code == 200


def test_period_bounds():
    from helpdesk_recognition.stats import period_bounds

    now = datetime(2025, 1, 15, 13, 5)  # a Wednesday
    week = period_bounds("week", now)
    assert (week.start, week.end) == (datetime(2025, 1, 13), datetime(2025, 1, 20))
    assert period_bounds("week", now, back=2).start == datetime(2024, 12, 30)
    assert (period_bounds("month", now, back=1).start, period_bounds("month", now, back=1).end) == (
        datetime(2024, 12, 1), datetime(2025, 1, 1))
    quarter = period_bounds("quarter", datetime(2025, 11, 30))
    assert (quarter.start, quarter.end, quarter.label) == (datetime(2025, 10, 1), datetime(2026, 1, 1), "Q4 2025")
    assert period_bounds("quarter", now, back=1).label == "Q4 2024"


def test_admins_switch_the_leaderboard_off(client, login, people, admin, monkeypatch, month_of_work):
    login(client, admin)
    assert "Recognition leaderboard" in text(client.get("/admin/reports").text, id="report-list")
    monkeypatch.setenv("HELPDESK_PLUGIN_RECOGNITION_LEADERBOARD_ENABLED", "false")
    login(client, people["ana"])
    page = client.get("/recognition/leaderboard").text
    assert text(page, id="leaderboard-off").startswith("The leaderboard is switched off.")
    assert "leaderboard-table" not in page
    assert "Leaderboard" not in text(client.get("/recognition/").text, id="recognition-nav")
    login(client, admin)
    assert "Recognition leaderboard" not in client.get("/admin/reports").text


def test_demo_data_fills_the_feed_and_the_leaderboard(app, db, client, login):
    from sqlalchemy import select

    from helpdesk.demo import seed_demo  # what `helpdesk demo` runs
    from helpdesk.plugin_api import User

    assert "recognition: 12 peer kudos, " in seed_demo(60, echo=lambda line: None)
    dana = db.session.scalar(select(User).where(User.email == "agent@example.com"))
    login(client, dana)
    feed = client.get("/recognition/").text
    assert len(texts(feed, cls="kudos-item")) + len(texts(feed, cls="award-item")) == 20  # a full first page
    assert texts(client.get("/recognition/leaderboard?period=quarter").text, cls="leaderboard-row")
    assert "recognition: kudos already present, nothing added" in seed_demo(5, seed=2, echo=lambda line: None)
