"""The plugin platform: discovery, enable/disable across processes, isolation, settings, slots."""
from __future__ import annotations

import pytest
from flask import Blueprint
from markupsafe import Markup
from sqlalchemy import select

from helpdesk import create_app, services
from helpdesk.models import PluginError, Ticket
from helpdesk.plugin_api import Route, Setting
from helpdesk.plugin_manager import manager
from helpdesk.testing import make_plugin


def register(app, module, name: str):
    manager(app).register(module, name)
    return module


def test_event_hooks_receive_committed_tickets(app, customer, agent):
    seen = []
    register(app, make_plugin(
        "spy",
        helpdesk_ticket_created=lambda ticket, message: seen.append(("created", ticket.reference, message.body)),
        helpdesk_message_added=lambda ticket, message: seen.append(("message", message.body)),
        helpdesk_ticket_changed=lambda ticket, changes, actor: seen.append(("changed", changes, actor.name)),
    ), "spy")
    ticket = services.create_ticket(customer, "Help", "Broken")
    services.add_message(ticket, agent, "Hi Carla, fixed")
    services.update_ticket(ticket, agent, priority="high")
    assert seen == [("created", ticket.reference, "Broken"), ("message", "Hi Carla, fixed"),
                    ("changed", {"status": ("new", "open")}, "Alex Agent"),
                    ("changed", {"priority": ("normal", "high")}, "Alex Agent")]


def explode(*args, **kwargs):
    raise RuntimeError("plugin bug")


def test_a_plugin_that_raises_everywhere_loses_nothing(app, db, client, login, customer, agent, admin):
    names = ["helpdesk_ticket_created", "helpdesk_message_added", "helpdesk_ticket_changed",
             "helpdesk_classify_ticket", "helpdesk_route_ticket", "helpdesk_inbound_filter",
             "helpdesk_reply_checks", "helpdesk_reply_variables", "helpdesk_template_slot",
             "helpdesk_nav_links"]
    register(app, make_plugin("broken", **{n: explode for n in names}), "broken")

    ticket = services.create_ticket(customer, "Still works", "Body")
    services.add_message(ticket, agent, "Hi Carla, reply " + ticket.reference)
    services.update_ticket(ticket, agent, status="resolved")
    assert db.session.scalar(select(Ticket.status).where(Ticket.id == ticket.id)) == "resolved"

    login(client, agent)
    page = client.get(f"/tickets/{ticket.reference}")
    assert page.status_code == 200 and "Still works" in page.text

    errors = db.session.scalars(select(PluginError).where(PluginError.plugin == "broken")).all()
    hooks = {e.hook.split(":")[0] for e in errors}
    assert {"helpdesk_ticket_created", "helpdesk_classify_ticket", "helpdesk_route_ticket",
            "helpdesk_message_added", "helpdesk_ticket_changed", "helpdesk_template_slot"} <= hooks
    assert "RuntimeError: plugin bug" in errors[0].message and "Traceback" in errors[0].traceback

    login(client, admin)
    plugin_page = client.get("/admin/plugins/broken")
    assert "RuntimeError: plugin bug" in plugin_page.text


def test_decision_hooks_classify_and_route_with_audit(app, db, make_user, customer):
    from helpdesk.models import AuditEvent, Team

    team = Team(name="Billing")
    db.session.add(team)
    db.session.commit()
    lead = make_user("agent", name="Bill Lead")
    register(app, make_plugin(
        "router",
        helpdesk_classify_ticket=lambda message: {"tags": ["refund"], "priority": "high"}
        if "refund" in message.body else None,
        helpdesk_route_ticket=lambda ticket: Route(team_id=team.id, assignee_id=lead.id,
                                                   reason="refunds go to billing"),
    ), "router")
    ticket = services.create_ticket(customer, "Money", "I want a refund")
    assert ticket.team_id == team.id and ticket.assignee_id == lead.id
    assert ticket.priority == "high" and [t.name for t in ticket.tags] == ["refund"]
    reasons = db.session.scalars(select(AuditEvent.reason).where(AuditEvent.ticket_id == ticket.id)).all()
    assert "refunds go to billing" in reasons


