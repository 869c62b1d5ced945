"""The REST API (/api/v1) through real requests: tokens, scopes, scoping, services, errors."""
from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from marshmallow import Schema, fields
from sqlalchemy import func, select

from helpdesk import services
from helpdesk.api.app import register_plugin_endpoints
from helpdesk.models import AdminAuditEntry, ApiToken, AuditEvent, Message, Team, Ticket
from helpdesk.models.base import utcnow
from helpdesk.plugin_api import ApiBlueprint, ApiError, api_user, db_session, visible_tickets
from helpdesk.plugin_manager import manager
from helpdesk.services import api_tokens
from helpdesk.testing import make_plugin


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def token_for(db):
    def make(user, scope: str = "write", days: int = 30) -> str:
        return api_tokens.create_token(user, f"test {scope}", scope, days)[1]
    return make


@pytest.fixture
def api(client):
    """JSON requests with a token: ``api("get", url, token, json=...)``."""
    def call(method: str, url: str, token: str | None = None, **kwargs):
        headers = {**kwargs.pop("headers", {}), **(bearer(token) if token else {})}
        return client.open(url, method=method.upper(), headers=headers, csrf=False, **kwargs)
    return call


# ------------------------------------------------------------------ tokens


def test_profile_page_makes_a_token_shown_once_and_stored_hashed(client, login, agent, db):
    login(client, agent)
    page = client.get("/profile/api-tokens/")
    assert "You have no API tokens yet" in page.text
    answer = client.post("/profile/api-tokens/", data={"name": "CRM sync", "scope": "write", "expires_in_days": "30"})
    assert answer.status_code == 303 and answer.location.endswith("/profile/api-tokens/")  # a reload sends nothing
    answer = client.get(answer.location)
    assert "shown only this once" in answer.text
    token = answer.text.split('id="new-token-value">')[1].split("<")[0]
    assert token.startswith("hdk_")
    row = db.session.scalar(select(ApiToken))
    assert row.token_hash != token and token not in (row.token_hash, row.prefix, row.name)
    assert row.scope == "write" and row.expires_at > utcnow() + timedelta(days=29)
    again = client.get("/profile/api-tokens/")
    assert token not in again.text and f"hdk_{row.prefix}_" in again.text and "never used" in again.text
    assert len(db.session.scalars(select(ApiToken)).all()) == 1  # reloading made no second token
    entry = db.session.scalar(select(AdminAuditEntry).where(AdminAuditEntry.kind == "api_token"))
    assert entry.action == "created" and token not in str(entry.after)


def test_token_form_errors_keep_what_was_typed(client, login, agent):
    login(client, agent)
    answer = client.post("/profile/api-tokens/", data={"name": "", "scope": "write", "expires_in_days": "365"})
    assert answer.status_code == 400
    assert "Give the token a name" in answer.text
    assert '<option selected value="365">' in answer.text or 'value="365" selected' in answer.text
    # an agent is not offered the admin scope, and a forged one is refused
    assert 'value="admin"' not in answer.text
    forged = client.post("/profile/api-tokens/", data={"name": "x", "scope": "admin", "expires_in_days": "30"})
    assert forged.status_code == 400 and "Not a valid choice" in forged.text


