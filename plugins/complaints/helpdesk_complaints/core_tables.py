"""The core tables this plugin reads, from ``plugin_api``.

The plugin reads the audit trail for the explain view, and SLA policies and targets for the
"apply SLA policy" action and the dashboard. Reads only: tickets are changed through
``services`` (a routing rule's priority and tags through ``apply_route_decision``).
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import Table, select

from helpdesk.plugin_api import AuditEvent, SlaPolicy, SlaTarget, db_session


def audit_events() -> Table:
    return AuditEvent.__table__


def sla_policies() -> Table:
    return SlaPolicy.__table__


def sla_targets() -> Table:
    return SlaTarget.__table__


def tagged_policies() -> list[Any]:
    """SLA policies limited to a tag (the ones an "apply SLA policy" action can use), by position."""
    p = sla_policies().c
    return list(db_session().execute(select(p.id, p.name, p.tag, p.active, p.first_response_minutes)
                                   .where(p.tag.is_not(None), p.tag != "").order_by(p.position, p.id)))


def policy(policy_id: int) -> Any | None:
    p = sla_policies().c
    return db_session().execute(select(p.id, p.name, p.tag, p.active).where(p.id == policy_id)).first()
