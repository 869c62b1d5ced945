"""Server CPU per operation: Helpdesk (every bundled plugin enabled) against the "limit" app.

    .venv/bin/python bench/run.py --tickets 20000          # once: builds bench/data/20000
    .venv/bin/python bench/bench_cpu.py --tickets 20000    # CPU per operation, statements per page
    .venv/bin/python bench/bench_cpu.py --tickets 20000 --memory   # also master + 2 gunicorn workers
    .venv/bin/python bench/bench_cpu.py --tickets 20000 --profile ticket   # where the time goes

Both apps run in this process on the same SQLite file, through Flask's test client, and
take turns request by request (ours, limit, ours, limit…) so a busy moment of this shared
machine hits both alike. The figure is the median CPU time (``time.process_time``) of one
request: the server's work plus the test client's (the same small amount for both).
``bench/limit_app.py`` is the limit: hand-written SQL, one template per page, no plugins.

Operations: ``queue`` (first page of active tickets), ``search`` (``q=refund``, a common
word), ``ticket`` (a ticket with 5 or more messages, kudos, a complaint flag and a survey
answer when the data has one), ``create`` (GET the form, POST it: a new ticket).
"""
from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from sqlalchemy import event, select, text

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

from limit_app import create_limit_app  # noqa: E402
from run import AGENT_EMAIL, CUSTOMER_EMAIL, free_port, session_cookie, sign_in  # noqa: E402

TARGETS = {"queue": 1.5, "search": 1.5, "ticket": 1.5, "create": 2.0}
TARGET_MEMORY_MIB = 150


def our_app(instance: Path) -> Any:
    os.environ["HELPDESK_INSTANCE_PATH"] = str(instance)
    os.environ.setdefault("HELPDESK_LOG_LEVEL", "WARNING")
    from helpdesk import create_app
    from helpdesk.extensions import db
    from helpdesk.models import PluginState
    from helpdesk.plugin_manager import manager

    app = create_app({"RATELIMIT_ENABLED": False})
    with app.app_context():
        for name in manager(app).plugins:  # every installed plugin on
            state = db.session.get(PluginState, name) or PluginState(name=name, settings={})
            state.enabled = True
            db.session.add(state)
        db.session.commit()
    return app


def pick_ticket(app: Any) -> int:
    """A ticket with a conversation and, if there is one, every plugin's data on it."""
    from helpdesk.extensions import db

    with app.app_context():
        for query in (
            "SELECT t.id FROM tickets t WHERE t.message_count >= 5 AND t.merged_into_id IS NULL "
            "AND EXISTS (SELECT 1 FROM recognition_kudos k WHERE k.ticket_id = t.id) "
            "AND EXISTS (SELECT 1 FROM complaints_flags f WHERE f.ticket_id = t.id) "
            "AND EXISTS (SELECT 1 FROM surveys_responses s WHERE s.ticket_id = t.id) ORDER BY t.id LIMIT 1",
            "SELECT t.id FROM tickets t WHERE t.message_count >= 5 AND t.merged_into_id IS NULL "
            "AND EXISTS (SELECT 1 FROM complaints_flags f WHERE f.ticket_id = t.id) ORDER BY t.id LIMIT 1",
            "SELECT id FROM tickets WHERE message_count >= 5 AND merged_into_id IS NULL ORDER BY id LIMIT 1",
        ):
            try:
                found = db.session.scalar(text(query))
            except Exception:
                db.session.rollback()
                continue
            if found:
                return int(found)
    raise SystemExit("no ticket with 5 messages in this instance")


class Client:
    """One app's client for the four operations, counting its SQL statements."""

    def __init__(self, name: str, app: Any, engine: Any, pages: dict[str, str], create: tuple[str, str],
                 form: dict[str, str]) -> None:
        self.name, self.app, self.pages, self.create_urls, self.form = name, app, pages, create, form
        self.client = app.test_client()
        self.poster = app.test_client()
        self.statements = 0
        event.listen(engine, "before_cursor_execute", self._count)

    def _count(self, *_args: Any) -> None:
        self.statements += 1

    def run(self, op: str) -> tuple[float, int]:
        before, start = self.statements, time.process_time()
        if op == "create":
            page = self.poster.get(self.create_urls[0])
            assert page.status_code == 200, (self.name, op, page.status_code)
            done = self.poster.post(self.create_urls[1], data=self.form)
            assert done.status_code == 302, (self.name, op, done.status_code, done.text[:500])
        else:
            page = self.client.get(self.pages[op])
            assert page.status_code == 200, (self.name, op, page.status_code)
        return time.process_time() - start, self.statements - before


def build_clients(instance: Path) -> tuple[Client, Client, int]:
    from helpdesk.extensions import db
    from helpdesk.models import User

    app = our_app(instance)
    ticket_id = pick_ticket(app)
    with app.app_context():
        engine = db.engine
        agent = db.session.scalar(select(User).where(User.email == AGENT_EMAIL))
        customer = db.session.scalar(select(User).where(User.email == CUSTOMER_EMAIL))
        agent_id, customer_id = agent.id, customer.id
        ours = Client("ours", app, engine, {"queue": "/queue", "search": "/queue?q=refund",
                                            "ticket": f"/tickets/HD-{ticket_id}"},
                      ("/portal/new", "/portal/new"), {})
        sign_in(ours.client, agent)
        token = sign_in(ours.poster, customer)
    ours.form = {"csrf_token": token, "subject": "Benchmark: printer on fire",
                 "body": "The printer in room 4 is smoking since this morning. Order 12345."}
    limit_app = create_limit_app(app.config["SQLALCHEMY_DATABASE_URI"])
    limit = Client("limit", limit_app, limit_app.extensions["limit_engine"],
                   {"queue": "/queue", "search": "/queue?q=refund", "ticket": f"/tickets/{ticket_id}"},
                   ("/new", "/new"), dict(ours.form))
    with limit.client.session_transaction() as session:
        session["uid"] = agent_id
    with limit.poster.session_transaction() as session:
        session["uid"] = customer_id
    return ours, limit, ticket_id


