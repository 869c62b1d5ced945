"""Concurrency run: many web and job processes on PostgreSQL + Redis, everyone at once.

    .venv/bin/python bench/bench_concurrency.py                     # 60 s, 4 web workers, 2 job workers
    .venv/bin/python bench/bench_concurrency.py --seconds 20        # quick check

1. A fresh PostgreSQL database (``--database-server``, default the local one) and a Redis
   database (``--redis``, emptied first) make a new install: ``helpdesk init``, every bundled
   plugin enabled, ``--agents`` agents and ``--customers`` customers with passwords, the email
   plugin's webhook secret from the environment (``HELPDESK_PLUGIN_EMAIL_WEBHOOK_SECRET``), and
   a real SMTP server on loopback (aiosmtpd) receiving every outbound mail.
2. gunicorn starts with ``helpdesk.gunicorn_config`` and ``--workers 4`` (gthread), and two
   ``helpdesk worker`` processes start (``--job-workers``), with ``PROMETHEUS_MULTIPROC_DIR`` set.
3. For ``--seconds``, at the same time: each customer (one thread each) signs in and opens
   tickets through the portal form; each agent signs in and replies to the customers'
   tickets through the ticket page (each reply becomes a mail to the customer, sent by a
   job); ``--mailers`` threads post signed mails to the email webhook, half of them new
   tickets from new people, half replies by the customer to one of her tickets ("Re: [HD-n]").
   Every request's status is recorded; each thing created carries a unique marker.
4. Then the run waits until the jobs are drained (Redis queue empty, no reply delivery or
   outbox mail waiting) and counts, in the database: every ticket a customer was told was
   created exists exactly once; every reply an agent sent, once; every mail the webhook
   accepted, once (by Message-ID and by marker); every reply delivered and its mail in the
   SMTP server's inbox exactly once. No 5xx answer is allowed.

Figures are printed and written to ``bench/data/concurrency-results.json``; exit status 1 when
anything was lost, duplicated, left undelivered, or answered 5xx.
"""
from __future__ import annotations

import argparse
import hashlib
import hmac
import http.client
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
sys.path.insert(0, str(BENCH_DIR))
sys.path.insert(0, str(ROOT / "tests"))
from run import helpdesk_command, percentile  # noqa: E402
from smtp_sink import SMTPServer, free_port  # noqa: E402

PASSWORD = "bench-password-1"
WEBHOOK_SECRET = "bench-webhook-secret"
SUPPORT = "support@example.com"
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


class Browser:
    """One person's browser: a keep-alive connection, cookies, no redirects followed."""

    def __init__(self, port: int) -> None:
        self.port, self.cookies = port, {}
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], str, float]:
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        started = time.perf_counter()
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                text = response.read().decode("utf-8", "replace")
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # a recycled gunicorn worker closed the kept-alive connection: a browser retries
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                if attempt == 2 or method != "GET":
                    raise
        seconds = time.perf_counter() - started
        for key, value in response.getheaders():
            if key.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response.status, {k.lower(): v for k, v in response.getheaders()}, text, seconds

    def form(self, path: str) -> str:
        status, _h, text, _s = self.request("GET", path)
        match = CSRF.search(text)
        if status != 200 or not match:
            raise RuntimeError(f"GET {path}: {status}, no form token")
        return match.group(1) or match.group(2)

    def post(self, path: str, fields: dict[str, str]) -> tuple[int, dict[str, str], str, float]:
        return self.request("POST", path, urlencode(fields).encode(),
                            {"Content-Type": "application/x-www-form-urlencoded"})

    def sign_in(self, email: str) -> None:
        token = self.form("/login")
        status, _h, _t, _s = self.post("/login", {"csrf_token": token, "email": email, "password": PASSWORD})
        if status != 302:
            raise RuntimeError(f"sign-in of {email} answered {status}")


