"""The admin audit log: every configuration change says who, when, from where, before → after."""
from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from pagetext import alerts, texts
from sqlalchemy import func, select

from helpdesk import services
from helpdesk.models import AdminAuditEntry, AuditEvent, BusinessHours, CannedReply, SlaPolicy, Tag, Team, User
from helpdesk.models.base import utcnow
from helpdesk.plugin_api import Setting, record_config_change
from helpdesk.plugin_manager import manager
from helpdesk.services import admin_audit
from helpdesk.testing import make_plugin

ADDRESS = "203.0.113.7"


@pytest.fixture
def boss(client, login, admin):
    login(client, admin)
    client.environ_base["REMOTE_ADDR"] = ADDRESS
    return client


def entries(db, kind: str | None = None) -> list[AdminAuditEntry]:
    query = select(AdminAuditEntry).order_by(AdminAuditEntry.id)
    if kind:
        query = query.where(AdminAuditEntry.kind == kind)
    db.session.expire_all()
    return list(db.session.scalars(query))


def only(db, kind: str) -> AdminAuditEntry:
    (entry,) = entries(db, kind)
    return entry


def test_user_edits_are_recorded_with_who_where_and_before_after(boss, db, admin, agent):
    team = Team(name="Billing")
    db.session.add(team)
    db.session.commit()
    old_name = agent.name
    boss.post(f"/admin/users/{agent.id}", data={
        "name": "Agnes Agent", "email": agent.email, "role": "light_agent", "active": "y",
        "available": "y", "team_scoped": "y", "teams": [str(team.id)], "password": "a new long password"})
    entry = only(db, "user")
    assert (entry.actor_id, entry.actor_name, entry.ip_address, entry.action) == (admin.id, admin.name, ADDRESS,
                                                                                  "changed")
    assert entry.target == f"user Agnes Agent (#{agent.id})"
    assert entry.before == {"name": old_name, "role": "agent", "team_scoped": False, "teams": [],
                            "password": ""}
    assert entry.after == {"name": "Agnes Agent", "role": "light_agent", "team_scoped": True,
                           "teams": ["Billing"], "password": admin_audit.MASK}
    assert "a new long password" not in str(entry.after) + str(entry.before)

    # Saving the same values again changes nothing and records nothing.
    boss.post(f"/admin/users/{agent.id}", data={
        "name": "Agnes Agent", "email": agent.email, "role": "light_agent", "active": "y",
        "available": "y", "team_scoped": "y", "teams": [str(team.id)]})
    assert len(entries(db, "user")) == 1


def test_creating_a_user_in_admin_is_recorded_but_a_customer_signing_up_is_not(boss, db, app):
    boss.post("/admin/users/new", data={"name": "Nora", "email": "nora@example.test", "role": "agent",
                                        "password": "a long password", "active": "y", "available": "y"})
    entry = only(db, "user")
    assert entry.action == "created" and entry.after["role"] == "agent" and entry.after["password"] == admin_audit.MASK
    services.create_user("Sam Signup", "sam@example.test", "customer", "another password")
    assert len(entries(db, "user")) == 1


