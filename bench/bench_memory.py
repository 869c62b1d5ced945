"""Memory of Helpdesk's web processes (issue 19): one process, then master + 2 gunicorn workers.

    .venv/bin/python bench/run.py --tickets 2000           # once: builds bench/data/2000
    .venv/bin/python bench/bench_memory.py --tickets 2000  # both parts, every gunicorn mode
    .venv/bin/python bench/bench_memory.py --tickets 2000 --modes preload --no-process

Every installed plugin is enabled first (as ``bench_cpu.py`` does).

1. **One process** (a fresh ``python``, so this script's own imports do not count): RSS and
   the number of modules after ``import helpdesk``, after ``create_app()``, after GETting
   the queue, a search and a ticket page (test client, signed in as an agent), and after
   opening a ticket through the portal (that queues jobs, which imports huey). At each step:
   which of ``HEAVY`` (libraries a web request does not need) are loaded.
2. **gunicorn**, ``-c python:helpdesk.gunicorn_config --workers 2 --worker-class sync``
   (the config's hooks apply), each mode in turn: ``plain`` (each worker imports the app),
   ``preload`` (the master imports it, then forks; the config freezes the garbage
   collector's objects before the fork), ``preload-nofreeze`` (``HELPDESK_GC_FREEZE=0``).
   The three pages are requested 20 times each (so both workers see every page), then RSS
   and PSS (``/proc/<pid>/smaps_rollup``) of the master and each worker are read. PSS
   divides a page shared by n processes by n: the sum is what the machine really spends.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

# Libraries that no web page needs when it is served; each is imported where it is used.
HEAVY = ("numpy", "sklearn", "scipy", "vaderSentiment", "huey", "psycopg", "redis", "cryptography", "imaplib",
         "helpdesk_email.ingest", "helpdesk.db_copy", "helpdesk.demo", "helpdesk.cli")
MODES = ("plain", "preload", "preload-nofreeze")

CHILD = r"""
import json, os, sys
def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1048576
heavy = json.loads(os.environ["BENCH_HEAVY"])
steps = []
def note(step):
    loaded = sorted(h for h in heavy if h in sys.modules)
    steps.append({"step": step, "rss_mib": round(rss(), 1), "modules": len(sys.modules), "heavy": loaded})
note("python")
import helpdesk
note("import helpdesk")
app = helpdesk.create_app({"RATELIMIT_ENABLED": False})
note("create_app()")
def client_for(cookie):
    client = app.test_client()
    name, value = cookie.split("=", 1)
    client.set_cookie(name, value)
    return client
client = client_for(os.environ["BENCH_AGENT_COOKIE"])
for url in json.loads(os.environ["BENCH_PAGES"]):
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
note("GET queue, search, ticket")
poster = client_for(os.environ["BENCH_CUSTOMER_COOKIE"])
assert poster.get("/portal/new").status_code == 200
done = poster.post("/portal/new", data={
    "csrf_token": os.environ["BENCH_CUSTOMER_TOKEN"], "subject": "Memory benchmark",
    "body": "The printer in room 4 is smoking since this morning."})
assert done.status_code == 302, done.status_code
note("POST /portal/new")
print(json.dumps(steps))
"""


def one_process(instance: Path, pages: list[str], agent: str, customer: tuple[str, str]) -> list[dict]:
    env = {**os.environ, "HELPDESK_INSTANCE_PATH": str(instance), "HELPDESK_LOG_LEVEL": "WARNING",
           "BENCH_HEAVY": json.dumps(HEAVY), "BENCH_PAGES": json.dumps(pages), "BENCH_AGENT_COOKIE": agent,
           "BENCH_CUSTOMER_COOKIE": customer[0], "BENCH_CUSTOMER_TOKEN": customer[1]}
    out = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(out.stderr[-3000:])
    steps = json.loads(out.stdout.strip().splitlines()[-1])
    for row in steps:
        print(f"  {row['step']:28} RSS {row['rss_mib']:6.1f} MiB, {row['modules']:5} modules; "
              f"heavy: {', '.join(row['heavy']) or '-'}", flush=True)
    return steps


def _mib(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def gunicorn(instance: Path, pages: list[str], cookie: str, mode: str) -> dict[str, Any]:
    from run import free_port

    binary = Path(sys.executable).with_name("gunicorn")
    port = free_port()
    env = {**os.environ, "HELPDESK_INSTANCE_PATH": str(instance), "HELPDESK_RATELIMIT_ENABLED": "false",
           "HELPDESK_LOG_LEVEL": "WARNING", "HELPDESK_GC_FREEZE": "0" if mode == "preload-nofreeze" else "1"}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    server = subprocess.Popen(
        [str(binary), "-c", "python:helpdesk.gunicorn_config", "--workers", "2", "--worker-class", "sync",
         "--bind", f"127.0.0.1:{port}", *(["--preload"] if mode.startswith("preload") else []),
         "helpdesk:create_app()"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(240):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except Exception:
                time.sleep(0.5)
        for _ in range(20):
            for url in pages:
                request = urllib.request.Request(f"http://127.0.0.1:{port}{url}", headers={"Cookie": cookie})
                with urllib.request.urlopen(request, timeout=60) as response:
                    response.read()
        children = [int(c) for c in Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()]
        rows = [("master", server.pid)] + [(f"worker {i + 1}", pid) for i, pid in enumerate(children)]
        out: dict[str, Any] = {"processes": {}}
        for name, pid in rows:
            out["processes"][name] = {"rss_mib": round(_mib(pid, "Rss"), 1), "pss_mib": round(_mib(pid, "Pss"), 1)}
        out["rss_mib"] = round(sum(p["rss_mib"] for p in out["processes"].values()), 1)
        out["pss_mib"] = round(sum(p["pss_mib"] for p in out["processes"].values()), 1)
        detail = ", ".join(f"{name} {p['pss_mib']}" for name, p in out["processes"].items())
        print(f"  {mode:17} PSS {out['pss_mib']:6.1f} MiB (RSS {out['rss_mib']:6.1f}); PSS by process: {detail}",
              flush=True)
        return out
    finally:
        server.terminate()
        server.wait(timeout=60)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=2000)
    parser.add_argument("--instance", type=Path)
    parser.add_argument("--modes", nargs="*", choices=MODES, default=list(MODES))
    parser.add_argument("--no-process", action="store_true", help="skip the one-process part")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args(argv)
    instance = (args.instance or BENCH_DIR / "data" / str(args.tickets)).resolve()
    if not (instance / "helpdesk.sqlite3").exists():
        raise SystemExit(f"{instance} has no database: run `bench/run.py --tickets {args.tickets}` first")
    from bench_cpu import our_app, pick_ticket
    from run import AGENT_EMAIL, CUSTOMER_EMAIL, session_cookie

    app = our_app(instance)  # every plugin enabled, in the database the processes below read
    pages = ["/queue", "/queue?q=refund", f"/tickets/HD-{pick_ticket(app)}"]
    agent = session_cookie(app, AGENT_EMAIL)[0]
    results: dict[str, Any] = {"loadavg": os.getloadavg()[0]}
    if not args.no_process:
        print("One process:")
        results["process"] = one_process(instance, pages, agent, session_cookie(app, CUSTOMER_EMAIL))
    if args.modes:
        print("gunicorn, master + 2 sync workers, after every page 20 times:")
        results["gunicorn"] = {mode: gunicorn(instance, pages, agent, mode) for mode in args.modes}
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