class Run:
    """What every thread did, for the counts afterwards."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.statuses: dict[str, Counter] = defaultdict(Counter)
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.tickets: dict[str, str] = {}  # subject marker -> reference (portal)
        self.unconfirmed: list[str] = []  # markers whose answer was not a success (5xx, error)
        self.customer_of: dict[str, str] = {}  # reference -> customer email
        self.replies: list[str] = []  # reply markers the agents were told were sent
        self.mails_new: list[str] = []  # Message-IDs of accepted new-ticket mails
        self.mails_reply: list[tuple[str, str]] = []  # (Message-ID, reference) of accepted reply mails
        self.errors: list[str] = []

    def record(self, kind: str, status: int, seconds: float) -> None:
        with self.lock:
            self.statuses[kind][status] += 1
            self.latency[kind].append(seconds)


def customer(port: int, email: str, stop: threading.Event, run: Run, n: int) -> None:
    browser = Browser(port)
    browser.sign_in(email)
    i = 0
    while not stop.is_set():
        i += 1
        marker = f"conc-c{n}-{i}-{uuid.uuid4().hex[:6]}"
        try:
            token = browser.form("/portal/new")
            status, headers, _t, seconds = browser.post("/portal/new", {
                "csrf_token": token, "subject": f"Order problem {marker}",
                "body": f"My order did not arrive. {marker}"})
        except Exception as exc:  # noqa: BLE001 - counted, not fatal
            with run.lock:
                run.errors.append(f"customer {email}: {exc!r}")
                run.unconfirmed.append(marker)
            continue
        run.record("portal: new ticket", status, seconds)
        reference = headers.get("location", "").rstrip("/").rsplit("/", 1)[-1]
        with run.lock:
            if status == 302 and reference.startswith("HD-"):
                run.tickets[marker] = reference
                run.customer_of[reference] = email
            else:
                run.unconfirmed.append(marker)


def agent(port: int, email: str, stop: threading.Event, run: Run, n: int, rng: random.Random) -> None:
    browser = Browser(port)
    browser.sign_in(email)
    i = 0
    while not stop.is_set():
        with run.lock:
            references = list(run.customer_of)
        if not references:
            time.sleep(0.2)
            continue
        reference = rng.choice(references)
        i += 1
        marker = f"conc-a{n}-{i}-{uuid.uuid4().hex[:6]}"
        try:
            token = browser.form(f"/tickets/{reference}")
            status, _h, _t, seconds = browser.post(f"/tickets/{reference}", {
                "csrf_token": token, "body": f"We are on it. {marker}", "send_anyway": "y"})
        except Exception as exc:  # noqa: BLE001
            with run.lock:
                run.errors.append(f"agent {email}: {exc!r}")
            continue
        run.record("agent: reply", status, seconds)
        if status == 302:
            with run.lock:
                run.replies.append(marker)


def mailer(port: int, stop: threading.Event, run: Run, n: int, rng: random.Random) -> None:
    browser = Browser(port)
    i = 0
    while not stop.is_set():
        i += 1
        marker = f"conc-m{n}-{i}-{uuid.uuid4().hex[:6]}"
        msgid = f"<{marker}@mail.example.net>"
        with run.lock:
            known = list(run.customer_of.items())
        if known and rng.random() < 0.5:
            reference, sender = rng.choice(known)
            subject, kind = f"Re: [{reference}] Order problem", "reply"
        else:
            reference, sender, subject, kind = "", f"{marker}@mail.example.net", f"By mail {marker}", "new"
        raw = (f"From: Someone <{sender}>\r\nTo: {SUPPORT}\r\nSubject: {subject}\r\nMessage-ID: {msgid}\r\n"
               f"Date: Fri, 04 Dec 2026 18:00:00 +0000\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
               f"Mail body {marker}\r\n").encode()
        signature = "sha256=" + hmac.new(WEBHOOK_SECRET.encode(), raw, hashlib.sha256).hexdigest()
        try:
            status, _h, text, seconds = browser.request("POST", "/email/inbound", raw, {
                "Content-Type": "message/rfc822", "X-Helpdesk-Signature": signature})
        except Exception as exc:  # noqa: BLE001
            with run.lock:
                run.errors.append(f"mailer: {exc!r}")
            continue
        run.record("webhook: inbound mail", status, seconds)
        if status == 202:
            outcome = json.loads(text).get("outcome")
            with run.lock:
                if kind == "new":
                    run.mails_new.append(msgid)
                else:
                    run.mails_reply.append((msgid, reference))
                if outcome not in ("ticket", "message"):
                    run.errors.append(f"mail {msgid}: outcome {outcome}")


# ------------------------------------------------------------------ set-up and checks


def setup(args: argparse.Namespace, work: Path, smtp_port: int) -> tuple[dict[str, str], str]:
    import sqlalchemy as sa

    server = args.database_server.replace("postgresql://", "postgresql+psycopg://", 1)
    name = f"helpdesk_conc_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = sa.engine.make_url(server).set(database=name).render_as_string(hide_password=False).replace(
        "postgresql+psycopg://", "postgresql://", 1)
    import redis

    redis.Redis.from_url(args.redis).flushdb()
    metrics_dir = work / "metrics"
    metrics_dir.mkdir()
    env = {**os.environ, "HELPDESK_INSTANCE_PATH": str(work / "instance"), "HELPDESK_DATABASE_URL": url,
           "HELPDESK_REDIS_URL": args.redis, "HELPDESK_SECRET_KEY": "bench-concurrency",
           "HELPDESK_SECRETS_KEY": "bench-concurrency-secrets", "HELPDESK_SMTP_HOST": "127.0.0.1",
           "HELPDESK_SMTP_PORT": str(smtp_port), "HELPDESK_EXTERNAL_URL": "http://127.0.0.1",
           "HELPDESK_PLUGIN_EMAIL_WEBHOOK_SECRET": WEBHOOK_SECRET, "HELPDESK_WEBHOOK_RATE_LIMIT": "100000 per minute",
           "HELPDESK_PASSWORD_HASH_METHOD": "pbkdf2:sha256:10000", "HELPDESK_LOG_FORMAT": "json",
           "HELPDESK_LOG_LEVEL": "WARNING", "HELPDESK_SWEEP_SECONDS": "5",
           "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}
    for key in ("HELPDESK_SAFE_MODE", "HELPDESK_DISABLED_PLUGINS"):
        env.pop(key, None)
    subprocess.run([helpdesk_command(), "init", "--admin-email", "admin@example.com", "--admin-password", PASSWORD],
                   env=env, check=True, capture_output=True)
    script = f"""
