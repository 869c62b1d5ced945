"""Benchmark of the service-level engine: the periodic job and the queue sorted by time left.

    .venv/bin/python bench/bench_sla.py                          # 100,000 open tickets, SQLite
    .venv/bin/python bench/bench_sla.py --tickets 20000
    .venv/bin/python bench/bench_sla.py --database-url postgresql://postgres@127.0.0.1/postgres

Seeding (bulk inserts, not timed as a target) builds a fresh database in a temporary
folder (SQLite) or a new database on the server (PostgreSQL, dropped at the end) with
``--tickets`` open tickets, each with three running clocks (first response, resolution,
periodic update), so 3 × N targets. Most are due days ahead; ``--due`` tickets have one
clock in the warning window and one breached, and ``--paused`` tickets are pending with
their clocks paused and long overdue (they sit inside the job's index range and are
skipped, the worst case for the range scan).

Then it times:

1. ``check_sla(now)``, first run: fires the warnings and breaches of the due tickets
   (through the plugin manager, with no listening plugin).
2. ``check_sla(now)`` again a minute later: the steady state, nothing new to fire.
   Target: < 5 s for 100,000 open tickets.
3. The queue's first page (``queue_query`` as an agent, 26 rows) for each sort, median of
   ``--repeat`` runs: ``sla`` must cost no more than the others. ``--proposed-index``
   first adds the expression index ``((sla_due_at IS NULL), sla_due_at, id)`` that lets
   the "sla" sort read its first page straight from an index, as "updated" does.

Figures are printed, with SQLite's (or PostgreSQL's) query plans for the job's select and
the sorted queue.
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
from helpdesk.models import SlaPolicy, SlaTarget, Ticket, User  # noqa: E402
from helpdesk.models.base import utcnow  # noqa: E402

CHUNK = 10_000
SORTS = ("updated", "oldest", "created", "priority", "sla")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=100_000, help="open tickets (default 100000)")
    parser.add_argument("--due", type=int, default=200, help="tickets with a warning and a breach due")
    parser.add_argument("--paused", type=int, default=10_000, help="pending tickets with paused, overdue clocks")
    parser.add_argument("--repeat", type=int, default=15, help="runs per queue sort")
    parser.add_argument("--database-url", default="", help="PostgreSQL server URL (default: SQLite file)")
    parser.add_argument("--proposed-index", action="store_true",
                        help="add the expression index proposed for the 'sla' sort before timing the queue")
    return parser.parse_args()


def make_app(args: argparse.Namespace, folder: str) -> tuple[object, callable]:
    """A migrated app on a fresh database; returns (app, cleanup)."""
    return migrated_app("sla", folder, args.database_url)


def seed(args: argparse.Namespace, now) -> dict[str, float]:
    began = time.perf_counter()
    customer = User(name="Bench Customer", email="customer@bench.test", role="customer")
    agent = User(name="Bench Agent", email="agent@bench.test", role="agent")
    policy = SlaPolicy(name="Bench", first_response_minutes=60, resolution_minutes=2880,
                       periodic_update_minutes=1440, warn_before_minutes=30)
    db.session.add_all([customer, agent, policy])
    db.session.commit()
    priorities = ("low", "normal", "high", "urgent")
    tickets, targets = [], []
    for n in range(1, args.tickets + 1):
        created = now - timedelta(minutes=n % 5000)
        paused = n <= args.paused
        due = n > args.tickets - args.due
        if due:  # first response 10 minutes ahead (warning window), resolution 5 minutes late
            clocks = {"first_response": now + timedelta(minutes=10), "resolution": now - timedelta(minutes=5),
                      "periodic_update": now + timedelta(hours=20)}
        elif paused:  # pending for weeks: clocks paused, due long ago
            clocks = {"first_response": now - timedelta(days=20), "resolution": now - timedelta(days=18),
                      "periodic_update": now - timedelta(days=19)}
        else:
            clocks = {"first_response": now + timedelta(hours=2, minutes=n % 997),
                      "resolution": now + timedelta(days=2, minutes=n % 991),
                      "periodic_update": now + timedelta(days=1, minutes=n % 983)}
        tickets.append({"id": n, "subject": f"Bench ticket {n}", "status": "pending" if paused else "open",
                        "priority": priorities[n % 4], "channel": "web", "customer_id": customer.id,
                        "created_at": created, "updated_at": created + timedelta(seconds=n % 600),
                        "message_count": 1, "sla_due_at": None if paused else min(clocks.values())})
        for kind, at in clocks.items():
            targets.append({"ticket_id": n, "policy_id": policy.id, "kind": kind, "cycle": 1,
                            "started_at": created, "due_at": at, "paused_at": now - timedelta(days=21) if paused
                            else None})
    with db.engine.begin() as conn:
        for start in range(0, len(tickets), CHUNK):
            conn.execute(Ticket.__table__.insert(), tickets[start:start + CHUNK])
        for start in range(0, len(targets), CHUNK):
            conn.execute(SlaTarget.__table__.insert(), targets[start:start + CHUNK])
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT setval('tickets_id_seq', (SELECT max(id) FROM tickets))"))
            conn.execute(sa.text("ANALYZE"))
        else:
            conn.execute(sa.text("ANALYZE"))
    return {"seed_s": time.perf_counter() - began, "targets": len(targets), "agent_id": agent.id}


def explain(sql: sa.Select) -> str:
    dialect = db.engine.dialect.name
    compiled = sql.compile(db.engine, compile_kwargs={"literal_binds": True})
    prefix = "EXPLAIN QUERY PLAN " if dialect == "sqlite" else "EXPLAIN "
    rows = db.session.execute(sa.text(prefix + str(compiled))).all()
    return "\n".join("    " + (str(r[-1]) if dialect == "sqlite" else str(r[0])) for r in rows)


def main() -> int:
    args = parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-sla-") as folder:
        app, cleanup = make_app(args, folder)
        try:
            return run(app, args)
        finally:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
            cleanup()


def run(app, args: argparse.Namespace) -> int:
    from helpdesk.sla.engine import candidates_query, check_sla
    from helpdesk.web.agent import queue_query

    now = utcnow().replace(microsecond=0)
    with app.app_context():
        info = seed(args, now)
        print(f"database: {db.engine.dialect.name}; {args.tickets:,} open tickets ({args.paused:,} pending with "
              f"paused overdue clocks, {args.due:,} with clocks due), {info['targets']:,} targets; "
              f"seeded in {info['seed_s']:.1f} s")
        print("job select plan:\n" + explain(candidates_query(now + timedelta(minutes=30))))
        if args.proposed_index:
            # The index proposed for the core (a migration): the "sla" sort's exact ORDER BY.
            db.session.execute(sa.text("CREATE INDEX ix_tickets_sla_sort ON tickets "
                                       "((sla_due_at IS NULL), sla_due_at, id)"))
            db.session.execute(sa.text("ANALYZE"))
            db.session.commit()
            print("with the proposed index ix_tickets_sla_sort ((sla_due_at IS NULL), sla_due_at, id)")

    results = {}
    with app.app_context():
        began = time.perf_counter()
        counts = check_sla(now=now)
        results["first"] = time.perf_counter() - began
        print(f"check_sla, first run:  {results['first'] * 1000:8.1f} ms  {counts}")
    with app.app_context():
        began = time.perf_counter()
        counts = check_sla(now=now + timedelta(minutes=1))
        results["steady"] = time.perf_counter() - began
        print(f"check_sla, next minute: {results['steady'] * 1000:7.1f} ms  {counts}")

    with app.app_context():
        agent = db.session.get(User, info["agent_id"])
        medians = {}
        for sort in SORTS:
            query, _active = queue_query(agent, {"sort": sort})
            times = []
            for _ in range(args.repeat):
                began = time.perf_counter()
                db.session.scalars(query.limit(26)).all()
                times.append(time.perf_counter() - began)
            medians[sort] = statistics.median(times) * 1000
            print(f"queue first page, sort={sort:<9} median {medians[sort]:7.1f} ms")
        query, _active = queue_query(agent, {"sort": "sla"})
        print("queue sort=sla plan:\n" + explain(query.limit(26)))
        query, _active = queue_query(agent, {"sort": "updated"})
        print("queue sort=updated plan:\n" + explain(query.limit(26)))

    worst_other = max(v for k, v in medians.items() if k != "sla")
    ok_job = max(results["first"], results["steady"]) < 5
    ok_sort = medians["sla"] <= max(worst_other, 1.0) * 1.2  # 20 % for timing noise
    print(f"\ncheck_sla over {args.tickets:,} open tickets: {max(results.values()):.3f} s "
          f"(target < 5 s): {'OK' if ok_job else 'MISSED'}")
    print(f"sort by time left {medians['sla']:.1f} ms vs the slowest other sort {worst_other:.1f} ms: "
          f"{'OK' if ok_sort else 'MISSED'}")
    return 0 if ok_job and ok_sort else 1


if __name__ == "__main__":
    raise SystemExit(main())