def test_inbound_filter_refuses_with_reason(app, db, customer, agent):
    register(app, make_plugin("blocker", helpdesk_inbound_filter=lambda body: "looks like spam"
                              if "casino" in body else None), "blocker")
    with pytest.raises(services.ServiceError, match="looks like spam"):
        services.create_ticket(customer, "Win", "Best casino")
    db.session.rollback()
    assert db.session.scalar(select(Ticket.id)) is None
    # Agents opening tickets on a customer's behalf are not filtered.
    assert services.create_ticket(customer, "Win", "casino complaint", actor=agent).id


def test_disabled_plugin_is_not_called(app, customer):
    seen = []
    register(app, make_plugin("spy", helpdesk_ticket_created=lambda ticket: seen.append(ticket.id)), "spy")
    manager(app).set_enabled("spy", False)
    services.create_ticket(customer, "A", "a")
    assert seen == []
    manager(app).set_enabled("spy", True)
    services.create_ticket(customer, "B", "b")
    assert len(seen) == 1


def test_enable_disable_is_seen_by_a_second_app_on_the_next_request(app, db, tmp_path, agent, login):
    """Two app instances share one database, as two web processes would."""
    bp = Blueprint("shared", __name__)
    bp.add_url_rule("/shared", "index", lambda: "shared page")
    plugin = make_plugin("shared", helpdesk_blueprints=lambda: [bp])
    register(app, plugin, "shared")

    other = create_app({**{k: app.config[k] for k in ("SQLALCHEMY_DATABASE_URI", "SECRET_KEY", "TESTING")},
                        "INSTANCE_PATH": app.instance_path, "JOBS_IMMEDIATE": True})
    bp2 = Blueprint("shared", __name__)
    bp2.add_url_rule("/shared", "index", lambda: "shared page")
    manager(other).register(make_plugin("shared", helpdesk_blueprints=lambda: [bp2]), "shared")
    manager(other).register_blueprints(other)
    other_client = other.test_client()
    assert other_client.get("/shared").text == "shared page"

    manager(app).set_enabled("shared", False)  # "process one" disables it
    assert other_client.get("/shared").status_code == 404
    manager(app).set_enabled("shared", True)
    assert other_client.get("/shared").status_code == 200


def test_slots_render_each_plugin_isolated_escaped_and_ordered(app, client, login, agent, ticket):
    register(app, make_plugin("b_html", helpdesk_template_slot=lambda slot: Markup("<b>bold block</b>")
                              if slot == "ticket.sidebar" else None), "b_html")
    register(app, make_plugin("a_text", helpdesk_template_slot=lambda slot: "<script>alert(1)</script>"
                              if slot == "ticket.sidebar" else None), "a_text")
    register(app, make_plugin("c_boom", helpdesk_template_slot=explode), "c_boom")
    login(client, agent)
    html = client.get(f"/tickets/{ticket.reference}").text
    assert "<b>bold block</b>" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert(1)" not in html
    assert html.index('data-plugin="a_text"') < html.index('data-plugin="b_html"')
    assert 'data-plugin="c_boom"' not in html


def test_settings_are_declared_validated_and_secrets_encrypted(app, db, client, login, admin):
    register(app, make_plugin("configurable", helpdesk_settings=lambda: [
        Setting("greeting", "text", default="Hello", help="Shown on the page"),
        Setting("limit", "int", default=5, min=1, max=10),
        Setting("mode", "choice", default="fast", choices=("fast", "careful")),
        Setting("contact", "email", default=""),
        Setting("token", "secret", default=""),
        Setting("loud", "bool", default=False),
        Setting("phrases", "lines", default=""),
    ]), "configurable")
    login(client, admin)
    bad = client.post("/admin/plugins/configurable", data={
        "greeting": "Hi", "limit": "99", "mode": "reckless", "contact": "nope", "token": ""})
    assert bad.status_code == 422
    assert "Must be at most 10." in bad.text and "Choose one of: fast, careful." in bad.text
    assert "Not a valid email address" in bad.text
    m = manager(app)
    assert m.get_setting("configurable", "limit") == 5  # nothing was saved

    ok = client.post("/admin/plugins/configurable", data={
        "greeting": "Hi", "limit": "7", "mode": "careful", "contact": "ops@example.com",
        "token": "s3cret-value", "loud": "y", "phrases": "  not happy \r\n\r\ntrès déçu  \n"},
        follow_redirects=True)
    assert ok.status_code == 200 and "s3cret-value" not in ok.text
    assert '<textarea class="form-control" id="setting-phrases"' in client.get("/admin/plugins/configurable").text
    db.session.expire_all()
    assert m.get_setting("configurable", "phrases") == "not happy\ntrès déçu"  # one entry per line
    assert m.get_setting("configurable", "limit") == 7 and m.get_setting("configurable", "loud") is True
    assert m.get_setting("configurable", "token") == "s3cret-value"
    from helpdesk.models import PluginState

    stored = db.session.get(PluginState, "configurable").settings["token"]
    assert stored.startswith("fernet:") and "s3cret" not in stored
    # An empty secret field keeps the stored secret.
    client.post("/admin/plugins/configurable", data={
        "greeting": "Hi", "limit": "7", "mode": "careful", "contact": "", "token": ""})
    db.session.expire_all()
    assert m.get_setting("configurable", "token") == "s3cret-value"


