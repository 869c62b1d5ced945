"""Background jobs on huey: SQLite storage in ``instance/`` by default, Redis when configured.

Tasks run inside an app context. A plugin's task does nothing while the plugin is
disabled. In tests ``JOBS_IMMEDIATE`` runs each task at once, in process.
"""
from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, has_app_context
from huey import Huey
from huey.storage import MemoryStorage, SqliteStorage

log = logging.getLogger(__name__)

class QueueStorage(SqliteStorage):
    """huey's SQLite storage with ``synchronous=NORMAL``: in WAL mode that is safe against a
    crashed process and skips the fsync huey's default (FULL) does on every enqueue, which
    made queuing a mail cost more than sending it. A power cut may lose the last jobs
    queued; the sweeper re-queues replies and mail from the database (``services.delivery.sweep``)."""

    def _create_connection(self):  # noqa: ANN202 - huey's signature
        conn = super()._create_connection()
        conn.execute("pragma synchronous=1")
        return conn


huey = Huey("helpdesk", immediate=True, storage_class=MemoryStorage, utc=True)
_app: dict[str, Flask] = {}


def configure(app: Flask) -> None:
    """Point the shared huey instance at this app's storage."""
    _app["app"] = app
    immediate = bool(app.config.get("JOBS_IMMEDIATE"))
    if app.config.get("REDIS_URL"):
        from huey.storage import RedisStorage

        huey.storage_class, huey.storage_kwargs = RedisStorage, {"url": app.config["REDIS_URL"]}
    else:
        path = os.path.join(app.instance_path, "huey.sqlite3")
        huey.storage_class, huey.storage_kwargs = QueueStorage, {"filename": path}
    huey._immediate = immediate
    huey.storage = huey.create_storage()


def _in_app_context(func: Callable, plugin: str | None) -> Callable:
    @functools.wraps(func)
    def run(*args: Any, **kwargs: Any) -> Any:
        if has_app_context():
            return _run(func, plugin, args, kwargs)
        with _app["app"].app_context():
            return _run(func, plugin, args, kwargs)

    return run


def _run(func: Callable, plugin: str | None, args: tuple, kwargs: dict) -> Any:
    from helpdesk.plugin_manager import manager

    if plugin and not manager().is_enabled(plugin):
        log.info("job %s skipped: plugin %s is disabled", func.__name__, plugin)
        return None
    return func(*args, **kwargs)


def task(plugin: str | None = None, **options: Any) -> Callable:
    """Declare a background job. ``plugin`` names the owning plugin (None for the core).

    Example::

        @task(plugin="hello", retries=3, retry_delay=60)
        def say_hello(ticket_id): ...

        say_hello(ticket.id)   # enqueues; the worker runs it
    """
    def decorator(func: Callable) -> Any:
        name = f"{plugin or 'core'}.{func.__name__}"
        return huey.task(name=name, **options)(_in_app_context(func, plugin))

    return decorator


def periodic_task(validate_datetime: Callable, plugin: str | None = None, **options: Any) -> Callable:
    """Declare a job the worker runs on a schedule, e.g. ``periodic_task(crontab(minute="*/5"))``."""
    def decorator(func: Callable) -> Any:
        name = f"{plugin or 'core'}.{func.__name__}"
        return huey.periodic_task(validate_datetime, name=name, **options)(
            _in_app_context(func, plugin))

    return decorator


def current() -> Flask:
    return current_app._get_current_object() if has_app_context() else _app["app"]
