"""Service levels: business-time clocks, the engine, the periodic job, the pages.

Time is controlled: the clock functions take it as an argument, the engine reads it from
``helpdesk.sla.engine.utcnow`` (monkeypatched here) and ``check_sla`` takes ``now``.
"""
from __future__ import annotations

import multiprocessing
import os
import time
import types
from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from helpdesk import hookimpl, services
from helpdesk.models import AuditEvent, BusinessHours, SlaPolicy, SlaTarget, Team, Ticket
from helpdesk.models.base import utcnow
from helpdesk.plugin_manager import manager
from helpdesk.sla import engine
from helpdesk.sla.clock import add_business_minutes, business_minutes_between, format_duration, parse_intervals
from helpdesk.sla.engine import check_sla

WEEKDAYS_9_TO_5 = {str(d): [["09:00", "17:00"]] for d in range(1, 6)}


def hours(tz: str = "UTC", schedule: dict | None = None, holidays: list[str] | None = None) -> BusinessHours:
    """An unsaved BusinessHours: the clock functions need no database."""
    return BusinessHours(name="h", timezone=tz, schedule=WEEKDAYS_9_TO_5 if schedule is None else schedule,
                         holidays=holidays or [])


def utc(*args: int) -> datetime:
    return datetime(*args)


def local(tz: str, *args: int) -> datetime:
    """A local wall-clock time → naive UTC, as the app stores it."""
    return datetime(*args, tzinfo=ZoneInfo(tz)).astimezone(UTC).replace(tzinfo=None)


# ------------------------------------------------------------------ clock


def test_around_the_clock_without_business_hours():
    start = utc(2024, 1, 6, 22, 0)  # a Saturday night: no hours means no weekends either
    assert add_business_minutes(start, 90, None) == utc(2024, 1, 6, 23, 30)
    assert business_minutes_between(start, utc(2024, 1, 7, 22, 0), None) == 24 * 60
    assert business_minutes_between(utc(2024, 1, 2), utc(2024, 1, 1), None) == 0
    # A schedule with no working minute at all would never be due: it counts around the clock.
    assert add_business_minutes(start, 60, hours(schedule={})) == utc(2024, 1, 6, 23, 0)


def test_weekend_is_skipped():
    friday_4pm = utc(2024, 1, 5, 16, 0)
    assert add_business_minutes(friday_4pm, 120, hours()) == utc(2024, 1, 8, 10, 0)  # Monday 10:00
    assert business_minutes_between(friday_4pm, utc(2024, 1, 8, 10, 0), hours()) == 120
    # Saturday and Sunday count nothing at all.
    assert business_minutes_between(utc(2024, 1, 6, 0, 0), utc(2024, 1, 8, 0, 0), hours()) == 0


def test_evening_start_counts_from_next_opening_and_closing_time_stays():
    tuesday_8pm = utc(2024, 1, 9, 20, 0)
    assert add_business_minutes(tuesday_8pm, 60, hours()) == utc(2024, 1, 10, 10, 0)
    early = utc(2024, 1, 10, 6, 0)
    assert add_business_minutes(early, 30, hours()) == utc(2024, 1, 10, 9, 30)
    # Exactly a working day from the opening ends at closing time, not the next morning.
    assert add_business_minutes(utc(2024, 1, 10, 9, 0), 480, hours()) == utc(2024, 1, 10, 17, 0)


def test_split_days_and_holidays():
    office = hours(schedule={str(d): [["08:00", "12:00"], ["13:00", "17:00"]] for d in range(1, 6)},
                   holidays=["2024-12-25", "2024-12-26"])
    # Tuesday 24 Dec 11:00 + 2h: one hour before lunch, one after.
    assert add_business_minutes(utc(2024, 12, 24, 11, 0), 120, office) == utc(2024, 12, 24, 14, 0)
    # Tuesday 24 Dec 16:00 + 2h: Christmas and Boxing Day are holidays → Friday 27 Dec 09:00.
    assert add_business_minutes(utc(2024, 12, 24, 16, 0), 120, office) == utc(2024, 12, 27, 9, 0)
    assert business_minutes_between(utc(2024, 12, 24, 0, 0), utc(2024, 12, 28, 0, 0), office) == 16 * 60


def test_holidays_are_local_dates_in_the_zone():
    berlin = hours("Europe/Berlin", holidays=["2024-05-01"])
    # 30 April 16:30 Berlin + 60 min: 30 min that day, 1 May is off, 30 min on 2 May.
    due = add_business_minutes(local("Europe/Berlin", 2024, 4, 30, 16, 30), 60, berlin)
    assert due == local("Europe/Berlin", 2024, 5, 2, 9, 30)


def test_dst_change_in_berlin():
    berlin = hours("Europe/Berlin")
    # Friday 29 March 2024 16:00 CET (UTC+1); clocks go forward on Sunday 31 March.
    start = local("Europe/Berlin", 2024, 3, 29, 16, 0)
    assert start == utc(2024, 3, 29, 15, 0)
    due = add_business_minutes(start, 120, berlin)
    assert due == local("Europe/Berlin", 2024, 4, 1, 10, 0) == utc(2024, 4, 1, 8, 0)  # 10:00 CEST (UTC+2)
    assert business_minutes_between(start, due, berlin) == 120
    # A whole-day schedule: the day of the change has 23 hours, the autumn one 25.
    always = hours("Europe/Berlin", schedule={str(d): [["00:00", "24:00"]] for d in range(1, 8)})
    spring = business_minutes_between(local("Europe/Berlin", 2024, 3, 31, 0, 0),
                                      local("Europe/Berlin", 2024, 4, 1, 0, 0), always)
    autumn = business_minutes_between(local("Europe/Berlin", 2024, 10, 27, 0, 0),
                                      local("Europe/Berlin", 2024, 10, 28, 0, 0), always)
    assert (spring, autumn) == (23 * 60, 25 * 60)


