"""For operators: ``/healthz``, ``/readyz``, ``/metrics``, request ids and per-request metrics.

``/healthz`` answers 200 while the process can answer at all (no database, no Redis);
``/readyz`` answers 200 only when the database is reachable and its schema at head (the
core's and every installed plugin's), Redis answers (when ``REDIS_URL`` is set) and the job
queue is reachable — else 503 with what failed. Both are JSON, need no sign-in, are not
rate-limited and set no cookie. ``/metrics`` is the Prometheus text format, for the
networks in ``METRICS_ALLOW_FROM`` (default: this machine) or with
``Authorization: Bearer <METRICS_TOKEN>``.
"""
from __future__ import annotations

import hmac
import ipaddress
import logging
import time
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, jsonify, request

from helpdesk import metrics, schema_state
from helpdesk.extensions import db, limiter
from helpdesk.request_log import ENVIRON_KEY, HEADER, current_request_id, sane_request_id

bp = Blueprint("ops", __name__)
access_log = logging.getLogger("helpdesk.access")
OPS_ENDPOINTS = {"ops.healthz", "ops.readyz", "ops.metrics"}


def register(app: Flask) -> None:
    """Request ids, the access log line and request metrics for every request; the endpoints."""
    proxies = int(app.config.get("PROXY_COUNT") or 0)
    if proxies:  # the client's address and scheme as the proxies saw them, not the last proxy's
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)  # type: ignore[method-assign]
    app.before_request_funcs.setdefault(None, []).insert(0, _start)  # first, before any other check
    app.after_request(_finish)
    app.register_blueprint(bp)


def _start() -> None:
    g._helpdesk_started = time.perf_counter()
    request.environ[ENVIRON_KEY] = sane_request_id(request.headers.get(HEADER))


def _finish(response: Response) -> Response:
    rid = current_request_id()
    if rid:
        response.headers[HEADER] = rid
    started = g.pop("_helpdesk_started", None)
    seconds = time.perf_counter() - started if started is not None else 0.0
    endpoint = request.endpoint or ("static" if request.path.startswith("/static/") else "(unmatched)")
    if endpoint != "ops.metrics":
        metrics.observe_request(endpoint, request.method, response.status_code, seconds)
    access_log.info("%s %s %s", request.method, request.path, response.status_code,
                    extra={"method": request.method, "path": request.path, "endpoint": endpoint,
                           "status": response.status_code, "duration_ms": round(seconds * 1000, 1)})
    return response


@bp.get("/healthz")
@limiter.exempt
def healthz() -> Any:
    return jsonify(status="ok")


@bp.get("/readyz")
@limiter.exempt
def readyz() -> Any:
    checks = {"database": _check(_database), "jobs": _check(_jobs)}
    if current_app.config.get("REDIS_URL"):
        checks["redis"] = _check(_redis)
    ready = all(check["ok"] for check in checks.values())
    return jsonify(status="ready" if ready else "not ready", checks=checks), 200 if ready else 503


def _check(func: Any) -> dict[str, Any]:
    try:
        detail = func()
    except Exception as exc:  # noqa: BLE001 - the answer says what failed
        db.session.rollback()
        first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        return {"ok": False, "error": f"{type(exc).__name__}: {first_line}"[:300]}
    if isinstance(detail, str):
        return {"ok": False, "error": detail}
    return {"ok": True, **(detail or {})}


def _database() -> dict[str, Any] | str:
    with db.engine.connect() as conn:
        problem = schema_state.behind(current_app._get_current_object(), conn)  # type: ignore[attr-defined]
        if problem:
            return problem
        return {"revisions": sorted(schema_state.current_revisions(conn))}


def _jobs() -> dict[str, Any]:
    from helpdesk import jobs

    huey: Any = jobs.huey
    return {"backend": type(huey.storage).__name__, "queued": huey.pending_count()}


def _redis() -> dict[str, Any]:
    import redis

    client = redis.Redis.from_url(current_app.config["REDIS_URL"], socket_timeout=2, socket_connect_timeout=2)
    try:
        client.ping()
    finally:
        client.close()
    return {}


@bp.get("/metrics", endpoint="metrics")
@limiter.exempt
def metrics_view() -> Any:
    if not _metrics_allowed():
        return jsonify(error="Not allowed", message="Scrape from a network in METRICS_ALLOW_FROM "
                       "or send the METRICS_TOKEN bearer token."), 403
    try:
        from helpdesk import jobs

        huey: Any = jobs.huey
        depth: int | None = huey.pending_count()
    except Exception:  # noqa: BLE001 - the other metrics are still worth answering
        depth = None
    body, content_type = metrics.exposition(depth)
    return Response(body, content_type=content_type)



def _metrics_allowed() -> bool:
    token = current_app.config.get("METRICS_TOKEN") or ""
    given = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return True
    if "X-Forwarded-For" in request.headers and not current_app.config.get("PROXY_COUNT"):
        return False  # came through a proxy we were not told about: its address says nothing
    allowed = current_app.config.get("METRICS_ALLOW_FROM")
    if isinstance(allowed, str):
        allowed = [part.strip() for part in allowed.split(",") if part.strip()]
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    for network in allowed or []:
        try:
            if address in ipaddress.ip_network(network, strict=False):
                return True
        except ValueError:
            current_app.logger.warning("METRICS_ALLOW_FROM: %r is not a network", network)
    return False
