"""For operators: health and readiness probes, request ids in headers and JSON logs, /metrics."""
from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import pytest
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families

from helpdesk.extensions import db
from helpdesk.request_log import HelpdeskJsonHandler

REDIS_URL = os.environ.get("HELPDESK_TEST_REDIS_URL")

# The core branch's newest migration (the file with the highest number).
CORE_HEAD = max(p.name[:9] for p in (Path(__file__).resolve().parent.parent / "helpdesk" / "migrations"
                                     / "versions").glob("core_0*.py"))


# ------------------------------------------------------------------ probes


def test_healthz_answers_json_without_cookie_or_database(client, tmp_path):
    from helpdesk import create_app

    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}
    assert "Set-Cookie" not in response.headers
    no_database = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path / "i"), "SECRET_KEY": "x",
                              "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:1/none"})
    assert no_database.test_client().get("/healthz").status_code == 200  # alive, though not ready


def test_readyz_is_ready_on_a_migrated_database(client):
    response = client.get("/readyz")
    assert response.status_code == 200, response.json
    body = response.json
    assert body["status"] == "ready"
    assert body["checks"]["database"]["ok"] and CORE_HEAD in " ".join(body["checks"]["database"]["revisions"])
    assert body["checks"]["jobs"]["ok"]
    assert "Set-Cookie" not in response.headers


def test_readyz_says_the_schema_is_behind(app, client):
    with db.engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = 'core_0010' WHERE version_num LIKE 'core_%'"))
    try:
        response = client.get("/readyz")
    finally:  # PostgreSQL runs share the database (alembic_version is not emptied between tests)
        with db.engine.begin() as conn:
            conn.execute(sa.text("UPDATE alembic_version SET version_num = :head WHERE version_num = 'core_0010'"),
                         {"head": CORE_HEAD})
    assert response.status_code == 503
    check = response.json["checks"]["database"]
    assert not check["ok"]
    assert "helpdesk db upgrade" in check["error"] and CORE_HEAD in check["error"]


def test_readyz_says_the_database_is_unreachable(app, client, tmp_path):
    from helpdesk import create_app

    broken = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path / "i"), "SECRET_KEY": "x",
                         "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:1/none"})
    response = broken.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["status"] == "not ready"
    assert not response.json["checks"]["database"]["ok"]
    assert "OperationalError" in response.json["checks"]["database"]["error"]


@pytest.mark.skipif(not REDIS_URL, reason="HELPDESK_TEST_REDIS_URL is not set")
def test_readyz_checks_redis_when_configured(app, client):
    app.config["REDIS_URL"] = REDIS_URL
    ready = client.get("/readyz")
    assert ready.json["checks"]["redis"] == {"ok": True}
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"
    down = client.get("/readyz")
    assert down.status_code == 503 and not down.json["checks"]["redis"]["ok"]


def test_probes_are_not_rate_limited(client):
    assert all(client.get("/healthz").status_code == 200 for _ in range(300))


# ------------------------------------------------------------------ request ids and logs


@pytest.fixture
def json_logs(app):
    from helpdesk.request_log import configure_logging

    level = logging.getLogger().level
    configure_logging({"LOG_FORMAT": "json", "LOG_LEVEL": "INFO"})
    (handler,) = [h for h in logging.getLogger().handlers if isinstance(h, HelpdeskJsonHandler)]
    yield handler
    logging.getLogger().removeHandler(handler)
    logging.getLogger().setLevel(level)


def test_request_id_is_echoed_or_generated(client):
    given = client.get("/healthz", headers={"X-Request-ID": "lb-1234.abc"})
    assert given.headers["X-Request-ID"] == "lb-1234.abc"
    insane = client.get("/healthz", headers={"X-Request-ID": "<script>" + "x" * 300})
    assert insane.headers["X-Request-ID"] != "<script>" and len(insane.headers["X-Request-ID"]) == 32
    fresh = client.get("/", headers={})
    assert len(fresh.headers["X-Request-ID"]) == 32


def test_json_log_lines_carry_the_request_id(app, client, customer, login, json_logs, capsys):
    app.logger.info("outside any request")
    login(client, customer)
    response = client.post("/portal/new", data={"subject": "Broken", "body": "It is broken."},
                           headers={"X-Request-ID": "req-42"})
    assert response.status_code in (200, 302)
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    access = [line for line in lines if line["logger"] == "helpdesk.access"]
    assert access and access[-1]["request_id"] == "req-42"
    assert access[-1]["status"] == response.status_code and access[-1]["endpoint"] == "portal.new_ticket"
    assert [line for line in lines if line["message"] == "outside any request"][0]["request_id"] is None


def test_jobs_enqueued_by_a_request_run_under_its_id(app, client, customer, login, plugins):
    from helpdesk.jobs import task
    from helpdesk.request_log import current_request_id

    seen = []

    @task()
    def remember() -> None:
        seen.append(current_request_id())

    app.add_url_rule("/_test_enqueue", "test_enqueue", lambda: (remember(), "queued")[1])
    client.get("/_test_enqueue", headers={"X-Request-ID": "job-origin-7"})
    remember()  # outside a request: no id
    assert seen == ["job-origin-7", None]


# ------------------------------------------------------------------ metrics


def _families(text: str) -> dict:
    return {family.name: family for family in text_string_to_metric_families(text)}