def test_new_york_hours_are_read_in_new_york():
    ny = hours("America/New_York")
    monday_8am_est = utc(2024, 1, 8, 13, 0)
    assert add_business_minutes(monday_8am_est, 60, ny) == utc(2024, 1, 8, 15, 0)  # 10:00 EST
    assert business_minutes_between(utc(2024, 1, 8, 14, 0), utc(2024, 1, 9, 15, 0), ny) == 8 * 60 + 60
    # Friday 16:30 EDT + 60 min → Monday 09:30 EDT, across a UTC midnight.
    assert add_business_minutes(utc(2024, 6, 7, 20, 30), 60, ny) == utc(2024, 6, 10, 13, 30)


@settings(max_examples=150, deadline=None)
@given(start=st.datetimes(min_value=datetime(2023, 1, 1), max_value=datetime(2026, 12, 31)),
       minutes=st.integers(min_value=0, max_value=30_000),
       tz=st.sampled_from(["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Sydney"]))
def test_between_inverts_add(start, minutes, tz):
    calendar = hours(tz, schedule={"1": [["08:00", "12:00"], ["13:00", "17:30"]], "2": [["09:00", "17:00"]],
                                   "3": [["00:00", "24:00"]], "5": [["02:00", "03:30"], ["22:00", "24:00"]],
                                   "6": [["10:00", "14:00"]]},
                     holidays=["2024-12-25", "2025-01-01", "2026-03-29", "2025-10-26"])
    start = start.replace(microsecond=0)
    due = add_business_minutes(start, minutes, calendar)
    assert due >= start
    assert abs(business_minutes_between(start, due, calendar) - minutes) < 1e-6


def test_long_clocks_are_cheap():
    began = time.perf_counter()
    due = add_business_minutes(utc(2024, 1, 1, 0, 0), 60 * 8 * 250, hours(holidays=["2024-12-25"]))
    assert due.year == 2024 and due.month == 12  # 250 working days
    assert business_minutes_between(utc(2024, 1, 1), due, hours(holidays=["2024-12-25"])) == 60 * 8 * 250
    assert time.perf_counter() - began < 0.5


def test_intervals_are_validated_and_durations_formatted():
    with pytest.raises(ValueError, match="end must be after the start"):
        parse_intervals([["17:00", "09:00"]])
    with pytest.raises(ValueError, match="overlap"):
        parse_intervals([["09:00", "13:00"], ["12:00", "17:00"]])
    with pytest.raises(ValueError, match="not a time of day"):
        parse_intervals([["9am", "17:00"]])
    assert format_duration(timedelta(hours=2, minutes=10)) == "2h 10m"
    assert format_duration(timedelta(days=3, hours=4, minutes=5)) == "3d 4h"
    assert format_duration(timedelta(seconds=20)) == "<1m"


# ------------------------------------------------------------------ engine


@pytest.fixture
def clock(monkeypatch):
    """``clock.now`` is the engine's time; ``clock.tick(minutes=...)`` moves it on."""
    state = types.SimpleNamespace(now=utcnow().replace(microsecond=0))

    def tick(**delta) -> datetime:
        state.now += timedelta(**delta)
        return state.now

    state.tick = tick
    monkeypatch.setattr(engine, "utcnow", lambda: state.now)
    return state


def make_policy(db, **fields) -> SlaPolicy:
    values = {"name": f"Policy {fields.get('position', 0)}-{fields.get('priority')}-{fields.get('team_id')}",
              "pause_statuses": "pending", "warn_before_minutes": 15, **fields}
    policy = SlaPolicy(**values)
    db.session.add(policy)
    db.session.commit()
    return policy


def targets(ticket: Ticket) -> dict[str, SlaTarget]:
    from helpdesk.extensions import db

    db.session.expire_all()
    return {t.kind: t for t in db.session.scalars(select(SlaTarget).where(SlaTarget.ticket_id == ticket.id))}


def test_policy_matching_and_arming_on_create(app, db, customer, clock):
    team = Team(name="Billing")
    db.session.add(team)
    db.session.commit()
    make_policy(db, name="Off", position=0, active=False, first_response_minutes=1)
    make_policy(db, name="Urgent billing", position=1, team_id=team.id, priority="urgent",
                first_response_minutes=30, resolution_minutes=240)
    default = make_policy(db, name="Default", position=2, first_response_minutes=60,
                          resolution_minutes=480, periodic_update_minutes=120)

    plain = services.create_ticket(customer, "Question", "How do I?")
    armed = targets(plain)
    assert set(armed) == {"first_response", "resolution", "periodic_update"}
    assert armed["first_response"].due_at == clock.now + timedelta(minutes=60)
    assert armed["resolution"].due_at == clock.now + timedelta(minutes=480)
    assert armed["periodic_update"].due_at == clock.now + timedelta(minutes=120)
    assert {t.policy_id for t in armed.values()} == {default.id}
    assert plain.sla_due_at == clock.now + timedelta(minutes=60)  # the nearest running clock

    urgent = services.create_ticket(customer, "Invoice wrong", "Help", priority="urgent", team_id=team.id)
    assert {k: t.due_at - clock.now for k, t in targets(urgent).items()} == {
        "first_response": timedelta(minutes=30), "resolution": timedelta(minutes=240)}


