"""Benchmark of the coaching plugin's review queue ("What to review") over many solved tickets.

    .venv/bin/python bench/bench_coaching.py                        # 10,000 solved tickets in the window
    .venv/bin/python bench/bench_coaching.py --tickets 10000 --database-url postgresql://postgres@127.0.0.1/postgres

A fresh instance (SQLite, or a throwaway PostgreSQL database with ``--database-url``) with
40 agents in 4 teams (each with a lead), 1,000 customers and ``--tickets`` tickets solved in
the last 30 days (bulk inserts, not timed): 10 % rated (CSAT 1–5, through the plugin's own
table as the feedback hook fills it), 5 % tagged ``complaint``, 2 % reopened, a quarter
taking longer than 72 hours. Timed, in-process with the Flask test client: ``GET
/coaching/suggestions`` as the admin (every agent) and as one team's lead (10 agents), after
3 warm-up requests, the median of ``--repeat``; and the statements each request runs.
Target: median < 500 ms for 10,000 solved tickets in the window (a desk of 40 agents solving
15 tickets a day each).
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from bench_instance import migrated_app  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=10_000, help="solved tickets in the window")
    parser.add_argument("--repeat", type=int, default=15, help="timed requests per page")
    parser.add_argument("--database-url", default="", help="PostgreSQL server URL (default: SQLite)")
    return parser.parse_args()


def make_app(args: argparse.Namespace, folder: str):
    """A migrated app on a fresh database; returns (app, cleanup)."""
    return migrated_app("coaching", folder, args.database_url, WTF_CSRF_ENABLED=False)


def seed(n: int) -> tuple[int, int]:
    """Returns (admin id, a lead's id)."""
    from helpdesk_coaching.models import Rating, Reopen

    from helpdesk.extensions import db
    from helpdesk.models import Tag, Team, Ticket, User
    from helpdesk.models.base import utcnow
    from helpdesk.models.tickets import ticket_tags
    from helpdesk.models.users import team_members

    rng = random.Random(25)
    now = utcnow()
    admin = User(name="Ada Admin", email="admin@bench.test", role="admin")
    db.session.add(admin)
    agents = [User(name=f"Agent {i}", email=f"agent{i}@bench.test", role="agent") for i in range(40)]
    customers = [User(name=f"Customer {i}", email=f"c{i}@bench.test", role="customer") for i in range(1000)]
    db.session.add_all(agents + customers)
    db.session.flush()
    teams = [Team(name=f"Team {t}", lead_id=agents[t * 10].id) for t in range(4)]
    db.session.add_all(teams)
    tag = Tag(name="complaint")
    db.session.add(tag)
    db.session.flush()
    db.session.execute(team_members.insert(), [{"team_id": teams[i // 10].id, "user_id": a.id}
                                               for i, a in enumerate(agents)])
    rows = []
    for i in range(n):
        solved = now - timedelta(minutes=rng.randint(1, 29 * 24 * 60))
        took = timedelta(hours=rng.choice([1, 4, 20, 30, 100]))
        agent = agents[i % 40]
        rows.append({"subject": f"Problem {i}", "status": rng.choice(["resolved", "closed"]), "priority": "normal",
                     "priority_rank": 1, "channel": "web", "customer_id": customers[i % 1000].id,
                     "assignee_id": agent.id, "team_id": teams[(i % 40) // 10].id, "message_count": 2, "version": 3,
                     "created_at": solved - took, "updated_at": solved, "resolved_at": solved})
    for start in range(0, n, 5000):
        db.session.execute(sa.insert(Ticket), rows[start:start + 5000])
    ids = list(db.session.scalars(sa.select(Ticket.id).order_by(Ticket.id)))
    db.session.execute(sa.insert(Rating), [{"ticket_id": t, "agent_id": agents[(t - ids[0]) % 40].id,
                                            "score": rng.randint(1, 5), "created_at": now}
                                           for t in ids if rng.random() < 0.10])
    db.session.execute(ticket_tags.insert(), [{"ticket_id": t, "tag_id": tag.id} for t in ids if rng.random() < 0.05])
    db.session.execute(sa.insert(Reopen), [{"ticket_id": t, "created_at": now} for t in ids if rng.random() < 0.02])
    db.session.commit()
    if db.engine.dialect.name == "postgresql":  # what autovacuum does soon after a bulk load
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("ANALYZE"))
    return admin.id, agents[0].id


def timed(client, url: str, repeat: int, engine) -> tuple[float, float, int]:
    for _ in range(3):
        assert client.get(url).status_code == 200
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        page = client.get(url)
        times.append(time.perf_counter() - start)
        assert page.status_code == 200
    box = [0]

    def count(*_args):
        box[0] += 1

    sa.event.listen(engine, "before_cursor_execute", count)
    client.get(url)
    sa.event.remove(engine, "before_cursor_execute", count)
    return statistics.median(times) * 1000, sorted(times)[max(0, int(len(times) * 0.95) - 1)] * 1000, box[0]


def main() -> int:
    args = parse_args()
    from helpdesk.extensions import db
    from helpdesk.models import User
    from helpdesk.sessions import open_session

    with tempfile.TemporaryDirectory(prefix="bench-coaching-") as folder:
        app, cleanup = make_app(args, folder)
        try:
            with app.app_context():
                began = time.perf_counter()
                admin_id, lead_id = seed(args.tickets)
                print(f"{db.engine.dialect.name}: {args.tickets:,} solved tickets seeded in "
                      f"{time.perf_counter() - began:.1f} s")
                ok = True
                for who, user_id in (("admin (40 agents)", admin_id), ("lead (10 agents)", lead_id)):
                    client = app.test_client()
                    session_id = open_session(db.session.get(User, user_id), user_agent="bench", address="127.0.0.1")
                    with client.session_transaction() as session:
                        session["_user_id"] = session_id
                        session["_fresh"] = True
                    median, p95, statements = timed(client, "/coaching/suggestions", args.repeat, db.engine)
                    ok = ok and median < 500
                    print(f"  GET /coaching/suggestions as {who}: median {median:.1f} ms, p95 {p95:.1f} ms, "
                          f"{statements} statements (target < 500 ms): {'OK' if median < 500 else 'MISSED'}")
                db.session.remove()
                db.engine.dispose()
        finally:
            cleanup()
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
