"""The live channel across two gunicorn worker processes: an event published by one worker
reaches a browser whose stream is held by the other.

Two *sync* workers make it certain which worker does what: while the first one is busy
streaming to the agent it accepts no connection, so the agent's next request (a presence
heartbeat, which publishes an event) is served by the second one. Run against the database
fallback (SQLite or PostgreSQL, whichever the suite uses) and against Redis
(``HELPDESK_TEST_REDIS_URL``).
"""
from __future__ import annotations

import http.client
import http.cookiejar
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

REDIS_URL = os.environ.get("HELPDESK_TEST_REDIS_URL")
PASSWORD = "long-password-1"
GUNICORN = Path(sys.executable).with_name("gunicorn")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(app, port: int, redis_url: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELPDESK_")}
    env.update({
        "PYTHONPATH": str(Path(__file__).parent.parent),
        "HELPDESK_INSTANCE_PATH": app.instance_path,
        "HELPDESK_SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        "HELPDESK_SECRET_KEY": app.config["SECRET_KEY"], "HELPDESK_SAFE_MODE": "1",
        "HELPDESK_REDIS_URL": redis_url, "HELPDESK_LIVE_STREAM_SECONDS": "8", "HELPDESK_LIVE_POLL_MS": "100",
        "HELPDESK_EXTERNAL_URL": f"http://127.0.0.1:{port}",
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


class Browser:
    """Just enough of a browser: cookies, CSRF token from the page's meta tag."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.csrf = ""

    def get(self, path: str) -> str:
        with self.opener.open(self.base + path, timeout=10) as response:
            text = response.read().decode()
        match = re.search(r'<meta name="csrf-token" content="([^"]+)"', text)
        self.csrf = match.group(1) if match else self.csrf
        return text

    def post(self, path: str, data: dict) -> str:
        body = urllib.parse.urlencode({**data, "csrf_token": self.csrf}).encode()
        with self.opener.open(self.base + path, data=body, timeout=10) as response:
            return response.read().decode()

    def cookie_header(self) -> str:
        return "; ".join(f"{c.name}={c.value}" for c in self.jar)


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
def test_an_event_published_by_one_worker_reaches_a_stream_on_the_other(app, db, make_user, customer, backend):
    if not GUNICORN.exists() or shutil.which(str(GUNICORN)) is None:
        pytest.skip("gunicorn is not installed (pip install -e .[test])")
    if backend == "redis" and not REDIS_URL:
        pytest.skip("HELPDESK_TEST_REDIS_URL is not set: the Redis backend of the live channel is not tested")
    from helpdesk import services

    lea = make_user("agent", name="Lea Lang", email="lea@example.test", password=PASSWORD)
    ticket = services.create_ticket(customer, "Printer on fire", "The printer in room 4 is smoking.")
    if backend == "redis":  # the Redis database outlives each test: no one left "viewing" from another
        import redis

        from helpdesk import live
        redis.Redis.from_url(REDIS_URL).delete(live._presence_key(ticket.id))
    port = free_port()
    server = start_gunicorn(app, port, REDIS_URL if backend == "redis" else "")
    try:
        browser = Browser(f"http://127.0.0.1:{port}")
        browser.get("/login")
        browser.post("/login", {"email": lea.email, "password": PASSWORD})
        assert "Printer on fire" in browser.get(f"/tickets/{ticket.reference}")
        # The stream occupies one sync worker ...
        stream = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        stream.request("GET", f"/live/stream?topics=ticket:{ticket.id}", headers={
            "Cookie": browser.cookie_header(), "Accept": "text/event-stream"})
        response = stream.getresponse()
        assert response.status == 200
        assert ": connected" in read_until(response, ": connected", 5)
        # ... so this heartbeat is served by the other one, which publishes "Lea is viewing".
        assert browser.post(f"/live/tickets/{ticket.reference}/presence", {"state": "viewing"}) == '{"present":[]}\n'
        received = read_until(response, '"type":"presence"', 10)
        assert '"type":"presence"' in received and '"name":"Lea Lang"' in received
        stream.close()
    finally:
        server.send_signal(signal.SIGQUIT)  # quick shutdown: do not wait for the streams to end
        server.wait(timeout=20)