def _value(families: dict, name: str, sample: str, **labels: str) -> float:
    family = families.get(name)
    if family is None:
        return 0.0
    return sum(s.value for s in family.samples
               if s.name == sample and all(s.labels.get(k) == v for k, v in labels.items()))


def test_metrics_count_requests_jobs_and_mail(app, client, customer, login):
    from helpdesk.services.mail import queue_mail

    before = _families(client.get("/metrics").text)
    login(client, customer)
    client.get("/portal/")
    client.get("/portal/tickets/HD-999999")  # a 404, counted by endpoint, not by path
    queue_mail("someone@example.com", "Hello", "Body")  # JOBS_IMMEDIATE: the job runs now
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    after = _families(response.text)

    def grew(name: str, sample: str, **labels: str) -> float:
        return _value(after, name, sample, **labels) - _value(before, name, sample, **labels)

    assert grew("helpdesk_http_requests", "helpdesk_http_requests_total",
                endpoint="portal.index", method="GET", status="200") == 1
    ticket_404 = [s for s in after["helpdesk_http_requests"].samples if s.labels.get("status") == "404"]
    assert ticket_404 and all("999999" not in str(s.labels) for s in ticket_404)
    assert grew("helpdesk_http_request_duration_seconds", "helpdesk_http_request_duration_seconds_count",
                endpoint="portal.index") == 1
    assert grew("helpdesk_job_runs", "helpdesk_job_runs_total", job="core.deliver_mail", outcome="ok") >= 1
    assert "helpdesk_job_queue_depth" in after
    assert "helpdesk_plugin_errors" in after and "helpdesk_mail_sent" in after
    assert "helpdesk_messages_received" in after


def test_metrics_count_plugin_errors_and_inbound_messages(app, client, customer, plugins):
    from helpdesk import services
    from helpdesk.testing import make_plugin

    def broken(ticket, message):
        raise RuntimeError("boom")

    before = _families(client.get("/metrics").text)
    plugins.register(make_plugin("brittle", helpdesk_ticket_created=broken))
    services.create_ticket(customer, "By mail", "Sent by mail", channel="email")
    after = _families(client.get("/metrics").text)
    assert (_value(after, "helpdesk_plugin_errors", "helpdesk_plugin_errors_total", plugin="brittle")
            - _value(before, "helpdesk_plugin_errors", "helpdesk_plugin_errors_total", plugin="brittle")) == 1
    assert (_value(after, "helpdesk_messages_received", "helpdesk_messages_received_total", channel="email")
            - _value(before, "helpdesk_messages_received", "helpdesk_messages_received_total", channel="email")) == 1


def test_metrics_are_refused_outside_the_allowed_networks_without_the_token(app, client):
    outside = {"REMOTE_ADDR": "203.0.113.9"}
    assert client.get("/metrics", environ_base=outside).status_code == 403
    app.config["METRICS_ALLOW_FROM"] = "203.0.113.0/24"
    assert client.get("/metrics", environ_base=outside).status_code == 200
    app.config["METRICS_ALLOW_FROM"] = []
    app.config["METRICS_TOKEN"] = "s3cret-token"
    assert client.get("/metrics").status_code == 403  # not even from this machine
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 403
    ok = client.get("/metrics", environ_base=outside, headers={"Authorization": "Bearer s3cret-token"})
    assert ok.status_code == 200 and "helpdesk_http_requests" in ok.text


def test_metrics_through_a_proxy_count_the_real_client(app, client, tmp_path):
    from helpdesk import create_app

    # a public request relayed by a proxy on this machine is not "from this machine"
    relayed = {"X-Forwarded-For": "198.51.100.7"}
    assert client.get("/metrics", headers=relayed).status_code == 403
    behind_proxy = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path / "p"), "SECRET_KEY": "x",
                               "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"], "PROXY_COUNT": 1,
                               "METRICS_ALLOW_FROM": ["10.9.0.0/16"]})
    proxied = behind_proxy.test_client()
    assert proxied.get("/metrics", headers=relayed).status_code == 403
    assert proxied.get("/metrics", headers={"X-Forwarded-For": "10.9.1.2"}).status_code == 200


def test_database_pool_options_come_from_the_environment():
    from helpdesk.config import from_environment

    config = from_environment({"HELPDESK_SQLALCHEMY_ENGINE_OPTIONS": '{"pool_size": 10, "pool_pre_ping": true}',
                               "HELPDESK_METRICS_ALLOW_FROM": "10.0.0.0/8, 192.168.1.5"})
    assert config["SQLALCHEMY_ENGINE_OPTIONS"] == {"pool_size": 10, "pool_pre_ping": True}
    assert config["METRICS_ALLOW_FROM"] == ["10.0.0.0/8", "192.168.1.5"]


def test_every_setting_is_in_the_operations_guide():
    from pathlib import Path

    from helpdesk.config import DEFAULTS

    guide = (Path(__file__).resolve().parent.parent / "docs" / "operations.md").read_text()
    missing = [key for key in DEFAULTS
               if f"HELPDESK_{key}" not in guide and f"`_{key.partition('_')[2]}`" not in guide]
    assert not missing, f"docs/operations.md does not mention HELPDESK_{missing[0]} (and {len(missing) - 1} more)"
