"""Benchmark of the core reports (``/reports``) over many tickets.

    .venv/bin/python bench/bench_reports.py                          # 100,000 tickets, SQLite
    .venv/bin/python bench/bench_reports.py --tickets 20000
    .venv/bin/python bench/bench_reports.py --database-url postgresql://postgres@127.0.0.1/postgres

Seeding (bulk inserts, not timed as a target) builds a fresh database in a temporary folder
(SQLite) or a new database on the server (PostgreSQL, dropped at the end): ``--tickets``
tickets spread evenly over the last ``--days`` days, in 8 teams, assigned to 40 agents, on
3 channels and 4 priorities, a quarter with one or two of 20 tags; 80 % are solved (after
one to three public agent replies, 5 % of them reopened once); every ticket has a
first-response SLA target (most met, some breached).

Then it times:

1. ``helpdesk reports backfill`` (``facts.backfill``): every ticket's facts from scratch,
   the one-off cost after upgrading.
2. ``build_report`` as an admin for the last 30 days, the last 365 days, the last 30 days
   with a team filter, and as a team-scoped agent (one team) for 30 days: median of
   ``--repeat`` runs. Target: the default 30-day page well under a second at 100,000 tickets.
3. GET /reports (the whole page: queries, charts and template) for 30 days, median of runs.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_instance import migrated_app  # noqa: E402

from helpdesk.extensions import db  # noqa: E402
from helpdesk.models import AuditEvent, Message, SlaPolicy, SlaTarget, Tag, Team, Ticket, User  # noqa: E402
from helpdesk.models.base import utcnow  # noqa: E402
from helpdesk.models.tickets import ticket_tags  # noqa: E402
from helpdesk.models.users import team_members  # noqa: E402

CHUNK = 10_000


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=100_000, help="tickets (default 100000)")
    parser.add_argument("--days", type=int, default=365, help="spread over this many days (default 365)")
    parser.add_argument("--repeat", type=int, default=5, help="runs per timing")
    parser.add_argument("--database-url", default="", help="PostgreSQL server URL (default: SQLite file)")
    return parser.parse_args()


def make_app(args: argparse.Namespace, folder: str) -> tuple[object, callable]:
    """A migrated app on a fresh database; returns (app, cleanup)."""
    return migrated_app("reports", folder, args.database_url, WTF_CSRF_ENABLED=False)


def seed(args: argparse.Namespace, now) -> dict:
    began = time.perf_counter()
    customer = User(name="Bench Customer", email="customer@bench.test", role="customer")
    admin = User(name="Bench Admin", email="admin@bench.test", role="admin")
    teams = [Team(name=f"Team {i}") for i in range(8)]
    agents = [User(name=f"Agent {i}", email=f"agent{i}@bench.test", role="agent") for i in range(40)]
    scoped = User(name="Scoped Agent", email="scoped@bench.test", role="agent", team_scoped=True)
    tags = [Tag(name=f"tag-{i}") for i in range(20)]
    policy = SlaPolicy(name="Bench", first_response_minutes=240)
    db.session.add_all([customer, admin, scoped, policy, *teams, *agents, *tags])
    db.session.commit()
    db.session.execute(team_members.insert().values(team_id=teams[0].id, user_id=scoped.id))
    db.session.commit()
    span = args.days * 24 * 60
    channels, priorities = ("web", "email", "chat"), ("low", "normal", "high", "urgent")
    tickets, messages, audits, targets, tagging = [], [], [], [], []
    for n in range(1, args.tickets + 1):
        created = now - timedelta(minutes=span * n / args.tickets + 30)
        agent = agents[n % 40]
        first = created + timedelta(minutes=5 + n % 600)
        solved = n % 5 != 0
        resolved_at = created + timedelta(minutes=60 + (n * 37) % 4000) if solved else None
        if resolved_at and resolved_at > now:
            resolved_at = now
        tickets.append({"id": n, "subject": f"Bench ticket {n}", "status": "resolved" if solved else "open",
                        "priority": priorities[n % 4], "priority_rank": n % 4, "channel": channels[n % 3],
                        "customer_id": customer.id, "assignee_id": agent.id, "team_id": teams[n % 8].id,
                        "created_at": created, "updated_at": resolved_at or first, "first_response_at": first,
                        "resolved_at": resolved_at, "message_count": 2})
        for _reply in range(1 + n % 3 if solved else 1):
            messages.append({"ticket_id": n, "author_id": agent.id, "internal": False, "body": "reply",
                             "channel": "web", "needs_review": False, "meta": {}, "created_at": first})
        if solved and n % 20 == 1:
            audits.append({"ticket_id": n, "action": "changed", "field": "status", "old_value": "resolved",
                           "new_value": "open", "created_at": first})
        due = created + timedelta(minutes=240)
        targets.append({"ticket_id": n, "policy_id": policy.id, "kind": "first_response", "cycle": 1,
                        "started_at": created, "due_at": due, "met_at": first,
                        "breached_at": due if first > due else None})
        if n % 4 == 0:
            tagging.append({"ticket_id": n, "tag_id": tags[n % 20].id})
            if n % 8 == 0:
                tagging.append({"ticket_id": n, "tag_id": tags[(n // 8) % 20 if (n // 8) % 20 != n % 20 else 0].id})
    with db.engine.begin() as conn:
        for table, rows in ((Ticket.__table__, tickets), (Message.__table__, messages),
                            (AuditEvent.__table__, audits), (SlaTarget.__table__, targets), (ticket_tags, tagging)):
            seen = set()
            if table is ticket_tags:
                rows = [r for r in rows if (r["ticket_id"], r["tag_id"]) not in seen and not seen.add(
                    (r["ticket_id"], r["tag_id"]))]
            for start in range(0, len(rows), CHUNK):
                conn.execute(table.insert(), rows[start:start + CHUNK])
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT setval('tickets_id_seq', (SELECT max(id) FROM tickets))"))
    return {"seed_s": time.perf_counter() - began, "admin_id": admin.id, "scoped_id": scoped.id,
            "team_id": teams[3].id, "messages": len(messages)}


def median_ms(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        fn()
        times.append(time.perf_counter() - began)
    return statistics.median(times) * 1000


def main() -> int:
    args = parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-reports-") as folder:
        app, cleanup = make_app(args, folder)
        try:
            return run(app, args)
        finally:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
            cleanup()


def run(app, args: argparse.Namespace) -> int:
    from helpdesk.reports import facts
    from helpdesk.reports.filters import parse_filters
    from helpdesk.reports.metrics import build_report
    from helpdesk.sessions import open_session

    now = utcnow().replace(microsecond=0)
    with app.app_context():
        info = seed(args, now)
        print(f"database: {db.engine.dialect.name}; {args.tickets:,} tickets over {args.days} days, "
              f"{info['messages']:,} replies; seeded in {info['seed_s']:.1f} s")
        began = time.perf_counter()
        done = facts.backfill()
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()
        print(f"backfill of {done:,} tickets' facts: {time.perf_counter() - began:6.1f} s")

    with app.app_context():
        admin, scoped = db.session.get(User, info["admin_id"]), db.session.get(User, info["scoped_id"])
        cases = {
            "admin, last 30 days": (admin, {}),
            "admin, last 365 days": (admin, {"start": (now - timedelta(days=364)).date().isoformat()}),
            "admin, 30 days, one team": (admin, {"team": str(info["team_id"])}),
            "admin, 30 days, one tag": (admin, {"tag": "tag-3"}),
            "team-scoped agent, 30 days": (scoped, {}),
        }
        for label, (user, query) in cases.items():
            filters, _ = parse_filters(query, user)
            report = build_report(user, filters)
            ms = median_ms(lambda user=user, filters=filters: build_report(user, filters), args.repeat)
            print(f"build_report, {label:28s} {ms:8.1f} ms  (created {report.total.created:,}, "
                  f"solved {report.total.solved:,}, backlog at start {report.backlog_start:,})")

    client = app.test_client()
    with app.app_context():
        user_id = open_session(db.session.get(User, info["admin_id"]), user_agent="bench", address="127.0.0.1")
    with client.session_transaction() as session:
        session["_user_id"] = user_id
        session["_fresh"] = True
    assert client.get("/reports").status_code == 200
    ms = median_ms(lambda: client.get("/reports"), args.repeat)
    print(f"GET /reports (30 days, whole page):        {ms:8.1f} ms")
    ms = median_ms(lambda: client.get("/reports/team.csv"), args.repeat)
    print(f"GET /reports/team.csv (30 days):           {ms:8.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
