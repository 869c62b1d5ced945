"""The REST API beside the pages at N tickets: a filtered list and ticket creation.

    .venv/bin/python bench/bench_api.py                      # 100,000 tickets (bench/data/100000)
    .venv/bin/python bench/bench_api.py --tickets 5000       # a quick check

Seeds (or reuses) the instance as ``bench/run.py`` does, then, in-process (Flask test
client), measures side by side: the queue page with a filter (signed in as the demo agent)
against ``GET /api/v1/tickets`` with the same filter (the agent's API token), and tickets
opened through the portal form against ``POST /api/v1/tickets`` (the demo customer's token).
Median and p95 per request, SQL statements per request. Figures: bench/README.md.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any

from run import AGENT_EMAIL, BENCH_DIR, CUSTOMER_EMAIL, prepare, sign_in, sql_counter, summary
from sqlalchemy import select


def timed(fn, count: int) -> tuple[dict[str, float], float]:
    samples = []
    start = time.perf_counter()
    for _ in range(count):
        t = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t)
    return summary(samples), count / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--creations", type=int, default=100)
    args = parser.parse_args(argv)
    instance = (BENCH_DIR / "data" / str(args.tickets)).resolve()
    print(f"Machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    prepare(instance, args.tickets)

    from helpdesk import create_app
    from helpdesk.extensions import db
    from helpdesk.models import User
    from helpdesk.services import api_tokens

    app = create_app({"INSTANCE_PATH": str(instance), "API_RATE_LIMIT": "1000000 per minute"})
    page_client, api_client, portal = app.test_client(), app.test_client(), app.test_client()
    with app.app_context():
        agent = db.session.scalar(select(User).where(User.email == AGENT_EMAIL))
        customer = db.session.scalar(select(User).where(User.email == CUSTOMER_EMAIL))
        sign_in(page_client, agent)
        csrf = sign_in(portal, customer)
        agent_token = api_tokens.create_token(agent, "bench", "write", 7)[1]
        customer_token = api_tokens.create_token(customer, "bench", "write", 7)[1]
    agent_headers = {"Authorization": f"Bearer {agent_token}"}
    results: dict[str, Any] = {}
    print(f"\n[1] A filtered list, {args.requests} requests after 3 warm-ups")
    for label, query in (("priority=high", "priority=high"), ("status=open&team=1", "status=open&team=1")):
        for name, client, url, headers in (("page /queue", page_client, f"/queue?{query}", {}),
                                           ("API /api/v1/tickets", api_client, f"/api/v1/tickets?{query}",
                                            agent_headers)):
            def get(client=client, url=url, headers=headers) -> None:
                response = client.get(url, headers=headers)
                assert response.status_code == 200, (url, response.status_code)
            for _ in range(3):
                get()
            with sql_counter(app) as statements:
                get()
            row, _rate = timed(get, args.requests)
            results[f"{name} {label}"] = {**row, "sql": len(statements)}
            print(f"  {name:22} {label:20} median {row['median_ms']:6.1f} ms  p95 {row['p95_ms']:6.1f} ms  "
                  f"{len(statements):2} SQL", flush=True)

    print(f"\n[2] Ticket creations, {args.creations} each, one after another")
    form = {"csrf_token": csrf, "subject": "Benchmark: printer on fire",
            "body": "The printer in room 4 is smoking since this morning. Order 12345."}

    def by_page() -> None:
        assert portal.post("/portal/new", data=form).status_code == 302

    def by_api() -> None:
        response = api_client.post("/api/v1/tickets", json={"subject": form["subject"], "body": form["body"]},
                                   headers={"Authorization": f"Bearer {customer_token}"})
        assert response.status_code == 201, response.text

    for name, fn in (("portal form", by_page), ("API POST /api/v1/tickets", by_api)):
        fn()
        row, rate = timed(fn, args.creations)
        results[f"create {name}"] = {**row, "per_second": round(rate, 1)}
        print(f"  {name:26} {rate:6.1f}/s  median {row['median_ms']:6.1f} ms  p95 {row['p95_ms']:6.1f} ms", flush=True)
    print(f"\nLoad average at the end: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
