"""Benchmark of the surveys plugin: sending invitations with the real worker, and the reports page.

    .venv/bin/python bench/bench_surveys.py                      # 10,000 invitations, 100,000 responses
    .venv/bin/python bench/bench_surveys.py --invitations 2000 --responses 20000
    .venv/bin/python bench/bench_surveys.py --skip-send --database-url postgresql://postgres@127.0.0.1/postgres

1. Schedule and send (SQLite, huey on SQLite, real ``helpdesk worker`` processes): a fresh
   instance with ``--invitations`` active customers, each with a recent ticket (bulk inserts,
   not timed). First, in-process, the cost of the resolution hook: 250 tickets resolved
   through ``services.update_ticket`` with the plugin enabled (each schedules a CSAT
   invitation) and 250 with it disabled. Then timed: the relationship job schedules an NPS
   invitation for every active customer (``schedule_relationship``), the plugin's send job is
   enqueued once per worker process, and ``--processes`` × ``helpdesk worker --workers N``
   run it (the claims keep the runs apart): each claims due invitations, renders each mail
   into the outbox, and the core's ``deliver_mail`` jobs hand them to an SMTP server
   (aiosmtpd in its own process) until it has received every one. Target: < 60 s for 10,000.
2. The reports page (``GET /surveys/reports``, signed in as an agent, Flask test client,
   in-process) over ``--responses`` responses and about 1.4 × as many invitations, all in the
   page's default period (the last 90 days), 20 agents, 5 teams, 4 channels. Warm-up, then
   the median of ``--repeat`` requests. Target: < 200 ms for 100,000. Also on PostgreSQL with
   ``--database-url``. The site is in ``--timezone`` (Europe/Berlin): the page counts per local
   day, which costs a second read of each day's later part (none on a site in UTC).
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from bench_instance import migrated_app  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHUNK = 5_000


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--invitations", type=int, default=10_000, help="invitations to schedule and send")
    parser.add_argument("--responses", type=int, default=100_000, help="responses for the reports page")
    parser.add_argument("--workers", type=int, default=4, help="worker threads (helpdesk worker --workers)")
    parser.add_argument("--processes", type=int, default=1, help="helpdesk worker processes")
    parser.add_argument("--repeat", type=int, default=15, help="timed requests of the reports page")
    parser.add_argument("--database-url", default="", help="PostgreSQL server URL for the reports part")
    parser.add_argument("--timezone", default="Europe/Berlin", help="the site's time zone for the reports page")
    parser.add_argument("--skip-send", action="store_true", help="only the reports page")
    parser.add_argument("--skip-report", action="store_true", help="only the sending")
    return parser.parse_args()


# ----------------------------------------------------------------- SMTP sink


def _smtp_process(port: int, counter, ready) -> None:
    import asyncio

    from aiosmtpd.controller import Controller

    class Counter:
        async def handle_DATA(self, server, session, envelope):
            with counter.get_lock():
                counter.value += 1
            return "250 OK"

    controller = Controller(Counter(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    try:
        asyncio.run(asyncio.sleep(3600))
    finally:
        controller.stop()


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ------------------------------------------------------------ 1. sending


def seed_customers(n: int, now) -> list[int]:
    from helpdesk.extensions import db
    from helpdesk.models import ContactIdentity, Ticket, User

    users = [{"id": i, "name": f"Customer {i}", "email": f"c{i}@bench.test", "role": "customer", "active": True,
              "available": True, "tags": "", "session_version": 1, "created_at": now} for i in range(2, n + 2)]
    identities = [{"user_id": u["id"], "kind": "email", "value": u["email"], "verified": True, "bouncing": False,
                   "created_at": now} for u in users]
    tickets = [{"id": u["id"], "subject": f"Bench ticket {u['id']}", "status": "open", "priority": "normal",
                "priority_rank": 1, "channel": "web", "customer_id": u["id"], "assignee_id": 1,
                "created_at": now - timedelta(hours=2), "updated_at": now - timedelta(hours=1), "message_count": 1}
               for u in users]
    messages = [{"ticket_id": t["id"], "author_id": t["customer_id"], "internal": False, "body": "Help",
                 "channel": "web", "needs_review": False, "meta": {}, "created_at": t["created_at"]} for t in tickets]
    with db.engine.begin() as conn:
        conn.execute(User.__table__.insert(), [{"id": 1, "name": "Bench Agent", "email": "agent@bench.test",
                                                "role": "agent", "active": True, "available": True, "tags": "",
                                                "session_version": 1, "created_at": now}])
        for table, rows in ((User, users), (ContactIdentity, identities), (Ticket, tickets)):
            for start in range(0, len(rows), CHUNK):
                conn.execute(table.__table__.insert(), rows[start:start + CHUNK])
        from helpdesk.models import Message

        for start in range(0, len(messages), CHUNK):
            conn.execute(Message.__table__.insert(), messages[start:start + CHUNK])
    return [t["id"] for t in tickets]


HOOK_SAMPLE = 250


def time_resolution_hook(ticket_ids: list[int]) -> dict[str, float]:
    """ms per ``update_ticket(status="resolved")`` with the plugin enabled, then disabled."""
    from helpdesk import services
    from helpdesk.extensions import db
    from helpdesk.models import Ticket, User
    from helpdesk.plugin_manager import manager

    out = {}
    half = len(ticket_ids) // 2
    for label, enabled, chunk in (("enabled", True, ticket_ids[:half]), ("disabled", False, ticket_ids[half:])):
        manager().set_enabled("surveys", enabled)
        start = time.perf_counter()
        for ticket_id in chunk:
            services.update_ticket(db.session.get(Ticket, ticket_id), db.session.get(User, 1), status="resolved")
            db.session.expunge_all()  # keep the session small, as separate requests would
        out[label] = (time.perf_counter() - start) / len(chunk) * 1000
    manager().set_enabled("surveys", True)
    return out


def bench_send(args: argparse.Namespace) -> dict:
    import flask_migrate

    folder = tempfile.mkdtemp(prefix="bench-surveys-")
    port = free_port()
    env = {"HELPDESK_INSTANCE_PATH": folder, "HELPDESK_SMTP_HOST": "127.0.0.1", "HELPDESK_SMTP_PORT": str(port),
           "HELPDESK_EXTERNAL_URL": "https://support.bench.test", "HELPDESK_MAIL_FROM": "help@bench.test",
           "HELPDESK_PLUGIN_SURVEYS_QUIET_HOURS_START": "0", "HELPDESK_PLUGIN_SURVEYS_QUIET_HOURS_END": "0",
           "HELPDESK_JOBS_IMMEDIATE": "0"}
    os.environ.update(env)
    counter, ready = multiprocessing.Value("i", 0), multiprocessing.Event()
    sink = multiprocessing.Process(target=_smtp_process, args=(port, counter, ready), daemon=True)
    sink.start()
    ready.wait(10)

    from helpdesk import create_app
    from helpdesk.extensions import db
    from helpdesk.models import Ticket
    from helpdesk.models.base import utcnow

    app = create_app()
    workers: list[subprocess.Popen] = []
    try:
        with app.app_context():
            flask_migrate.upgrade(revision="heads")
            from helpdesk_surveys.jobs import send_due_invitations
            from helpdesk_surveys.models import SurveyInvitation
            from helpdesk_surveys.scheduling import schedule_relationship

            now = utcnow()
            began = time.perf_counter()
            ids = seed_customers(args.invitations + 2 * HOOK_SAMPLE, now)
            # The customers used to time the resolution hook are not active (no relationship survey).
            hook_ids, ids = ids[-2 * HOOK_SAMPLE:], ids[:-2 * HOOK_SAMPLE]
            db.session.execute(sa.update(Ticket).where(Ticket.id.in_(hook_ids))
                               .values(created_at=now - timedelta(days=400)))
            db.session.commit()
            print(f"[1] seeded {len(ids) + len(hook_ids):,} customers with an open ticket in "
                  f"{time.perf_counter() - began:.1f} s (SQLite, {folder})")
            hook = time_resolution_hook(hook_ids)
            print(f"    resolving a ticket (services.update_ticket, in-process): {hook['enabled']:.2f} ms with the "
                  f"plugin enabled (it schedules the CSAT invitation), {hook['disabled']:.2f} ms disabled: the hook "
                  f"costs {hook['enabled'] - hook['disabled']:.2f} ms")

            workers = [subprocess.Popen([str(ROOT / ".venv" / "bin" / "helpdesk"), "worker", "--workers",
                                         str(args.workers)], env={**os.environ, **env},
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                       for _ in range(args.processes)]
            time.sleep(2)  # the consumers start; not timed

            start = time.perf_counter()
            count = schedule_relationship(utcnow())
            scheduled = time.perf_counter() - start
            print(f"    scheduling: {count:,} relationship (NPS) invitations for the active customers in "
                  f"{scheduled:.2f} s")
            send_start = time.perf_counter()
            for _ in range(args.processes):  # one send job per worker process: the claims keep them apart
                send_due_invitations()
            last, stalled = -1, time.perf_counter()
            while counter.value < len(ids):
                time.sleep(0.2)
                if counter.value != last:
                    last, stalled = counter.value, time.perf_counter()
                if time.perf_counter() - stalled > 90:
                    print(f"    stalled at {counter.value:,} mails")
                    break
            sent_s = time.perf_counter() - send_start
            db.session.expire_all()
            statuses = dict(db.session.execute(sa.select(SurveyInvitation.status, sa.func.count())
                                               .group_by(SurveyInvitation.status)).all())
            print(f"    sending: {counter.value:,} mails received by the SMTP server {sent_s:.1f} s after the send "
                  f"job was enqueued ({counter.value / sent_s:.0f}/s; {args.processes} worker process(es) with "
                  f"{args.workers} threads); "
                  f"invitations: {statuses}")
            total = scheduled + sent_s
            ok = counter.value >= len(ids) and total < 60
            print(f"    schedule + send {len(ids):,} invitations: {total:.1f} s (target < 60 s): "
                  f"{'OK' if ok else 'MISSED'}")
            db.session.remove()
            db.engine.dispose()
            return {"ok": ok, "schedule_s": scheduled, "send_s": sent_s, "total_s": total}
    finally:
        for worker in workers:
            worker.terminate()
            worker.wait(10)
        sink.terminate()


# ---------------------------------------------------------------- 2. reports


def report_app(args: argparse.Namespace, folder: str):
    """A migrated app on a fresh database; returns (app, cleanup)."""
    return migrated_app("surveys", folder, args.database_url, WTF_CSRF_ENABLED=False)


def seed_responses(n: int, now) -> int:
    from helpdesk_surveys.models import SurveyInvitation, SurveyResponse

    from helpdesk.extensions import db
    from helpdesk.models import Team, User

    rng = random.Random(42)
    teams = [{"id": t, "name": f"Team {t}", "description": "", "assignment_strategy": "manual", "rr_counter": 0}
             for t in range(1, 6)]
    agents = [{"id": a, "name": f"Agent {a}", "email": f"agent{a}@bench.test", "role": "agent", "active": True,
               "available": True, "tags": "", "session_version": 1, "created_at": now} for a in range(1, 21)]
    customer = {"id": 100, "name": "Bench Customer", "email": "customer@bench.test", "role": "customer",
                "active": True, "available": True, "tags": "", "session_version": 1, "created_at": now}
    channels = ["web", "email", "chat", "sms"]
    invitations, responses = [], []
    inv_id = 0
    for i in range(n):
        agent = rng.randint(1, 20)
        when = now - timedelta(seconds=rng.randint(0, 89 * 86400))
        kind = "csat" if rng.random() < 0.7 else "nps"
        score = rng.choice([1, 2, 3, 4, 4, 5, 5, 5]) if kind == "csat" else rng.randint(0, 10)
        inv_id += 1
        common = {"agent_id": agent, "team_id": (agent - 1) // 4 + 1, "channel": channels[agent % 4]}
        invitation = {"kind": kind, "purpose": "resolution", "customer_id": 100, "status": "sent", "send_after": when,
                      "sent_at": when, "sent_day": when.date(), "created_at": when, **common}
        invitations.append({**invitation, "id": inv_id, "answered_at": when})
        responses.append({"invitation_id": inv_id, "kind": kind, "score": score, "comment": "Fine" if i % 50 == 0
                          else "", "customer_id": 100, "source": "survey", "created_at": when, "day": when.date(),
                          "updated_at": when, **common})
        if i % 5 < 2:  # unanswered invitations: a response rate of about 70 %
            inv_id += 1
            invitations.append({**invitation, "id": inv_id, "answered_at": None})
    with db.engine.begin() as conn:
        conn.execute(Team.__table__.insert(), teams)
        conn.execute(User.__table__.insert(), [*agents, customer])
        for table, rows in ((SurveyInvitation, invitations), (SurveyResponse, responses)):
            for start in range(0, len(rows), CHUNK):
                conn.execute(table.__table__.insert(), rows[start:start + CHUNK])
        conn.execute(sa.text("ANALYZE"))
    return len(invitations)


def bench_report(args: argparse.Namespace) -> dict:
    from helpdesk.extensions import db
    from helpdesk.models.base import utcnow

    with tempfile.TemporaryDirectory(prefix="bench-surveys-report-") as folder:
        app, cleanup = report_app(args, folder)
        try:
            with app.app_context():
                began = time.perf_counter()
                invitations = seed_responses(args.responses, utcnow())
                from helpdesk.services.settings import save_site_settings

                save_site_settings({"timezone": args.timezone})
                db.session.commit()
                print(f"\n[2] {db.engine.dialect.name}: {args.responses:,} responses and {invitations:,} invitations "
                      f"in the last 90 days, seeded in {time.perf_counter() - began:.1f} s; site in {args.timezone}")
                from helpdesk.models import User
                from helpdesk.sessions import open_session

                client = app.test_client()
                user_id = open_session(db.session.get(User, 1), user_agent="bench", address="127.0.0.1")
                with client.session_transaction() as session:
                    session["_user_id"] = user_id
                    session["_fresh"] = True
                for _ in range(3):
                    assert client.get("/surveys/reports").status_code == 200
                times = []
                for _ in range(args.repeat):
                    start = time.perf_counter()
                    page = client.get("/surveys/reports")
                    times.append(time.perf_counter() - start)
                    assert page.status_code == 200
                median = statistics.median(times) * 1000
                p95 = sorted(times)[max(0, int(len(times) * 0.95) - 1)] * 1000
                weekly = median
                start = time.perf_counter()
                assert client.get("/surveys/reports?bucket=month").status_code == 200
                monthly = (time.perf_counter() - start) * 1000
                start = time.perf_counter()
                csv_page = client.get("/surveys/reports.csv?what=responses")
                csv_rows = csv_page.get_data(as_text=True).count("\n") - 1
                csv_s = time.perf_counter() - start
                ok = median < 200
                print(f"    GET /surveys/reports (week buckets): median {weekly:.1f} ms, p95 {p95:.1f} ms over "
                      f"{args.repeat} requests; by month: {monthly:.1f} ms (target < 200 ms): "
                      f"{'OK' if ok else 'MISSED'}")
                print(f"    CSV export of {csv_rows:,} answers: {csv_s:.2f} s")
                db.session.remove()
                db.engine.dispose()
                return {"ok": ok, "median_ms": median}
        finally:
            cleanup()


def main() -> int:
    args = parse_args()
    results = []
    if not args.skip_send:
        results.append(bench_send(args))
    if not args.skip_report:
        results.append(bench_report(args))
    return 0 if all(r["ok"] for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
