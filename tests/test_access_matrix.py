"""Every route × every kind of visitor → allowed or refused.

A new route without a rule here fails the suite: add it to RULES with who may use it.
A plugin gives its own rules through the ``helpdesk_access_rules`` hook (the bundled ones
keep them in ``helpdesk_<name>/access_rules.py``): ``RULES`` (endpoint → set of role names
from ROLES), optionally ``ROLES`` (the roles those rules cover) and ``values(world) -> dict``
creating what its URLs point at. A plugin that gives no rules has its routes skipped with a
message, so installing a third-party plugin never breaks the core's suite.
"""
from __future__ import annotations

import re
import types
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from flask import Blueprint

from helpdesk import services
from helpdesk.models import (
    Announcement,
    BusinessHours,
    CannedReply,
    CustomField,
    Macro,
    Organisation,
    OutboxMail,
    SavedView,
    SlaPolicy,
    Tag,
    Team,
    WebhookDelivery,
    WebhookEndpoint,
)
from helpdesk.plugin_manager import CORE_MODULES, manager
from helpdesk.services import api_tokens
from helpdesk.services.announcements import unsubscribe_token
from helpdesk.services.tickets import NewAttachment
from helpdesk.testing import make_plugin
from helpdesk.web.auth import admin_required

# team_agent: an agent who sees only the tickets of their teams; the world's ticket is in a
# team they are not in. light_agent: reads tickets and adds internal notes, nothing else.
ROLES = ("anonymous", "customer_a", "customer_b", "agent", "team_agent", "light_agent", "admin")
# What a plugin's rules cover when it does not say (the roles before team and light agents).
ORIGINAL_ROLES = ("anonymous", "customer_a", "customer_b", "agent", "admin")

# Who gets through. Everyone else must be refused (sign-in page, 403 or 404).
PUBLIC = set(ROLES)
SIGNED_IN = PUBLIC - {"anonymous"}
BACKOFFICE = {"agent", "team_agent", "light_agent", "admin"}  # the agent pages: queue, dashboard
AGENTS = {"agent", "team_agent", "admin"}  # full agents, on pages about no ticket in particular
IN_SCOPE_READERS = {"agent", "light_agent", "admin"}  # who sees the world's ticket
IN_SCOPE = {"agent", "admin"}  # who may change it (light agents only add notes)
ADMIN = {"admin"}
OWNER = {"customer_a"}  # the customer whose ticket it is (staff are sent to their own pages)
CUSTOMERS = {"customer_a", "customer_b"}
ANONYMOUS = {"anonymous"}

