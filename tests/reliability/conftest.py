"""Real processes for the reliability tests: `helpdesk worker` subprocesses sharing the test's
database and job queue (huey on SQLite in the instance folder, or Redis where
HELPDESK_TEST_REDIS_URL answers), and an SMTP sink that counts per Message-ID and can hold
a mail half-way through the exchange."""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from smtp_sink import Sink, SMTPServer, free_port

HERE = Path(__file__).parent
REDIS_URL = os.environ.get("HELPDESK_TEST_REDIS_URL")
LEASE_SECONDS = 2  # short, so a killed worker's work is handed on within the test


class CountingSink(Sink):
    """Keeps every mail; with ``hold_at`` set, the n-th DATA (and any after it) is not
    answered until ``release`` is set: the sender is then in the middle of SMTP."""

    def __init__(self) -> None:
        super().__init__()
        self.hold_at: int | None = None
        self.holding = threading.Event()
        self.release = threading.Event()
        self.held = 0
        self.delay = 0.0  # seconds before each answer: a slow server

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001 - aiosmtpd's signature
        self.envelopes.append(envelope)
        await asyncio.sleep(self.delay)
        if self.hold_at is not None and len(self.envelopes) >= self.hold_at and not self.release.is_set():
            self.held += 1
            self.holding.set()
            while not self.release.is_set():
                await asyncio.sleep(0.02)
        return "250 Message accepted for delivery"

    def per_message_id(self) -> Counter:
        return Counter(message["Message-ID"] for message in self.messages())


def wait_for(predicate, timeout: float = 60.0, what: str = "the worker"):  # noqa: ANN001
    # The waits are for child processes (a worker starting, a sweep): on a machine loaded beyond
    # its cores they get proportionally longer, so the budget grows with the load instead of
    # failing. A passing run never waits for the budget, only for the predicate.
    timeout *= max(1.0, os.getloadavg()[0] / (os.cpu_count() or 1))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


@pytest.fixture(params=["sqlite-queue", "redis-queue"])
def queue(request) -> str:
    if request.param == "redis-queue" and not REDIS_URL:
        pytest.skip("HELPDESK_TEST_REDIS_URL is not set: the Redis job queue is not tried")
    return request.param


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def app_config(queue, smtp_port) -> dict:
    config = {"JOBS_IMMEDIATE": False, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": smtp_port, "SMTP_TIMEOUT": 5,
              "JOB_LEASE_SECONDS": LEASE_SECONDS, "SWEEP_SECONDS": 1}
    if queue == "redis-queue":
        config["REDIS_URL"] = REDIS_URL
    return config


@pytest.fixture
def sink(smtp_port):
    server = SMTPServer(smtp_port)
    server.sink = CountingSink()
    server.start()
    yield server.sink
    server.sink.release.set()
    server.stop()


@pytest.fixture
def gate(tmp_path) -> Path:
    path = tmp_path / "gate"
    path.mkdir()
    return path


@pytest.fixture
def child_env(app, gate) -> dict[str, str]:
    """The environment of a process that works on this test's instance, database and queue."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("HELPDESK_")}
    for key in ("SQLALCHEMY_DATABASE_URI", "REDIS_URL", "SMTP_HOST", "SMTP_PORT", "SMTP_TIMEOUT", "MAIL_FROM",
                "EXTERNAL_URL", "SECRET_KEY", "JOB_LEASE_SECONDS", "SWEEP_SECONDS"):
        if app.config.get(key):
            env[f"HELPDESK_{key}"] = str(app.config[key])
    env.update(HELPDESK_INSTANCE_PATH=app.instance_path, HELPDESK_TEST_GATE=str(gate))
    return env


@pytest.fixture
def workers(app, child_env, tmp_path):
    """Start worker processes on this test's database and queue; each is killed at the end."""
    from helpdesk.jobs import huey

    huey.flush()  # a Redis queue is shared between runs: start empty
    started: list[subprocess.Popen] = []
    env = child_env

    def start(threads: int = 2) -> subprocess.Popen:
        log = open(tmp_path / f"worker-{len(started)}.log", "wb")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen([sys.executable, str(HERE / "worker_main.py"), str(threads)],
                                env=env, stdout=log, stderr=subprocess.STDOUT)
        proc.log = log
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        proc.log.close()
    huey.flush()


def kill(proc: subprocess.Popen) -> None:
    """SIGKILL: no clean-up, no finally, no rollback: the process is simply gone."""
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