def test_setting_from_environment_wins(app, monkeypatch):
    register(app, make_plugin("envy", helpdesk_settings=lambda: [Setting("limit", "int", default=1)]), "envy")
    monkeypatch.setenv("HELPDESK_PLUGIN_ENVY_LIMIT", "42")
    assert manager(app).get_setting("envy", "limit") == 42


def test_unknown_setting_type_is_refused():
    with pytest.raises(ValueError, match="unknown setting type"):
        Setting("x", "colour")


def test_reply_checks_from_core_and_plugins(app, ticket, agent):
    register(app, make_plugin("tone", helpdesk_reply_checks=lambda body: ["Avoid ASAP."]
                              if "asap" in body.lower() else None), "tone")
    warnings = services.reply_checks(ticket, "We will fix it asap", agent)
    assert any("greet the customer by name" in w for w in warnings)
    assert any("no ticket reference" in w for w in warnings)
    assert "Avoid ASAP." in warnings
    assert services.reply_checks(ticket, f"Hi Carla,\n\nfixed in {ticket.reference}.", agent) == []


def test_reply_variables_extend_canned_replies_but_cannot_replace_core_keys(app, ticket, agent):
    from helpdesk.canned import render_reply

    register(app, make_plugin("tier", helpdesk_reply_variables=lambda customer: {
        "tier": "gold", "customer": {"first_name": "HIJACKED"}}), "tier")
    text = render_reply("Hi {{ customer.first_name }} ({{ tier }}), re {{ ticket.reference }} - {{ agent.name }}",
                        ticket, agent)
    assert text == f"Hi Carla (gold), re {ticket.reference} - Alex Agent"


def test_canned_replies_are_sandboxed(app, ticket, agent):
    from helpdesk.canned import render_reply

    text = render_reply("{{ ''.__class__.__mro__[1].__subclasses__() }}", ticket, agent)
    assert text.startswith("[This canned reply could not be rendered")


def test_nav_links_hook(app, client, login, agent):
    register(app, make_plugin("nav", helpdesk_nav_links=lambda user: [("Reports!", "/reports")]
                              if user.is_staff else None), "nav")
    login(client, agent)
    assert "Reports!" in client.get("/queue").text