def test_no_policy_no_clocks(app, db, customer):
    ticket = services.create_ticket(customer, "Question", "How do I?")
    assert targets(ticket) == {} and ticket.sla_due_at is None


def test_team_business_hours_apply_when_the_policy_has_none(app, db, make_user, clock):
    office = BusinessHours(name="Berlin office", timezone="Europe/Berlin", schedule=WEEKDAYS_9_TO_5)
    db.session.add(office)
    db.session.commit()
    team = Team(name="Support", business_hours_id=office.id)
    db.session.add(team)
    db.session.commit()
    make_policy(db, name="Default", first_response_minutes=120)
    clock.now = local("Europe/Berlin", 2024, 3, 29, 16, 0)  # Friday 16:00, before the DST weekend
    ticket = services.create_ticket(make_user("customer"), "Weekend", "Help", team_id=team.id)
    assert targets(ticket)["first_response"].due_at == local("Europe/Berlin", 2024, 4, 1, 10, 0)


def test_first_response_is_met_by_a_public_reply_not_by_a_note(app, db, customer, agent, clock):
    make_policy(db, first_response_minutes=60, next_response_minutes=30)
    ticket = services.create_ticket(customer, "Help", "Broken")
    clock.tick(minutes=5)
    services.add_message(ticket, agent, "Looking into it", internal=True)
    assert targets(ticket)["first_response"].met_at is None
    clock.tick(minutes=5)
    services.add_message(ticket, agent, f"Hi Carla, on it ({ticket.reference})")
    first = targets(ticket)["first_response"]
    assert first.met_at == clock.now and first.breached_at is None
    assert ticket.sla_due_at is None  # nothing running: the customer has the ball


def test_customer_reply_arms_next_response_once_per_unanswered_stretch(app, db, customer, agent, clock):
    make_policy(db, first_response_minutes=60, next_response_minutes=30)
    ticket = services.create_ticket(customer, "Help", "Broken")
    clock.tick(minutes=1)
    services.add_message(ticket, customer, "Also, the fan is loud")  # before the first response
    assert "next_response" not in targets(ticket)  # the first-response clock covers it

    clock.tick(minutes=10)
    services.add_message(ticket, agent, "Hi Carla, fixed?")
    clock.tick(minutes=10)
    services.add_message(ticket, customer, "No, still broken")
    first_ask = clock.now
    nxt = targets(ticket)["next_response"]
    assert (nxt.cycle, nxt.due_at, nxt.met_at) == (1, first_ask + timedelta(minutes=30), None)
    assert ticket.sla_due_at == nxt.due_at

    clock.tick(minutes=20)
    services.add_message(ticket, customer, "Hello??")  # the clock keeps running from the first ask
    assert targets(ticket)["next_response"].due_at == first_ask + timedelta(minutes=30)

    clock.tick(minutes=5)
    services.add_message(ticket, agent, "Hi Carla, sorry!")
    assert targets(ticket)["next_response"].met_at == clock.now

    clock.tick(minutes=60)
    services.add_message(ticket, customer, "Thanks, one more thing")
    nxt = targets(ticket)["next_response"]
    assert (nxt.cycle, nxt.due_at, nxt.met_at, nxt.warned_at, nxt.breached_at) == (
        2, clock.now + timedelta(minutes=30), None, None, None)


def test_pending_pauses_and_extends_by_the_paused_business_time(app, db, customer, agent, clock):
    make_policy(db, first_response_minutes=60, resolution_minutes=240, pause_statuses="pending")
    ticket = services.create_ticket(customer, "Help", "Broken")
    created = clock.now
    clock.tick(minutes=10)
    services.add_message(ticket, agent, "Hi Carla, which model?")
    services.update_ticket(ticket, agent, status="pending")
    resolution = targets(ticket)["resolution"]
    assert resolution.paused_at == clock.now and ticket.sla_due_at is None

    clock.tick(minutes=90)
    services.add_message(ticket, customer, "The X200")  # pending → open: the clock runs again
    resolution = targets(ticket)["resolution"]
    assert resolution.paused_at is None
    assert resolution.due_at == created + timedelta(minutes=240 + 90)
    assert ticket.status == "open" and ticket.sla_due_at == resolution.due_at


def test_pause_extends_in_business_minutes(app, db, customer, agent, clock):
    office = BusinessHours(name="NY", timezone="America/New_York", schedule=WEEKDAYS_9_TO_5)
    db.session.add(office)
    db.session.commit()
    make_policy(db, resolution_minutes=16 * 60, business_hours_id=office.id)
    clock.now = local("America/New_York", 2024, 1, 12, 9, 0)  # Friday 09:00
    ticket = services.create_ticket(customer, "Help", "Broken")
    assert targets(ticket)["resolution"].due_at == local("America/New_York", 2024, 1, 15, 17, 0)
    clock.now = local("America/New_York", 2024, 1, 12, 16, 0)
    services.update_ticket(ticket, agent, status="pending")
    clock.now = local("America/New_York", 2024, 1, 15, 10, 0)  # Monday 10:00: 2 business hours paused
    services.update_ticket(ticket, agent, status="open")
    assert targets(ticket)["resolution"].due_at == local("America/New_York", 2024, 1, 16, 11, 0)