def test_team_tag_canned_settings_and_plugin_changes_are_recorded(boss, db, app):
    boss.post("/admin/teams/new", data={"name": "Billing", "assignment_strategy": "manual"})
    team = db.session.scalar(select(Team))
    boss.post(f"/admin/teams/{team.id}", data={"name": "Billing EU", "assignment_strategy": "round_robin"})
    boss.post("/admin/tags", data={"name": "VIP"})
    boss.post("/admin/canned/new", data={"title": "Thanks", "body": "Thank you!"})
    reply = db.session.scalar(select(CannedReply))
    boss.post(f"/admin/canned/{reply.id}/delete", data={})
    boss.post("/admin/settings", data={"helpdesk_name": "Acme Support", "mail_from": "help@acme.test",
                                       "reopen_window_days": "7", "timezone": "Europe/Berlin"})
    hello_was_on = manager(app).is_enabled("hello")
    boss.post("/admin/plugins/hello/toggle", data={})

    got = [(e.kind, e.action, e.target) for e in entries(db)]
    assert got == [
        ("team", "created", f"team Billing (#{team.id})"),
        ("team", "changed", f"team Billing EU (#{team.id})"),
        ("tag", "created", f"tag vip (#{db.session.scalar(select(Tag.id))})"),
        ("canned_reply", "created", f"canned reply “Thanks” (#{reply.id})"),
        ("canned_reply", "deleted", f"canned reply “Thanks” (#{reply.id})"),
        ("site_settings", "changed", "site settings"),
        ("plugin", "disabled" if hello_was_on else "enabled", "plugin hello"),
    ]
    team_change = entries(db, "team")[1]
    assert team_change.before == {"name": "Billing", "assignment_strategy": "manual"}
    assert team_change.after == {"name": "Billing EU", "assignment_strategy": "round_robin"}
    settings = only(db, "site_settings")
    assert settings.after["helpdesk_name"] == "Acme Support" and settings.after["timezone"] == "Europe/Berlin"
    assert entries(db, "canned_reply")[1].before == {"title": "Thanks", "body": "Thank you!"}
    assert all(e.ip_address == ADDRESS for e in entries(db))


def test_service_levels_and_business_hours_are_recorded(boss, db):
    boss.post("/admin/sla/hours/new", data={"name": "Office", "timezone": "Europe/Berlin", "day_1": "09:00-17:00"})
    hours = db.session.scalar(select(BusinessHours))
    boss.post("/admin/sla/policies/new", data={
        "name": "Gold", "position": "10", "active": "y", "team_id": "", "priority": "", "business_hours_id": "",
        "first_response_minutes": "60", "warn_before_minutes": "15", "pause_statuses": ["pending"]})
    policy = db.session.scalar(select(SlaPolicy))
    assert policy is not None, "the policy form changed: adjust the fields above"
    boss.post(f"/admin/sla/policies/{policy.id}/delete", data={})
    boss.post(f"/admin/sla/hours/{hours.id}/delete", data={})
    got = [(e.kind, e.action) for e in entries(db)]
    assert got == [("business_hours", "created"), ("sla_policy", "created"), ("sla_policy", "deleted"),
                   ("business_hours", "deleted")]
    assert entries(db, "sla_policy")[0].after["first_response_minutes"] == 60


def test_plugin_settings_mask_secrets(app, db, boss):
    plugin = make_plugin("vault", helpdesk_settings=lambda: [
        Setting("greeting", "text", default="Hi"), Setting("api_token", "secret", default="")])
    manager(app).register(plugin, "vault")
    boss.post("/admin/plugins/vault", data={"greeting": "Hello", "api_token": "s3cr3t-value"})
    boss.post("/admin/plugins/vault", data={"greeting": "Hello", "api_token": ""})  # keeps the secret: no change
    boss.post("/admin/plugins/vault", data={"greeting": "Hello", "api_token": "an0ther"})
    first, second = entries(db, "plugin_settings")
    assert first.before == {"greeting": "Hi", "api_token": ""}
    assert first.after == {"greeting": "Hello", "api_token": admin_audit.MASK}
    assert second.before == {"api_token": admin_audit.MASK} and second.after == {"api_token": admin_audit.MASK}
    logged = str([(e.before, e.after) for e in entries(db)])
    assert "s3cr3t" not in logged and "an0ther" not in logged
    page = boss.get("/admin/audit?kind=plugin_settings").text
    assert "s3cr3t" not in page and "api_token: ••••••" in page