RULES: dict[str, set[str]] = {
    "static": PUBLIC, "bootstrap.static": PUBLIC,
    "auth.index": PUBLIC, "auth.login": PUBLIC, "auth.signup": PUBLIC, "auth.magic_request": PUBLIC,
    "auth.magic": PUBLIC, "auth.logout": PUBLIC,
    # Operators' endpoints: no sign-in; /metrics is limited by network or token, not role
    # (the test client comes from 127.0.0.1, inside the default METRICS_ALLOW_FROM).
    "ops.healthz": PUBLIC, "ops.readyz": PUBLIC, "ops.metrics": PUBLIC,
    "profile.index": SIGNED_IN, "profile.save": SIGNED_IN, "profile.password": SIGNED_IN,
    "profile.end_session": SIGNED_IN, "profile.end_other_sessions": SIGNED_IN,
    "portal.index": CUSTOMERS, "portal.new_ticket": CUSTOMERS,
    "portal.ticket": OWNER, "portal.ticket_action": OWNER,
    "agent.queue": BACKOFFICE, "agent.dashboard": BACKOFFICE, "agent.save_view": BACKOFFICE,
    "agent.bulk": AGENTS,
    "agent.delete_view": {"agent"},  # saved views are personal
    "agent.ticket": IN_SCOPE_READERS,  # light agents: GET, and POST an internal note
    "agent.ticket_fields": IN_SCOPE, "agent.canned_reply": IN_SCOPE_READERS,
    "agent.canned_reply_page": IN_SCOPE_READERS, "agent.checks": IN_SCOPE_READERS,
    "agent.attachment": OWNER | IN_SCOPE_READERS,
    "agent.customers": AGENTS, "agent.customer": IN_SCOPE,  # customer A wrote only to a team not theirs
    "agent.message_html": OWNER | IN_SCOPE_READERS,
    "admin.index": ADMIN, "admin.users": ADMIN, "admin.user_edit": ADMIN, "admin.teams": ADMIN,
    "admin.team_edit": ADMIN, "admin.tags": ADMIN, "admin.tag_delete": ADMIN, "admin.canned": ADMIN,
    "admin.canned_edit": ADMIN, "admin.canned_delete": ADMIN, "admin.settings": ADMIN,
    "admin.plugins": ADMIN, "admin.plugin_toggle": ADMIN, "admin.plugin_settings": ADMIN,
    "admin.outbox": ADMIN, "admin.outbox_mail": ADMIN, "admin.reports": ADMIN,
    "admin.audit_log": ADMIN, "admin.audit_log_csv": ADMIN,
    "probe.index": AGENTS,  # the throwaway page registered below
    # Service levels, assignment, merge and split
    "agent.merge": IN_SCOPE, "agent.split": IN_SCOPE, "availability.toggle": AGENTS,
    "sla.index": ADMIN, "sla.policy_edit": ADMIN, "sla.policy_delete": ADMIN,
    "sla.hours_edit": ADMIN, "sla.hours_delete": ADMIN,
    "reply_checks.index": ADMIN,  # Admin → Reply checks
    # The live channel: the stream (no topics asked: 204) and a ticket's presence heartbeat
    "live.stream": BACKOFFICE, "live.presence": IN_SCOPE_READERS,
    # Agents' notifications, following, @mentions
    "notifications.index": BACKOFFICE, "notifications.read": BACKOFFICE, "notifications.preferences": BACKOFFICE,
    "notifications.follow": IN_SCOPE_READERS, "notifications.mentionable": BACKOFFICE,
    # The core reports: full agents and admins, each within their scope
    "reports.index": AGENTS, "reports.export": AGENTS,
    # Macros (a macro shared with everyone: all use it, admins change it) and the composer's preview
    "macros.index": BACKOFFICE, "macros.new": BACKOFFICE, "macros.edit": ADMIN, "macros.delete": ADMIN,
    "macros.apply": IN_SCOPE_READERS, "macros.preview": IN_SCOPE_READERS,
    # The queue's helpers: the ticket picker, the hover preview, read marks
    "queue_tools.lookup": AGENTS, "queue_tools.preview": IN_SCOPE_READERS, "queue_tools.seen": IN_SCOPE_READERS,
    # The REST API with a browser session (tests/test_api_access.py runs the same rules with API tokens)
    **{f"api_tickets.{name}": roles for name, roles in {
        "list_tickets": SIGNED_IN, "create_ticket": CUSTOMERS | AGENTS, "get_ticket": OWNER | IN_SCOPE_READERS,
        "update_ticket": OWNER | IN_SCOPE, "list_messages": OWNER | IN_SCOPE_READERS, "reply": OWNER | IN_SCOPE,
        "note": IN_SCOPE_READERS, "merge": IN_SCOPE, "sla": IN_SCOPE_READERS}.items()},
    "api_attachments.download": OWNER | IN_SCOPE_READERS,
    "api_customers.list_customers": AGENTS, "api_customers.get_customer": IN_SCOPE,
    "api_customers.add_customer_identity": IN_SCOPE,
    "api_people.me": SIGNED_IN, "api_people.list_users": BACKOFFICE, "api_people.get_user": BACKOFFICE,
    "api_people.list_teams": BACKOFFICE, "api_people.get_team": BACKOFFICE, "api_people.list_tags": BACKOFFICE,
    "api_people.add_tag": ADMIN,
    "api_organisations.list_organisations": AGENTS, "api_organisations.get_organisation": AGENTS,
    "api_organisations.update_organisation": AGENTS,  # agents: notes, owner, fields; admins also the rest
    "api_organisations.create_organisation": ADMIN,
    "api-docs.openapi_json": PUBLIC, "api_docs.docs": PUBLIC,
    # Profile → API tokens (customer A's token in the world: only A may revoke it) and Admin → Webhooks
    "api_tokens.index": SIGNED_IN, "api_tokens.create": SIGNED_IN, "api_tokens.revoke": OWNER,
    "webhooks.index": ADMIN, "webhooks.create": ADMIN, "webhooks.toggle": ADMIN, "webhooks.delete": ADMIN,
    "webhooks.deliveries": ADMIN, "webhooks.redeliver": ADMIN, "webhooks.private_targets": ADMIN,
    # Knowing the customer: organisations (agents read and keep notes, admins create, delete,
    # set domains and sharing), a customer's profile, custom fields, a ticket's fields
    "customers.organisations": AGENTS, "customers.organisation": AGENTS, "customers.organisation_delete": ADMIN,
    "customers.profile": IN_SCOPE,  # like the customer page: customer A wrote only to a team not theirs
    "customers.fields": ADMIN, "customers.field_delete": ADMIN, "customers.ticket_fields": IN_SCOPE,
    # Announcements: admins and team leads (none in the world); the unsubscribe link is public
    "announcements.index": ADMIN, "announcements.detail": ADMIN, "announcements.send": ADMIN,
    "announcements.end": ADMIN, "announcements.unsubscribe": PUBLIC,
}