def test_revoked_and_expired_tokens_open_nothing(client, login, agent, token_for, api, db):
    token = token_for(agent)
    me = api("get", "/api/v1/me", token)
    assert me.status_code == 200 and me.json["role"] == "agent" and me.json["scope"] == "write"
    row = db.session.scalar(select(ApiToken))
    assert row.last_used_at is not None
    login(client, agent)
    assert client.post(f"/profile/api-tokens/{row.id}/revoke").status_code == 302
    refused = api("get", "/api/v1/me", token)
    assert refused.status_code == 401
    assert refused.json["error"] == {"code": "invalid_token", "fields": {},
                                     "message": "The API token was revoked. Make a new one on your profile page."}
    other = token_for(agent)
    db.session.execute(ApiToken.__table__.update().where(ApiToken.id != row.id).values(
        expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    expired = api("get", "/api/v1/me", other)
    assert expired.status_code == 401 and "expired" in expired.json["error"]["message"]
    wrong = api("get", "/api/v1/me", other[:-2] + "xx")
    assert wrong.status_code == 401 and wrong.json["error"]["message"] == "The API token is not valid."


def test_someone_elses_token_cannot_be_revoked(client, login, agent, customer, token_for, db):
    token_for(customer)
    row = db.session.scalar(select(ApiToken))
    login(client, agent)
    assert client.post(f"/profile/api-tokens/{row.id}/revoke").status_code == 404
    assert db.session.get(ApiToken, row.id).revoked_at is None


def test_token_in_url_is_refused(api, agent, token_for):
    token = token_for(agent)
    answer = api("get", f"/api/v1/me?access_token={token}")
    assert answer.status_code == 400 and answer.json["error"]["code"] == "token_in_url"
    answer = api("get", f"/api/v1/tickets?token={token}", token)
    assert answer.status_code == 400


def test_scope_caps_what_a_token_may_do(api, agent, admin, customer, token_for, db):
    reader = token_for(agent, "read")
    assert api("get", "/api/v1/tickets", reader).status_code == 200
    refused = api("post", "/api/v1/tickets", reader, json={"subject": "s", "body": "b", "customer_id": customer.id})
    assert refused.status_code == 403 and refused.json["error"]["code"] == "insufficient_scope"
    assert db.session.scalar(select(func.count(Ticket.id))) == 0
    writer = token_for(admin, "write")
    tag = api("post", "/api/v1/tags", writer, json={"name": "vip"})
    assert tag.status_code == 403 and "admin scope" in tag.json["error"]["message"]
    assert api("post", "/api/v1/tags", token_for(admin, "admin"), json={"name": "vip"}).status_code == 201
    with pytest.raises(services.PermissionDenied):
        api_tokens.create_token(agent, "x", "admin", 30)


def test_no_credentials_and_bad_headers(api):
    answer = api("get", "/api/v1/tickets")
    assert answer.status_code == 401 and answer.headers["WWW-Authenticate"].startswith("Bearer")
    assert answer.json["error"]["code"] == "unauthorized"
    basic = api("get", "/api/v1/tickets", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert basic.status_code == 401 and "Bearer" in basic.json["error"]["message"]


# ------------------------------------------------------------------ tickets


def test_customer_opens_replies_and_sees_only_their_own(api, customer, other_customer, agent, token_for, db):
    mine = token_for(customer)
    created = api("post", "/api/v1/tickets", mine, json={"subject": "Printer", "body": "It jams."})
    assert created.status_code == 201, created.json
    ref = created.json["reference"]
    assert created.json["customer"]["id"] == customer.id and created.json["tags"] == []
    ticket = db.session.get(Ticket, created.json["id"])
    assert ticket.channel == "api" and ticket.messages[0].body == "It jams."
    services.add_message(ticket, agent, "A private thought", internal=True)
    services.add_message(ticket, agent, "Try this.")
    bodies = [m["body"] for m in api("get", f"/api/v1/tickets/{ref}/messages", mine).json]
    assert bodies == ["It jams.", "Try this."]
    assert api("post", f"/api/v1/tickets/{ref}/replies", mine, json={"body": "Thanks"}).status_code == 201
    # customer B: every way in is 404, and the list is empty
    theirs = token_for(other_customer)
    for method, url, body in [("get", f"/api/v1/tickets/{ref}", None), ("get", f"/api/v1/tickets/{ref}/messages", None),
                              ("post", f"/api/v1/tickets/{ref}/replies", {"body": "hi"}),
                              ("patch", f"/api/v1/tickets/{ref}", {"status": "resolved"})]:
        answer = api(method, url, theirs, json=body)
        assert answer.status_code == 404, (method, url, answer.json)
        assert answer.json["error"]["code"] == "not_found"
    assert api("get", "/api/v1/tickets", theirs).json == {"items": [], "next_cursor": None}
    # a customer cannot set staff fields, nor write notes
    staff_fields = api("post", "/api/v1/tickets", mine, json={"subject": "s", "body": "b", "priority": "urgent"})
    assert staff_fields.status_code == 403 and "priority" in staff_fields.json["error"]["fields"]
    assert api("post", f"/api/v1/tickets/{ref}/notes", mine, json={"body": "n"}).status_code == 403
    assert api("get", f"/api/v1/tickets/{ref}/sla", mine).status_code == 404


def test_mass_assignment_is_refused_and_nothing_written(api, customer, agent, token_for, ticket, db):
    token = token_for(customer)
    ref = ticket.reference
    answer = api("patch", f"/api/v1/tickets/{ref}", token, json={"status": "resolved", "customer_id": 99})
    assert answer.status_code == 422
    assert answer.json["error"]["fields"] == {"customer_id": ["Unknown field."]}
    assert "customer_id" in answer.json["error"]["message"]
    db.session.expire_all()
    assert db.session.get(Ticket, ticket.id).status == "new"
    # a customer's own allowed change still goes through the service's rules
    staff_only = api("patch", f"/api/v1/tickets/{ref}", token, json={"priority": "urgent"})
    assert staff_only.status_code == 403 and "priority" in staff_only.json["error"]["message"]
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.field == "priority")) == 0


def test_agent_works_a_ticket_through_the_services(api, agent, customer, token_for, ticket, db):
    token = token_for(agent)
    ref = ticket.reference
    got = api("get", f"/api/v1/tickets/{ref}", token).json
    changed = api("patch", f"/api/v1/tickets/{ref}", token,
                  json={"priority": "high", "assignee_id": agent.id, "tags": ["billing"], "version": got["version"]})
    assert changed.status_code == 200, changed.json
    assert changed.json["changed"] == ["assignee_id", "priority", "tags"]
    assert changed.json["ticket"]["assignee"]["id"] == agent.id and changed.json["ticket"]["tags"] == ["billing"]
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.ticket_id == ticket.id,
                                                                      AuditEvent.action == "changed")) == 3
    stale = api("patch", f"/api/v1/tickets/{ref}", token, json={"priority": "low", "version": got["version"]})
    assert stale.status_code == 409 and stale.json["error"]["code"] == "stale"
    closed = api("patch", f"/api/v1/tickets/{ref}", token, json={"status": "closed"})
    assert closed.status_code == 200 and closed.json["ticket"]["status"] == "closed"
    bad = api("patch", f"/api/v1/tickets/{ref}", token, json={"status": "open"})
    assert bad.status_code == 422 and bad.json["error"]["message"] == "A closed ticket cannot become open."
    assert bad.json["error"]["fields"] == {"status": ["A closed ticket cannot become open."]}
    db.session.execute(Ticket.__table__.update().where(Ticket.id == ticket.id).values(status="open"))
    db.session.commit()  # (reopened behind the API's back: the rest replies on an open ticket)
    content = base64.b64encode(b"log line\n").decode()
    reply = api("post", f"/api/v1/tickets/{ref}/replies", token,
                json={"body": "Here is the log.", "attachments": [{"filename": "log.txt", "content_type": "text/plain",
                                                                   "content_base64": content}]})
    assert reply.status_code == 201, reply.json
    attachment = reply.json["attachments"][0]
    download = api("get", attachment["url"], token)
    assert download.status_code == 200 and download.data == b"log line\n"
    assert "attachment" in download.headers["Content-Disposition"]
    note = api("post", f"/api/v1/tickets/{ref}/notes", token, json={"body": "internal"})
    assert note.status_code == 201 and note.json["internal"] is True
    assert db.session.scalar(select(func.count(Message.id)).where(Message.ticket_id == ticket.id)) == 3
    assert api("get", f"/api/v1/tickets/{ref}/sla", token).status_code == 200
    # the customer downloads the public attachment, not a note's
    assert api("get", attachment["url"], token_for(customer)).status_code == 200


