"""Stored keys are shown to people by name, in their language, while the forms still submit
the keys: the queue's filters and bulk edit, the admin audit log's kinds, custom field kinds
and targets, the customer timeline's kinds, the preferred channel and the reports' labels."""
from __future__ import annotations

import re

import pytest
from flask_babel import force_locale
from pagetext import texts

from helpdesk.extensions import db
from helpdesk.i18n import PRIORITY_NAMES, STATUS_NAMES
from helpdesk.reports import tables
from helpdesk.reports.filters import parse_filters
from helpdesk.reports.metrics import build_report
from helpdesk.services import admin_audit
from helpdesk.timeline import kind_name as timeline_kind_name


def options(page: str, select_id: str) -> dict[str, str]:
    """value → visible text of the options of the ``<select id=select_id>``."""
    match = re.search(rf'<select[^>]*\bid="{select_id}"[^>]*>(.*?)</select>', page, re.S)
    assert match, f"no select #{select_id}"
    return {value: re.sub(r"\s+", " ", label).strip()
            for value, label in re.findall(r'<option value="([^"]*)"[^>]*>(.*?)</option>', match.group(1), re.S)}


def test_the_queue_shows_statuses_and_priorities_by_name_and_submits_the_keys(client, login, agent, ticket):
    page = login(client, agent).get("/queue").text
    for select_id in ("f-status", "bulk-status"):
        shown = options(page, select_id)
        assert shown["open"] == "open" and shown["pending"] == "pending"
    for select_id in ("f-priority", "bulk-priority"):
        assert options(page, select_id)["urgent"] == "urgent"


def test_a_german_agent_reads_the_queue_options_from_the_catalogue(app, client, login, agent, ticket):
    agent.language = "de"
    db.session.commit()
    page = login(client, agent).get("/queue").text
    with app.test_request_context(), force_locale("de"):
        german_open, german_urgent = str(STATUS_NAMES["open"]), str(PRIORITY_NAMES["urgent"])
    if german_open == "open":
        pytest.skip("the German catalogue has no word for 'open' yet")
    assert options(page, "f-status")["open"] == german_open  # shown in German, still submits "open"
    assert options(page, "bulk-status")["open"] == german_open
    assert options(page, "f-priority")["urgent"] == german_urgent


def test_the_audit_log_names_the_core_kinds_and_reads_a_plugins_kind_as_its_key(client, login, admin):
    admin_audit.record("site_settings", "changed", "site settings", actor=admin)
    admin_audit.record("shiny_widget", "created", "widget 1", actor=admin)
    db.session.commit()
    page = login(client, admin).get("/admin/audit").text
    kinds = options(page, "a-kind")
    assert kinds["site_settings"] == "site settings" and kinds["shiny_widget"] == "shiny widget"
    filtered = client.get("/admin/audit?kind=site_settings").text
    assert 'data-kind="site_settings"' in filtered and 'data-kind="shiny_widget"' not in filtered
    assert texts(filtered, cls="audit-row")[0].split("site settings changed")[1].strip() == "site settings"


def test_custom_field_kinds_and_targets_are_named_and_submit_their_keys(client, login, admin):
    page = login(client, admin).get("/admin/custom-fields").text
    assert options(page, "f-target") == {"customer": "customer", "ticket": "ticket", "organisation": "organisation"}
    assert options(page, "f-kind") == {"text": "text", "number": "number", "date": "date", "choice": "choice"}


def test_the_preferred_channel_shows_the_channels_label(client, login, agent, customer):
    page = login(client, agent).get(f"/customers/{customer.id}").text
    channels = options(page, "pf-channel")
    assert channels["web"] == "Web portal" and channels[""] == "The one they last used"
    client.post(f"/customers/{customer.id}/profile", data={"preferred_channel": "web"})
    db.session.refresh(customer)
    assert customer.preferred_channel == "web"  # the key is stored, not the label
    assert 'value="web" selected' in client.get(f"/customers/{customer.id}").text


def test_timeline_kinds_are_named_and_a_plugins_kind_reads_as_its_key(client, login, agent, customer, ticket):
    page = login(client, agent).get(f"/customers/{customer.id}").text
    kinds = options(page, "timeline-kind")
    assert kinds["ticket"] == "ticket" and kinds["announcement"] == "announcement"
    assert timeline_kind_name("survey") == "survey"


def test_the_reports_no_team_row_is_translated_on_the_page_and_stays_english_in_csv(app, admin, ticket):
    with app.test_request_context():
        filters, _ = parse_filters({}, admin)
        report = build_report(admin, filters)
        page_rows, csv_rows = tables.rows(report, "team"), tables.rows(report, "team", csv=True)
    assert [r[0] for r in page_rows] == [r[0] for r in csv_rows] == ["(no team)"]


def test_the_reports_filters_name_priorities_and_channels_and_submit_the_keys(client, login, admin, ticket):
    page = login(client, admin).get("/reports").text
    assert options(page, "priority")["urgent"] == "urgent"
    assert options(page, "channel")[ticket.channel] == "Web portal"  # the channel's label, not "web"
    filtered = client.get(f"/reports?channel={ticket.channel}").text
    assert f'value="{ticket.channel}" selected' in filtered


def test_a_german_agent_reads_status_changes_in_the_trail_by_name(app, client, login, agent, ticket):
    agent.language = "de"
    db.session.commit()
    staff = login(client, agent)
    staff.post(f"/tickets/{ticket.reference}/fields", data={"status": "pending", "priority": ticket.priority})
    page = staff.get(f"/tickets/{ticket.reference}").text
    with app.test_request_context(), force_locale("de"):
        german_new, german_pending = str(STATUS_NAMES["new"]), str(STATUS_NAMES["pending"])
    if german_pending == "pending":
        pytest.skip("the German catalogue has no word for 'pending' yet")
    change = next(t for t in texts(page, cls="audit-change") if "→" in t)
    assert change == f"{german_new} → {german_pending}"
    assert 'data-field="status"' in page  # the stored field and values are unchanged
    assert options(page, "status")["pending"] == german_pending  # the fields form: by name, submits the key


def test_the_reports_priority_rows_are_named_in_the_readers_language_and_keys_in_csv(app, admin, ticket):
    with app.test_request_context():
        filters, _ = parse_filters({}, admin)
        report = build_report(admin, filters)
        assert [r[0] for r in tables.rows(report, "priority", csv=True)] == [ticket.priority]
        with force_locale("de"):
            german = str(PRIORITY_NAMES[ticket.priority])
            assert [r[0] for r in tables.rows(report, "priority")] == [german]
            assert [r[0] for r in tables.rows(report, "priority", csv=True)] == [ticket.priority]


def test_customers_and_agents_each_read_a_status_in_their_own_words(client, login, agent, customer, ticket):
    """"pending" is "wartet auf Sie" to a German customer (we wait for them), "wartend" to a
    German agent: the agents' words have the catalogue context "agent"."""
    ticket.status = "pending"
    agent.language = customer.language = "de"
    db.session.commit()
    portal = login(client, customer).get(f"/portal/tickets/{ticket.reference}").text
    assert 'data-status="pending">wartet auf Sie<' in portal
    queue = login(client, agent).get("/queue").text
    assert options(queue, "f-status")["pending"] == "wartend"
    assert 'data-status="pending">wartend 1<' in queue  # the totals above the list
