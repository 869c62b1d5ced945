"""Signed outbound webhooks: endpoints, durable deliveries, retries, SSRF refusals.

An admin registers an endpoint (URL, events; the secret is shown once and kept encrypted
with the secrets key). ``emit(event, data)`` (called after commit by ``core.webhooks``, and
by plugins through ``plugin_api.send_webhook``) writes one ``webhook_deliveries`` row per
subscribed endpoint and hands its id to the ``deliver_webhook`` job. The row is the source
of truth, as for mail: the job claims it for a lease, so a killed worker's delivery is
handed to a new job by ``sweep_webhooks`` (every minute) and nothing is lost; a failed
attempt waits ``WEBHOOK_RETRY_SECONDS``, doubling (at most an hour), up to
``WEBHOOK_MAX_ATTEMPTS``; ``WEBHOOK_DISABLE_AFTER`` failed attempts in a row switch the
endpoint off (audited; an admin switches it on again).

Each request is signed: ``X-Helpdesk-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>``
with ``X-Helpdesk-Timestamp`` (Unix seconds). Targets are checked after DNS resolution and
the connection goes to the checked address (no second lookup to rebind); private, loopback,
link-local and other non-public addresses are refused unless the site setting
``webhooks_allow_private`` is on; redirects are not followed; response bodies are read only
to close the connection, never stored or shown.
"""
from __future__ import annotations

import hashlib
import hmac
import http.client
import ipaddress
import json
import logging
import secrets
import socket
import ssl
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import force_locale, gettext, lazy_gettext
from sqlalchemy import or_, select, update

import helpdesk.services.admin_audit as admin_audit
from helpdesk.extensions import db
from helpdesk.jobs import crontab, periodic_task, task
from helpdesk.models import WebhookDelivery, WebhookEndpoint
from helpdesk.models.base import utcnow
from helpdesk.plugin_manager import SECRET_PREFIX, manager
from helpdesk.services.errors import ServiceError
from helpdesk.services.settings import site_setting

log = logging.getLogger(__name__)

CORE_EVENTS = {
    "ticket.created": "A ticket was opened (any channel)",
    "ticket.updated": "Fields of a ticket changed (status, priority, assignee, team, tags, subject)",
    "message.added": "A reply or internal note was added to a ticket",
    "feedback.received": "A customer gave feedback (a rating or a comment)",
    "sla.breached": "A service-level target of a ticket was missed",
}
SWEEP_LIMIT = 200
USER_AGENT = "Helpdesk-Webhooks/1"


# ------------------------------------------------------------------ events


def all_events() -> dict[str, str]:
    """The core's events and every enabled plugin's (``helpdesk_webhook_events``)."""
    events = dict(CORE_EVENTS)
    for plugin, declared in manager().call_collect("helpdesk_webhook_events"):
        for name, description in (declared or {}).items():
            if not name.startswith(f"{plugin}."):
                log.warning("plugin %s declared webhook event %s without its prefix: ignored", plugin, name)
                continue
            events[name] = description
    return events


# ------------------------------------------------------------------ targets (SSRF)


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast
                                 or ip.is_reserved or ip.is_unspecified)


def allow_private() -> bool:
    return bool(site_setting("webhooks_allow_private"))


def check_url(url: str) -> tuple[str, str, int]:
    """``(scheme, host, port)`` of a webhook URL, or ServiceError saying what is wrong."""
    url = (url or "").strip()
    if len(url) > 2000:
        raise ServiceError(gettext('The URL is too long (2,000 characters at most).'), field="url")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ServiceError(gettext('Enter a full http:// or https:// URL.'), field="url")
    if parts.username or parts.password:
        raise ServiceError(
            gettext('Put no user name or password in the URL; the signature proves who sends.'), field="url")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise ServiceError(gettext("The URL's port is not a number from 1 to 65535."), field="url") from None
    return parts.scheme, parts.hostname, port