def test_agent_opens_a_ticket_for_a_customer_and_merges(api, agent, customer, token_for, ticket, db):
    token = token_for(agent)
    created = api("post", "/api/v1/tickets", token, json={"subject": "Dup", "body": "Same again",
                                                          "customer_email": customer.email, "priority": "high"})
    assert created.status_code == 201 and created.json["customer"]["id"] == customer.id
    assert created.json["priority"] == "high"
    merged = api("post", f"/api/v1/tickets/{created.json['reference']}/merge", token, json={"into": ticket.reference})
    assert merged.status_code == 200 and merged.json["reference"] == ticket.reference
    assert db.session.get(Ticket, created.json["id"]).merged_into_id == ticket.id
    nowhere = api("post", f"/api/v1/tickets/{ticket.reference}/merge", token, json={"into": "HD-999999"})
    assert nowhere.status_code == 422 and nowhere.json["error"]["fields"] == {"into": ["No such ticket."]}


def test_light_agent_notes_only(api, light_agent, ticket, token_for):
    token = token_for(light_agent)
    ref = ticket.reference
    assert api("get", f"/api/v1/tickets/{ref}", token).status_code == 200
    assert api("post", f"/api/v1/tickets/{ref}/notes", token, json={"body": "fyi"}).status_code == 201
    assert api("post", f"/api/v1/tickets/{ref}/replies", token, json={"body": "hi"}).status_code == 403
    assert api("patch", f"/api/v1/tickets/{ref}", token, json={"status": "open"}).status_code == 403