def test_resolution_is_met_on_resolve_and_resumes_on_reopen(app, db, customer, agent, clock):
    make_policy(db, first_response_minutes=60, resolution_minutes=240, periodic_update_minutes=120)
    ticket = services.create_ticket(customer, "Help", "Broken")
    created = clock.now
    clock.tick(minutes=30)
    services.add_message(ticket, agent, "Hi Carla, fixed")
    services.update_ticket(ticket, agent, status="resolved")
    after = targets(ticket)
    assert after["resolution"].met_at == clock.now
    assert all(t.met_at is not None for t in after.values()) and ticket.sla_due_at is None

    clock.tick(minutes=60)
    services.add_message(ticket, customer, "It broke again")  # reopens within the window
    resolution = targets(ticket)["resolution"]
    assert resolution.met_at is None and resolution.cycle == 2
    assert resolution.due_at == created + timedelta(minutes=240 + 60)  # the resolved hour does not count
    assert targets(ticket)["periodic_update"].due_at == clock.now + timedelta(minutes=120)


def test_periodic_update_is_rearmed_by_every_public_reply(app, db, customer, agent, clock):
    make_policy(db, periodic_update_minutes=120)
    ticket = services.create_ticket(customer, "Help", "Broken")
    clock.tick(minutes=100)
    services.add_message(ticket, agent, "Note", internal=True)
    assert targets(ticket)["periodic_update"].cycle == 1
    services.add_message(ticket, agent, "Hi Carla, still on it")
    update = targets(ticket)["periodic_update"]
    assert (update.cycle, update.due_at) == (2, clock.now + timedelta(minutes=120))


def test_priority_and_team_changes_reevaluate(app, db, customer, agent, clock):
    team = Team(name="VIP")
    db.session.add(team)
    db.session.commit()
    make_policy(db, name="Urgent", position=0, priority="urgent", first_response_minutes=15)
    make_policy(db, name="VIP", position=1, team_id=team.id, first_response_minutes=30, periodic_update_minutes=60)
    make_policy(db, name="Default", position=2, first_response_minutes=240, resolution_minutes=960)
    ticket = services.create_ticket(customer, "Help", "Broken")
    created = clock.now
    clock.tick(minutes=5)
    services.update_ticket(ticket, agent, priority="urgent")
    armed = targets(ticket)
    assert set(armed) == {"first_response"}  # Urgent has no resolution target
    assert armed["first_response"].due_at == created + timedelta(minutes=15)
    assert armed["first_response"].cycle == 2  # a new promise
    assert ticket.sla_due_at == created + timedelta(minutes=15)

    services.update_ticket(ticket, agent, priority="normal", team_id=team.id)
    armed = targets(ticket)
    assert {k: t.due_at for k, t in armed.items()} == {
        "first_response": created + timedelta(minutes=30), "periodic_update": clock.now + timedelta(minutes=60)}


def test_a_tagged_policy_applies_to_tagged_tickets_and_follows_tag_changes(app, db, customer, agent, clock):
    make_policy(db, name="Complaints", position=0, tag="complaint", first_response_minutes=60)
    make_policy(db, name="Default", position=1, first_response_minutes=240)
    complaint = services.create_ticket(customer, "Awful", "Third time I write", tags=["complaint"])
    plain = services.create_ticket(customer, "Question", "How do I export?")
    created = clock.now
    assert targets(complaint)["first_response"].due_at == created + timedelta(minutes=60)
    assert targets(plain)["first_response"].due_at == created + timedelta(minutes=240)

    clock.tick(minutes=5)
    services.update_ticket(plain, agent, tags=["complaint"])  # flagged later: the tight clock applies
    assert targets(plain)["first_response"].due_at == created + timedelta(minutes=60)
    services.update_ticket(plain, agent, tags=[])  # a cleared flag gives the normal promise back
    assert targets(plain)["first_response"].due_at == created + timedelta(minutes=240)


def test_policies_are_read_once_and_again_after_any_change(app, db, customer, clock):
    from sqlalchemy import event, update

    policy = make_policy(db, name="Default", first_response_minutes=60)
    reads = []
    listener = lambda conn, cursor, statement, *rest: reads.append(statement) if "FROM sla_policies" in statement \
        and "sla_policies.active" in statement else None  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        first = services.create_ticket(customer, "One", "first")
        services.create_ticket(customer, "Two", "second")
        assert len(reads) == 1  # the second ticket matched from the request's copy
        policy.first_response_minutes = 30
        db.session.commit()  # an edit in this process: the copy is dropped
        third = services.create_ticket(customer, "Three", "third")
        db.session.execute(update(SlaPolicy).values(active=False))  # a bulk write drops it too
        db.session.commit()
        fourth = services.create_ticket(customer, "Four", "fourth")
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert targets(first)["first_response"].due_at == clock.now + timedelta(minutes=60)
    assert targets(third)["first_response"].due_at == clock.now + timedelta(minutes=30)
    assert targets(fourth) == {}


def test_deleting_a_policy_moves_its_tickets_to_the_next_match(app, db, customer, clock):
    specific = make_policy(db, name="High", position=0, priority="high", first_response_minutes=10)
    make_policy(db, name="Default", position=1, first_response_minutes=100)
    ticket = services.create_ticket(customer, "Help", "Broken", priority="high")
    assert targets(ticket)["first_response"].due_at == clock.now + timedelta(minutes=10)
    engine.remove_policy(specific)
    assert targets(ticket)["first_response"].due_at == clock.now + timedelta(minutes=100)
    assert db.session.scalar(select(func.count()).select_from(SlaPolicy)) == 1