@dataclass
class Expectations:
    """What the matrix checks: rules per endpoint, the roles each endpoint's rules cover, and
    what it skips (routes of plugins without rules, roles a plugin's rules do not cover)."""

    rules: dict[str, set[str]] = field(default_factory=dict)
    covered: dict[str, tuple[str, ...]] = field(default_factory=dict)
    value_makers: list = field(default_factory=list)
    plugins_without_rules: set[str] = field(default_factory=set)
    owners: dict[str, str] = field(default_factory=dict)  # blueprint → plugin

    def plugin_of(self, endpoint: str) -> str | None:
        return self.owners.get(endpoint.rpartition(".")[0]) if "." in endpoint else None

    def skip_reason(self, endpoint: str, role: str) -> str | None:
        plugin = self.plugin_of(endpoint)
        if plugin in self.plugins_without_rules:
            return f"plugin {plugin!r} gives no access rules (helpdesk_access_rules hook)"
        if endpoint in self.covered and role not in self.covered[endpoint]:
            return f"plugin {plugin!r}'s access rules do not cover the role {role!r}"
        return None


def expectations(app) -> Expectations:
    """The core's rules plus every installed plugin's, asked through the hook."""
    plugins = manager(app)
    found = Expectations(rules=dict(RULES), owners=dict(plugins.blueprint_owners))
    answered = set()
    for impl in plugins.pm.hook.helpdesk_access_rules.get_hookimpls():
        module = impl.function()
        if module is None:
            continue
        answered.add(impl.plugin_name)
        roles = tuple(getattr(module, "ROLES", ORIGINAL_ROLES))
        for endpoint, allowed in module.RULES.items():
            found.rules[endpoint] = set(allowed)
            found.covered[endpoint] = roles
        if hasattr(module, "values"):
            found.value_makers.append(module.values)
    # The core's own modules (service levels, assignment) are covered by RULES above.
    found.plugins_without_rules = set(found.owners.values()) - answered - set(CORE_MODULES)
    return found


def _unchecked(expected: Expectations, endpoints) -> list[str]:
    return sorted(e for e in endpoints if expected.plugin_of(e) in expected.plugins_without_rules)