from helpdesk import create_app
from helpdesk.extensions import db
from helpdesk.plugin_manager import manager
from helpdesk.services import create_user
app = create_app()
with app.app_context():
    for name in manager().plugins:
        manager().set_enabled(name, True)
    for i in range({args.agents}):
        create_user(f"Agent {{i}}", f"agent{{i}}@example.com", "agent", {PASSWORD!r})
    for i in range({args.customers}):
        create_user(f"Customer {{i}}", f"customer{{i}}@example.net", "customer", {PASSWORD!r})
    db.session.commit()
"""
    subprocess.run([sys.executable, "-c", script], env=env, check=True)
    return env, url


def wait_until_drained(env: dict[str, str], url: str, timeout: float) -> tuple[float, dict[str, int]]:
    import redis
    import sqlalchemy as sa

    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    client = redis.Redis.from_url(env["HELPDESK_REDIS_URL"])
    started = time.monotonic()
    state: dict[str, int] = {}
    while time.monotonic() - started < timeout:
        queued = sum(client.llen(key) for key in client.keys("huey.redis.*") if client.type(key) == b"list")
        with engine.connect() as conn:
            state = {
                "queue": queued,
                "deliveries_waiting": conn.scalar(sa.text("SELECT count(*) FROM deliveries WHERE status = 'pending'")),
                "outbox_waiting": conn.scalar(sa.text(
                    "SELECT count(*) FROM outbox_mail WHERE status IN ('queued', 'sending')")),
            }
        if not any(state.values()):
            break
        time.sleep(0.5)
    engine.dispose()
    return time.monotonic() - started, state


def verify(url: str, run: Run, smtp: SMTPServer) -> dict[str, Any]:
    import sqlalchemy as sa

    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    out: dict[str, Any] = {}
    with engine.connect() as conn:
        def count_like(sql: str, marker: str) -> int:
            return conn.scalar(sa.text(sql), {"m": f"%{marker}%"})

        subjects = Counter(row[0] for row in conn.execute(sa.text(
            "SELECT subject FROM tickets WHERE subject LIKE 'Order problem conc-%'")))
        by_marker = Counter(s.removeprefix("Order problem ") for s in subjects.elements())
        out["portal_tickets_confirmed"] = len(run.tickets)
        out["portal_tickets_lost"] = sum(1 for m in run.tickets if by_marker[m] == 0)
        out["portal_tickets_duplicated"] = sum(1 for m in run.tickets if by_marker[m] > 1)
        out["portal_tickets_unconfirmed_but_created"] = sum(1 for m in run.unconfirmed if by_marker[m] > 0)
        bodies = Counter(row[0].removeprefix("We are on it. ") for row in conn.execute(sa.text(
            "SELECT body FROM messages WHERE body LIKE 'We are on it. conc-%'")))
        out["replies_confirmed"] = len(run.replies)
        out["replies_lost"] = sum(1 for m in run.replies if bodies[m] == 0)
        out["replies_duplicated"] = sum(1 for m in run.replies if bodies[m] > 1)
        headers = Counter(row[0] for row in conn.execute(sa.text(
            "SELECT message_id_header FROM email_message_ids WHERE direction = 'in'")))
        mail_bodies = Counter(re.search(r"conc-m[\w-]+", row[0]).group(0) for row in conn.execute(sa.text(
            "SELECT body FROM messages WHERE body LIKE 'Mail body conc-m%'")))
        accepted = run.mails_new + [m for m, _r in run.mails_reply]
        out["mails_accepted"] = len(accepted)
        out["mails_lost"] = sum(1 for m in accepted if mail_bodies[m.strip("<>").split("@")[0]] == 0)
        out["mails_duplicated"] = sum(1 for m in accepted if mail_bodies[m.strip("<>").split("@")[0]] > 1
                                      or headers[m] > 1)
        misthreaded = 0
        for msgid, reference in run.mails_reply:
            marker = msgid.strip("<>").split("@")[0]
            ticket = conn.scalar(sa.text("SELECT ticket_id FROM messages WHERE body LIKE :m"), {"m": f"%{marker}%"})
            if ticket is not None and f"HD-{ticket}" != reference:
                misthreaded += 1
        out["mail_replies_on_another_ticket"] = misthreaded
        out["deliveries"] = dict(conn.execute(sa.text("SELECT status, count(*) FROM deliveries GROUP BY status")).all())
        out["outbox"] = dict(conn.execute(sa.text("SELECT status, count(*) FROM outbox_mail GROUP BY status")).all())
        reply_mails = Counter()
        for message in smtp.sink.messages():
            match = re.search(r"conc-a[\w-]+", message.get_body(("plain",)).get_content() if message.get_body(
                ("plain",)) else "")
            if match:
                reply_mails[match.group(0)] += 1
        out["reply_mails_missing"] = sum(1 for m in run.replies if reply_mails[m] == 0)
        out["reply_mails_duplicated"] = sum(1 for m in run.replies if reply_mails[m] > 1)
        out["smtp_messages"] = len(smtp.sink.envelopes)
        out["tickets_total"] = conn.scalar(sa.text("SELECT count(*) FROM tickets"))
        out["messages_total"] = conn.scalar(sa.text("SELECT count(*) FROM messages"))
    engine.dispose()
    return out


def scrape_metrics(port: int) -> dict[str, float]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/metrics")
    text = conn.getresponse().read().decode()
    from prometheus_client.parser import text_string_to_metric_families

    totals: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name in ("helpdesk_http_requests_total", "helpdesk_job_runs_total", "helpdesk_mail_sent_total",
                               "helpdesk_messages_received_total", "helpdesk_plugin_errors_total"):
                key = sample.name + ("{" + ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items())
                                                    if k in ("status", "outcome", "channel")) + "}")
                totals[key] = totals.get(key, 0) + sample.value
    return totals


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--web-workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=4, help="gthread threads per web worker")
    parser.add_argument("--job-workers", type=int, default=2, help="helpdesk worker processes")
    parser.add_argument("--customers", type=int, default=6)
    parser.add_argument("--agents", type=int, default=4)
    parser.add_argument("--mailers", type=int, default=2)
    parser.add_argument("--database-server", default=os.environ.get(
        "HELPDESK_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--redis", default=os.environ.get("HELPDESK_TEST_REDIS_URL", "redis://127.0.0.1:6379/8"))
    parser.add_argument("--keep", action="store_true", help="keep the database and the folder afterwards")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="helpdesk-concurrency-"))
    smtp = SMTPServer(free_port()).start()
    env, url = setup(args, work, smtp.port)
    port = free_port()
    logs = open(work / "processes.log", "w")  # noqa: SIM115 - closed at the end
    web = subprocess.Popen([str(Path(sys.executable).with_name("gunicorn")), "-c", "python:helpdesk.gunicorn_config",
                            "--bind", f"127.0.0.1:{port}", "--workers", str(args.web_workers),
                            "--threads", str(args.threads), "helpdesk:create_app()"],
                           env=env, stdout=logs, stderr=subprocess.STDOUT, cwd=ROOT)
    workers = [subprocess.Popen([helpdesk_command(), "worker", "--workers", "2"], env=env, stdout=logs,
                                stderr=subprocess.STDOUT) for _ in range(args.job_workers)]
    run = Run()
    try:
        for _ in range(120):
            try:
                Browser(port).request("GET", "/readyz")
                break
            except OSError:
                time.sleep(0.5)
        stop = threading.Event()
        rng = random.Random(1)
        threads = [threading.Thread(target=customer, args=(port, f"customer{i}@example.net", stop, run, i))
                   for i in range(args.customers)]
        threads += [threading.Thread(target=agent, args=(port, f"agent{i}@example.com", stop, run, i,
                                                         random.Random(rng.random())))
                    for i in range(args.agents)]
        threads += [threading.Thread(target=mailer, args=(port, stop, run, i, random.Random(rng.random())))
                    for i in range(args.mailers)]
        load_started = time.monotonic()
        for thread in threads:
            thread.start()
        time.sleep(args.seconds)
        stop.set()
        for thread in threads:
            thread.join(120)
        load_seconds = time.monotonic() - load_started
        drain_seconds, left = wait_until_drained(env, url, timeout=300)
        metrics = scrape_metrics(port)
        counts = verify(url, run, smtp)
    finally:
        web.send_signal(signal.SIGTERM)
        for worker in workers:
            worker.send_signal(signal.SIGINT)
        for process in [web, *workers]:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
        smtp.stop()
        logs.close()

    server_errors = sum(n for statuses in run.statuses.values() for status, n in statuses.items() if status >= 500)
    results = {
        "setup": {"web_workers": args.web_workers, "threads": args.threads, "job_workers": args.job_workers,
                  "customers": args.customers, "agents": args.agents, "mailers": args.mailers,
                  "seconds": round(load_seconds, 1), "database": "PostgreSQL", "jobs": "Redis",
                  "cpus": os.cpu_count(), "load_average": os.getloadavg()},
        "requests": {kind: {"statuses": dict(statuses), "per_second": round(sum(statuses.values()) / load_seconds, 1),
                            "median_ms": round(1000 * percentile(run.latency[kind], 50), 1),
                            "p95_ms": round(1000 * percentile(run.latency[kind], 95), 1)}
                     for kind, statuses in sorted(run.statuses.items())},
        "server_errors": server_errors,
        "client_errors": run.errors[:20],
        "drain_seconds": round(drain_seconds, 1),
        "left_after_drain": left,
        "counts": counts,
        "metrics": metrics,
    }
    print(json.dumps(results, indent=2, default=str))
    (BENCH_DIR / "data").mkdir(exist_ok=True)
    (BENCH_DIR / "data" / "concurrency-results.json").write_text(json.dumps(results, indent=2, default=str))
    bad = [key for key in ("portal_tickets_lost", "portal_tickets_duplicated", "replies_lost", "replies_duplicated",
                           "mails_lost", "mails_duplicated", "mail_replies_on_another_ticket", "reply_mails_missing",
                           "reply_mails_duplicated") if counts[key]]
    if server_errors or bad or any(left.values()) or run.errors:
        print(f"FAILED: {server_errors} server errors, problems: {bad}, left: {left}, client errors: "
              f"{len(run.errors)}", file=sys.stderr)
        print(f"Logs: {work / 'processes.log'}", file=sys.stderr)
        return 1
    if not args.keep:
        import shutil

        import sqlalchemy as sa

        admin = sa.create_engine(args.database_server.replace("postgresql://", "postgresql+psycopg://", 1),
                                 isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{sa.engine.make_url(url).database}" WITH (FORCE)'))
        admin.dispose()
        shutil.rmtree(work, ignore_errors=True)
    print("OK: nothing lost or duplicated, no 5xx, jobs drained")
    return 0


if __name__ == "__main__":
    sys.exit(main())