def test_plugin_that_fails_to_import_is_recorded_and_skipped(app, monkeypatch, tmp_path):
    """A broken entry point does not stop the app; the admin sees the error."""
    from importlib.metadata import EntryPoint

    import helpdesk.plugin_manager as pm_module

    broken = EntryPoint(name="broken_import", value="helpdesk_no_such_module", group="helpdesk.plugins")
    monkeypatch.setattr(pm_module, "entry_points", lambda group: [broken])
    other = create_app({"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                        "INSTANCE_PATH": app.instance_path, "TESTING": True})
    info = manager(other).plugins["broken_import"]
    assert "ModuleNotFoundError" in info.load_error
    with other.app_context():
        assert manager(other).is_enabled("broken_import") is False


def test_safe_mode_and_disabled_plugins_env(app, monkeypatch):
    from importlib.metadata import EntryPoint

    import helpdesk.plugin_manager as pm_module

    ep = EntryPoint(name="jsonish", value="json", group="helpdesk.plugins")
    monkeypatch.setattr(pm_module, "entry_points", lambda group: [ep])
    base = {"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "INSTANCE_PATH": app.instance_path, "TESTING": True}
    assert "jsonish" in manager(create_app(base)).plugins
    assert "jsonish" not in manager(create_app({**base, "SAFE_MODE": True})).plugins
    assert "jsonish" not in manager(create_app({**base, "DISABLED_PLUGINS": "other,jsonish"})).plugins


def test_channels_deliver_agent_replies_through_the_tickets_channel(app, db, customer, agent):
    from helpdesk.models import OutboxMail
    from helpdesk.plugin_api import Channel

    delivered = []

    class SmsChannel(Channel):
        def deliver(self, ticket, message):
            delivered.append((ticket.reference, message.body))

    register(app, make_plugin("sms", helpdesk_channels=lambda: [SmsChannel(name="sms", label="SMS")]), "sms")
    ticket = services.create_ticket(customer, "Text me", "via sms", channel="sms")
    services.add_message(ticket, agent, "Hi Carla, done")
    services.add_message(ticket, agent, "note", internal=True)
    assert delivered == [(ticket.reference, "Hi Carla, done")]
    assert db.session.scalar(select(OutboxMail.id)) is None  # not also mailed

    manager(app).set_enabled("sms", False)  # channel gone: the customer still hears from us, by email
    services.add_message(ticket, agent, "Hi Carla, second")
    assert len(delivered) == 1
    mail = db.session.scalars(select(OutboxMail)).one()
    assert mail.to_addr == "carla@example.test" and "Hi Carla, second" in mail.body_text


def test_feedback_received_is_fired_with_validated_feedback(app, ticket, customer, other_customer):
    got = []
    register(app, make_plugin("listener", helpdesk_feedback_received=lambda ticket, customer, feedback:
                              got.append((ticket.id, customer.id, feedback["kind"], feedback["score"]))), "listener")
    services.record_feedback(customer, "csat", score=5, comment="Great", ticket=ticket)
    assert got == [(ticket.id, customer.id, "csat", 5)]
    with pytest.raises(services.ServiceError, match="from 0 to 10"):
        services.record_feedback(customer, "nps", score=11)
    with pytest.raises(services.PermissionDenied):
        services.record_feedback(other_customer, "csat", score=1, ticket=ticket)
    assert len(got) == 1


def test_reports_hook_lists_plugin_reports(app, client, login, admin):
    bp = Blueprint("rep", __name__)
    bp.add_url_rule("/rep", "report", lambda: "report page")
    register(app, make_plugin("rep", helpdesk_blueprints=lambda: [bp],
                              helpdesk_reports=lambda: [("Satisfaction trend", "rep.report")]), "rep")
    manager(app).register_blueprints(app)
    login(client, admin)
    page = client.get("/admin/reports")
    assert "Satisfaction trend" in page.text and 'href="/rep"' in page.text
    manager(app).set_enabled("rep", False)
    assert "Satisfaction trend" not in client.get("/admin/reports").text


def test_plugin_cli_commands_are_added(app):
    import click

    def add(cli):
        @cli.command("ping-plugin")
        def ping():
            click.echo("pong from plugin")

    register(app, make_plugin("clip", helpdesk_cli=add), "clip")
    manager(app).register_cli(app)
    result = app.test_cli_runner().invoke(args=["ping-plugin"])
    assert result.output.strip() == "pong from plugin"


def test_settings_page_says_when_the_environment_wins(app, client, login, admin, monkeypatch):
    register(app, make_plugin("envy2", helpdesk_settings=lambda: [Setting("limit", "int", default=1)]), "envy2")
    monkeypatch.setenv("HELPDESK_PLUGIN_ENVY2_LIMIT", "42")
    login(client, admin)
    page = client.get("/admin/plugins/envy2").text
    assert "HELPDESK_PLUGIN_ENVY2_LIMIT" in page and "wins over the value saved here" in page


def test_a_plugins_stored_file_can_be_deleted(app):
    """``store_file`` keeps a plugin's file in the core's storage; ``delete_stored_file``
    removes it (an article image deleted), once: a second call finds nothing."""
    from helpdesk.plugin_api import delete_stored_file, store_file, stored_file

    with app.test_request_context():
        token = store_file(b"image bytes", "diagram.png")
        path = stored_file(token)
        assert path.read_bytes() == b"image bytes"
        assert delete_stored_file(token) is True
        assert not path.exists()
        assert delete_stored_file(token) is False
        other = store_file(b"kept", "other.png")
        with pytest.raises(ValueError):
            delete_stored_file("../" + other)
        assert stored_file(other).read_bytes() == b"kept"