def test_refresh_due_recomputes_the_queue_time_set_based(app, db, customer, agent, clock):
    make_policy(db, first_response_minutes=60, resolution_minutes=30)
    one = services.create_ticket(customer, "One", "x")
    two = services.create_ticket(customer, "Two", "x")
    services.update_ticket(two, agent, status="pending")  # paused: nothing running
    db.session.execute(Ticket.__table__.update().values(sla_due_at=datetime(2000, 1, 1)))
    db.session.commit()
    engine.refresh_due([one.id, two.id])
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Ticket, one.id).sla_due_at == clock.now + timedelta(minutes=30)
    assert db.session.get(Ticket, two.id).sla_due_at is None


# ------------------------------------------------------------------ the periodic job


def recorder(seen: list) -> types.ModuleType:
    """A throwaway plugin that records the SLA hooks it receives."""
    module = types.ModuleType("sla_spy")

    def helpdesk_sla_warning(ticket, target):
        seen.append(("warning", ticket.reference, target.kind, target.cycle))

    def helpdesk_sla_breached(ticket, target):
        seen.append(("breached", ticket.reference, target.kind, target.cycle))

    module.helpdesk_sla_warning = hookimpl(helpdesk_sla_warning)
    module.helpdesk_sla_breached = hookimpl(helpdesk_sla_breached)
    return module


def test_warning_then_breach_fire_exactly_once(app, db, customer, agent, clock):
    seen: list = []
    manager(app).register(recorder(seen), "sla_spy")
    make_policy(db, first_response_minutes=60, warn_before_minutes=15)
    ticket = services.create_ticket(customer, "Help", "Broken")
    t0 = clock.now

    assert check_sla(now=t0 + timedelta(minutes=30)) == {"warned": 0, "breached": 0, "stopped": 0}
    assert check_sla(now=t0 + timedelta(minutes=46))["warned"] == 1
    assert check_sla(now=t0 + timedelta(minutes=50))["warned"] == 0
    assert seen == [("warning", ticket.reference, "first_response", 1)]
    assert check_sla(now=t0 + timedelta(minutes=61))["breached"] == 1
    assert check_sla(now=t0 + timedelta(minutes=90)) == {"warned": 0, "breached": 0, "stopped": 0}
    assert seen[1:] == [("breached", ticket.reference, "first_response", 1)]
    first = targets(ticket)["first_response"]
    assert first.warned_at == t0 + timedelta(minutes=46) and first.breached_at == t0 + timedelta(minutes=61)
    audit = db.session.scalars(select(AuditEvent).where(AuditEvent.ticket_id == ticket.id,
                                                        AuditEvent.action == "sla_breached")).all()
    assert len(audit) == 1 and audit[0].field == "first_response" and audit[0].actor_id is None

    # Answered late: met, and the queue shows nothing running.
    services.add_message(ticket, agent, "Hi Carla, sorry for the wait")
    assert targets(ticket)["first_response"].met_at is not None
    assert check_sla(now=t0 + timedelta(minutes=120))["breached"] == 0


def test_a_missed_clock_found_late_breaches_without_a_stale_warning(app, db, customer, clock):
    seen: list = []
    manager(app).register(recorder(seen), "sla_spy")
    make_policy(db, first_response_minutes=60, warn_before_minutes=15)
    services.create_ticket(customer, "Help", "Broken")
    check_sla(now=clock.now + timedelta(hours=5))  # the worker was down for hours
    assert [s[0] for s in seen] == ["breached"]


def test_each_cycle_fires_again(app, db, customer, agent, clock):
    seen: list = []
    manager(app).register(recorder(seen), "sla_spy")
    make_policy(db, next_response_minutes=30, warn_before_minutes=0)
    ticket = services.create_ticket(customer, "Help", "Broken")
    services.add_message(ticket, agent, "Hi Carla")
    services.add_message(ticket, customer, "Still broken")
    check_sla(now=clock.now + timedelta(minutes=31))
    services.add_message(ticket, agent, "Hi Carla, sorry")
    clock.tick(minutes=40)
    services.add_message(ticket, customer, "Again")
    check_sla(now=clock.now + timedelta(minutes=31))
    check_sla(now=clock.now + timedelta(minutes=32))
    assert seen == [("breached", ticket.reference, "next_response", 1),
                    ("breached", ticket.reference, "next_response", 2)]


def test_paused_met_and_closed_clocks_do_not_fire(app, db, customer, agent, clock):
    seen: list = []
    manager(app).register(recorder(seen), "sla_spy")
    make_policy(db, first_response_minutes=60, resolution_minutes=60)
    paused = services.create_ticket(customer, "Paused", "x")
    services.update_ticket(paused, agent, status="pending")
    done = services.create_ticket(customer, "Done", "x")
    services.update_ticket(done, agent, status="resolved")
    # A ticket closed behind the engine's back (a bulk SQL fix): the job stops its clocks.
    sneaky = services.create_ticket(customer, "Sneaky", "x")
    db.session.execute(Ticket.__table__.update().where(Ticket.id == sneaky.id).values(status="closed"))
    db.session.commit()
    counts = check_sla(now=clock.now + timedelta(days=3))
    assert counts == {"warned": 0, "breached": 0, "stopped": 2} and seen == []
    assert all(t.met_at for t in targets(sneaky).values())