def test_plugins_record_their_own_configuration_through_plugin_api(app, db, admin):
    with app.test_request_context("/", environ_base={"REMOTE_ADDR": ADDRESS}):
        record_config_change("vault.webhook", "changed", "webhook Orders", {"url": "https://a.test", "password": "x"},
                             {"url": "https://b.test", "password": "y"}, actor=admin)
        assert record_config_change("vault.webhook", "changed", "webhook Orders", {"url": "same"},
                                    {"url": "same"}, actor=admin) is None
        db.session.commit()
    entry = only(db, "vault.webhook")
    assert entry.after == {"url": "https://b.test", "password": admin_audit.MASK}
    assert entry.ip_address == ADDRESS and entry.actor_name == admin.name


def test_deleting_a_tag_goes_through_a_service_audit_hook_and_sla(app, db, boss, agent, customer):
    """Before: the tag vanished from every ticket with no trace, no hook and a stale SLA clock."""
    seen = []
    manager(app).register(make_plugin("watcher", helpdesk_ticket_changed=lambda ticket, changes, actor:
                                      seen.append((ticket.id, changes, actor.id))), "watcher")
    hours = BusinessHours(name="Always", timezone="UTC", schedule={str(d): [["00:00", "24:00"]] for d in range(1, 8)})
    db.session.add(hours)
    db.session.commit()
    db.session.add(SlaPolicy(name="VIP", position=1, tag="vip", first_response_minutes=30,
                             business_hours_id=hours.id))
    db.session.commit()
    tagged = services.create_ticket(customer, "Urgent VIP", "help", tags=["vip", "billing"])
    plain = services.create_ticket(customer, "Plain", "hello")
    assert tagged.sla_due_at is not None  # the VIP clock runs
    tag = db.session.scalar(select(Tag).where(Tag.name == "vip"))

    done = boss.post(f"/admin/tags/{tag.id}/delete", data={}, follow_redirects=True)
    assert "Removed tag vip from 1 ticket." in " | ".join(alerts(done.text))
    db.session.expire_all()
    assert [t.name for t in db.session.get(type(tagged), tagged.id).tags] == ["billing"]
    trail = db.session.scalars(select(AuditEvent).where(AuditEvent.ticket_id == tagged.id,
                                                        AuditEvent.field == "tags")).all()
    assert [(e.old_value, e.new_value, e.reason) for e in trail][-1] == ("billing, vip", "billing",
                                                                         "tag vip deleted by an admin")
    assert seen == [(tagged.id, {"tags": ("billing, vip", "billing")}, boss_id(db))]
    assert db.session.get(type(tagged), tagged.id).sla_due_at is None  # no policy applies any more
    assert plain.id not in [s[0] for s in seen]
    entry = only(db, "tag")
    assert (entry.action, entry.before) == ("deleted", {"name": "vip", "tickets": 1})


def boss_id(db) -> int:
    return db.session.scalar(select(User.id).where(User.role == "admin"))


# --------------------------------------------------------------------- the page


def _entry(db, who: User, kind: str, days_ago: int, target: str) -> None:
    db.session.add(AdminAuditEntry(actor_id=who.id, actor_name=who.name, ip_address=ADDRESS, kind=kind,
                                   action="changed", target=target, before={"name": "old"}, after={"name": "new"},
                                   created_at=utcnow() - timedelta(days=days_ago)))
    db.session.commit()


def test_audit_page_filters_by_who_kind_and_dates(boss, db, admin, make_user):
    other = make_user("admin", name="Olga Other")
    _entry(db, admin, "team", 0, "team A")
    _entry(db, other, "team", 0, "team B")
    _entry(db, admin, "complaints.rule", 0, "rule C")
    _entry(db, admin, "tag", 10, "tag D")

    def targets(query: str) -> list[str]:
        page = boss.get("/admin/audit" + query)
        assert page.status_code == 200
        return sorted(t for row in texts(page.text, cls="audit-row") for t in ("team A", "team B", "rule C", "tag D")
                      if t in row)

    assert targets("") == ["rule C", "tag D", "team A", "team B"]
    assert targets(f"?actor={other.id}") == ["team B"]
    assert targets("?kind=team") == ["team A", "team B"]
    assert targets("?kind=complaints") == ["rule C"]  # a plugin's kinds, all together
    since = (utcnow() - timedelta(days=2)).date().isoformat()
    assert targets(f"?since={since}") == ["rule C", "team A", "team B"]
    until = (utcnow() - timedelta(days=5)).date().isoformat()
    assert targets(f"?until={until}") == ["tag D"]
    bad = boss.get("/admin/audit?since=yesterday")
    assert bad.status_code == 200 and "is not a date" in " | ".join(alerts(bad.text))
    assert "No changes match these filters." in boss.get("/admin/audit?kind=nothing").text


