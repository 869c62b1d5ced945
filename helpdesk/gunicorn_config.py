"""gunicorn settings for Helpdesk (docs/operations.md)::

    PROMETHEUS_MULTIPROC_DIR=/run/helpdesk-metrics \\
        gunicorn -c python:helpdesk.gunicorn_config 'helpdesk:create_app()'

Threaded workers (``gthread``): the live channel (server-sent events under ``/live/``)
holds a connection open per browser, which would take a whole ``sync`` worker. Override
anything on the command line or in ``GUNICORN_CMD_ARGS`` (``--workers 8 --bind 0.0.0.0:8000``).
With ``--preload`` (less memory: docs/operations.md), ``pre_fork`` warms and freezes the master.
"""
from __future__ import annotations

import gc
import multiprocessing
import os
import shutil
from typing import Any

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", 0) or min(2 * multiprocessing.cpu_count() + 1, 8))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", 8))
timeout = 60  # a request that takes longer is killed (and logged)
graceful_timeout = 30
keepalive = 5
max_requests = 5000  # recycle workers now and then (slow leaks in plugins)
max_requests_jitter = 500
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = None  # Helpdesk logs each request itself (logger helpdesk.access, with its request id)


def on_starting(server: Any) -> None:
    """Start from an empty metrics folder: files of an earlier run would be summed in."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        os.makedirs(folder, exist_ok=True)
        for name in os.listdir(folder):
            path = os.path.join(folder, name)
            if os.path.isfile(path) and name.endswith(".db"):
                os.unlink(path)
            elif os.path.isdir(path):
                shutil.rmtree(path)


def pre_fork(server: Any, worker: Any) -> None:
    """With ``--preload``, before the first fork: finish in the master what every worker would
    otherwise do on its first requests (SQLAlchemy's mapper set-up, the templates compiled,
    the modules first requests import), so that it is done once, in pages the workers share.
    Then move every object into the garbage collector's permanent generation (``gc.freeze()``,
    as Instagram does): a worker's collections never write to those objects' headers, so the
    pages that hold them stay shared instead of being copied into each worker.
    ``HELPDESK_GC_FREEZE=0`` turns both off (to measure the difference: bench/bench_memory.py)."""
    if not server.cfg.preload_app or os.environ.get("HELPDESK_GC_FREEZE", "1") == "0":
        return
    if not _warmed:
        _warmed.append(True)
        _warm(server.app.wsgi())
    gc.freeze()


_warmed: list[bool] = []


def _warm(app: Any) -> None:
    from sqlalchemy.orm import configure_mappers

    try:
        import prometheus_client  # noqa: F401 - helpdesk.metrics imports it on the first request
    except ImportError:  # not installed: metrics are off
        pass

    configure_mappers()
    if hasattr(app, "app_context"):
        from helpdesk.extensions import db

        with app.app_context():  # a connection the master opened must not be shared by the workers
            for engine in db.engines.values():
                engine.dispose()
    env = getattr(app, "jinja_env", None)
    if env is not None:
        for name in env.list_templates(extensions=("html", "txt", "xml")):
            try:
                env.get_template(name)
            except Exception:  # a broken template fails when rendered, as it would have
                pass


def child_exit(server: Any, worker: Any) -> None:
    """prometheus_client's multiprocess mode: a dead worker's live gauges are dropped."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