def test_a_failing_listener_does_not_stop_the_others(app, db, customer, clock):
    seen: list = []
    broken = types.ModuleType("sla_broken")

    def helpdesk_sla_breached(ticket, target):
        raise RuntimeError("escalation service down")

    broken.helpdesk_sla_breached = hookimpl(helpdesk_sla_breached)
    manager(app).register(broken, "sla_broken")
    manager(app).register(recorder(seen), "sla_spy")
    make_policy(db, first_response_minutes=60)
    services.create_ticket(customer, "One", "x")
    services.create_ticket(customer, "Two", "x")
    assert check_sla(now=clock.now + timedelta(hours=2))["breached"] == 2
    assert [s[0] for s in seen] == ["breached", "breached"]


def test_the_job_is_scheduled_every_minute(app):
    from helpdesk.jobs import huey

    for minute in (0, 7, 33):  # due at any minute of the hour
        assert "core.check_sla_job" in {task.name for task in huey.read_periodic(datetime(2024, 1, 1, 12, minute))}


def _race_worker(uri: str, instance: str, now: str, record: str, barrier) -> None:
    """One of two worker processes: its own app on the shared database, one check_sla run."""
    from helpdesk import create_app

    app = create_app({"TESTING": True, "INSTANCE_PATH": instance, "SQLALCHEMY_DATABASE_URI": uri,
                      "SECRET_KEY": "race", "JOBS_IMMEDIATE": True})
    plugin = types.ModuleType("race_recorder")

    def write(kind: str, target) -> None:
        with open(record, "a", encoding="utf-8") as out:  # one short append per firing: atomic
            out.write(f"{kind} {target.id} {target.cycle} {os.getpid()}\n")

    def helpdesk_sla_warning(ticket, target):
        write("warning", target)

    def helpdesk_sla_breached(ticket, target):
        write("breached", target)

    plugin.helpdesk_sla_warning = hookimpl(helpdesk_sla_warning)
    plugin.helpdesk_sla_breached = hookimpl(helpdesk_sla_breached)
    with app.app_context():
        manager(app).register(plugin, "race_recorder")
        barrier.wait(timeout=120)  # both processes start the job at the same moment
        check_sla(now=datetime.fromisoformat(now), batch_size=7)


def test_two_workers_at_once_fire_each_hook_exactly_once(app, db, customer, tmp_path, clock):
    make_policy(db, first_response_minutes=60, resolution_minutes=10, warn_before_minutes=30)
    tickets = [services.create_ticket(customer, f"Race {n}", "x") for n in range(40)]
    db.session.commit()
    now = clock.now + timedelta(minutes=45)  # first response inside its warning window, resolution missed
    record = tmp_path / "fired.txt"
    record.touch()
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(2)
    workers = [ctx.Process(target=_race_worker, args=(
        app.config["SQLALCHEMY_DATABASE_URI"], str(tmp_path / f"worker{n}"), now.isoformat(), str(record), barrier))
        for n in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=180)
    assert [w.exitcode for w in workers] == [0, 0]

    fired = [line.split() for line in record.read_text().splitlines()]
    per_target = Counter((kind, target_id) for kind, target_id, _cycle, _pid in fired)
    assert len(per_target) == 80 and set(per_target.values()) == {1}, per_target.most_common(3)
    assert Counter(kind for kind, *_ in fired) == {"warning": 40, "breached": 40}
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "sla_breached")) == len(tickets)


# ------------------------------------------------------------------ pages


def test_queue_shows_time_left_and_sorts_by_it(app, db, client, login, customer, agent, clock):
    make_policy(db, name="Urgent", position=0, priority="urgent", first_response_minutes=30)
    make_policy(db, name="Default", position=1, first_response_minutes=240)
    normal = services.create_ticket(customer, "Normal one", "x")
    urgent = services.create_ticket(customer, "Urgent one", "x", priority="urgent")
    nothing = services.create_ticket(customer, "Waiting on customer", "x")
    services.add_message(nothing, agent, "Hi Carla, which one?")  # nothing running any more
    late = services.create_ticket(customer, "Late one", "x")
    db.session.execute(Ticket.__table__.update().where(Ticket.id == late.id)
                       .values(sla_due_at=clock.now - timedelta(minutes=35)))
    db.session.commit()

    login(client, agent)
    page = client.get("/queue?sort=sla")
    assert page.status_code == 200
    html = page.text
    order = [html.index(f'data-reference="{t.reference}"') for t in (late, urgent, normal, nothing)]
    assert order == sorted(order), "nearest due first, tickets without a clock last"
    assert "Time left" in html and '<option value="sla" selected>Time left</option>' in html
    assert "overdue 35m" in html and "text-bg-danger" in html
    assert "29m left" in html or "30m left" in html  # the urgent ticket, seconds after creation
    assert "3h 59m left" in html or "4h left" in html


def test_sidebar_shows_each_target_state(app, db, client, login, customer, agent, clock):
    make_policy(db, first_response_minutes=60, resolution_minutes=480, periodic_update_minutes=240,
                warn_before_minutes=30)
    ticket = services.create_ticket(customer, "Help", "Broken")
    login(client, agent)
    html = client.get(f"/tickets/{ticket.reference}").text
    assert 'id="sla-card"' in html and "First response" in html and "due in 1h" in html
    assert 'data-kind="resolution" data-state="running"' in html
    assert 'id="sla-update-draft"' not in html

    clock.tick(minutes=30)
    services.add_message(ticket, agent, f"Hi Carla, looking at {ticket.reference}")
    services.update_ticket(ticket, agent, status="pending")
    clock.tick(minutes=45)  # paused: nothing counts
    html = client.get(f"/tickets/{ticket.reference}").text
    assert 'data-kind="first_response" data-state="met"' in html
    assert 'data-kind="resolution" data-state="paused"' in html and "paused, 7h 30m left" in html

    services.update_ticket(ticket, agent, status="open")
    clock.tick(minutes=8 * 60)  # 7h 30m were left when it was paused
    html = client.get(f"/tickets/{ticket.reference}").text
    assert 'data-kind="resolution" data-state="overdue"' in html and "overdue 30m" in html


