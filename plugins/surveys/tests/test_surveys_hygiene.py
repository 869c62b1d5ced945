"""Survey hygiene: throttle, sampling, quiet hours, blocklist, exclusions, unsubscribe, atomic claims."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from helpdesk_surveys.models import SurveyContact, SurveyInvitation, SurveyType
from helpdesk_surveys.scheduling import in_sample, schedule_after_resolution, set_timezone
from helpdesk_surveys.sending import claim, release_stale_claims, send_due
from sqlalchemy import select
from surveys_testkit import after_delay, alerts, invitation_mails, local_path, resolve, set_setting, survey_links

from helpdesk.plugin_api import services, utcnow

pytestmark = pytest.mark.plugins("surveys")


def invitations(db) -> list[tuple[str, str | None]]:
    db.session.expire_all()
    return [(i.status, i.reason) for i in db.session.scalars(select(SurveyInvitation).order_by(SurveyInvitation.id))]


def new_ticket(customer, subject="Printer on fire", **kwargs):
    return services.create_ticket(customer, subject, "Please help.", **kwargs)


def test_throttle_no_customer_is_surveyed_twice_within_the_window(db, smtp, customer, agent):
    first, second, third = new_ticket(customer), new_ticket(customer, "Toner"), new_ticket(customer, "Paper")
    resolve(first, agent)
    resolve(second, agent)  # both scheduled: nothing sent yet
    assert send_due(now=after_delay()) == {"sent": 1, "skipped": 1}  # the second loses the atomic turn
    resolve(third, agent)  # already surveyed: skipped when scheduled, with the reason
    statuses = invitations(db)
    assert statuses[0] == ("sent", None)
    assert statuses[1] == ("skipped", "the customer was surveyed within the last 30 days")
    assert statuses[2][0] == "skipped" and statuses[2][1].endswith("(at most once in 30 days)")
    assert len(invitation_mails(smtp)) == 1
    # 31 days later the customer may be asked again.
    db.session.get(SurveyContact, customer.id).last_surveyed_at = utcnow() - timedelta(days=31)
    db.session.commit()
    services.update_ticket(third, agent, status="open")
    resolve(third, agent)
    assert send_due(now=after_delay()) == {"sent": 1}


def test_throttle_zero_means_no_limit(db, monkeypatch, customer, agent):
    set_setting(monkeypatch, "throttle_days", 0)
    resolve(new_ticket(customer), agent)
    resolve(new_ticket(customer, "Toner"), agent)
    assert send_due(now=after_delay()) == {"sent": 2}


def test_sampling_is_deterministic_per_ticket(db, monkeypatch, customer, agent):
    assert in_sample(7, 100) and not in_sample(7, 0)
    picked = [n for n in range(1, 1001) if in_sample(n, 30)]
    assert 250 < len(picked) < 350 and picked == [n for n in range(1, 1001) if in_sample(n, 30)]
    set_setting(monkeypatch, "sampling_percent", 30)
    set_setting(monkeypatch, "throttle_days", 0)
    tickets = [new_ticket(customer, f"T{n}") for n in range(6)]
    for ticket in tickets:
        resolve(ticket, agent)
    expected = ["scheduled" if in_sample(t.id, 30) else "skipped" for t in tickets]
    got = invitations(db)
    assert [status for status, _ in got] == expected
    assert {reason for status, reason in got if status == "skipped"} <= {
        "not in the sample (30 % of tickets are surveyed)"}


def test_quiet_hours_postpone_to_the_morning_in_the_customers_time_zone(db, monkeypatch, customer, other_customer,
                                                                         agent):
    set_setting(monkeypatch, "quiet_hours_start", 21)
    set_setting(monkeypatch, "quiet_hours_end", 8)
    set_setting(monkeypatch, "timezone", "Europe/Berlin")
    set_setting(monkeypatch, "throttle_days", 0)
    set_timezone(other_customer.id, "America/New_York")
    db.session.commit()
    berlin, new_york = new_ticket(customer), new_ticket(other_customer)
    resolve(berlin, agent)
    resolve(new_york, agent)
    evening = datetime(2030, 1, 15, 21, 30)  # UTC: 22:30 in Berlin (quiet), 16:30 in New York
    assert send_due(now=evening) == {"postponed": 1, "sent": 1}
    db.session.expire_all()
    waiting = db.session.scalars(select(SurveyInvitation).where(SurveyInvitation.ticket_id == berlin.id)).one()
    assert (waiting.status, waiting.send_after) == ("scheduled", datetime(2030, 1, 16, 7, 0))  # 08:00 in Berlin
    assert send_due(now=datetime(2030, 1, 16, 6, 59)) == {}
    assert send_due(now=datetime(2030, 1, 16, 7, 0)) == {"sent": 1}


def test_an_unknown_time_zone_from_the_browser_is_ignored(db, customer):
    set_timezone(customer.id, "Mars/Olympus_Mons")
    db.session.commit()
    assert db.session.get(SurveyContact, customer.id) is None


def test_blocklisted_addresses_and_domains_are_not_surveyed(db, monkeypatch, make_user, agent):
    set_setting(monkeypatch, "blocklist", "ceo@acme.test,\npartner.example")
    ceo = make_user("customer", name="Cleo Chief", email="ceo@acme.test")
    partner = make_user("customer", name="Pat Partner", email="pat@eu.partner.example")
    fine = make_user("customer", name="Fay Fine", email="fay@acme.test")
    for person in (ceo, partner, fine):
        resolve(new_ticket(person), agent)
    assert invitations(db) == [("skipped", "the customer's address is on the blocklist")] * 2 + [("scheduled", None)]


def test_excluded_tags_merged_tickets_and_auto_replies_are_not_surveyed(db, customer, agent):
    spam = new_ticket(customer, tags=["spam"])
    robot = new_ticket(customer, "Out of office", meta={"auto_reply": True})
    mailer = new_ticket(customer, "Auto", meta={"email": {"message_id": "<a@b>", "auto_reply": True}})
    for ticket in (spam, robot, mailer):
        resolve(ticket, agent)
    assert invitations(db) == [("skipped", "the ticket is tagged spam"),
                               ("skipped", "the ticket was opened by an automated sender"),
                               ("skipped", "the ticket was opened by an automated sender")]


def test_a_merged_ticket_loses_its_scheduled_survey(db, customer, agent):
    duplicate, original = new_ticket(customer), new_ticket(customer, "Printer still on fire")
    resolve(duplicate, agent)
    services.update_ticket(duplicate, agent, status="open")  # reopened: cancelled
    assert invitations(db)[0] == ("cancelled", "the ticket was reopened")
    resolve(duplicate, agent)
    services.merge_tickets(duplicate, original, agent)
    assert invitations(db)[1] == ("cancelled", "the ticket was merged into another")
    assert send_due(now=after_delay()) == {}


def test_a_reopened_ticket_is_not_surveyed_even_if_the_hook_missed_it(db, customer, agent, ticket):
    resolve(ticket, agent)
    # The status changes without the plugin hearing it (e.g. while it was disabled): the sender checks.
    ticket.status = "open"
    db.session.commit()
    assert send_due(now=after_delay()) == {"cancelled": 1}


def test_survey_types_limit_teams_and_channels_and_can_be_switched_off(db, customer, agent):
    from helpdesk.plugin_api import Team

    team = Team(name="Billing")
    db.session.add(team)
    db.session.add(SurveyType(kind="csat", enabled=True, trigger="resolution", delay_minutes=5, interval_days=90,
                              active_days=90, team_ids=[], channels=["email"], question="Q", subject="S", body="B"))
    db.session.commit()
    resolve(new_ticket(customer), agent)  # a web ticket: out of scope, no row at all
    assert invitations(db) == []
    row = db.session.get(SurveyType, "csat")
    row.channels, row.team_ids = [], [team.id]
    db.session.commit()
    resolve(new_ticket(customer, "Web", team_id=team.id), agent)
    resolve(new_ticket(customer, "Other team"), agent)
    [(status, _)] = invitations(db)
    assert status == "scheduled"
    row.enabled = False
    db.session.commit()
    resolve(new_ticket(customer, "Off", team_id=team.id), agent)
    assert len(invitations(db)) == 1


def test_the_delay_comes_from_the_survey_type(db, customer, agent, ticket):
    db.session.add(SurveyType(kind="csat", enabled=True, trigger="resolution", delay_minutes=5, interval_days=90,
                              active_days=90, team_ids=[], channels=[], question="Q", subject="S", body="B"))
    db.session.commit()
    before = utcnow()
    resolve(ticket, agent)
    [invitation] = db.session.scalars(select(SurveyInvitation)).all()
    assert timedelta(minutes=5) <= invitation.send_after - before < timedelta(minutes=5, seconds=5)
    assert send_due(now=utcnow() + timedelta(minutes=6)) == {"sent": 1}


def test_unsubscribing_from_a_real_mail_link_cancels_what_is_scheduled(db, client, smtp, customer, agent):
    first, second = new_ticket(customer), new_ticket(customer, "Toner")
    resolve(first, agent)
    send_due(now=after_delay())
    [mail] = invitation_mails(smtp)
    db.session.get(SurveyContact, customer.id).last_surveyed_at = None  # let another one be scheduled
    db.session.commit()
    resolve(second, agent)
    assert invitations(db)[1] == ("scheduled", None)
    unsubscribe = local_path(survey_links(mail)[0]).split("?")[0] + "/unsubscribe"
    answer = client.post(unsubscribe, follow_redirects=True)
    assert "You are unsubscribed: we will not send you surveys any more." in alerts(answer.text)
    assert invitations(db)[1] == ("cancelled", "the customer unsubscribed from surveys")
    assert send_due(now=after_delay(200)) == {}
    assert len(invitation_mails(smtp)) == 1


def test_a_customer_without_an_address_cannot_be_reached(db, make_user, agent):
    silent = make_user("customer", name="Sam Silent", email="sam@example.test")
    silent.email = None
    silent.identities.clear()
    db.session.commit()
    resolve(new_ticket(silent), agent)
    assert send_due(now=after_delay()) == {"failed": 1}
    assert invitations(db) == [("failed", "the customer cannot be reached on this channel")]


def test_two_workers_never_claim_the_same_invitation(db, customer, agent, ticket):
    resolve(ticket, agent)
    now = after_delay()
    first = claim(now, 10)
    second = claim(now, 10)  # another worker, a moment later
    assert len(first) == 1 and second == []
    # A worker that died after claiming: the row is released after 15 minutes and sent once.
    assert release_stale_claims(now + timedelta(minutes=10)) == 0
    assert release_stale_claims(now + timedelta(minutes=16)) == 1
    assert send_due(now=now + timedelta(minutes=16)) == {"sent": 1}
    assert send_due(now=now + timedelta(minutes=17)) == {}


def test_relationship_surveys_skip_quiet_customers_and_the_unsubscribed(db, make_user, customer, agent):
    from helpdesk_surveys.scheduling import schedule_relationship, unsubscribe

    old_timer = make_user("customer", name="Olga Old", email="olga@example.test")
    long_ago = new_ticket(old_timer)
    long_ago.created_at = utcnow() - timedelta(days=200)
    unsubscribed = make_user("customer", name="Una Unsub", email="una@example.test")
    new_ticket(unsubscribed)
    unsubscribe(unsubscribed.id)
    new_ticket(customer)
    db.session.commit()
    assert schedule_relationship() == 1
    [invitation] = db.session.scalars(select(SurveyInvitation)).all()
    assert (invitation.customer_id, invitation.kind, invitation.purpose) == (customer.id, "nps", "relationship")


@pytest.mark.plugins()
def test_nothing_happens_while_the_plugin_is_disabled(db, client, login, agent, customer, ticket):
    resolve(ticket, agent)
    assert invitations(db) == []
    login(client, agent)
    assert client.get("/surveys/reports").status_code == 404
    assert "Satisfaction" not in client.get(f"/tickets/{ticket.reference}").text


def test_schedule_function_is_callable_with_a_time(db, customer, agent, ticket):
    resolve(ticket, agent)
    services.update_ticket(ticket, agent, status="open")
    ticket.status = "resolved"
    db.session.commit()
    [made] = schedule_after_resolution(ticket, now=datetime(2030, 5, 1, 12, 0))
    assert made.send_after == datetime(2030, 5, 1, 13, 0)
