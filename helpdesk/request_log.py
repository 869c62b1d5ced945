"""Request ids and structured (JSON) logs.

Every web request gets an id: the ``X-Request-ID`` header it came with when that looks sane
(1-128 letters, digits and ``-_.:``), else a new random one. It is sent back in the
response's ``X-Request-ID`` header, it is on every log record made while the request runs
(``record.request_id``), and jobs the request enqueues carry it (``helpdesk.jobs``) so the
worker's log lines of that job have it too.

``LOG_FORMAT = "json"`` (``HELPDESK_LOG_FORMAT=json``) makes every process log one JSON
object a line on stderr; ``LOG_LEVEL`` sets the level (default ``INFO``). Without it the
logging set-up is left alone (Flask's and gunicorn's defaults).
"""
from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
import traceback
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("helpdesk_request_id", default=None)

_SANE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
HEADER = "X-Request-ID"


def sane_request_id(value: str | None) -> str:
    """``value`` when it is a reasonable id to echo and log, else a new random one."""
    if value and _SANE.fullmatch(value):
        return value
    return uuid.uuid4().hex


ENVIRON_KEY = "helpdesk.request_id"


def current_request_id() -> str | None:
    """The id of the request (or of the job started by one) this code runs for, if any.

    Kept on the request itself (its WSGI environ), so it ends with the request whatever
    happens to contexts; a job outside any request gets it from ``request_id_var``.
    """
    from flask import has_request_context, request

    if has_request_context():
        found = request.environ.get(ENVIRON_KEY)
        if found:
            return found
    return request_id_var.get()


@contextmanager
def request_id(value: str | None) -> Iterator[None]:
    """Run a block (a job) under ``value`` as the request id."""
    token = request_id_var.set(value)
    try:
        yield
    finally:
        request_id_var.reset(token)


_previous_factory = logging.getLogRecordFactory()


def _record_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
    record = _previous_factory(*args, **kwargs)
    record.request_id = current_request_id()
    return record


def install_record_factory() -> None:
    """Every log record gets ``request_id`` (None outside a request), whoever handles it."""
    if logging.getLogRecordFactory() is not _record_factory:
        logging.setLogRecordFactory(_record_factory)


_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "request_id", "taskName"}


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message, request_id, and
    any ``extra={...}`` fields; ``exc_info`` as a formatted traceback under ``exception``."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
            "process": record.process,
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                out[key] = value if isinstance(value, (str, int, float, bool, type(None))) else str(value)
        if record.exc_info:
            out["exception"] = "".join(traceback.format_exception(*record.exc_info))
        return json.dumps(out, ensure_ascii=False)


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is when the record comes (test capture, gunicorn's)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


class HelpdeskJsonHandler(_StderrHandler):
    """The handler ``configure_logging`` puts on the root logger (one, however many apps)."""


def configure_logging(config: Any) -> None:
    """Apply ``LOG_FORMAT`` / ``LOG_LEVEL``; called by ``create_app``."""
    install_record_factory()
    fmt = str(config.get("LOG_FORMAT") or "text").lower()
    root = logging.getLogger()
    if fmt != "json":
        return
    for handler in list(root.handlers):  # ours from an earlier app, and default stream handlers
        if isinstance(handler, HelpdeskJsonHandler):
            root.removeHandler(handler)
    handler = HelpdeskJsonHandler()
    handler.setFormatter(JsonFormatter())
    root.addHandler(handler)
    root.setLevel(str(config.get("LOG_LEVEL") or "INFO").upper())
    # Flask's app.logger adds its own stderr handler only when none is configured; gunicorn's
    # error log stays its own. Werkzeug's development-server access lines go through root.