@pytest.fixture
def world(app, db, make_user, customer, other_customer, agent, admin):
    """Customer A's ticket (in team T, with an attachment) and one of everything an URL names."""
    bp = Blueprint("probe", __name__)

    @bp.get("/probe")
    def index():
        from helpdesk.web.auth import staff_required

        return staff_required(lambda: "probe")()


    manager(app).register(types.ModuleType("probe"), "probe")
    for name in manager(app).plugins:  # every installed plugin's pages are checked too
        manager(app).set_enabled(name, True)
    app.register_blueprint(bp)
    ticket = services.create_ticket(customer, "A's ticket", "private", body_html="<p>private</p>", attachments=[
        NewAttachment("a.txt", b"secret file", "text/plain")])
    team = Team(name="T")
    other_team = Team(name="Other")
    team_agent = make_user("agent", name="Tess Team", team_scoped=True)
    light_agent = make_user("light_agent", name="Lee Light")
    other_team.members = [team_agent]
    ticket.team = team
    db.session.add(other_team)
    tag = Tag(name="t")
    reply = CannedReply(title="R", body="Hi {{ customer.first_name }}")
    mail = OutboxMail(to_addr="x@example.com", subject="s", body_text="b")
    db.session.add_all([team, tag, reply, mail])
    db.session.commit()
    view = SavedView(user_id=agent.id, name="v", query="status=open")
    hours = BusinessHours(name="Office", timezone="Europe/Berlin", schedule={"1": [["09:00", "17:00"]]})
    db.session.add_all([view, hours])
    db.session.commit()
    policy = SlaPolicy(name="Default", first_response_minutes=60, business_hours_id=hours.id)
    macro = Macro(name="Seen", body="Seen.", internal=True, add_tags=[], remove_tags=[])
    organisation = Organisation(name="Org", notes="", custom_fields={})
    field = CustomField(applies_to="ticket", key="order", label="Order", kind="text", choices=[])
    announcement = Announcement(subject="Maintenance", body="Tonight.", segment={"open_tickets": True})
    db.session.add_all([policy, macro, organisation, field, announcement])
    db.session.commit()
    api_token, _ = api_tokens.create_token(customer, "world", "read", 30)
    endpoint = WebhookEndpoint(url="http://127.0.0.1:9/hook", events=["ticket.created"], secret="fernet:x")
    db.session.add(endpoint)
    db.session.flush()
    delivery = WebhookDelivery(endpoint_id=endpoint.id, event="ticket.created", payload="{}", status="failed")
    db.session.add(delivery)
    db.session.commit()
    world = {
        "users": {"customer_a": customer, "customer_b": other_customer, "agent": agent, "admin": admin,
                  "team_agent": team_agent, "light_agent": light_agent},
        "values": {"reference": ticket.reference, "token": ticket.messages[0].attachments[0].token,
                   "customer_id": customer.id, "user_id": agent.id, "team_id": team.id,
                   "tag_id": tag.id, "reply_id": reply.id, "mail_id": mail.id, "view_id": view.id,
                   "name": "probe", "action": "solved", "filename": "app.css",
                   "policy_id": policy.id, "hours_id": hours.id, "message_id": ticket.messages[0].id,
                   "table": "team", "macro_id": macro.id, "token_id": api_token.id,
                   "endpoint_id": endpoint.id, "delivery_id": delivery.id, "organisation_id": organisation.id,
                   "field_id": field.id, "announcement_id": announcement.id,
                   "unsubscribe_token": unsubscribe_token(customer)},
        "ticket": ticket,
    }
    for make_values in expectations(app).value_makers:
        world["values"].update(make_values(world))
    return world


def _static_file(endpoint: str) -> str:
    """A file that exists in a blueprint's static folder (any plugin's, whatever it is named)."""
    from flask import current_app

    blueprint = current_app.blueprints[endpoint.rpartition(".")[0]]
    folder = Path(blueprint.static_folder)
    return next(p.relative_to(folder).as_posix() for p in sorted(folder.rglob("*")) if p.is_file())


def _url(rule, values) -> str:
    def fill(match):
        name = match.group(2)
        if rule.endpoint == "bootstrap.static" and name == "filename":
            return "css/bootstrap.min.css"
        if rule.endpoint.endswith(".static") and rule.endpoint != "static" and name == "filename":
            return _static_file(rule.endpoint)
        return str(values[name])

    return re.sub(r"<(?:(\w+):)?(\w+)>", fill, rule.rule)


def _allowed(response) -> bool:
    if response.status_code in (401, 403, 404):
        return False
    if response.status_code in (301, 302, 303):
        return "/login" not in response.headers.get("Location", "")
    return True


def test_every_route_has_a_rule(app, world):
    expected = expectations(app)
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    missing = {e for e in endpoints - set(expected.rules)
               if expected.plugin_of(e) not in expected.plugins_without_rules}
    assert not missing, f"routes without an access rule: {sorted(missing)}"


