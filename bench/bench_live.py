"""Benchmark of the live channel: 100 agents with a ticket page open, on one machine.

    .venv/bin/python bench/bench_live.py                                   # database backend (SQLite)
    .venv/bin/python bench/bench_live.py --redis-url redis://127.0.0.1:6379/1
    .venv/bin/python bench/bench_live.py --agents 50 --database-url postgresql://postgres@127.0.0.1/postgres

A fresh instance (SQLite file in a temporary folder, or a new PostgreSQL database dropped at
the end) with ``--agents`` agents and 50 tickets is served by gunicorn (``--workers`` gthread
workers with enough threads for every stream). Then:

1. Baseline: the ticket page (``GET /tickets/HD-1``, one signed-in agent, ``--requests``
   sequential requests): median and p95; the server's memory (RSS of the master and workers).
2. Every agent opens its live stream (``/live/stream?topics=ticket:<n>,queue``, one per
   agent, tickets spread over the 50) and sends the page's presence heartbeat every 5 s, as
   ``live.js`` does.
3. With all of them connected: the same ticket-page figures (the added latency is the
   difference), the server's memory, and the fan-out: an event published to ``queue`` (by
   this process, on the same backend) and the time until each of the streams has it
   (median and maximum over ``--events`` events).
"""
from __future__ import annotations

import argparse
import http.client
import http.cookiejar
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from helpdesk import create_app, live, services  # noqa: E402
from helpdesk.extensions import db  # noqa: E402
from helpdesk.models import User  # noqa: E402

PASSWORD = "bench-password-1"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--agents", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--requests", type=int, default=60, help="ticket-page requests per measurement")
    parser.add_argument("--events", type=int, default=10, help="events published for the fan-out figure")
    parser.add_argument("--redis-url", default="", help="Redis backend (default: the database fallback)")
    parser.add_argument("--database-url", default="", help="PostgreSQL server URL (default: SQLite file)")
    return parser.parse_args()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Agent:
    def __init__(self, base: str, email: str) -> None:
        self.base, self.email = base, email
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.csrf = ""

    def get(self, path: str) -> str:
        with self.opener.open(self.base + path, timeout=30) as response:
            text = response.read().decode()
        match = re.search(r'<meta name="csrf-token" content="([^"]+)"', text)
        self.csrf = match.group(1) if match else self.csrf
        return text

    def post(self, path: str, data: dict) -> None:
        body = urllib.parse.urlencode({**data, "csrf_token": self.csrf}).encode()
        with self.opener.open(self.base + path, data=body, timeout=30) as response:
            response.read()

    def sign_in(self) -> None:
        self.get("/login")
        self.post("/login", {"email": self.email, "password": PASSWORD})

    def cookie(self) -> str:
        return "; ".join(f"{c.name}={c.value}" for c in self.jar)


def seed(config: dict, agents: int) -> None:
    import flask_migrate

    app = create_app(config)
    with app.app_context():
        flask_migrate.upgrade(revision="heads")
        customer = User(name="Carla Customer", email="carla@example.test", role="customer")
        db.session.add(customer)
        for n in range(agents + 1):
            user = User(name=f"Agent {n}", email=f"agent{n}@example.test", role="agent")
            user.set_password(PASSWORD)
            db.session.add(user)
        db.session.commit()
        for n in range(50):
            services.create_ticket(customer, f"Ticket {n}", "Something is broken.")
        db.session.remove()
        db.engine.dispose()


def server_rss_mb(master: int) -> float:
    out = subprocess.run(["ps", "-o", "rss=", "--ppid", str(master)], capture_output=True, text=True).stdout
    own = subprocess.run(["ps", "-o", "rss=", "-p", str(master)], capture_output=True, text=True).stdout
    return sum(int(v) for v in (out + own).split()) / 1024


def server_cpu_seconds(master: int) -> float:
    """User + system CPU time of the master and its workers so far."""
    pids = [master] + [int(p) for p in subprocess.run(["ps", "-o", "pid=", "--ppid", str(master)],
                                                       capture_output=True, text=True).stdout.split()]
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def idle_cpu_share(master: int, seconds: float = 10.0) -> float:
    """The server's CPU use while nobody asks for a page (a share of one core)."""
    start = server_cpu_seconds(master)
    time.sleep(seconds)
    return (server_cpu_seconds(master) - start) / seconds


def page_latency(agent: Agent, requests: int) -> tuple[float, float]:
    times = []
    for _ in range(requests):
        start = time.perf_counter()
        agent.get("/tickets/HD-1")
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1]


