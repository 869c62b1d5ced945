"""How long a ``helpdesk`` command takes to start: the process, imports, the app and its plugins.

    .venv/bin/python bench/bench_cli.py              # 7 runs of each command
    .venv/bin/python bench/bench_cli.py --runs 15
    git archive 65e2faf helpdesk templates | tar -x -C /tmp/before
    .venv/bin/python bench/bench_cli.py --compare /tmp/before   # before/after, runs interleaved

Each command runs in a subprocess of its own, on an instance made once with ``helpdesk init``
(in a temporary folder), with Python's bytecode cache on (as after ``pip install``: the
first, untimed run writes it). The figure is the median wall time of the whole process;
its CPU time (user + system) is shown too: when the two are close, other processes did
not slow the run down. The commands do little work of their own, so the time is start-up:
importing Helpdesk and every installed plugin, and creating the app. ``--imports`` also
lists the heaviest top-level imports of ``helpdesk --help`` (``python -X importtime``).
``--compare DIR`` also runs every command with ``PYTHONPATH=DIR`` (an older copy of the
``helpdesk`` package and ``templates``), alternating with the current code run by run, so
that both see the same load; on a busy machine compare the minimum and the CPU time.

Target: under 1 second each on a quiet machine.
"""
from __future__ import annotations

import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
TARGET_S = 1.0
COMMANDS = [
    ["--help"],
    ["plugins", "list"],
    ["user", "--help"],
    ["plugins", "settings", "hello"],
    ["hello-stats"],
    ["db", "current"],
]


def summary(runs: list[tuple[float, float]]) -> tuple[float, float, float]:
    """(median wall, minimum wall, median CPU)."""
    walls = [wall for wall, _cpu in runs]
    return statistics.median(walls), min(walls), statistics.median(cpu for _wall, cpu in runs)


def run_once(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([str(BIN / "helpdesk"), *args], env=env, check=True, capture_output=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def heaviest_imports(env: dict[str, str], top: int = 15) -> list[tuple[str, float]]:
    """(package, ms of its own import time) for ``helpdesk --help``, by top-level package."""
    code = "import sys; from helpdesk.cli import main; sys.argv = ['helpdesk', '--help']; main()"
    result = subprocess.run([sys.executable, "-X", "importtime", "-c", code], env=env,
                            capture_output=True, text=True)
    totals: dict[str, float] = {}
    for line in result.stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+\d+ \| *(\S+)", line)
        if match:
            package = match.group(2).split(".")[0]
            totals[package] = totals.get(package, 0) + int(match.group(1)) / 1000
    return sorted(totals.items(), key=lambda item: -item[1])[:top]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--imports", action="store_true", help="list the heaviest imports of --help")
    parser.add_argument("--compare", metavar="DIR", default=None,
                        help="an older copy of helpdesk/ and templates/ to run alternately, for before/after")
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    missed = 0
    with tempfile.TemporaryDirectory() as instance:
        env["HELPDESK_INSTANCE_PATH"] = instance
        subprocess.run([str(BIN / "helpdesk"), "init", "--admin-password", "bench-password"], env=env,
                       check=True, capture_output=True)
        print(f"{'command':32} {'median':>8} {'min':>8} {'cpu':>8}   ({args.runs} runs, load {os.getloadavg()[0]:.2f})")
        other = {**env, "PYTHONPATH": args.compare} if args.compare else None
        for command in COMMANDS:
            run_once(command, env)  # warm: bytecode cache, file system cache
            if other:
                run_once(command, other)
            runs, before = [], []
            for _ in range(args.runs):
                runs.append(run_once(command, env))
                if other:
                    before.append(run_once(command, other))
            median, fastest, cpu = summary(runs)
            missed += median >= TARGET_S
            flag = "" if median < TARGET_S else f"  > target {TARGET_S:.1f} s"
            print(f"helpdesk {' '.join(command):23} {median:7.2f}s {fastest:7.2f}s {cpu:7.2f}s{flag}")
            if other:
                median, fastest, cpu = summary(before)
                print(f"  {'before (' + args.compare + ')':30} {median:7.2f}s {fastest:7.2f}s {cpu:7.2f}s")
        if args.imports:
            print("\nheaviest imports of `helpdesk --help` (own time, ms):")
            for package, ms in heaviest_imports(env):
                print(f"  {package:30} {ms:7.1f}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
