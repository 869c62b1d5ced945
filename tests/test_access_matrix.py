"""Every route × every kind of visitor → allowed or refused.

A new route without a rule here fails the suite: add it to RULES with who may use it.
A bundled plugin keeps its own rules in ``plugins/<name>/tests/access_rules.py``: a dict
``RULES`` (endpoint → set of role names from ROLES) and, when its URLs need values, a
function ``values(world) -> dict`` that creates what they point at.
"""
from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest
from flask import Blueprint

from helpdesk import services
from helpdesk.models import BusinessHours, CannedReply, OutboxMail, SavedView, SlaPolicy, Tag, Team
from helpdesk.plugin_manager import manager
from helpdesk.services.tickets import NewAttachment

ROLES = ("anonymous", "customer_a", "customer_b", "agent", "admin")

# Who gets through. Everyone else must be refused (sign-in page, 403 or 404).
PUBLIC = set(ROLES)
SIGNED_IN = {"customer_a", "customer_b", "agent", "admin"}
STAFF = {"agent", "admin"}
ADMIN = {"admin"}
OWNER = {"customer_a"}  # the customer whose ticket it is (staff are sent to their own pages)
OWNER_OR_STAFF = {"customer_a", "agent", "admin"}
CUSTOMERS = {"customer_a", "customer_b"}
ANONYMOUS = {"anonymous"}

RULES: dict[str, set[str]] = {
    "static": PUBLIC, "bootstrap.static": PUBLIC,
    "auth.index": PUBLIC, "auth.login": PUBLIC, "auth.signup": PUBLIC, "auth.magic_request": PUBLIC,
    "auth.magic": PUBLIC, "auth.logout": PUBLIC,
    "portal.index": CUSTOMERS, "portal.new_ticket": CUSTOMERS,
    "portal.ticket": OWNER, "portal.ticket_action": OWNER,
    "agent.queue": STAFF, "agent.dashboard": STAFF, "agent.save_view": STAFF, "agent.bulk": STAFF,
    "agent.delete_view": {"agent"},  # saved views are personal
    "agent.ticket": STAFF, "agent.ticket_fields": STAFF, "agent.canned_reply": STAFF,
    "agent.canned_reply_page": STAFF, "agent.checks": STAFF, "agent.attachment": OWNER_OR_STAFF,
    "agent.message_html": OWNER_OR_STAFF,
    "agent.customers": STAFF, "agent.customer": STAFF,
    "admin.index": ADMIN, "admin.users": ADMIN, "admin.user_edit": ADMIN, "admin.teams": ADMIN,
    "admin.team_edit": ADMIN, "admin.tags": ADMIN, "admin.tag_delete": ADMIN, "admin.canned": ADMIN,
    "admin.canned_edit": ADMIN, "admin.canned_delete": ADMIN, "admin.settings": ADMIN,
    "admin.plugins": ADMIN, "admin.plugin_toggle": ADMIN, "admin.plugin_settings": ADMIN,
    "admin.outbox": ADMIN, "admin.outbox_mail": ADMIN, "admin.reports": ADMIN,
    "probe.index": STAFF,  # the throwaway plugin page registered below
    "hello.index": STAFF,  # examples/hello_plugin
    # Service levels, assignment, merge and split
    "agent.merge": STAFF, "agent.split": STAFF, "availability.toggle": STAFF,
    "sla.index": ADMIN, "sla.policy_edit": ADMIN, "sla.policy_delete": ADMIN,
    "sla.hours_edit": ADMIN, "sla.hours_delete": ADMIN,
}



def _plugin_rule_modules() -> list:
    modules = []
    for path in sorted((Path(__file__).parent.parent / "plugins").glob("*/tests/access_rules.py")):
        spec = importlib.util.spec_from_file_location(f"access_rules_{path.parent.parent.name}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        modules.append(module)
    return modules


PLUGIN_RULES = _plugin_rule_modules()
for _module in PLUGIN_RULES:
    RULES.update(_module.RULES)


@pytest.fixture
def world(app, db, make_user, customer, other_customer, agent, admin):
    bp = Blueprint("probe", __name__)

    @bp.get("/probe")
    def index():
        from helpdesk.web.auth import staff_required

        return staff_required(lambda: "probe")()

    import types

    manager(app).register(types.ModuleType("probe"), "probe")
    for name in manager(app).plugins:  # every installed plugin's pages are checked too
        manager(app).set_enabled(name, True)
    app.register_blueprint(bp)
    ticket = services.create_ticket(customer, "A's ticket", "private", body_html="<p>private</p>", attachments=[
        NewAttachment("a.txt", b"secret file", "text/plain")])
    team = Team(name="T")
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
    db.session.add(policy)
    db.session.commit()
    world = {
        "users": {"customer_a": customer, "customer_b": other_customer, "agent": agent, "admin": admin},
        "values": {"reference": ticket.reference, "token": ticket.messages[0].attachments[0].token,
                   "customer_id": customer.id, "user_id": agent.id, "team_id": team.id,
                   "tag_id": tag.id, "reply_id": reply.id, "mail_id": mail.id, "view_id": view.id,
                   "name": "probe", "action": "solved", "filename": "app.css",
                   "policy_id": policy.id, "hours_id": hours.id, "message_id": ticket.messages[0].id},
        "ticket": ticket,
    }
    for module in PLUGIN_RULES:
        if hasattr(module, "values"):
            world["values"].update(module.values(world))
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
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    missing = endpoints - set(RULES)
    assert not missing, f"routes without an access rule: {sorted(missing)}"


@pytest.mark.parametrize("role", ROLES)
def test_access_matrix(app, world, login, role):
    from helpdesk.testing import CSRFClient

    app.test_client_class = CSRFClient  # a valid form token: the test is about roles, not CSRF
    client = app.test_client()
    failures = []
    for rule in app.url_map.iter_rules():
        allowed = RULES[rule.endpoint]
        url = _url(rule, world["values"])
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if role != "anonymous":  # again each time: one of the routes is "sign out"
                login(client, world["users"][role])
            response = client.open(url, method=method, data={} if method == "POST" else None)
            got = _allowed(response)
            if rule.endpoint in {"portal.ticket", "portal.ticket_action", "portal.index",
                                 "portal.new_ticket"} and role in STAFF:
                # Staff are sent to their queue, never shown the portal.
                sent_away = response.status_code == 302 and response.headers["Location"].endswith("/queue")
                got = not sent_away
            if rule.endpoint == "auth.logout":  # signs out whoever asks, then shows the sign-in page
                got = response.status_code == 302
            expected = role in allowed
            if got != expected:
                failures.append(f"{method} {url} ({rule.endpoint}): {response.status_code}, "
                                f"expected {'allowed' if expected else 'refused'}")
    assert not failures, "\n".join(failures)


def test_customer_b_cannot_see_customer_a_anywhere(app, world, login, client):
    login(client, world["users"]["customer_b"])
    ref = world["values"]["reference"]
    assert client.get(f"/portal/tickets/{ref}").status_code == 404
    assert client.get(f"/attachments/{world['values']['token']}").status_code == 404
    listing = client.get("/portal/").text
    assert ref not in listing and "A&#39;s ticket" not in listing and "A's ticket" not in listing