def test_team_scoped_agent_sees_only_their_teams(api, make_user, customer, token_for, db):
    team, other = Team(name="Billing"), Team(name="HR")
    db.session.add_all([team, other])
    db.session.commit()
    scoped = make_user("agent", team_scoped=True)
    team.members.append(scoped)
    db.session.commit()
    theirs = services.create_ticket(customer, "Invoice", "wrong total", team_id=team.id)
    hidden = services.create_ticket(customer, "Private", "hr matter", team_id=other.id)
    token = token_for(scoped)
    listed = [t["reference"] for t in api("get", "/api/v1/tickets", token).json["items"]]
    assert listed == [theirs.reference]
    assert api("get", f"/api/v1/tickets/{hidden.reference}", token).status_code == 404
    assert api("get", f"/api/v1/tickets/{hidden.reference}/messages", token).status_code == 404
    assert api("post", f"/api/v1/tickets/{theirs.reference}/merge", token,
               json={"into": hidden.reference}).status_code == 422


def test_list_uses_the_queues_filters_and_a_cursor(api, agent, customer, token_for, db):
    tickets = [services.create_ticket(customer, f"T{i}", "body", priority="high" if i % 2 else "normal")
               for i in range(5)]
    token = token_for(agent)
    seen, cursor = [], None
    while True:
        page = api("get", "/api/v1/tickets?limit=2" + (f"&cursor={cursor}" if cursor else ""), token).json
        seen += [t["id"] for t in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(t.id for t in tickets) and len(seen) == 5
    high = api("get", "/api/v1/tickets?priority=high", token).json["items"]
    assert {t["id"] for t in high} == {tickets[1].id, tickets[3].id}
    searched = api("get", f"/api/v1/tickets?q={tickets[2].reference}", token).json["items"]
    assert [t["id"] for t in searched] == [tickets[2].id]
    bad = api("get", "/api/v1/tickets?cursor=%%%", token)
    assert bad.status_code == 400 and bad.json["error"]["fields"] == {"cursor": ["Not a cursor from this API."]}
    wrong = api("get", "/api/v1/tickets?limit=1000", token)
    assert wrong.status_code == 422 and "limit" in wrong.json["error"]["fields"]


# ------------------------------------------------------------------ people


def test_customers_users_teams_tags(api, agent, customer, other_customer, light_agent, token_for, db):
    token = token_for(agent)
    page = api("get", "/api/v1/customers?limit=1", token).json
    assert len(page["items"]) == 1 and page["next_cursor"]
    found = api("get", f"/api/v1/customers?q={customer.email}", token).json["items"]
    assert [c["id"] for c in found] == [customer.id]
    assert found[0]["identities"][0]["value"] == customer.email
    phone = {"kind": "phone", "value": "+4912345"}
    added = api("post", f"/api/v1/customers/{customer.id}/identities", token, json=phone)
    assert added.status_code == 201 and added.json["kind"] == "phone"
    taken = api("post", f"/api/v1/customers/{other_customer.id}/identities", token, json=phone)
    assert taken.status_code == 422
    assert taken.json["error"]["fields"] == {"value": ["This contact already belongs to a customer."]}
    users = api("get", "/api/v1/users", token).json
    assert {u["role"] for u in users} <= {"agent", "admin", "light_agent"} and agent.id in [u["id"] for u in users]
    assert api("get", f"/api/v1/users/{customer.id}", token).status_code == 404
    assert api("get", "/api/v1/teams", token).status_code == 200
    assert api("get", "/api/v1/tags", token).status_code == 200
    # customers and light agents do not browse customers
    assert api("get", "/api/v1/customers", token_for(customer)).status_code == 403
    assert api("get", f"/api/v1/customers/{customer.id}", token_for(light_agent)).status_code == 403
    assert api("get", "/api/v1/users", token_for(customer)).status_code == 403


def test_organisations_agents_list_and_read_customers_are_refused(api, admin, agent, customer, other_customer,
                                                                   light_agent, token_for, db):
    """The Organisations page's rules: agents and admins read every organisation; customers and
    light agents are refused; a missing one is 404; the customer resource names its organisation."""
    from helpdesk.services.organisations import save_organisation

    acme = save_organisation(admin, name="Acme", domains="example.test", shared_tickets=True, notes="Key account")
    for n in range(3):
        save_organisation(admin, name=f"Org {n}", domains=f"org{n}.example")
    token = token_for(agent, "read")
    one = api("get", f"/api/v1/organisations/{acme.id}", token)
    assert one.status_code == 200
    assert one.json == {"id": acme.id, "name": "Acme", "domains": ["example.test"], "shared_tickets": True,
                        "notes": "Key account", "account_owner_id": None, "custom_fields": {},
                        "member_count": 2, "created_at": one.json["created_at"]}  # Carla and Otto joined
    seen, cursor = [], None
    while True:
        page = api("get", "/api/v1/organisations?limit=3" + (f"&cursor={cursor}" if cursor else ""), token).json
        seen += [o["name"] for o in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["Acme", "Org 0", "Org 1", "Org 2"]
    assert [o["name"] for o in api("get", "/api/v1/organisations?q=acm", token).json["items"]] == ["Acme"]
    assert api("get", "/api/v1/organisations?cursor=zz", token).json["error"]["fields"] == {
        "cursor": ["Not a cursor from this API."]}
    assert api("get", "/api/v1/organisations/99999", token).json["error"]["code"] == "not_found"
    carla = api("get", f"/api/v1/customers/{customer.id}", token).json
    assert carla["organisation"] == {"id": acme.id, "name": "Acme"}
    for who in (customer, light_agent):
        for url in ("/api/v1/organisations", f"/api/v1/organisations/{acme.id}"):
            refused = api("get", url, token_for(who))
            assert refused.status_code == 403 and set(refused.json["error"]) == {"code", "message", "fields"}
    assert api("get", "/api/v1/organisations").status_code == 401


def test_organisation_writes_go_through_the_service(api, admin, agent, customer, token_for, db):
    """Agents keep notes and the account owner; name, domains and sharing need an admin with
    the admin scope; the service's checks answer 422 and write nothing."""
    from helpdesk.models import AdminAuditEntry, Organisation

    agent_token, admin_token = token_for(agent), token_for(admin, "admin")
    assert api("post", "/api/v1/organisations", agent_token, json={"name": "Acme"}).status_code == 403
    assert api("post", "/api/v1/organisations", token_for(admin, "write"), json={"name": "Acme"}).json[
        "error"]["code"] == "insufficient_scope"
    made = api("post", "/api/v1/organisations", admin_token,
               json={"name": "Acme", "domains": ["@Example.TEST"], "shared_tickets": True})
    assert made.status_code == 201, made.json
    assert made.json["domains"] == ["example.test"] and made.json["member_count"] == 1  # Carla joined
    org_id = made.json["id"]
    db.session.expire_all()
    assert customer.organisation_id == org_id
    changed = api("patch", f"/api/v1/organisations/{org_id}", agent_token,
                  json={"notes": "Renews in March", "account_owner_id": agent.id})
    assert changed.status_code == 200
    assert changed.json["notes"] == "Renews in March" and changed.json["account_owner_id"] == agent.id
    refused = api("patch", f"/api/v1/organisations/{org_id}", agent_token, json={"name": "Acme Ltd"})
    assert refused.status_code == 403
    bad = api("patch", f"/api/v1/organisations/{org_id}", admin_token, json={"domains": ["gmail.com"]})
    assert bad.status_code == 422 and list(bad.json["error"]["fields"]) == ["domains"]
    owner = api("patch", f"/api/v1/organisations/{org_id}", agent_token, json={"account_owner_id": customer.id})
    assert owner.status_code == 422 and list(owner.json["error"]["fields"]) == ["account_owner_id"]
    unknown = api("patch", f"/api/v1/organisations/{org_id}", agent_token, json={"member_count": 5})
    assert unknown.status_code == 422 and "member_count" in unknown.json["error"]["fields"]
    db.session.expire_all()
    org = db.session.get(Organisation, org_id)
    assert org.name == "Acme" and [d.domain for d in org.domains] == ["example.test"]
    assert org.notes == "Renews in March" and org.account_owner_id == agent.id
    assert db.session.scalar(select(func.count(AdminAuditEntry.id)).where(AdminAuditEntry.kind == "organisation")) == 2


# ------------------------------------------------------------------ errors


def test_malformed_bodies_answer_clear_json_errors_and_write_nothing(api, agent, customer, token_for, ticket, db, app):
    token = token_for(agent)
    ref = ticket.reference
    broken = api("post", f"/api/v1/tickets/{ref}/replies", token, data="{not json",
                 headers={"Content-Type": "application/json"})
    assert broken.status_code == 400 and broken.json["error"]["message"] == "The body is not valid JSON."
    typed = api("patch", f"/api/v1/tickets/{ref}", token, json={"assignee_id": "someone", "tags": "x"})
    assert typed.status_code == 422 and set(typed.json["error"]["fields"]) == {"assignee_id", "tags"}
    missing = api("post", "/api/v1/tickets", token, json={"customer_id": customer.id})
    assert missing.status_code == 422 and set(missing.json["error"]["fields"]) == {"subject", "body"}
    not_b64 = api("post", f"/api/v1/tickets/{ref}/replies", token,
                  json={"body": "x", "attachments": [{"filename": "a", "content_base64": "!!"}]})
    assert not_b64.status_code == 422 and "base64" in not_b64.json["error"]["message"]
    app.config["MAX_CONTENT_LENGTH"] = 2000
    big = api("post", f"/api/v1/tickets/{ref}/replies", token, json={"body": "x" * 5000})
    assert big.status_code == 413 and big.json["error"]["code"] == "too_large"
    assert api("get", "/api/v1/nothing-here", token).json["error"]["code"] == "not_found"
    assert api("delete", f"/api/v1/tickets/{ref}", token).status_code == 405
    assert db.session.scalar(select(func.count(Message.id)).where(Message.ticket_id == ticket.id)) == 1


def test_browser_session_writes_need_the_csrf_token(client, login, agent, ticket, db):
    login(client, agent)
    assert client.get("/api/v1/me").json["scope"] is None
    refused = client.post(f"/api/v1/tickets/{ticket.reference}/notes", json={"body": "n"}, csrf=False)
    assert refused.status_code == 400 and refused.json["error"]["code"] == "csrf_failed"
    accepted = client.post(f"/api/v1/tickets/{ticket.reference}/notes", json={"body": "n"}, csrf=False,
                           headers={"X-CSRFToken": client.csrf_token()})
    assert accepted.status_code == 201


@pytest.fixture
def app_config(request):
    return getattr(request, "param", {})


@pytest.mark.parametrize("app_config", [{"API_RATE_LIMIT": "3 per minute"}], indirect=True)
def test_rate_limit_per_token_with_retry_after(api, agent, admin, token_for):
    token, other = token_for(agent), token_for(admin)
    assert [api("get", "/api/v1/me", token).status_code for _ in range(3)] == [200, 200, 200]
    over = api("get", "/api/v1/me", token)
    assert over.status_code == 429 and int(over.headers["Retry-After"]) >= 1
    assert over.json["error"]["code"] == "rate_limited"
    assert api("get", "/api/v1/me", other).status_code == 200  # counted per token


# ------------------------------------------------------------------ spec, docs, plugins


def test_spec_and_local_docs_page(client):
    spec = client.get("/api/v1/openapi.json").json
    assert spec["openapi"].startswith("3.") and "/api/v1/tickets/{reference}/replies" in spec["paths"]
    assert "TicketUpdate" in spec["components"]["schemas"]
    page = client.get("/api/v1/docs")
    assert page.status_code == 200 and '<script src="/static/api_docs.js">' in page.text
    scripts = [line for line in page.text.splitlines() if "<script" in line or "<link" in line]
    assert not [line for line in scripts if "http://" in line or "https://" in line], scripts  # nothing from outside
    script = client.get("/static/api_docs.js")
    assert script.status_code == 200 and b"data-spec" in script.data


def test_hook_api_blueprints(app, api, agent, customer, token_for, plugins, ticket):
    """A plugin's endpoints: in the spec, authenticated and scoped by the core, 404 when disabled."""
    blp = ApiBlueprint("greeter_api", __name__, url_prefix="/greeter", description="Greetings")

    class GreetingSchema(Schema):
        text = fields.Str()

    @blp.get("/hello/<reference>")
    @blp.response(200, GreetingSchema)
    def hello(reference: str):
        user = api_user()
        found = db_session().scalar(visible_tickets(user).where(Ticket.id == ticket.id))
        if found is None or reference != ticket.reference:
            raise ApiError(404, "No such greeting.")
        return {"text": f"hello {user.name}"}

    plugin = make_plugin("greeter", helpdesk_api_blueprints=lambda: [blp])
    manager(app).register(plugin, "greeter")
    plugins.enable("greeter")
    register_plugin_endpoints(app)
    spec = app.test_client().get("/api/v1/openapi.json").json
    assert "/api/v1/greeter/hello/{reference}" in spec["paths"]
    assert api("get", f"/api/v1/greeter/hello/{ticket.reference}").status_code == 401
    assert api("get", f"/api/v1/greeter/hello/{ticket.reference}", token_for(agent)).json == {
        "text": f"hello {agent.name}"}
    other = api("get", f"/api/v1/greeter/hello/{ticket.reference}", token_for(customer, "read"))
    assert other.status_code == 200  # the ticket's own customer
    plugins.disable("greeter")
    assert api("get", f"/api/v1/greeter/hello/{ticket.reference}", token_for(agent)).status_code == 404


def test_api_ticket_creation_fires_the_same_events_as_the_pages(api, agent, customer, token_for, app, plugins):
    seen = []
    plugin = make_plugin("listener", helpdesk_ticket_created=lambda ticket, message: seen.append(ticket.reference))
    manager(app).register(plugin, "listener")
    plugins.enable("listener")
    created = api("post", "/api/v1/tickets", token_for(customer), json={"subject": "s", "body": "b"})
    assert seen == [created.json["reference"]]


def test_answers_match_their_documented_schemas(api, admin, agent, customer, token_for, ticket, db):
    """Every GET answer loads back through the marshmallow schema the spec documents for it
    (required fields present, types right, nothing undocumented)."""
    from helpdesk.api import schemas

    team = Team(name="Support")
    db.session.add(team)
    db.session.commit()
    services.update_ticket(ticket, agent, team_id=team.id, assignee_id=agent.id, tags=["vip"])
    services.add_message(ticket, agent, "Note", internal=True)
    from helpdesk.services.organisations import save_organisation
    organisation = save_organisation(admin, name="Acme", domains=[customer.email.partition("@")[2]])
    token = token_for(admin, "admin")
    checks = {
        "/api/v1/tickets?status=all": schemas.TicketPage(),
        f"/api/v1/tickets/{ticket.reference}": schemas.TicketSchema(),
        f"/api/v1/tickets/{ticket.reference}/messages": schemas.MessageSchema(many=True),
        f"/api/v1/tickets/{ticket.reference}/sla": schemas.SlaTargetSchema(many=True),
        "/api/v1/customers": schemas.CustomerPage(), f"/api/v1/customers/{customer.id}": schemas.CustomerSchema(),
        "/api/v1/users": schemas.UserSchema(many=True), "/api/v1/teams": schemas.TeamSchema(many=True),
        "/api/v1/tags": schemas.TagSchema(many=True), "/api/v1/me": schemas.MeSchema(),
        "/api/v1/organisations": schemas.OrganisationPage(),
        f"/api/v1/organisations/{organisation.id}": schemas.OrganisationSchema(),
    }
    for url, schema in checks.items():
        answer = api("get", url, token)
        assert answer.status_code == 200, url
        assert schema.validate(answer.json) == {}, (url, schema.validate(answer.json))
    spec = api("get", "/api/v1/openapi.json").json
    listed = spec["paths"]["/api/v1/tickets"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert listed == {"$ref": "#/components/schemas/TicketPage"}


def test_every_curl_example_in_the_guide_names_a_real_route(app, plugins):
    """docs/api_rest.md's curl lines: each method and path is one the API serves."""
    import re
    from pathlib import Path

    from werkzeug.exceptions import MethodNotAllowed, NotFound

    plugins.enable("surveys")
    text = (Path(__file__).resolve().parent.parent / "docs" / "api_rest.md").read_text()
    adapter = app.url_map.bind("helpdesk.test")
    found = 0
    for command in re.findall(r"^curl .*?(?<!\\)$", text.replace("\\\n", " "), re.M):
        path = re.search(r'"?\$HD(/api/v1/[^"\s?]*)', command).group(1)
        method = re.search(r"-X (\w+)", command)
        method = method.group(1) if method else ("POST" if " -d " in command else "GET")
        path = path.replace("<token>", "abc")
        try:
            adapter.match(path, method=method)
        except (NotFound, MethodNotAllowed):
            pytest.fail(f"docs/api_rest.md: {method} {path} is not an API route")
        found += 1
    assert found >= 15


def test_the_spec_is_written_from_the_command_line(app, tmp_path):
    """``helpdesk openapi write spec.json`` (flask-smorest's command): the same spec, offline."""
    import json

    target = tmp_path / "spec.json"
    result = app.test_cli_runner().invoke(args=["openapi", "write", str(target)])
    assert result.exit_code == 0, result.output
    assert "/api/v1/tickets" in json.loads(target.read_text())["paths"]
