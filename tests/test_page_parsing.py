"""Page numbers and ids from URLs and forms: one parser each (``helpdesk.numbers``, offered
to plugins in ``plugin_api``). Digits mean ASCII digits: ``?page=²`` once answered 500 on
every list, because "²".isdigit() is true and int("²") fails.
"""
from __future__ import annotations

import pytest
from pagetext import body

from helpdesk import plugin_api, services
from helpdesk.contract import Setting
from helpdesk.models import Team
from helpdesk.numbers import MAX_ID, MAX_PAGE, parse_id, parse_int, parse_page
from helpdesk.plugin_settings import validate

ODD = ["²", "١٢", "1_000", "٣", "-2", "0", "", "abc", " ", "1e3", "+4", "𝟗"]


@pytest.mark.parametrize("raw", ODD + [None])
def test_a_page_that_is_not_ascii_digits_is_the_first(raw):
    assert parse_page(raw) == 1


def test_pages_are_bounded():
    assert parse_page("7") == 7 and parse_page(" 12 ") == 12
    assert parse_page("99999999999") == MAX_PAGE and parse_page("5", most=3) == 3
    assert parse_page("9" * 40) == 1  # not a number anyone typed


def test_ids_are_positive_ascii_numbers_a_column_can_hold():
    assert parse_id("42") == 42 and parse_id(7) == 7
    assert parse_id(str(MAX_ID)) == MAX_ID and parse_id(str(MAX_ID + 1)) is None
    for raw in ODD + [None, True, -1, "4.0"]:
        assert parse_id(raw) is None, raw


def test_whole_numbers_take_a_sign_and_bounds():
    assert parse_int("-3") == -3 and parse_int("+3") == 3 and parse_int("5", 0, 10) == 5
    assert parse_int("11", 0, 10) is None and parse_int("²") is None and parse_int("١٢") is None


def test_plugin_api_offers_the_one_parser():
    assert plugin_api.parse_page is parse_page and plugin_api.parse_id is parse_id
    assert plugin_api.parse_int is parse_int


def test_the_settings_validator_refuses_other_digits(app, db):
    specs = {"limit": Setting("limit", "int", min=1, max=100), "team": Setting("team", "team"),
             "lead": Setting("lead", "agent")}
    _values, errors = validate(specs, {"limit": "١٢", "team": "²", "lead": "٣"})
    assert errors == {"limit": "Enter a whole number.", "team": "Choose a team.", "lead": "Choose an agent."}


# ---------------------------------------------------------------- every list page


@pytest.fixture
def seeded(db, customer, agent):
    return services.create_ticket(customer, "Printer on fire", "It smokes.")


def test_queue(client, login, agent, seeded):
    page = login(client, agent).get("/queue?page=²")
    assert page.status_code == 200 and "Printer on fire" in body(page.text)


def test_queue_team_filter(client, login, agent, seeded, db):
    db.session.add(Team(name="Billing"))
    db.session.commit()
    page = login(client, agent).get("/queue?team=²")
    assert page.status_code == 200 and "Printer on fire" in body(page.text)


def test_customers(client, login, agent, seeded, customer):
    page = login(client, agent).get("/customers?page=²")
    assert page.status_code == 200 and customer.name in body(page.text)


def test_admin_users(client, login, admin, agent):
    page = login(client, admin).get("/admin/users?page=²")
    assert page.status_code == 200 and agent.email in body(page.text)


def test_admin_outbox(client, login, admin, seeded, db):
    services.notify_customer(seeded.customer, "We got it", "Thanks", ticket=seeded)
    page = login(client, admin).get("/admin/outbox?page=²")
    assert page.status_code == 200 and "We got it" in body(page.text)


def test_portal(client, login, customer, seeded):
    page = login(client, customer).get("/portal/?page=²")
    assert page.status_code == 200 and "Printer on fire" in body(page.text)


@pytest.mark.plugins("email")
def test_email_quarantine(client, login, admin):
    page = login(client, admin).get("/admin/email/quarantine?page=²")
    assert page.status_code == 200 and "Quarantine" in body(page.text)


@pytest.mark.plugins("surveys")
def test_survey_cases(client, login, agent):
    page = login(client, agent).get("/surveys/cases?page=²")
    assert page.status_code == 200
