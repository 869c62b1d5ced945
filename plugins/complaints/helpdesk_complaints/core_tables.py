"""The core tables this plugin reads, from ``plugin_api``.

The plugin adds tags inside a routing decision, reads the audit trail for the explain view,
and reads SLA policies and targets for the "apply SLA policy" action and the dashboard.
Reads only; tickets are still changed through ``services``.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import Table, select

from helpdesk.plugin_api import AuditEvent, SlaPolicy, SlaTarget, Tag, db


def tag_model() -> Any:
    return Tag


def audit_events() -> Table:
    return AuditEvent.__table__


def sla_policies() -> Table:
    return SlaPolicy.__table__


def sla_targets() -> Table:
    return SlaTarget.__table__


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
