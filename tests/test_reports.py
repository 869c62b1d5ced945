"""The core reports (``/reports``): every number checked against a small data set computed by
hand, scoping, CSV, and the facts the after-commit hooks keep.

The data set (times UTC; the report covers Mon 2026-11-02 … Sun 2026-11-08):

====  ================  ==============  ================  =======  ====  =====  ======  ========  =========
 t     created           first reply     solved            replies  team  agent  chan.   priority  tags
====  ================  ==============  ================  =======  ====  =====  ======  ========  =========
 T1    11-02 09:00       +30 m           11-02 11:00       1        A     Ann    web     high      billing
 T2    11-02 10:00       +120 m          11-03 10:00 (*)   2        A     Bo     email   normal    billing, @risk
 T3    11-03 08:00       +10 m           open              1        B     Ann    web     normal
 T4    11-04 14:00       +60 m           11-05 14:00       1        B     —      email   low
 T5    11-05 23:30       —               open              0        —     —      web     urgent
 T6    10-30 10:00       +60 m           11-06 10:00       3        A     Bo     web     normal
 T7    10-31 12:00       —               open              0        A     —      web     normal
 T8    11-09 09:00       —               open              0        A     —      web     normal
====  ================  ==============  ================  =======  ====  =====  ======  ========  =========

(*) T2 was reopened once. SLA: T1 and T3 met their first-response target, T2 breached it,
T4 met it after its due time.
"""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from helpdesk.extensions import db
from helpdesk.models import AuditEvent, BusinessHours, Message, SlaPolicy, SlaTarget, Tag, Team, Ticket, TicketFacts
from helpdesk.reports import facts
from helpdesk.reports.filters import parse_filters
from helpdesk.reports.metrics import Bucket, LocalClock, build_report, median, percentile

PERIOD = "start=2026-11-02&end=2026-11-08"


def at(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute)


@pytest.fixture
def data(app, make_user, customer):
    ann = make_user("agent", name="Ann")
    bo = make_user("agent", name="Bo")
    team_a, team_b = Team(name="Team A"), Team(name="Team B")
    db.session.add_all([team_a, team_b])
    db.session.flush()
    tags = {name: Tag(name=name) for name in ("billing", "@risk")}
    db.session.add_all(tags.values())
    policy = SlaPolicy(name="Standard", first_response_minutes=30)
    db.session.add(policy)
    db.session.flush()

    def ticket(created, first=None, solved=None, replies=0, team=None, agent=None, channel="web",
               priority="normal", tag_names=(), reopens=0, sla=None):
        t = Ticket(subject="s", customer_id=customer.id, created_at=created, updated_at=created,
                   first_response_at=None if first is None else created + timedelta(minutes=first),
                   status="resolved" if solved else "open", resolved_at=solved, channel=channel,
                   priority=priority, team_id=team.id if team else None, assignee_id=agent.id if agent else None)
        t.tags = [tags[n] for n in tag_names]
        db.session.add(t)
        db.session.flush()
        for _ in range(replies):
            db.session.add(Message(ticket_id=t.id, author_id=(agent or ann).id, body="reply", created_at=created))
        for _ in range(reopens):
            db.session.add(AuditEvent(ticket_id=t.id, action="changed", field="status", old_value="resolved",
                                      new_value="open"))
        if sla is not None:
            due = created + timedelta(minutes=30)
            met = {"met": due - timedelta(minutes=1), "late": due + timedelta(minutes=30), "breached": None}[sla]
            db.session.add(SlaTarget(ticket_id=t.id, policy_id=policy.id, kind="first_response", started_at=created,
                                     due_at=due, met_at=met, breached_at=due if sla == "breached" else None))
        return t

    ticket(at(2, 9), 30, at(2, 11), 1, team_a, ann, "web", "high", ["billing"], sla="met")
    ticket(at(2, 10), 120, at(3, 10), 2, team_a, bo, "email", "normal", ["billing", "@risk"], reopens=1,
           sla="breached")
    ticket(at(3, 8), 10, None, 1, team_b, ann, "web", "normal", sla="met")
    ticket(at(4, 14), 60, at(5, 14), 1, team_b, None, "email", "low", sla="late")
    ticket(at(5, 23, 30), None, None, 0, None, None, "web", "urgent")
    ticket(at(30, 10, month=10), 60, at(6, 10), 3, team_a, bo)
    ticket(at(31, 12, month=10), team=team_a)
    ticket(at(9, 9), team=team_a)
    db.session.commit()
    assert facts.backfill() == 8
    return {"ann": ann, "bo": bo, "team_a": team_a, "team_b": team_b}


def report_for(user, query: str = PERIOD):
    args = dict(part.split("=", 1) for part in query.split("&"))
    filters, errors = parse_filters(args, user)
    assert not errors
    return build_report(user, filters)