def measure(ours: Client, limit: Client, requests: int, warmup: int) -> dict[str, dict]:
    results = {}
    for op in ("queue", "search", "ticket", "create"):
        for _ in range(warmup):
            ours.run(op), limit.run(op)
        samples: dict[str, list[float]] = {"ours": [], "limit": []}
        sql: dict[str, int] = {}
        for _ in range(requests if op != "create" else max(requests // 2, 10)):
            for client in (ours, limit):
                cpu, statements = client.run(op)
                samples[client.name].append(cpu)
                sql[client.name] = statements
        row = {name: round(statistics.median(s) * 1000, 2) for name, s in samples.items()}
        row["ratio"] = round(row["ours"] / row["limit"], 2)
        row["sql_ours"], row["sql_limit"] = sql["ours"], sql["limit"]
        results[op] = row
        print(f"  {op:7} ours {row['ours']:6.2f} ms  limit {row['limit']:6.2f} ms  = {row['ratio']:4.2f}× "
              f"(target ≤ {TARGETS[op]}×)  SQL {row['sql_ours']} vs {row['sql_limit']}", flush=True)
    return results


def profile(ours: Client, op: str, requests: int) -> None:
    for _ in range(5):
        ours.run(op)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(requests):
        ours.run(op)
    profiler.disable()
    stats = pstats.Stats(profiler)
    stats.sort_stats("cumulative").print_stats(45)
    stats.sort_stats("tottime").print_stats(25)


# ------------------------------------------------------------------ memory


def _tree(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [pid] + [int(c) for c in children]


def _mib(pid: int, field: str) -> float:
    path = Path(f"/proc/{pid}/smaps_rollup")
    for line in path.read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def memory(instance: Path, ours: Client, limit: Client, preload: bool = False) -> dict[str, dict]:
    """Master + 2 sync gunicorn workers for each app, after each worker served every page."""
    gunicorn = Path(sys.executable).with_name("gunicorn")
    if not gunicorn.exists():
        print("  gunicorn is not installed in this venv: `pip install gunicorn` (for the benchmark only)")
        return {}
    uri = ours.app.config["SQLALCHEMY_DATABASE_URI"]
    out = {}
    our_cookie = session_cookie(ours.app, AGENT_EMAIL)[0]
    for name, target, pages in (
            ("ours", "helpdesk:create_app()", ours.pages),
            ("limit", f"limit_app:create_limit_app({uri!r})", limit.pages)):
        port = free_port()
        server = subprocess.Popen([str(gunicorn), "--workers", "2", "--worker-class", "sync", "--bind",
                                   f"127.0.0.1:{port}", "--chdir", str(BENCH_DIR),
                                   *(["--preload"] if preload else []), target],
                                  env={**os.environ, "HELPDESK_INSTANCE_PATH": str(instance),
                                       "HELPDESK_RATELIMIT_ENABLED": "false"},
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            cookie = our_cookie if name == "ours" else _limit_cookie(limit)
            for _ in range(60):
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/queue", timeout=1)
                    break
                except Exception:
                    time.sleep(0.5)
            for _ in range(20):  # both workers see every page
                for url in pages.values():
                    request = urllib.request.Request(f"http://127.0.0.1:{port}{url}", headers={"Cookie": cookie})
                    with urllib.request.urlopen(request, timeout=30) as response:
                        response.read()
            pids = _tree(server.pid)
            out[name] = {"processes": len(pids), "rss_mib": round(sum(_mib(p, "Rss") for p in pids), 1),
                         "pss_mib": round(sum(_mib(p, "Pss") for p in pids), 1)}
            print(f"  {name:5} {len(pids)} processes: RSS {out[name]['rss_mib']} MiB, PSS {out[name]['pss_mib']} MiB",
                  flush=True)
        finally:
            server.terminate()
            server.wait(timeout=30)
    return out


def _limit_cookie(limit: Client) -> str:
    cookie = limit.client.get_cookie("session")
    assert cookie is not None
    return f"session={cookie.value}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=20000)
    parser.add_argument("--instance", type=Path)
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--memory", action="store_true", help="also master + 2 gunicorn workers for each app")
    parser.add_argument("--preload", action="store_true", help="with --memory: gunicorn --preload (the app is "
                        "imported once in the master and shared by the forked workers)")
    parser.add_argument("--profile", choices=("queue", "search", "ticket", "create"))
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args(argv)
    instance = (args.instance or BENCH_DIR / "data" / str(args.tickets)).resolve()
    if not (instance / "helpdesk.sqlite3").exists():
        raise SystemExit(f"{instance} has no database: run `bench/run.py --tickets {args.tickets}` first")
    ours, limit, ticket_id = build_clients(instance)
    if args.profile:
        profile(ours, args.profile, args.requests)
        return 0
    print(f"CPU per operation, {args.requests} interleaved requests each (ticket HD-{ticket_id}):")
    results: dict[str, Any] = {"ops": measure(ours, limit, args.requests, args.warmup), "ticket": ticket_id}
    if args.memory:
        print("Memory, master + 2 sync gunicorn workers:")
        results["memory"] = memory(instance, ours, limit, preload=args.preload)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    missed = [op for op, row in results["ops"].items() if row["ratio"] > TARGETS[op]]
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
