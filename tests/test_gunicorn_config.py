"""``helpdesk.gunicorn_config`` with ``--preload``: the master is warmed and frozen before forking.

The memory this saves is measured in ``bench/bench_memory.py`` (figures in bench/README.md);
here: what the hook leaves behind, and a real gunicorn serving through it.
"""
from __future__ import annotations

import gc
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import pytest

from helpdesk import gunicorn_config


def _server(app, preload: bool) -> SimpleNamespace:
    """What the hook reads of gunicorn's arbiter: its settings and the loaded application."""
    return SimpleNamespace(cfg=SimpleNamespace(preload_app=preload), app=SimpleNamespace(wsgi=lambda: app))


@pytest.fixture
def unfrozen():
    gunicorn_config._warmed.clear()
    yield
    gc.unfreeze()
    gunicorn_config._warmed.clear()


def test_pre_fork_with_preload_compiles_the_templates_and_freezes(app, unfrozen):
    gunicorn_config.pre_fork(_server(app, preload=True), worker=None)
    assert gc.get_freeze_count() > 0
    cached = {name for (_loader, name) in app.jinja_env.cache.keys()}
    assert {"base.html", "agent/queue.html", "agent/ticket.html"} <= cached
    assert len(cached) >= len(app.jinja_env.list_templates(extensions=("html",)))


def test_pre_fork_without_preload_does_nothing(app, unfrozen):
    gunicorn_config.pre_fork(_server(app, preload=False), worker=None)
    assert gc.get_freeze_count() == 0
    assert gunicorn_config._warmed == []


def test_pre_fork_can_be_turned_off(app, unfrozen, monkeypatch):
    monkeypatch.setenv("HELPDESK_GC_FREEZE", "0")
    gunicorn_config.pre_fork(_server(app, preload=True), worker=None)
    assert gc.get_freeze_count() == 0


def test_gunicorn_preload_serves_from_forked_workers(tmp_path):
    gunicorn = Path(sys.executable).with_name("gunicorn")
    if not gunicorn.exists():
        pytest.skip("gunicorn is not installed (pip install 'helpdesk[server]')")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {name: value for name, value in os.environ.items() if not name.startswith(("HELPDESK_", "PROMETHEUS_"))}
    env.update(HELPDESK_INSTANCE_PATH=str(tmp_path), HELPDESK_SECRET_KEY="gunicorn-test")
    server = subprocess.Popen([str(gunicorn), "-c", "python:helpdesk.gunicorn_config", "--preload", "--workers", "2",
                               "--worker-class", "sync", "--bind", f"127.0.0.1:{port}", "helpdesk:create_app()"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        body = None
        for _ in range(120):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                    body = response.read()
                break
            except OSError:
                assert server.poll() is None, server.stderr.read() if server.stderr else ""
                time.sleep(0.5)
        assert body is not None and b'"ok"' in body
        children = Path(f"/proc/{server.pid}/task/{server.pid}/children")
        for _ in range(120):  # one worker may answer while the master still forks the other
            if len(children.read_text().split()) == 2:
                break
            time.sleep(0.5)
        assert len(children.read_text().split()) == 2
    finally:
        server.terminate()
        server.wait(timeout=60)
