"""The admin audit log: who changed which configuration, when, from where, before → after.

Every service that changes configuration (plugins, their settings, service levels, business
hours, users and roles, teams, tags, canned replies, site settings) calls :func:`record`
before its commit, so the entry and the change are written together or not at all.
Plugins record their own configuration the same way (``plugin_api.record_config_change``).
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import date, datetime, time, timedelta
from typing import Any

from flask import has_request_context, request
from flask_babel import lazy_gettext
from flask_babel.speaklater import LazyString
from flask_login import current_user
from sqlalchemy import Select, select

from helpdesk.csv_export import csv_lines
from helpdesk.extensions import db
from helpdesk.models import AdminAuditEntry, User
from helpdesk.models.base import utcnow
from helpdesk.stored_words import english_text, words_of

MASK = "••••••"
# Keys whose values never enter the log, whatever the caller says.
SECRET_KEY_PATTERN = re.compile(r"pass(word)?|secret|token|api[_-]?key|private[_-]?key|credential", re.I)
SYSTEM = "system (command line or job)"
MAX_VALUE = 2000  # characters kept of one value (a canned reply's body can be long)
# What the core's kinds are called on the page; the stored kind stays the key (filters, CSV).
KIND_NAMES = {
    "announcement": lazy_gettext("announcement"), "api_token": lazy_gettext("API token"),
    "business_hours": lazy_gettext("business hours"), "canned_reply": lazy_gettext("canned reply"),
    "custom_field": lazy_gettext("custom field"), "macro": lazy_gettext("macro"),
    "organisation": lazy_gettext("organisation"), "plugin": lazy_gettext("plugin"),
    "plugin_settings": lazy_gettext("plugin settings"), "site_settings": lazy_gettext("site settings"),
    "sla_policy": lazy_gettext("SLA policy"), "tag": lazy_gettext("tag"), "team": lazy_gettext("team"),
    "user": lazy_gettext("user"), "webhook": lazy_gettext("webhook"),
}


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, str):
        return value if len(value) <= MAX_VALUE else value[:MAX_VALUE] + "…"
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=str) if isinstance(value, (set, frozenset)) else value
        return [_jsonable(v) for v in items]
    return _jsonable(str(value))


def _masked(values: Mapping[str, Any] | None, secrets: set[str]) -> dict[str, Any] | None:
    """Values made JSON-safe, secrets replaced by a mask (empty stays empty: "no secret set")."""
    if values is None:
        return None
    out = {}
    for key, value in values.items():
        secret = key in secrets or SECRET_KEY_PATTERN.search(key)
        out[key] = (MASK if value not in (None, "") else "") if secret else _jsonable(value)
    return out


def _actor() -> User | None:
    if has_request_context() and getattr(current_user, "is_authenticated", False):
        return current_user._get_current_object()
    return None


def record(kind: str, action: str, target: str | LazyString = "", before: Mapping[str, Any] | None = None,
           after: Mapping[str, Any] | None = None, *, secrets: Iterable[str] = (),
           actor: User | None = None, ip_address: str | None = None) -> AdminAuditEntry | None:
    """Add one entry to the admin audit log (committed with the caller's transaction).

    ``kind`` names what was configured (``team``, ``plugin``, ``complaints.rule``), ``action``
    what happened (``created``, ``changed``, ``deleted``, ``enabled``, ``disabled``),
    ``target`` which one, readable (``team Billing (#3)``; given as ``lazy_gettext("team
    %(name)s (#%(id)s)", ...)`` each admin reads it in their language). For a change, pass the values
    before and after: only the keys whose value differs are kept, and nothing is recorded
    when nothing changed (returns None). Keys in ``secrets``, and keys that look like
    passwords, tokens or keys, are masked: the log says that they changed, never to what.
    The actor and address default to the signed-in user and the request's remote address
    (the command line and jobs are recorded as "system", with no address).
    """
    secret_keys = set(secrets)
    if before is not None and after is not None:
        # Compared before masking: a changed secret is kept, and reads "•••••• → ••••••".
        keys = [k for k in dict.fromkeys([*before, *after]) if before.get(k) != after.get(k)]
        if not keys:
            return None
        before = {k: before.get(k) for k in keys}
        after = {k: after.get(k) for k in keys}
    actor = actor or _actor()
    if ip_address is None and has_request_context():
        ip_address = request.remote_addr
    entry = AdminAuditEntry(
        actor_id=actor.id if actor is not None else None,
        actor_name=(actor.name if actor is not None else SYSTEM)[:200],
        ip_address=(ip_address or None) and ip_address[:45], kind=kind[:80], action=action[:40],
        target=(english_text(target) or "")[:300], target_words=words_of(target),
        before=_masked(before, secret_keys), after=_masked(after, secret_keys),
        created_at=utcnow())
    db.session.add(entry)
    return entry


def snapshot(obj: Any, fields: Iterable[str]) -> dict[str, Any] | None:
    """``{field: value}`` of an object, for ``before``/``after`` (None for no object)."""
    if obj is None:
        return None
    return {name: _jsonable(getattr(obj, name)) for name in fields}


def record_change(kind: str, target: str | LazyString, before: Mapping[str, Any] | None,
                  after: Mapping[str, Any] | None, **kwargs: Any) -> AdminAuditEntry | None:
    """``record`` with the action read off the snapshots: created, changed or deleted."""
    action = "created" if before is None else "deleted" if after is None else "changed"
    return record(kind, action, target, before, after, **kwargs)


# ------------------------------------------------------------------ reading


def entries_query(*, actor_id: int | None = None, kind: str | None = None, since: date | None = None,
                  until: date | None = None) -> Select:
    """The log, newest first, filtered by who, kind (``complaints`` matches ``complaints.rule``)
    and an inclusive range of days (UTC)."""
    query = select(AdminAuditEntry)
    if actor_id is not None:
        query = query.where(AdminAuditEntry.actor_id == actor_id)
    if kind:
        query = query.where((AdminAuditEntry.kind == kind)
                            | AdminAuditEntry.kind.startswith(kind + ".", autoescape=True))
    if since is not None:
        query = query.where(AdminAuditEntry.created_at >= datetime.combine(since, time.min))
    if until is not None:
        query = query.where(AdminAuditEntry.created_at < datetime.combine(until + timedelta(days=1), time.min))
    return query.order_by(AdminAuditEntry.created_at.desc(), AdminAuditEntry.id.desc())


def kinds() -> list[str]:
    return list(db.session.scalars(select(AdminAuditEntry.kind).distinct().order_by(AdminAuditEntry.kind)))


def kind_name(kind: str) -> str:
    """The kind as the reader's language calls it; a plugin's own kind reads as its key."""
    name = KIND_NAMES.get(kind)
    return str(name) if name is not None else kind.replace("_", " ")


def actors() -> list[tuple[int, str]]:
    """(id, name) of everyone who appears in the log, for the "who" filter."""
    ids = select(AdminAuditEntry.actor_id).where(AdminAuditEntry.actor_id.is_not(None)).distinct()
    return [(u.id, u.name) for u in db.session.scalars(select(User).where(User.id.in_(ids)).order_by(User.name))]


def describe(values: Mapping[str, Any] | None) -> str:
    """``{"name": "A", "teams": ["x"]}`` → ``name: A; teams: x`` (for the page and the CSV)."""
    if not values:
        return ""
    def one(value: Any) -> str:
        if isinstance(value, list):
            return ", ".join(one(v) for v in value)
        if value is None:
            return "—"
        return str(value)
    return "; ".join(f"{k}: {one(v)}" for k, v in values.items())


CSV_HEADER = ("time (UTC)", "who", "address", "kind", "action", "target", "before", "after")


def csv_rows(query: Select, batch: int = 500) -> Iterator[str]:
    """The log as CSV lines, read in batches (call inside an app context)."""
    return csv_lines(_csv_records(query, batch))


def _csv_records(query: Select, batch: int) -> Iterator[tuple]:
    yield CSV_HEADER
    offset = 0
    while True:
        rows = list(db.session.scalars(query.offset(offset).limit(batch)))
        for e in rows:
            yield (e.created_at.strftime("%Y-%m-%d %H:%M:%S"), e.actor_name, e.ip_address or "", e.kind,
                   e.action, e.target, describe(e.before), describe(e.after))
        if len(rows) < batch:
            return
        offset += batch