def test_no_sidebar_without_clocks_or_for_customers(app, client, login, customer, agent, ticket):
    login(client, agent)
    assert 'id="sla-card"' not in client.get(f"/tickets/{ticket.reference}").text


def test_drafted_update_when_the_periodic_update_is_near(app, db, client, login, customer, agent, clock):
    make_policy(db, periodic_update_minutes=240, warn_before_minutes=60)
    ticket = services.create_ticket(customer, "Printer on fire", "Smoke everywhere")
    login(client, agent)
    clock.tick(minutes=170)
    assert 'id="sla-update-draft"' not in client.get(f"/tickets/{ticket.reference}").text
    clock.tick(minutes=15)  # 55 minutes left: inside the one-hour warning window
    html = client.get(f"/tickets/{ticket.reference}").text
    assert 'id="sla-update-draft"' in html and 'data-kind="periodic_update" data-state="warning"' in html
    assert "Hi Carla," in html and f"still working on {ticket.reference}" in html and "Alex Agent" in html
    assert f'action="/tickets/{ticket.reference}"' in html and 'name="send_anyway" value="y"' in html
    assert 'name="csrf_token"' in html

    # The agent edits the draft and sends it: a public reply, and the update clock restarts.
    body = f"Hi Carla,\n\nStill on {ticket.reference}: the new fuser arrives tomorrow.\n\nAlex"
    response = client.post(f"/tickets/{ticket.reference}", data={"body": body, "send_anyway": "y",
                                                                 "status_after": ""})
    assert response.status_code == 302
    db.session.expire_all()
    last = db.session.get(Ticket, ticket.id).messages[-1]
    assert (last.body, last.internal, last.author_id) == (body, False, agent.id)
    update = targets(ticket)["periodic_update"]
    assert (update.cycle, update.due_at) == (2, clock.now + timedelta(minutes=240))
    assert 'id="sla-update-draft"' not in client.get(f"/tickets/{ticket.reference}").text


def test_overdue_update_still_offers_the_draft(app, db, client, login, customer, agent, clock):
    make_policy(db, periodic_update_minutes=60, warn_before_minutes=0)
    ticket = services.create_ticket(customer, "Help", "x")
    clock.tick(minutes=90)
    login(client, agent)
    html = client.get(f"/tickets/{ticket.reference}").text
    assert 'id="sla-update-draft"' in html and "overdue 30m" in html


# ------------------------------------------------------------------ admin pages


def test_admin_pages_empty_states_and_access(app, client, login, admin, agent, customer):
    login(client, admin)
    page = client.get("/admin/sla/")
    assert page.status_code == 200
    assert 'id="policies-empty"' in page.text and 'id="hours-empty"' in page.text
    assert "Service levels" in page.text and 'href="/admin/sla/"' in page.text
    assert "Service levels" in client.get("/admin/").text  # the admin sub-navigation links here
    for user, expected in ((agent, 403), (customer, 404)):
        login(client, user)
        assert client.get("/admin/sla/").status_code == expected
        assert client.post("/admin/sla/policies/new", data={"name": "x"}).status_code == expected


def test_admin_business_hours_create_edit_delete(app, db, client, login, admin):
    login(client, admin)
    form = client.get("/admin/sla/hours/new").text
    assert 'value="09:00-17:00"' in form and '<option value="Europe/Berlin">' in form
    good = {"name": "Berlin office", "timezone": "Europe/Berlin", "day_1": "08:00-12:00, 13:00-17:00",
            "day_2": "09:00-17:00", "day_3": "", "day_4": "", "day_5": "09:00-13:00", "day_6": "", "day_7": "",
            "holidays": "2024-12-25\n\n2024-12-26\n"}
    bad = client.post("/admin/sla/hours/new", data={
        **good, "timezone": "Mars/Olympus", "day_2": "17:00-09:00", "day_5": "9-5", "holidays": "2024-13-01"})
    assert bad.status_code == 422
    assert "Unknown time zone “Mars/Olympus”" in bad.text
    assert "“17:00-09:00”: the end must be after the start" in bad.text
    assert "not a time of day" in bad.text
    assert "Line 1: “2024-13-01” is not a date" in bad.text
    closed = client.post("/admin/sla/hours/new", data={**good, "day_1": "", "day_2": "", "day_5": ""})
    assert closed.status_code == 422 and "at least one day" in closed.text
    overlap = client.post("/admin/sla/hours/new", data={**good, "day_1": "09:00-13:00, 12:00-17:00"})
    assert overlap.status_code == 422 and "Intervals overlap" in overlap.text
    assert db.session.scalar(select(func.count()).select_from(BusinessHours)) == 0

    assert client.post("/admin/sla/hours/new", data=good).status_code == 302
    saved = db.session.scalar(select(BusinessHours))
    assert (saved.timezone, saved.schedule, saved.holidays) == (
        "Europe/Berlin", {"1": [["08:00", "12:00"], ["13:00", "17:00"]], "2": [["09:00", "17:00"]],
                          "5": [["09:00", "13:00"]]}, ["2024-12-25", "2024-12-26"])
    listing = client.get("/admin/sla/").text
    assert "Berlin office" in listing and "08:00-12:00, 13:00-17:00" in listing

    edit = client.get(f"/admin/sla/hours/{saved.id}").text
    assert 'value="08:00-12:00, 13:00-17:00"' in edit and "2024-12-26" in edit
    duplicate = client.post("/admin/sla/hours/new", data=good)
    assert duplicate.status_code == 422 and "already exist" in duplicate.text
    assert client.post(f"/admin/sla/hours/{saved.id}", data={**good, "name": "Berlin", "day_7": "10:00-14:00"}
                       ).status_code == 302
    db.session.expire_all()
    assert saved.name == "Berlin" and saved.schedule["7"] == [["10:00", "14:00"]]

    policy = make_policy(db, name="Uses it", first_response_minutes=60, business_hours_id=saved.id)
    assert client.post(f"/admin/sla/hours/{saved.id}/delete", data={}, csrf=False).status_code == 400
    assert client.post(f"/admin/sla/hours/{saved.id}/delete").status_code == 302
    db.session.expire_all()
    assert db.session.get(BusinessHours, saved.id) is None
    assert db.session.get(SlaPolicy, policy.id).business_hours_id is None
    assert client.get("/admin/sla/hours/999").status_code == 404