class Stream(threading.Thread):
    def __init__(self, port: int, agent: Agent, ticket: int, arrivals: dict) -> None:
        super().__init__(daemon=True)
        self.port, self.agent, self.ticket, self.arrivals = port, agent, ticket, arrivals
        self.connected = threading.Event()
        self.stop = False

    def run(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        conn.request("GET", f"/live/stream?topics=ticket:{self.ticket},queue",
                     headers={"Cookie": self.agent.cookie(), "Accept": "text/event-stream"})
        response = conn.getresponse()
        while not self.stop:
            line = response.readline().decode()
            if not line:
                return
            if line.startswith(": connected"):
                self.connected.set()
            if line.startswith("data: ") and '"bench"' in line:
                event = json.loads(line[6:])
                self.arrivals.setdefault(event["n"], []).append(time.time() - event["at"])


def heartbeats(agents: list[Agent], tickets: list[int], stop: threading.Event) -> None:
    """Every agent's page says "viewing" every 5 s, spread evenly."""
    while not stop.is_set():
        for agent, ticket in zip(agents, tickets, strict=True):
            if stop.is_set():
                return
            try:
                agent.post(f"/live/tickets/HD-{ticket}/presence", {"state": "viewing"})
            except OSError:
                pass
            time.sleep(5 / len(agents))


def main() -> None:
    args = parse_args()
    instance = tempfile.mkdtemp(prefix="bench-live-")
    admin_engine, pg_name = None, ""
    if args.database_url:
        server_url = args.database_url.replace("postgresql://", "postgresql+psycopg://", 1)
        pg_name = f"bench_live_{uuid.uuid4().hex[:8]}"
        admin_engine = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
        with admin_engine.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{pg_name}"'))
        url = sa.engine.make_url(server_url).set(database=pg_name).render_as_string(hide_password=False)
    else:
        url = f"sqlite:///{instance}/helpdesk.sqlite3"
    config = {"INSTANCE_PATH": instance, "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench",
              "REDIS_URL": args.redis_url, "SAFE_MODE": True, "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"}
    seed(config, args.agents)
    if args.redis_url:
        import redis

        redis.Redis.from_url(args.redis_url).delete(live.STREAM_KEY)

    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELPDESK_")}
    env.update({"PYTHONPATH": str(ROOT), "HELPDESK_INSTANCE_PATH": instance, "HELPDESK_SQLALCHEMY_DATABASE_URI": url,
                "HELPDESK_SECRET_KEY": "bench", "HELPDESK_SAFE_MODE": "1", "HELPDESK_REDIS_URL": args.redis_url,
                "HELPDESK_LIVE_STREAM_SECONDS": "600", "HELPDESK_EXTERNAL_URL": f"http://127.0.0.1:{port}"})
    # The kernel does not spread connections evenly over the workers, and a gthread worker queues
    # what it accepted until one of its threads is free: each worker needs a thread for every
    # stream it may get, or pages behind the streams wait (seen with agents // workers + 16).
    threads = args.agents + 16
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("gunicorn")), "--workers", str(args.workers), "--worker-class", "gthread",
         "--threads", str(threads), "--bind", f"127.0.0.1:{port}", "helpdesk:create_app()"],
        env=env, stdout=subprocess.DEVNULL, stderr=open(os.environ.get("BENCH_LOG", os.devnull), "w"))
    stop = threading.Event()
    try:
        for _ in range(150):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        base = f"http://127.0.0.1:{port}"
        reader = Agent(base, "agent0@example.test")
        reader.sign_in()
        page_latency(reader, 10)  # warm-up
        before = page_latency(reader, args.requests)
        rss_before = server_rss_mb(server.pid)
        cpu_before = idle_cpu_share(server.pid)
        print(f"backend: {'redis' if args.redis_url else 'database'} ({url.split(':')[0]}), "
              f"{args.workers} gthread workers x {threads} threads, load average {os.getloadavg()[0]:.1f}")
        print(f"0 streams:   ticket page median {before[0]:.1f} ms, p95 {before[1]:.1f} ms; "
              f"server RSS {rss_before:.0f} MB; idle server CPU {cpu_before * 100:.1f}% of a core")

        agents = [Agent(base, f"agent{n}@example.test") for n in range(1, args.agents + 1)]
        for agent in agents:
            agent.sign_in()
        tickets = [n % 50 + 1 for n in range(args.agents)]
        arrivals: dict[int, list[float]] = {}
        streams = [Stream(port, agent, ticket, arrivals) for agent, ticket in zip(agents, tickets, strict=True)]
        for stream in streams:
            stream.start()
        for stream in streams:
            stream.connected.wait(30)
        beating = threading.Thread(target=heartbeats, args=(agents, tickets, stop), daemon=True)
        beating.start()
        time.sleep(3)
        connected = sum(s.connected.is_set() for s in streams)
        cpu_after = idle_cpu_share(server.pid)
        print(f"{connected} streams + heartbeats, no page requests: server CPU {cpu_after * 100:.1f}% of a core")
        page_latency(reader, 10)
        after = page_latency(reader, args.requests)
        rss_after = server_rss_mb(server.pid)
        print(f"{connected} streams: ticket page median {after[0]:.1f} ms, p95 {after[1]:.1f} ms; "
              f"server RSS {rss_after:.0f} MB (+{rss_after - rss_before:.0f} MB, "
              f"{(rss_after - rss_before) * 1024 / max(connected, 1):.0f} KB per stream)")
        print(f"added latency: median +{after[0] - before[0]:.1f} ms, p95 +{after[1] - before[1]:.1f} ms")

        app = create_app(config)
        with app.app_context():
            for n in range(args.events):
                live.publish("queue", {"type": "bench", "ticket_id": 1, "n": n, "at": time.time()})
                time.sleep(1.5)
        time.sleep(3)
        delays = sorted(d * 1000 for n in range(args.events) for d in arrivals.get(n, []))
        complete = sum(len(arrivals.get(n, [])) == connected for n in range(args.events))
        if delays:
            print(f"fan-out: {len(delays)} deliveries ({complete}/{args.events} events reached all "
                  f"{connected} streams); publish to arrival median {statistics.median(delays):.0f} ms, "
                  f"max {delays[-1]:.0f} ms")
    finally:
        stop.set()
        server.send_signal(signal.SIGQUIT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        if admin_engine is not None:
            with admin_engine.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
