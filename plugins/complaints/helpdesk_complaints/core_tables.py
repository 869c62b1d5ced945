"""Read access to core tables that ``plugin_api`` does not export (yet).

``plugin_api`` offers ``Ticket``, ``Message``, ``User`` and ``Team``. The plugin also needs to
add tags inside a routing decision, read the audit trail for the explain view, and read SLA
policies and targets for the "apply SLA policy" action and the dashboard. Rather than import
``helpdesk.models`` (internal), it reaches them through what the public API already exposes:
the ``Ticket.tags`` relationship and the shared metadata. Reads only; tickets are still
changed through ``services``. The lead is asked to export these from ``plugin_api``.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import Table, select

from helpdesk.plugin_api import Ticket, db


def tag_model() -> Any:
    """The core's ``Tag`` model (through ``Ticket.tags``)."""
    return Ticket.tags.property.mapper.class_


def table(name: str) -> Table:
    return db.metadata.tables[name]


def audit_events() -> Table:
    return table("audit_events")


def sla_policies() -> Table:
    return table("sla_policies")


def sla_targets() -> Table:
    return table("sla_targets")


def tags_by_name(names: list[str]) -> list[Any]:
    """Tag objects for ``names`` (lower-cased, trimmed), created when missing, in the session."""
    tag_cls = tag_model()
    wanted: list[str] = []
    for raw in names:
        name = (raw or "").strip().lower()[:60]
        if name and name not in wanted:
            wanted.append(name)
    if not wanted:
        return []
    existing = {t.name: t for t in db.session.scalars(select(tag_cls).where(tag_cls.name.in_(wanted)))}
    for name in wanted:
        if name not in existing:
            existing[name] = tag_cls(name=name)
            db.session.add(existing[name])
    return [existing[n] for n in wanted]


def tagged_policies() -> list[Any]:
    """SLA policies limited to a tag (the ones an "apply SLA policy" action can use), by position."""
    p = sla_policies().c
    return list(db.session.execute(select(p.id, p.name, p.tag, p.active, p.first_response_minutes)
                                   .where(p.tag.is_not(None), p.tag != "").order_by(p.position, p.id)))


def policy(policy_id: int) -> Any | None:
    p = sla_policies().c
    return db.session.execute(select(p.id, p.name, p.tag, p.active).where(p.id == policy_id)).first()
