"""The widget's live stream across two gunicorn worker processes: while one sync worker holds
the visitor's stream, the visitor's next message is served by the other, and an agent's reply
is written by a third process (this test); both reach the stream. Run against the database
fallback and against Redis (``HELPDESK_TEST_REDIS_URL``)."""
from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from chat_testkit import SITE, Widget
from sqlalchemy import select

from helpdesk.plugin_api import Ticket, services

REDIS_URL = os.environ.get("HELPDESK_TEST_REDIS_URL")
GUNICORN = Path(sys.executable).with_name("gunicorn")

pytestmark = pytest.mark.plugins("chat")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(app, port: int, redis_url: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELPDESK_")}
    env.update({
        "HELPDESK_INSTANCE_PATH": app.instance_path,
        "HELPDESK_SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        "HELPDESK_SECRET_KEY": app.config["SECRET_KEY"], "HELPDESK_REDIS_URL": redis_url,
        "HELPDESK_LIVE_STREAM_SECONDS": "8", "HELPDESK_LIVE_POLL_MS": "100",
        "HELPDESK_PLUGIN_CHAT_ALLOWED_ORIGINS": SITE,
    })
    process = subprocess.Popen(
        [str(GUNICORN), "--workers", "2", "--worker-class", "sync", "--timeout", "30",
         "--bind", f"127.0.0.1:{port}", "helpdesk:create_app()"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return process
        except OSError:
            if process.poll() is not None:
                raise AssertionError(f"gunicorn did not start: {process.stderr.read()}") from None
            time.sleep(0.2)
    process.kill()
    raise AssertionError("gunicorn did not listen within 30 s")


def read_until(response: http.client.HTTPResponse, needle: str, seconds: float) -> str:
    seen = ""
    deadline = time.monotonic() + seconds
    while needle not in seen and time.monotonic() < deadline:
        line = response.readline().decode()
        if not line:
            break
        seen += line
    return seen


@pytest.mark.parametrize("backend", ["database", "redis"])
def test_the_visitor_stream_gets_messages_written_by_other_processes(app, db, client, agent, backend):
    if not GUNICORN.exists():
        pytest.skip("gunicorn is not installed (pip install -e .[test])")
    if backend == "redis" and not REDIS_URL:
        pytest.skip("HELPDESK_TEST_REDIS_URL is not set")
    if backend == "redis":
        app.config["REDIS_URL"] = REDIS_URL  # this process publishes the agent's reply to the same stream
    widget = Widget(client)
    widget.start()
    assert widget.say("Hello from the shop").status_code == 200
    ticket = db.session.scalar(select(Ticket))
    port = free_port()
    server = start_gunicorn(app, port, REDIS_URL if backend == "redis" else "")
    try:
        stream = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        stream.request("GET", f"/chat/api/stream?token={widget.token}", headers={"Origin": SITE})
        response = stream.getresponse()
        assert response.status == 200 and response.getheader("Access-Control-Allow-Origin") == SITE
        assert ": connected" in read_until(response, ": connected", 5)

        other = http.client.HTTPConnection("127.0.0.1", port, timeout=10)  # the second worker
        other.request("POST", "/chat/api/messages", body=json.dumps({"body": "Are you there?"}),
                      headers={"Origin": SITE, "X-Chat-Token": widget.token, "Content-Type": "application/json"})
        assert other.getresponse().status == 200
        assert "Are you there?" in read_until(response, "Are you there?", 10)

        services.add_message(db.session.get(Ticket, ticket.id), agent, "Yes, how can I help?")
        received = read_until(response, "how can I help", 10)
        assert '"from":"agent"' in received and "Yes, how can I help?" in received
        stream.close()
    finally:
        server.send_signal(signal.SIGQUIT)
        server.wait(timeout=20)
