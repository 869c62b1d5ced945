"""Benchmark of the chat widget's live replies (issue 20): agent reply → visitor's stream.

    .venv/bin/python bench/bench_chat.py                                  # database backend (SQLite)
    .venv/bin/python bench/bench_chat.py --redis-url redis://127.0.0.1:6379/6

A fresh SQLite instance with the chat plugin on and ``--visitors`` visitors, each with a chat
ticket, is served by gunicorn (2 gthread workers). Every visitor's widget stream
(``/chat/api/stream``) is open. Then ``--replies`` agent replies are written by this process
(``services.add_message``, as the ticket page does in another worker) on random visitors'
tickets, one at a time, and the time from the call (so the commit and the hooks count) to the
reply's arrival on that visitor's stream is measured: median, p95 and maximum. The issue asks
for two seconds.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from helpdesk import create_app, services  # noqa: E402
from helpdesk.extensions import db  # noqa: E402
from helpdesk.models import PluginState, Ticket, User  # noqa: E402

SITE = "https://shop.example.test"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Stream(threading.Thread):
    def __init__(self, port: int, token: str, arrivals: dict) -> None:
        super().__init__(daemon=True)
        self.port, self.token, self.arrivals = port, token, arrivals
        self.connected = threading.Event()

    def run(self) -> None:
        while True:  # the stream ends after LIVE_STREAM_SECONDS: reconnect like EventSource
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
            conn.request("GET", f"/chat/api/stream?token={self.token}", headers={"Origin": SITE})
            response = conn.getresponse()
            while line := response.readline().decode():
                if line.startswith(": connected"):
                    self.connected.set()
                if line.startswith("data: ") and '"from":"agent"' in line:
                    body = json.loads(line[6:])["message"]["body"]
                    self.arrivals[body] = time.time()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--visitors", type=int, default=30)
    parser.add_argument("--replies", type=int, default=30)
    parser.add_argument("--redis-url", default="")
    args = parser.parse_args()
    os.environ["HELPDESK_PLUGIN_CHAT_ALLOWED_ORIGINS"] = SITE
    instance = tempfile.mkdtemp(prefix="bench-chat-")
    url = f"sqlite:///{instance}/helpdesk.sqlite3"
    config = {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "INSTANCE_PATH": instance,
              "REDIS_URL": args.redis_url, "JOBS_IMMEDIATE": True}
    app = create_app(config)
    tokens = []
    with app.app_context():
        import flask_migrate

        flask_migrate.upgrade(revision="heads")
        db.session.add(PluginState(name="chat", enabled=True, settings={}))
        agent = User(name="Agent", email="agent@example.test", role="agent")
        db.session.add(agent)
        db.session.commit()
        client = app.test_client()
        for n in range(args.visitors):
            token = client.post("/chat/api/session", json={}, headers={"Origin": SITE},
                                environ_base={"REMOTE_ADDR": f"10.0.{n // 250}.{n % 250}"}).json["token"]
            client.post("/chat/api/messages", json={"body": f"Visitor {n} here"},
                        headers={"Origin": SITE, "X-Chat-Token": token})
            tokens.append(token)
        ticket_ids = list(db.session.scalars(db.select(Ticket.id).order_by(Ticket.id)))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELPDESK_")}
    env.update({"PYTHONPATH": str(ROOT), "HELPDESK_INSTANCE_PATH": instance, "HELPDESK_SQLALCHEMY_DATABASE_URI": url,
                "HELPDESK_SECRET_KEY": "bench", "HELPDESK_REDIS_URL": args.redis_url,
                "HELPDESK_LIVE_STREAM_SECONDS": "600", "HELPDESK_PLUGIN_CHAT_ALLOWED_ORIGINS": SITE})
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("gunicorn")), "--workers", "2", "--worker-class", "gthread",
         "--threads", str(args.visitors + 8), "--bind", f"127.0.0.1:{port}", "helpdesk:create_app()"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.3)
        arrivals: dict[str, float] = {}
        streams = [Stream(port, token, arrivals) for token in tokens]
        for stream in streams:
            stream.start()
        for stream in streams:
            stream.connected.wait(60)
        delays = []
        with app.app_context():
            agent = db.session.scalar(db.select(User).where(User.email == "agent@example.test"))
            for n in range(args.replies):
                ticket = db.session.get(Ticket, random.choice(ticket_ids))
                body = f"Reply {n}"
                sent = time.time()  # the agent presses Send: the commit, hooks and delivery are included
                services.add_message(ticket, agent, body)
                while body not in arrivals and time.time() - sent < 10:
                    time.sleep(0.005)
                delays.append((arrivals.get(body, sent + 10) - sent) * 1000)
        delays.sort()
        backend = "Redis" if args.redis_url else "database (LIVE_POLL_MS=1000)"
        print(f"{backend}: {args.visitors} open widget streams, {args.replies} replies; "
              f"reply → visitor median {statistics.median(delays):.0f} ms, "
              f"p95 {delays[int(len(delays) * 0.95) - 1]:.0f} ms, max {delays[-1]:.0f} ms; "
              f"arrived {sum(d < 10_000 for d in delays)}/{len(delays)}; load {os.getloadavg()[0]:.1f}")
    finally:
        server.send_signal(signal.SIGQUIT)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:  # open streams keep gthread workers busy: stop them hard
            server.kill()
            server.wait()


if __name__ == "__main__":
    main()