def test_audit_page_is_for_admins_and_empty_at_first(client, login, agent, admin):
    login(client, agent)
    assert client.get("/admin/audit").status_code == 403
    assert client.get("/admin/audit.csv").status_code == 403
    login(client, admin)
    assert "No configuration changes recorded yet." in client.get("/admin/audit").text


def test_csv_export_streams_every_row_and_neutralises_formulas(boss, db, admin):
    _entry(db, admin, "team", 0, "=HYPERLINK(\"http://evil.test\")")
    for n in range(600):  # more than one batch
        _entry(db, admin, "tag", 1, f"tag {n}")
    response = boss.get("/admin/audit.csv?kind=team")
    assert response.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0][:3] == ["time (UTC)", "who", "address"]
    assert rows[1][1:6] == [admin.name, ADDRESS, "team", "changed", "'=HYPERLINK(\"http://evil.test\")"]
    assert rows[1][6:] == ["name: old", "name: new"]
    everything = list(csv.reader(io.StringIO(boss.get("/admin/audit.csv").text)))
    assert len(everything) == 1 + 601
    assert db.session.scalar(select(func.count()).select_from(AdminAuditEntry)) == 601


def test_forged_team_choices_get_a_clear_error_and_no_entry(boss, db):
    """The team form's lists are checked by the service: a forged id is an error, not a 500."""
    for field, value, message in (("lead_id", "abc", "Choose the team lead from the list of agents."),
                                  ("lead_id", "999", "Choose the team lead from the list of agents."),
                                  ("business_hours_id", "²", "Choose business hours from the list.")):
        page = boss.post("/admin/teams/new", data={"name": "Billing", "assignment_strategy": "manual", field: value})
        assert page.status_code == 422 and message in page.text, (field, value)
    assert db.session.scalar(select(func.count()).select_from(Team)) == 0
    assert entries(db) == []


def test_each_admin_reads_the_targets_in_their_language_and_the_csv_stays_english(boss, db, admin):
    """The target is stored in English (CSV, search, older rows) with its words: a German admin
    reads "Team Billing <b> (#1)" on the audit page, escaped like everything a user typed."""
    boss.post("/admin/teams/new", data={"name": "Billing <b>", "assignment_strategy": "manual"})
    boss.post("/admin/custom-fields", data={"applies_to": "customer", "key": "plan", "label": "Plan", "kind": "text"})
    team = db.session.scalar(select(Team))
    entry = only(db, "team")
    assert entry.target == f"team Billing <b> (#{team.id})"
    assert entry.target_words == {"msgid": "team %(name)s (#%(id)s)",
                                  "params": {"name": "Billing <b>", "id": str(team.id)}}
    _entry(db, admin, "tag", 0, "tag old-row")  # written before targets had words: shown as stored

    admin.language = "de"
    db.session.commit()
    page = boss.get("/admin/audit").text
    rows = texts(page, cls="audit-row")
    assert any(f"Team Billing <b> (#{team.id})" in row for row in rows)
    assert "Billing <b>" not in page and "Billing &lt;b&gt;" in page
    assert any("tag old-row" in row for row in rows)
    field_rows = [row for row in rows if "plan" in row]
    assert field_rows and "Feld plan für Kunde" in field_rows[0], rows
    csv_rows = list(csv.reader(io.StringIO(boss.get("/admin/audit.csv?kind=team").text)))
    assert csv_rows[1][5] == f"team Billing <b> (#{team.id})"
