"""Prometheus metrics (``prometheus_client``), served at ``/metrics`` (``helpdesk.web.ops``).

prometheus_client is imported on first use, not at start-up (about 50 ms every ``helpdesk``
command would pay). With several processes (gunicorn workers, ``helpdesk worker``) set
``PROMETHEUS_MULTIPROC_DIR`` to an empty folder shared by the processes of one machine
before they start: each writes its counters there and ``/metrics`` sums them
(prometheus_client's multiprocess mode; gunicorn's ``child_exit`` must call
``mark_process_dead``, see ``helpdesk.gunicorn_config``). Without it each process counts on
its own.

The metrics (all prefixed ``helpdesk_``):

- ``http_requests_total{endpoint,method,status}`` and
  ``http_request_duration_seconds{endpoint}`` (a histogram): by Flask endpoint name
  (``agent.ticket``), never by raw path, so ids do not multiply the series;
- ``job_runs_total{job,outcome}`` (``ok`` / ``failed``), ``job_duration_seconds{job}``;
- ``job_queue_depth``: jobs waiting in the queue, read when scraped;
- ``plugin_errors_total{plugin,hook}``;
- ``mail_sent_total{outcome}`` (``sent`` / ``failed``): outbound SMTP;
- ``messages_received_total{channel}``: customer messages that came in through a channel
  other than the web (``email`` is inbound mail).
"""
from __future__ import annotations

import os
import threading
from typing import Any

_lock = threading.Lock()
_metrics: dict[str, Any] = {}

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def _get() -> dict[str, Any]:
    if _metrics:
        return _metrics
    with _lock:
        if not _metrics:
            from prometheus_client import Counter, Histogram

            _metrics.update(
                requests=Counter("helpdesk_http_requests", "HTTP requests answered, by endpoint and status",
                                 ["endpoint", "method", "status"]),
                latency=Histogram("helpdesk_http_request_duration_seconds", "Time to answer a request",
                                  ["endpoint"], buckets=LATENCY_BUCKETS),
                job_runs=Counter("helpdesk_job_runs", "Background job runs, by outcome", ["job", "outcome"]),
                job_latency=Histogram("helpdesk_job_duration_seconds", "Time a job ran", ["job"],
                                      buckets=LATENCY_BUCKETS),
                plugin_errors=Counter("helpdesk_plugin_errors", "Exceptions raised by plugins",
                                      ["plugin", "hook"]),
                mail_sent=Counter("helpdesk_mail_sent", "Outbound mail handed to SMTP, by outcome", ["outcome"]),
                received=Counter("helpdesk_messages_received",
                                 "Customer messages received through a channel other than the web", ["channel"]),
            )
    return _metrics


def _safe(func: Any) -> Any:
    """Counting must never break the request or job it counts."""
    def wrapper(*args: Any, **kwargs: Any) -> None:
        try:
            func(*args, **kwargs)
        except Exception:  # noqa: BLE001 - a metrics failure is not the user's problem
            import logging

            logging.getLogger(__name__).debug("metric update failed", exc_info=True)
    wrapper.__doc__ = func.__doc__
    return wrapper


@_safe
def observe_request(endpoint: str, method: str, status: int, seconds: float) -> None:
    """Count one answered request."""
    m = _get()
    m["requests"].labels(endpoint, method, str(status)).inc()
    m["latency"].labels(endpoint).observe(seconds)


@_safe
def observe_job(job: str, ok: bool, seconds: float) -> None:
    """Count one job run."""
    m = _get()
    m["job_runs"].labels(job, "ok" if ok else "failed").inc()
    m["job_latency"].labels(job).observe(seconds)


@_safe
def plugin_error(plugin: str, hook: str) -> None:
    """Count one exception a plugin raised."""
    _get()["plugin_errors"].labels(plugin, hook).inc()


@_safe
def mail_sent(ok: bool) -> None:
    """Count one outbound mail handed to SMTP (or refused)."""
    _get()["mail_sent"].labels("sent" if ok else "failed").inc()


@_safe
def message_received(channel: str) -> None:
    """Count one customer message that came in through ``channel``."""
    _get()["received"].labels(channel).inc()


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or os.environ.get("prometheus_multiproc_dir") or None


def serve(port: int, address: str = "127.0.0.1") -> None:
    """Serve the metrics on their own port from a thread (``helpdesk worker --metrics-port``)."""
    from prometheus_client import REGISTRY, CollectorRegistry, start_http_server

    _get()
    registry = REGISTRY
    if multiprocess_dir():
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    start_http_server(port, addr=address, registry=registry)


def exposition(queue_depth: int | None) -> tuple[bytes, str]:
    """The text to answer a scrape with, and its content type."""
    from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
    from prometheus_client.core import GaugeMetricFamily

    _get()  # the families exist (with no samples) before the first request is counted
    if multiprocess_dir():
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        from prometheus_client import REGISTRY as registry
    text = generate_latest(registry)
    if queue_depth is not None:
        depth = GaugeMetricFamily("helpdesk_job_queue_depth", "Jobs waiting in the queue", value=queue_depth)

        class _One:
            def collect(self) -> list[Any]:
                return [depth]

        extra = CollectorRegistry(auto_describe=False)
        extra.register(_One())
        text += generate_latest(extra)
    return text, CONTENT_TYPE_LATEST