def test_routes_of_plugins_without_access_rules(app, world):
    """Skipped, with the routes named, when an installed plugin gives no rules (a third party's)."""
    expected = expectations(app)
    unchecked = _unchecked(expected, {rule.endpoint for rule in app.url_map.iter_rules()})
    if unchecked:
        pytest.skip(f"not checked, their plugin gives no access rules (implement the "
                    f"helpdesk_access_rules hook): {', '.join(unchecked)}")


def _matrix_failures(app, world, login, role: str) -> tuple[list[str], list[str]]:
    """Request every route as ``role``: (failures, routes skipped with the reason)."""
    from helpdesk.testing import CSRFClient

    expected = expectations(app)
    app.test_client_class = CSRFClient  # a valid form token: the test is about roles, not CSRF
    client = app.test_client()
    failures, skipped = [], []
    # Routes that delete what the world's URLs point at go last (the admin's run deletes them).
    for rule in sorted(app.url_map.iter_rules(), key=lambda rule: rule.endpoint.endswith("_delete")):
        reason = expected.skip_reason(rule.endpoint, role)
        if reason is not None:
            skipped.append(f"{rule.endpoint}: {reason}")
            continue
        allowed = expected.rules[rule.endpoint]
        url = _url(rule, world["values"])
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if role != "anonymous":  # again each time: one of the routes is "sign out"
                login(client, world["users"][role])
            response = client.open(url, method=method, data={} if method == "POST" else None)
            got = _allowed(response)
            if rule.endpoint in {"portal.ticket", "portal.ticket_action", "portal.index",
                                 "portal.new_ticket"} and role in BACKOFFICE:
                # Staff are sent to their queue, never shown the portal.
                sent_away = response.status_code == 302 and response.headers["Location"].endswith("/queue")
                got = not sent_away
            if rule.endpoint == "auth.logout":  # signs out whoever asks, then shows the sign-in page
                got = response.status_code == 302
            should = role in allowed
            if got != should:
                failures.append(f"{method} {url} ({rule.endpoint}): {response.status_code}, "
                                f"expected {'allowed' if should else 'refused'}")
    return failures, skipped


@pytest.mark.parametrize("role", ROLES)
def test_access_matrix(app, world, login, role):
    failures, _skipped = _matrix_failures(app, world, login, role)
    assert not failures, "\n".join(failures)


def test_a_plugin_without_access_rules_is_skipped_not_an_error(app, world, login):
    """A third-party plugin that gives no rules: its pages are skipped with a message."""
    bp = Blueprint("thirdparty", __name__)

    @bp.get("/thirdparty/<int:widget_id>")
    def page(widget_id: int):
        return "a widget"

    plugin = make_plugin("thirdparty", helpdesk_blueprints=lambda: [bp])
    manager(app).register(plugin, "thirdparty")
    manager(app).register_blueprints(app)
    assert "thirdparty.page" in {rule.endpoint for rule in app.url_map.iter_rules()}

    test_every_route_has_a_rule(app, world)  # no KeyError, no "missing rule"
    with pytest.raises(pytest.skip.Exception, match="thirdparty.page"):
        test_routes_of_plugins_without_access_rules(app, world)
    failures, skipped = _matrix_failures(app, world, login, "agent")
    assert not failures
    assert "thirdparty.page: plugin 'thirdparty' gives no access rules (helpdesk_access_rules hook)" in skipped


@pytest.mark.parametrize("role", ROLES)
def test_knowledge_images_of_internal_articles_and_drafts_reach_agents_only(app, world, login, role):
    """The knowledge plugin's article images (``knowledge.article_image``) with the other two
    kinds of article the matrix's one URL cannot show: an internal article's and a draft's.
    Agents (every back-office role) read them; customers and visitors never."""
    values = world["values"]
    if "knowledge_internal_image" not in values:
        pytest.skip("the knowledge plugin is not installed")
    client = app.test_client()
    if role != "anonymous":
        login(client, world["users"][role])
    for name in ("knowledge_internal_image", "knowledge_draft_image"):
        response = client.get(f"/attachments/knowledge/{values[name]}")
        assert _allowed(response) == (role in BACKOFFICE), f"{name}: {response.status_code} for {role}"
        if role in BACKOFFICE:
            assert response.headers["Content-Type"] == "image/png"
            assert "no-store" in response.headers["Cache-Control"]
    public = client.get(f"/attachments/knowledge/{values['knowledge_image']}")
    assert public.status_code == 200 and public.headers["X-Content-Type-Options"] == "nosniff"