def test_percentiles_are_nearest_rank_and_the_median_averages_the_middle_pair():
    assert median([10, 30, 60, 120]) == 45 and median([3, 1, 2]) == 2 and median([]) is None
    assert percentile([10, 30, 60, 120], 0.9) == 120
    assert percentile(list(range(1, 21)), 0.9) == 18 and percentile([7], 0.9) == 7


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/St_Johns", "Asia/Kathmandu", "Australia/Lord_Howe"])
def test_the_local_clock_agrees_with_the_zone_at_every_quarter_hour_of_a_year(zone):
    """The per-hour cache gives each time's own local day, weekday and hour, across daylight
    saving changes and in zones 30 or 45 minutes off the hour (Lord Howe moves by 30 minutes)."""
    tz = ZoneInfo(zone)
    days = [date(2025, 12, 29) + timedelta(days=n) for n in range(372)]
    weeks = {day: Bucket(day) for day in days if day.weekday() == 0}
    daily, weekly = LocalClock(tz, {day: Bucket(day) for day in days}, False), LocalClock(tz, weeks, True)
    moment = datetime(2026, 1, 1, 0, 7)
    while moment.year == 2026:
        local = moment.replace(tzinfo=UTC).astimezone(tz)
        bucket, weekday, hour = daily.place(moment)
        assert (bucket.start, weekday, hour) == (local.date(), local.weekday(), local.hour), moment
        assert weekly.place(moment)[0].start == local.date() - timedelta(days=local.weekday())
        moment += timedelta(minutes=15)


def test_the_numbers_match_the_hand_computed_ones(data, admin):
    report = report_for(admin)
    t = report.total
    assert (t.created, t.solved, report.backlog_start) == (5, 4, 2)
    assert [(b.start.day, b.created, b.solved, b.backlog) for b in report.series] == [
        (2, 2, 1, 3), (3, 1, 1, 3), (4, 1, 0, 4), (5, 1, 1, 4), (6, 0, 1, 3), (7, 0, 0, 3), (8, 0, 0, 3)]
    assert (t.frt_median, t.frt_p90) == (45, 120)  # first replies 10, 30, 60, 120 minutes
    assert (t.resolution_median, t.resolution_p90) == (1440, 10080)  # 120, 1440, 1440, 10080
    assert t.sla_attainment == 0.5  # T1 and T3 met; T2 breached, T4 met late
    assert t.reopen_rate == 0.25 and t.one_touch_rate == 0.5  # T2 reopened; T1 and T4 one reply
    assert not report.business_hours


def test_per_week_volume_and_backlog(data, admin):
    """Two weeks from Monday 26 October: T6 and T7 came in the first week and nothing was solved;
    the second is the week above (5 created, 4 solved: T1, T2, T4 and T6)."""
    report = report_for(admin, "start=2026-10-26&end=2026-11-08&interval=week")
    assert report.backlog_start == 0
    assert [(b.start.isoformat(), b.created, b.solved, b.backlog) for b in report.series] == [
        ("2026-10-26", 2, 0, 2), ("2026-11-02", 5, 4, 3)]
    assert (report.total.created, report.total.solved) == (7, 4)


def test_breakdowns_by_team_agent_channel_tag_and_priority(data, admin):
    by = {name: {label: (s.created, s.solved) for label, s in rows} for name, rows in report_for(admin).by.items()}
    assert by["team"] == {"Team A": (2, 3), "Team B": (2, 1), "(no team)": (1, 0)}
    assert by["agent"] == {"Ann": (2, 1), "Bo": (1, 2), "(unassigned)": (2, 1)}
    assert by["channel"] == {"web": (3, 2), "email": (2, 2)}
    assert by["tag"] == {"billing": (2, 2), "@risk": (1, 1), "(no tag)": (3, 2)}
    assert by["priority"] == {"high": (1, 1), "normal": (2, 2), "low": (1, 1), "urgent": (1, 0)}
    team_a = dict(report_for(admin).by["team"])["Team A"]
    assert (team_a.frt_median, team_a.resolution_median, team_a.reopen_rate) == (75, 1440, 1 / 3)


def test_filters_narrow_every_number(data, admin):
    report = report_for(admin, PERIOD + f"&team={data['team_b'].id}")
    assert (report.total.created, report.total.solved, report.backlog_start) == (2, 1, 0)
    report = report_for(admin, PERIOD + "&tag=billing&channel=email")
    assert (report.total.created, report.total.solved) == (1, 1)
    report = report_for(admin, PERIOD + f"&agent={data['bo'].id}&priority=normal")
    assert (report.total.created, report.total.solved) == (1, 2)


def test_busiest_hours_and_days_are_the_readers_own(data, admin):
    admin.timezone = "Asia/Tokyo"  # UTC+9
    db.session.commit()
    report = report_for(admin)
    assert report.heatmap[0][18] == 1 and report.heatmap[0][19] == 1  # T1, T2: Monday 09:00/10:00 UTC
    assert report.heatmap[4][8] == 1  # T5: Thursday 23:30 UTC is Friday 08:30 in Tokyo
    assert sum(map(sum, report.heatmap)) == 5
    assert [b.created for b in report.series] == [2, 1, 1, 0, 1, 0, 0]  # T5 counts on Friday the 6th
    assert report.filters.since == datetime(2026, 11, 1, 15, 0)