def test_admin_policies_create_edit_delete(app, db, client, login, admin, customer):
    team = Team(name="Billing")
    office = BusinessHours(name="Office", timezone="UTC", schedule=WEEKDAYS_9_TO_5)
    db.session.add_all([team, office])
    db.session.commit()
    login(client, admin)
    form = client.get("/admin/sla/policies/new").text
    assert "Billing" in form and "Office" in form and 'value="pending" id="pause-pending" checked' in form
    good = {"name": "Billing urgent", "position": "5", "active": "y", "team_id": str(team.id),
            "priority": "urgent", "business_hours_id": str(office.id), "first_response_minutes": "30",
            "next_response_minutes": "", "periodic_update_minutes": "120", "resolution_minutes": "480",
            "warn_before_minutes": "15", "pause_statuses": ["pending"]}

    tagged = client.post("/admin/sla/policies/new", data={**good, "name": "Complaints", "team_id": "",
                                                          "priority": "", "tag": " Complaint "})
    assert tagged.status_code == 302
    assert db.session.scalar(select(SlaPolicy.tag).where(SlaPolicy.name == "Complaints")) == "complaint"
    assert "tagged" in client.get("/admin/sla/").text
    db.session.execute(SlaPolicy.__table__.delete())
    db.session.commit()

    bad = client.post("/admin/sla/policies/new", data={**good, "first_response_minutes": "-5",
                                                       "team_id": "999", "warn_before_minutes": "-1"})
    assert bad.status_code == 422
    assert "at least 1" in bad.text and "Unknown team" in bad.text and "Enter 0 or more minutes" in bad.text
    none_set = client.post("/admin/sla/policies/new", data={
        **good, "first_response_minutes": "", "periodic_update_minutes": "", "resolution_minutes": ""})
    assert none_set.status_code == 422 and "Set at least one target" in none_set.text
    assert db.session.scalar(select(func.count()).select_from(SlaPolicy)) == 0

    assert client.post("/admin/sla/policies/new", data=good).status_code == 302
    policy = db.session.scalar(select(SlaPolicy))
    assert (policy.team_id, policy.priority, policy.business_hours_id, policy.first_response_minutes,
            policy.next_response_minutes, policy.resolution_minutes, policy.pause_statuses, policy.active) == (
        team.id, "urgent", office.id, 30, None, 480, "pending", True)
    listing = client.get("/admin/sla/").text
    assert "Billing urgent" in listing and "30m" in listing and "8h" in listing

    edit = client.get(f"/admin/sla/policies/{policy.id}").text
    assert 'value="Billing urgent"' in edit and f'<option selected value="{team.id}">' in edit
    duplicate = client.post("/admin/sla/policies/new", data=good)
    assert duplicate.status_code == 422 and "already exists" in duplicate.text
    changed = {**good, "team_id": "", "priority": "", "business_hours_id": "", "pause_statuses": ["pending", "new"]}
    assert client.post(f"/admin/sla/policies/{policy.id}", data=changed).status_code == 302
    db.session.expire_all()
    assert (policy.team_id, policy.priority, policy.business_hours_id) == (None, None, None)
    assert set(policy.pause_statuses.split(",")) == {"pending", "new"}

    ticket = services.create_ticket(customer, "Help", "x")
    assert targets(ticket)["first_response"].policy_id == policy.id
    assert client.post(f"/admin/sla/policies/{policy.id}/delete").status_code == 302
    db.session.expire_all()
    assert db.session.get(SlaPolicy, policy.id) is None and targets(ticket) == {}
    assert db.session.get(Ticket, ticket.id).sla_due_at is None
    assert client.post(f"/admin/sla/policies/{policy.id}/delete").status_code == 404


def test_switching_a_policy_off_stops_its_clocks(app, db, client, login, admin, customer):
    policy = make_policy(db, name="Only", first_response_minutes=60)
    ticket = services.create_ticket(customer, "Help", "x")
    assert ticket.sla_due_at is not None
    login(client, admin)
    data = {"name": "Only", "position": "0", "team_id": "", "priority": "", "business_hours_id": "",
            "first_response_minutes": "60", "warn_before_minutes": "30"}  # "active" unticked
    assert client.post(f"/admin/sla/policies/{policy.id}", data=data).status_code == 302
    db.session.expire_all()
    assert targets(ticket) == {} and db.session.get(Ticket, ticket.id).sla_due_at is None