def test_customer_b_cannot_see_customer_a_anywhere(app, world, login, client):
    login(client, world["users"]["customer_b"])
    ref = world["values"]["reference"]
    assert client.get(f"/portal/tickets/{ref}").status_code == 404
    assert client.get(f"/attachments/{world['values']['token']}").status_code == 404
    listing = client.get("/portal/").text
    assert ref not in listing and "A&#39;s ticket" not in listing and "A's ticket" not in listing


def test_hook_access_rules(app, world, login):
    """A plugin's rules, given through the hook, are checked against its pages for every role."""
    bp = Blueprint("ruled", __name__)

    @bp.get("/ruled/secret")
    @admin_required
    def secret():
        return "admins only"

    rules = types.SimpleNamespace(RULES={"ruled.secret": {"admin"}}, ROLES=("agent", "admin"))
    plugin = make_plugin("ruled", helpdesk_blueprints=lambda: [bp], helpdesk_access_rules=lambda: rules)
    manager(app).register(plugin, "ruled")
    manager(app).register_blueprints(app)

    expected = expectations(app)
    assert expected.rules["ruled.secret"] == {"admin"}
    assert "ruled" not in expected.plugins_without_rules
    for role in ("agent", "admin"):
        failures, skipped = _matrix_failures(app, world, login, role)
        assert not [f for f in failures if "ruled." in f], failures
        assert not [s for s in skipped if s.startswith("ruled.")]
    # A rule that disagrees with the page is caught: the matrix really checks the plugin's routes.
    rules.RULES["ruled.secret"] = {"agent", "admin"}
    failures, _ = _matrix_failures(app, world, login, "agent")
    assert any("ruled.secret" in f for f in failures)


def test_shared_organisation_lets_members_read_each_others_tickets(app, world, login, client, admin, make_user):
    """Customers of one organisation see each other's tickets only when the admin shares them;
    they read a colleague's ticket but cannot reply or close it; other organisations see nothing."""
    from helpdesk.services.organisations import save_organisation

    ref = world["values"]["reference"]
    customer_a = world["users"]["customer_a"]  # carla@example.test
    colleague = make_user("customer", name="Cleo Colleague", email="cleo@example.test")
    stranger = make_user("customer", name="Stan Stranger", email="stan@elsewhere.test")
    org = save_organisation(admin, name="Example", domains="example.test")  # adopts A and Cleo
    assert customer_a.organisation_id == org.id and colleague.organisation_id == org.id
    assert stranger.organisation_id is None

    login(client, colleague)
    assert client.get(f"/portal/tickets/{ref}").status_code == 404  # not shared yet
    assert ref not in client.get("/portal/").text

    save_organisation(admin, org, shared_tickets=True)
    listing = client.get("/portal/").text
    assert ref in listing
    page = client.get(f"/portal/tickets/{ref}")
    assert page.status_code == 200 and "shared within Example" in page.text
    assert 'id="reply-form"' not in page.text and 'id="mark-solved"' not in page.text
    refused = client.post(f"/portal/tickets/{ref}", data={"body": "me too"})
    assert refused.status_code == 422 and "me too" not in client.get(f"/portal/tickets/{ref}").text
    client.post(f"/portal/tickets/{ref}/solved", data={})
    assert world["ticket"].status != "resolved"
    assert client.get(f"/attachments/{world['values']['token']}").status_code == 200  # the shared ticket's file

    login(client, stranger)
    assert client.get(f"/portal/tickets/{ref}").status_code == 404
    login(client, world["users"]["customer_b"])  # otto@example.test: same domain, joined too
    assert client.get(f"/portal/tickets/{ref}").status_code == 200
    from helpdesk.services.organisations import set_customer_organisation
    set_customer_organisation(world["users"]["customer_b"], None, admin)  # an agent takes Otto out
    assert client.get(f"/portal/tickets/{ref}").status_code == 404