def test_business_hours_of_the_policy_count_for_response_and_resolution(app, customer, admin):
    hours = BusinessHours(name="Berlin office", timezone="Europe/Berlin",
                          schedule={str(d): [["09:00", "17:00"]] for d in range(1, 6)})
    policy = SlaPolicy(name="Office", business_hours=hours, first_response_minutes=240)
    db.session.add(policy)
    # Friday 16:00 in Berlin (UTC+1); answered Monday 10:00, solved Monday 12:00, Berlin time.
    created = datetime(2026, 11, 6, 15, 0)
    ticket = Ticket(subject="s", customer_id=customer.id, created_at=created, status="resolved",
                    first_response_at=datetime(2026, 11, 9, 9, 0), resolved_at=datetime(2026, 11, 9, 11, 0))
    db.session.add(ticket)
    db.session.flush()
    db.session.add(SlaTarget(ticket_id=ticket.id, policy=policy, kind="first_response", started_at=created,
                             due_at=datetime(2026, 11, 9, 11, 0), met_at=datetime(2026, 11, 9, 9, 0)))
    db.session.commit()
    facts.refresh([ticket.id])
    db.session.commit()
    row = db.session.get(TicketFacts, ticket.id)
    assert (row.first_response_minutes, row.resolution_minutes, row.business_hours) == (120, 240, True)
    report = report_for(admin, "start=2026-11-06&end=2026-11-09")
    assert (report.total.frt_median, report.total.resolution_p90, report.business_hours) == (120, 240, True)
    assert report.total.sla_attainment == 1


def test_a_team_scoped_agent_reports_on_their_scope_only(data, make_user, client, login):
    sam = make_user("agent", name="Sam", team_scoped=True)
    sam.teams = [data["team_b"]]
    db.session.commit()
    report = report_for(sam)
    assert (report.total.created, report.total.solved, report.backlog_start) == (2, 1, 0)
    assert {label for label, _ in report.by["team"]} == {"Team B"}
    login(client, sam)
    page = client.get(f"/reports?{PERIOD}").text
    assert "Team A" not in page and "Team B" in page
    assert "Team A" not in client.get(f"/reports/team.csv?{PERIOD}").text


def test_the_page_and_csv_for_a_lead(data, admin, client, login):
    login(client, admin)
    page = client.get(f"/reports?{PERIOD}")
    assert page.status_code == 200
    assert 'href="/reports"' in page.text  # the nav link
    assert "45m" in page.text and "1d" in page.text and "50%" in page.text and "25%" in page.text
    assert "<script" not in page.text.split("</nav>")[1].split("<footer")[0] and "style=" not in page.text
    csv = client.get(f"/reports/team.csv?{PERIOD}")
    assert csv.mimetype == "text/csv" and "attachment" in csv.headers["Content-Disposition"]
    lines = csv.text.splitlines()
    assert lines[0].startswith("Team,Created,Solved,First response (median) minutes")
    assert "Team A,2,3,75.0,120.0,1440.0,10080.0,50.0,33.3,33.3" in lines
    assert any(line.startswith("'@risk,1,1,") for line in client.get(f"/reports/tag.csv?{PERIOD}").text.splitlines())
    volume = client.get(f"/reports/volume.csv?{PERIOD}").text.splitlines()
    assert volume[:3] == ["Period starting,Created,Solved,Backlog at the end", "2026-11-02,2,1,3", "2026-11-03,1,1,3"]
    assert client.get(f"/reports/nothing.csv?{PERIOD}").status_code == 404


def test_wrong_filters_are_explained_and_kept(admin, client, login):
    login(client, admin)
    page = client.get("/reports?start=2026-13-01&priority=asap&team=x")
    assert page.status_code == 422
    assert "“2026-13-01” is not a date" in page.text and 'value="2026-13-01"' in page.text
    assert "“asap” is not a priority" in page.text and "Choose a team from the list." in page.text
    assert "No tickets were created or solved in this period" in page.text


def test_customers_and_light_agents_get_no_reports(customer, light_agent, client, login):
    for user in (customer, light_agent):
        login(client, user)
        assert client.get("/reports").status_code == 404
        assert client.get("/reports/team.csv").status_code == 404


def test_the_hooks_keep_the_facts_as_the_ticket_moves(app, agent, customer):
    from helpdesk import services

    ticket = services.create_ticket(customer, "Printer", "It smokes.")
    assert db.session.get(TicketFacts, ticket.id).solved_at is None
    services.add_message(ticket, agent, "Unplug it.")
    services.update_ticket(ticket, agent, status="resolved")
    services.add_message(ticket, customer, "Still smoking.")  # reopens it
    row = db.session.get(TicketFacts, ticket.id)
    db.session.refresh(row)
    assert (row.solved_at, row.reopen_count, row.agent_replies) == (None, 1, 1)
    services.update_ticket(ticket, agent, status="resolved")
    db.session.refresh(row)
    assert row.solved_at is not None and row.reopen_count == 1 and row.first_response_minutes is not None


def test_backfill_command(app, ticket):
    db.session.query(TicketFacts).delete()
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["reports", "backfill"])
    assert result.exit_code == 0 and "Facts rebuilt for 1 tickets." in result.output
    assert db.session.get(TicketFacts, ticket.id) is not None