def resolve_target(host: str, port: int) -> str:
    """The address to connect to, checked after DNS resolution; ServiceError if refused."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise ServiceError(gettext('%(host)s could not be resolved.', host=host), field="url") from None
    addresses = [str(info[4][0]) for info in infos]
    if not allow_private():
        refused = [a for a in addresses if not _public(a)]
        if refused:  # one private answer is enough to refuse: DNS could hand out either
            raise ServiceError(
                gettext('%(host)s points to a private, loopback or link-local address (%(value)s); such targets are refused unless an admin allows private targets on Admin → Webhooks.', host=host, value=refused[0]), field="url")  # noqa: E501 - one msgid
    return addresses[0]


# ------------------------------------------------------------------ endpoints


def _fernet():
    return manager()._fernet()


def secret_of(endpoint: WebhookEndpoint) -> str:
    return _fernet().decrypt(endpoint.secret[len(SECRET_PREFIX):].encode()).decode()


def _clean_events(events: list[str]) -> list[str]:
    known = all_events()
    chosen = sorted({e for e in events if e})
    unknown = [e for e in chosen if e not in known]
    if unknown:
        raise ServiceError(gettext('Unknown event: %(value)s.', value=', '.join(unknown)), field="events")
    if not chosen:
        raise ServiceError(gettext('Choose at least one event to send.'), field="events")
    return chosen


def create_endpoint(url: str, events: list[str], description: str = "", actor: Any = None
                    ) -> tuple[WebhookEndpoint, str]:
    """Register an endpoint; returns it and its signing secret (shown once)."""
    _scheme, host, port = check_url(url)
    chosen = _clean_events(events)
    description = (description or "").strip()
    if len(description) > 200:
        raise ServiceError(gettext('The description is too long (200 characters at most).'), field="description")
    resolve_target(host, port)
    secret = "whsec_" + secrets.token_urlsafe(32)
    endpoint = WebhookEndpoint(url=url.strip(), events=chosen, description=description, active=True,
                               secret=SECRET_PREFIX + _fernet().encrypt(secret.encode()).decode(),
                               created_by_id=actor.id if actor is not None else None, created_at=utcnow())
    db.session.add(endpoint)
    db.session.flush()
    audit_target = lazy_gettext("webhook %(url)s (#%(id)s)", url=endpoint.url, id=endpoint.id)
    admin_audit.record("webhook", "created", audit_target, None,
                       {"url": endpoint.url, "events": chosen, "secret": "set"}, secrets={"secret"}, actor=actor)
    db.session.commit()
    return endpoint, secret


def set_active(endpoint: WebhookEndpoint, active: bool, actor: Any = None) -> None:
    before = {"active": endpoint.active}
    endpoint.active = active
    if active:
        endpoint.consecutive_failures, endpoint.disabled_reason = 0, None
    audit_target = lazy_gettext("webhook %(url)s (#%(id)s)", url=endpoint.url, id=endpoint.id)
    admin_audit.record("webhook", "enabled" if active else "disabled", audit_target,
                       before, {"active": active}, actor=actor)
    db.session.commit()


def delete_endpoint(endpoint: WebhookEndpoint, actor: Any = None) -> None:
    audit_target = lazy_gettext("webhook %(url)s (#%(id)s)", url=endpoint.url, id=endpoint.id)
    admin_audit.record("webhook", "deleted", audit_target,
                       {"url": endpoint.url, "events": endpoint.events}, None, actor=actor)
    db.session.delete(endpoint)
    db.session.commit()


# ------------------------------------------------------------------ emitting


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.replace(microsecond=0).isoformat() + "Z"
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    return value


def lease() -> timedelta:
    return timedelta(seconds=int(current_app.config.get("JOB_LEASE_SECONDS") or 60))


def emit(event: str, data: dict[str, Any] | Callable[[], dict[str, Any]]) -> list[int]:
    """Queue ``event`` for every active endpoint subscribed to it (after the caller's commit);
    returns the deliveries' ids. Cheap when nobody listens: one indexed read. ``data`` may be
    a function making the payload, called only when someone listens (serialising a ticket
    and its message costs more than the read)."""
    endpoints = [e for e in db.session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.active.is_(True)))
                 if event in (e.events or [])]
    if not endpoints:
        return []
    if callable(data):
        data = data()
    now = utcnow()
    body = json.dumps({"id": f"evt_{uuid.uuid4().hex}", "event": event, "created_at": _jsonable(now),
                       "data": _jsonable(data)}, separators=(",", ":"), ensure_ascii=False)
    rows = [WebhookDelivery(endpoint_id=e.id, event=event, payload=body, status="pending", attempts=0,
                            created_at=now, lease_until=now + lease()) for e in endpoints]
    db.session.add_all(rows)
    db.session.commit()
    ids = [r.id for r in rows]
    for delivery_id in ids:
        deliver_webhook(delivery_id)
    return ids


def redeliver(delivery: WebhookDelivery, actor: Any = None) -> WebhookDelivery:
    """Send a logged delivery again, as a new delivery with the same body (and its own log line)."""
    again = WebhookDelivery(endpoint_id=delivery.endpoint_id, event=delivery.event, payload=delivery.payload,
                            status="pending", attempts=0, created_at=utcnow(), lease_until=utcnow() + lease())
    db.session.add(again)
    audit_target = lazy_gettext("delivery #%(id)s of webhook #%(webhook)s", id=delivery.id,
                                webhook=delivery.endpoint_id)
    admin_audit.record("webhook", "redelivered", audit_target,
                       actor=actor)
    db.session.commit()
    deliver_webhook(again.id)
    return again


# ------------------------------------------------------------------ delivering


def sign(secret: str, timestamp: int, body: bytes) -> str:
    return "v1=" + hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the address checked before (no second DNS lookup), with the URL's Host."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


def post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
    """POST ``body``; returns the status code. Raises ServiceError (refused target) or OSError."""
    scheme, host, port = check_url(url)
    address = resolve_target(host, port)
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    cls = _PinnedHTTPSConnection if scheme == "https" else _PinnedHTTPConnection
    conn = cls(host, port, address, timeout)
    try:
        conn.request("POST", path, body=body, headers=headers)
        response = conn.getresponse()
        response.read(4096)  # drained, never stored: a response body is not echoed to anyone
        return response.status
    finally:
        conn.close()


def claim(delivery_id: int, now: datetime | None = None) -> str | None:
    now = now or utcnow()
    token = uuid.uuid4().hex
    claimed = db.session.execute(
        update(WebhookDelivery).where(
            WebhookDelivery.id == delivery_id, WebhookDelivery.status == "pending",
            or_(WebhookDelivery.claim.is_(None), WebhookDelivery.lease_until.is_(None),
                WebhookDelivery.lease_until <= now))
        .values(claim=token, lease_until=now + lease()).returning(WebhookDelivery.id)
        .execution_options(synchronize_session=False)).scalar()
    db.session.commit()
    return token if claimed is not None else None


def retry_delay(attempts: int) -> timedelta:
    base = int(current_app.config.get("WEBHOOK_RETRY_SECONDS") or 30)
    return timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), 3600))


def attempt(delivery: WebhookDelivery) -> None:
    """One attempt, recorded on the row and its endpoint (committed)."""
    endpoint = delivery.endpoint
    now = utcnow()
    if not endpoint.active:
        delivery.status, delivery.claim, delivery.lease_until = "failed", None, None
        delivery.error = "The endpoint is switched off."
        db.session.commit()
        return
    body = delivery.payload.encode()
    timestamp = int(time.time())
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT,
               "X-Helpdesk-Event": delivery.event, "X-Helpdesk-Delivery": str(delivery.id),
               "X-Helpdesk-Timestamp": str(timestamp),
               "X-Helpdesk-Signature": sign(secret_of(endpoint), timestamp, body)}
    started = time.perf_counter()
    code: int | None = None
    error: str | None = None
    try:
        # English: the error is stored on the delivery, and the URL checks' messages are
        # translated when raised (whoever reads the deliveries page later reads the same text).
        with force_locale("en"):
            code = post(endpoint.url, body, headers, float(current_app.config.get("WEBHOOK_TIMEOUT_SECONDS") or 10))
        if 300 <= code < 400:
            error = f"HTTP {code}: redirects are not followed; register the final URL."
        elif code >= 400:
            error = f"HTTP {code}"
    except ServiceError as exc:
        error = exc.message
    except TimeoutError:
        error = "timed out"
    except (OSError, http.client.HTTPException) as exc:
        error = f"could not connect: {type(exc).__name__}"
    delivery.attempts += 1
    delivery.last_attempt_at = now
    delivery.response_code = code
    delivery.duration_ms = int((time.perf_counter() - started) * 1000)
    delivery.error = error
    if error is None:
        delivery.status, delivery.delivered_at, delivery.claim, delivery.lease_until = "delivered", now, None, None
        endpoint.consecutive_failures = 0
        db.session.commit()
        return
    endpoint.consecutive_failures += 1
    limit = int(current_app.config.get("WEBHOOK_DISABLE_AFTER") or 15)
    if delivery.attempts >= int(current_app.config.get("WEBHOOK_MAX_ATTEMPTS") or 8):
        delivery.status, delivery.claim, delivery.lease_until = "failed", None, None
    else:  # the sweeper hands it to a new job when the wait is over
        delivery.claim, delivery.lease_until = "retry", now + retry_delay(delivery.attempts)
    if endpoint.active and endpoint.consecutive_failures >= limit:
        endpoint.active = False
        endpoint.disabled_reason = f"Switched off after {endpoint.consecutive_failures} failed attempts in a row."
        audit_target = lazy_gettext("webhook %(url)s (#%(id)s)", url=endpoint.url, id=endpoint.id)
        admin_audit.record("webhook", "disabled", audit_target, {"active": True},
                           {"active": False}, actor=None)
        log.warning("webhook endpoint %s switched off after %d failures", endpoint.id, endpoint.consecutive_failures)
    db.session.commit()


@task()
def deliver_webhook(delivery_id: int) -> None:
    if claim(delivery_id) is None:
        return  # delivered, given up, or another job holds it
    delivery = db.session.get(WebhookDelivery, delivery_id)
    attempt(delivery)


def sweep_webhooks(now: datetime | None = None) -> int:
    """Hand every pending delivery whose lease ran out, or whose retry is due, to a new job."""
    now = now or utcnow()
    due = select(WebhookDelivery.id).where(
        WebhookDelivery.status == "pending",
        or_(WebhookDelivery.lease_until.is_(None), WebhookDelivery.lease_until <= now)).limit(SWEEP_LIMIT)
    ids = list(db.session.scalars(due))
    db.session.commit()
    handed = 0
    for delivery_id in ids:
        if claim(delivery_id, now) is None:
            continue
        handed += 1
        attempt(db.session.get(WebhookDelivery, delivery_id))
    return handed


@periodic_task(crontab(minute="*"))
def sweep_webhooks_job() -> int:
    return sweep_webhooks()
