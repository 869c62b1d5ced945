"""Background jobs on huey: SQLite storage in ``instance/`` by default, Redis when configured.

Tasks run inside an app context. A plugin's task does nothing while the plugin is
disabled. In tests ``JOBS_IMMEDIATE`` runs each task at once, in process.
"""
from __future__ import annotations

import functools
import logging
import os
import time
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, has_app_context

from helpdesk import after_commit, metrics
from helpdesk.plugin_manager import manager
from helpdesk.request_log import current_request_id, request_id

log = logging.getLogger(__name__)

# huey is imported when the first job is queued or the worker starts, not when the app is
# made: importing it imports redis and psycopg too (about 0.2 s), and every ``helpdesk``
# command and web process would pay that at start-up. Until then ``task`` and
# ``periodic_task`` only note what was declared; ``huey`` (this module's attribute) makes
# the instance and registers them all.
_app: dict[str, Flask] = {}
_declared: list[LazyTask] = []
_instance: Any = None


def _queue_storage_class() -> type:
    from huey.storage import SqliteStorage

    class QueueStorage(SqliteStorage):
        """huey's SQLite storage with ``synchronous=NORMAL``: in WAL mode that is safe against a
        crashed process and skips the fsync huey's default (FULL) does on every enqueue, which
        made queuing a mail cost more than sending it. A power cut may lose the last jobs
        queued; the sweeper re-queues replies and mail from the database (``services.delivery.sweep``)."""

        def _create_connection(self):  # noqa: ANN202 - huey's signature
            conn = super()._create_connection()
            conn.execute("pragma synchronous=1")
            return conn

    return QueueStorage


def _huey() -> Any:
    """The shared huey instance, made (and given every declared job) on first use."""
    global _instance
    if _instance is None:
        from huey import Huey
        from huey.storage import MemoryStorage

        instance = Huey("helpdesk", immediate=True, storage_class=MemoryStorage, utc=True)
        if "app" in _app:
            _apply_storage(instance, _app["app"])
        for job in _declared:
            job._register(instance)
        _instance = instance
    return _instance


def __getattr__(name: str) -> Any:  # PEP 562: ``from helpdesk.jobs import huey``
    if name == "huey":
        return _huey()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def configure(app: Flask) -> None:
    """Point the shared huey instance at this app's storage (now, or when it is made)."""
    _app["app"] = app
    if _instance is not None:
        _apply_storage(_instance, app)


def _apply_storage(instance: Any, app: Flask) -> None:
    immediate = bool(app.config.get("JOBS_IMMEDIATE"))
    if app.config.get("REDIS_URL"):
        from huey.storage import RedisStorage

        instance.storage_class, instance.storage_kwargs = RedisStorage, {"url": app.config["REDIS_URL"]}
    else:
        path = os.path.join(app.instance_path, "huey.sqlite3")
        instance.storage_class, instance.storage_kwargs = _queue_storage_class(), {"filename": path}
    instance._immediate = immediate
    instance.storage = instance.create_storage()


def crontab(minute: str = "*", hour: str = "*", day: str = "*", month: str = "*", day_of_week: str = "*",
            strict: bool = False) -> Callable[[Any], bool]:
    """huey's ``crontab`` (same arguments), built when the worker first asks; for ``periodic_task``."""
    spec = {"month": month, "day": day, "day_of_week": day_of_week, "hour": hour, "minute": minute,
            "strict": strict}
    built: list[Callable[[Any], bool]] = []

    def validate_datetime(timestamp: Any) -> bool:
        if not built:
            from huey import crontab as huey_crontab

            built.append(huey_crontab(**spec))
        return built[0](timestamp)

    validate_datetime.crontab_spec = spec  # type: ignore[attr-defined]
    return validate_datetime


class LazyTask:
    """A declared job. Calling it enqueues it (huey's ``TaskWrapper``, made on first use);
    every other attribute (``schedule``, ``call_local``, ``revoke``...) is huey's."""

    def __init__(self, name: str, func: Callable, options: dict[str, Any],
                 schedule: Callable[[Any], bool] | None = None) -> None:
        functools.update_wrapper(self, func)
        self._name, self._func, self._options, self._schedule = name, func, options, schedule
        self._wrapper: Any = None
        _declared.append(self)
        if _instance is not None:
            self._register(_instance)

    def _register(self, instance: Any) -> None:
        if self._schedule is None:
            self._wrapper = instance.task(name=self._name, **self._options)(self._func)
        else:
            schedule = self._schedule
            spec = getattr(schedule, "crontab_spec", None)
            if spec is not None:  # check the schedule now, as huey's own crontab would
                from huey import crontab as huey_crontab

                huey_crontab(**spec)
            self._wrapper = instance.periodic_task(schedule, name=self._name, **self._options)(self._func)

    def _real(self) -> Any:
        if self._wrapper is None:
            _huey()
        return self._wrapper

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        rid = current_request_id()
        if rid is not None:  # the worker's log lines of this job carry the request's id
            kwargs[REQUEST_ID_KWARG] = rid
        # Inside an event hook that runs in the service's transaction: queued after its commit
        # (a worker must not look for rows that are not committed yet); None then, not a result.
        if after_commit.defer(self._enqueue, args, kwargs):
            return None
        return self._enqueue(args, kwargs)

    def _enqueue(self, args: tuple, kwargs: dict[str, Any]) -> Any:
        return self._real()(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._real(), name)

    def __repr__(self) -> str:
        return f"<job {self._name}>"


REQUEST_ID_KWARG = "_helpdesk_request_id"


def _in_app_context(func: Callable, plugin: str | None) -> Callable:
    name = f"{plugin or 'core'}.{func.__name__}"

    @functools.wraps(func)
    def run(*args: Any, **kwargs: Any) -> Any:
        with request_id(kwargs.pop(REQUEST_ID_KWARG, None) or current_request_id()):
            if has_app_context():
                return _run(func, plugin, args, kwargs, name)
            with _app["app"].app_context():
                return _run(func, plugin, args, kwargs, name)

    return run


def _run(func: Callable, plugin: str | None, args: tuple, kwargs: dict, name: str) -> Any:
    if plugin and not manager().is_enabled(plugin):
        log.info("job %s skipped: plugin %s is disabled", func.__name__, plugin)
        return None
    started, ok = time.perf_counter(), False
    try:
        result = func(*args, **kwargs)
        ok = True
        return result
    finally:
        metrics.observe_job(name, ok, time.perf_counter() - started)


def task(plugin: str | None = None, **options: Any) -> Callable:
    """Declare a background job. ``plugin`` names the owning plugin (None for the core).

    Example::

        @task(plugin="hello", retries=3, retry_delay=60)
        def say_hello(ticket_id): ...

        say_hello(ticket.id)   # enqueues; the worker runs it
    """
    def decorator(func: Callable) -> LazyTask:
        name = f"{plugin or 'core'}.{func.__name__}"
        return LazyTask(name, _in_app_context(func, plugin), options)

    return decorator


def periodic_task(validate_datetime: Callable, plugin: str | None = None, **options: Any) -> Callable:
    """Declare a job the worker runs on a schedule, e.g. ``periodic_task(crontab(minute="*/5"))``."""
    def decorator(func: Callable) -> LazyTask:
        name = f"{plugin or 'core'}.{func.__name__}"
        return LazyTask(name, _in_app_context(func, plugin), options, schedule=validate_datetime)

    return decorator


def current() -> Flask:
    return current_app._get_current_object() if has_app_context() else _app["app"]  # type: ignore[attr-defined]
