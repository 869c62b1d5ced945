"""Signed outbound webhooks against a real loopback HTTP receiver: signatures (checked with
the snippet from docs/api_rest.md), retries, leases, switching off, SSRF refusals, the log."""
from __future__ import annotations

import json
import re
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import select

from helpdesk import services
from helpdesk.models import AdminAuditEntry, WebhookDelivery, WebhookEndpoint
from helpdesk.models.base import utcnow
from helpdesk.plugin_api import send_webhook
from helpdesk.plugin_manager import manager
from helpdesk.services import webhooks
from helpdesk.services.settings import save_site_settings
from helpdesk.testing import make_plugin

DOC = Path(__file__).resolve().parent.parent / "docs" / "api_rest.md"


def documented_verify():
    """The verification snippet exactly as docs/api_rest.md shows it."""
    code = re.search(r"```python\n(.*?)```", DOC.read_text(), re.S).group(1)
    namespace: dict = {}
    exec(code, namespace)  # noqa: S102 - our own documentation, run to prove it works
    return namespace["verify"]


class Receiver:
    """A loopback HTTP server playing the integrator: records requests, answers from a script."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.answers: list[tuple[int, dict]] = []  # (status, headers) per request; then 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                status, headers = receiver.answers.pop(0) if receiver.answers else (200, {})
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                payload = b"SECRET-RECEIVER-BODY"
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def allow_loopback(app, db):
    save_site_settings({"webhooks_allow_private": True})


@pytest.fixture
def hook_for(app, db, admin, allow_loopback):
    def make(url: str, events=("ticket.created", "ticket.updated", "message.added", "feedback.received")):
        return webhooks.create_endpoint(url, list(events), "test", actor=admin)
    return make


def test_admin_adds_an_endpoint_and_deliveries_are_signed(client, login, admin, customer, agent, receiver, db,
                                                          allow_loopback):
    login(client, admin)
    page = client.post("/admin/webhooks/", data={"url": receiver.url + "/hooks?src=hd", "description": "CRM",
                                                 "events": ["ticket.created", "message.added"]})
    assert page.status_code == 200 and "shown only this once" in page.text
    secret = page.text.split('id="new-secret-value">')[1].split("<")[0]
    assert secret.startswith("whsec_")
    endpoint = db.session.scalar(select(WebhookEndpoint))
    assert secret not in endpoint.secret and endpoint.secret.startswith("fernet:")
    assert secret not in client.get("/admin/webhooks/").text

    ticket = services.create_ticket(customer, "Lost parcel", "It never came.")
    services.add_message(ticket, agent, "On its way.")
    services.update_ticket(ticket, agent, priority="high")  # not subscribed: nothing sent
    assert [r["headers"]["X-Helpdesk-Event"] for r in receiver.requests] == ["ticket.created", "message.added"]
    verify = documented_verify()
    for request in receiver.requests:
        headers = request["headers"]
        assert request["path"] == "/hooks?src=hd"
        assert verify(secret, request["body"], headers["X-Helpdesk-Timestamp"], headers["X-Helpdesk-Signature"])
        assert not verify("whsec_wrong", request["body"], headers["X-Helpdesk-Timestamp"],
                          headers["X-Helpdesk-Signature"])
        assert not verify(secret, request["body"] + b" ", headers["X-Helpdesk-Timestamp"],
                          headers["X-Helpdesk-Signature"])
    created = json.loads(receiver.requests[0]["body"])
    assert created["event"] == "ticket.created" and created["data"]["ticket"]["reference"] == ticket.reference
    assert created["data"]["message"]["body"] == "It never came."
    added = json.loads(receiver.requests[1]["body"])
    assert added["data"]["message"]["body"] == "On its way." and added["data"]["message"]["author"]["role"] == "agent"
    log = client.get(f"/admin/webhooks/{endpoint.id}")
    assert log.text.count("delivered") == 2 and "SECRET-RECEIVER-BODY" not in log.text


def test_events_for_updates_and_feedback(receiver, hook_for, customer, agent, ticket):
    hook_for(receiver.url)
    services.update_ticket(ticket, agent, status="resolved")
    services.record_feedback(customer, "csat", score=5, comment="Great", ticket=ticket)
    events = [json.loads(r["body"]) for r in receiver.requests]
    assert [e["event"] for e in events] == ["ticket.updated", "feedback.received"]
    assert events[0]["data"]["changes"] == {"status": ["new", "resolved"]}
    assert events[0]["data"]["actor"]["id"] == agent.id
    assert events[1]["data"]["feedback"]["score"] == 5


def test_retries_after_two_failures_with_backoff(app, db, receiver, hook_for, customer):
    endpoint, _secret = hook_for(receiver.url)
    receiver.answers = [(500, {}), (503, {})]
    services.create_ticket(customer, "s", "b")
    delivery = db.session.scalar(select(WebhookDelivery))
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("pending", 1, 500)
    first_wait = delivery.lease_until - delivery.last_attempt_at
    assert webhooks.sweep_webhooks() == 0  # not due yet
    webhooks.sweep_webhooks(now=delivery.lease_until + timedelta(seconds=1))
    db.session.refresh(delivery)
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("pending", 2, 503)
    assert delivery.lease_until - delivery.last_attempt_at == 2 * first_wait  # doubling
    webhooks.sweep_webhooks(now=delivery.lease_until + timedelta(seconds=1))
    db.session.refresh(delivery)
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("delivered", 3, 200)
    ids = {r["headers"]["X-Helpdesk-Delivery"] for r in receiver.requests}
    assert len(receiver.requests) == 3 and ids == {str(delivery.id)}  # one id: receivers can dedupe
    assert db.session.get(WebhookEndpoint, endpoint.id).consecutive_failures == 0


def test_a_delivery_claimed_by_a_killed_worker_is_sent_after_its_lease(db, receiver, hook_for, app):
    endpoint, _secret = hook_for(receiver.url)
    # A worker claimed this delivery and died before sending (its job is gone).
    now = utcnow()
    delivery = WebhookDelivery(endpoint_id=endpoint.id, event="ticket.created", payload='{"event":"ticket.created"}',
                               status="pending", attempts=1, claim="dead-worker", created_at=now,
                               lease_until=now + timedelta(seconds=60))
    db.session.add(delivery)
    db.session.commit()
    assert webhooks.deliver_webhook.call_local(delivery.id) is None and not receiver.requests  # still held
    assert webhooks.sweep_webhooks(now=now + timedelta(seconds=61)) == 1
    db.session.refresh(delivery)
    assert delivery.status == "delivered" and len(receiver.requests) == 1


def test_an_endpoint_that_keeps_failing_is_switched_off(app, db, receiver, hook_for, customer, client, login, admin):
    app.config["WEBHOOK_DISABLE_AFTER"] = 2
    endpoint, _secret = hook_for(receiver.url)
    receiver.answers = [(500, {})] * 5
    services.create_ticket(customer, "one", "b")
    services.create_ticket(customer, "two", "b")
    db.session.refresh(endpoint)
    assert endpoint.active is False and "2 failed attempts" in endpoint.disabled_reason
    assert db.session.scalar(select(AdminAuditEntry).where(AdminAuditEntry.kind == "webhook",
                                                           AdminAuditEntry.action == "disabled")) is not None
    services.create_ticket(customer, "three", "b")
    assert len(receiver.requests) == 2  # nothing more is sent to it
    webhooks.sweep_webhooks(now=utcnow() + timedelta(hours=2))
    assert len(receiver.requests) == 2
    login(client, admin)
    assert "Switched off after 2 failed attempts" in client.get("/admin/webhooks/").text
    client.post(f"/admin/webhooks/{endpoint.id}/toggle")
    db.session.refresh(endpoint)
    assert endpoint.active and endpoint.consecutive_failures == 0


def test_redeliver_from_the_log(client, login, admin, db, receiver, hook_for, customer):
    endpoint, _secret = hook_for(receiver.url)
    services.create_ticket(customer, "s", "b")
    first = db.session.scalar(select(WebhookDelivery))
    login(client, admin)
    assert client.post(f"/admin/webhooks/deliveries/{first.id}/redeliver").status_code == 302
    assert len(receiver.requests) == 2 and receiver.requests[0]["body"] == receiver.requests[1]["body"]
    assert client.get(f"/admin/webhooks/{endpoint.id}").text.count("delivery-row") == 2


def test_private_targets_are_refused_unless_allowed(client, login, admin, db, receiver):
    login(client, admin)
    for url in (receiver.url, "http://localhost:9/x", "http://169.254.169.254/latest", "http://10.1.2.3/",
                "http://[::1]:8080/", "http://[::ffff:127.0.0.1]/"):
        page = client.post("/admin/webhooks/", data={"url": url, "events": ["ticket.created"]})
        assert page.status_code == 400, url
        assert "private, loopback or link-local" in page.text, url
        assert url in page.text  # what was typed is kept
    bad = client.post("/admin/webhooks/", data={"url": "ftp://example.com/", "events": ["ticket.created"]})
    assert bad.status_code == 400 and "http:// or https://" in bad.text
    none = client.post("/admin/webhooks/", data={"url": "https://example.com/", "events": []})
    assert none.status_code == 400 and "Choose at least one event" in none.text
    assert db.session.scalar(select(WebhookEndpoint)) is None


def test_a_target_turning_private_later_is_refused_at_send_time(db, receiver, hook_for, customer):
    endpoint, _secret = hook_for(receiver.url)
    save_site_settings({"webhooks_allow_private": False})  # DNS changed / the setting went off
    services.create_ticket(customer, "s", "b")
    delivery = db.session.scalar(select(WebhookDelivery))
    assert not receiver.requests
    assert delivery.status == "pending" and "private, loopback or link-local" in delivery.error


def test_redirects_are_not_followed(db, receiver, hook_for, customer):
    target = Receiver()  # where the redirect points: must never be reached
    try:
        hook_for(receiver.url)
        receiver.answers = [(302, {"Location": target.url + "/internal"})]
        services.create_ticket(customer, "s", "b")
        delivery = db.session.scalar(select(WebhookDelivery))
        assert delivery.response_code == 302 and "redirects are not followed" in delivery.error
        assert delivery.status == "pending" and not target.requests
    finally:
        target.close()


def test_hook_webhook_events(app, db, plugins, receiver, admin, allow_loopback):
    """A plugin declares an event; admins subscribe to it; send_webhook delivers it, signed."""
    plugin = make_plugin("greeter", helpdesk_webhook_events=lambda: {"greeter.waved": "Someone waved",
                                                                     "other.thing": "not the plugin's"})
    manager(app).register(plugin, "greeter")
    plugins.enable("greeter")
    events = webhooks.all_events()
    assert events["greeter.waved"] == "Someone waved" and "other.thing" not in events
    webhooks.create_endpoint(receiver.url, ["greeter.waved"], actor=admin)
    assert send_webhook("greeter.waved", {"at": utcnow(), "who": "Ann"}) == 1
    body = json.loads(receiver.requests[0]["body"])
    assert body["event"] == "greeter.waved" and body["data"]["who"] == "Ann" and body["data"]["at"].endswith("Z")
    plugins.disable("greeter")
    assert "greeter.waved" not in webhooks.all_events()


def test_sla_breach_is_sent(db, receiver, hook_for, ticket):
    from helpdesk.models import SlaTarget

    hook_for(receiver.url, events=("sla.breached",))
    target = SlaTarget(ticket_id=ticket.id, kind="first_response", due_at=utcnow(), breached_at=utcnow())
    db.session.add(target)
    db.session.commit()
    manager().call_event("helpdesk_sla_breached", ticket=ticket, target=target)
    body = json.loads(receiver.requests[0]["body"])
    assert body["event"] == "sla.breached" and body["data"]["target"]["kind"] == "first_response"
    assert body["data"]["target"]["state"] == "breached" and body["data"]["ticket"]["reference"] == ticket.reference
