"""Benchmark: sending an announcement to many customers (issue 24, "proactive updates").

    .venv/bin/python bench/bench_announcements.py                      # 2,000 customers, SQLite
    .venv/bin/python bench/bench_announcements.py --customers 5000
    .venv/bin/python bench/bench_announcements.py --database-url postgresql://postgres@127.0.0.1/postgres

Seeds ``--customers`` customers of one organisation (a tenth in German, with a German text of
the announcement; a twentieth without consent to updates), then times the sending job's own
work (``send_announcement``: claiming each batch, composing every message in the customer's
language, the notice records, the outbox mail and queueing the delivery jobs on huey-on-SQLite).
Delivering the mail over SMTP is the outbox's work and is not timed here. Prints recipients per
second (wall and CPU) and checks every consenting customer has exactly one mail.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_instance import migrated_app  # noqa: E402

from helpdesk.extensions import db  # noqa: E402
from helpdesk.models import AnnouncementRecipient, OutboxMail, User  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--database-url", default=None, help="a PostgreSQL server (a throwaway database is made)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        # Jobs are queued on huey-on-SQLite as in production; nobody consumes them here.
        app, cleanup = migrated_app("announce", folder, args.database_url, JOBS_IMMEDIATE=False)
        try:
            with app.app_context():
                run(args.customers)
        finally:
            cleanup()


def run(count: int) -> None:
    from helpdesk import services
    from helpdesk.services.announcements import create_announcement, send_announcement
    from helpdesk.services.organisations import save_organisation
    from helpdesk.services.translations import save_translations

    admin = User(name="Bench Admin", email="admin@bench.test", role="admin")
    db.session.add(admin)
    db.session.commit()
    org = save_organisation(admin, name="Acme", domains="acme.test")
    started = time.perf_counter()
    for n in range(count):
        customer = services.find_or_create_customer("email", f"c{n}@acme.test", name=f"Customer {n}")
        if n % 10 == 0:
            customer.language = "de"
        if n % 20 == 1:
            customer.consent = {**(customer.consent or {}), "updates": False}
    db.session.commit()
    print(f"seeded {count} customers in {time.perf_counter() - started:.1f} s")
    announcement = create_announcement(admin, subject="New opening hours",
                                       body="Hi {{ customer.first_name }}, we now open at 8.",
                                       segment={"organisation_id": org.id})
    save_translations("announcement", announcement.id, {"de": ("Neue Öffnungszeiten",
                                                               "Hallo {{ customer.first_name }}, wir öffnen um 8.")})
    db.session.commit()
    wall, cpu = time.perf_counter(), time.process_time()
    counts = send_announcement(announcement)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    mails = db.session.scalar(select(func.count()).select_from(OutboxMail))
    distinct = db.session.scalar(select(func.count(func.distinct(OutboxMail.to_addr))))
    rows = db.session.scalar(select(func.count()).select_from(AnnouncementRecipient))
    print(f"sent: {counts}; {rows} recipient rows, {mails} mails to {distinct} addresses")
    assert mails == distinct == counts.get("sent", 0), "a customer got no mail or two"
    print(f"{count} customers in {wall:.2f} s wall, {cpu:.2f} s CPU: "
          f"{count / wall:.0f} recipients/s (wall), {count / cpu:.0f}/s (CPU)")


if __name__ == "__main__":
    main()
