"""Tags (Admin → Tags): creating and deleting them like any other change to tickets.

Deleting a tag takes it off every ticket that carries it. Each of those tickets gets an
entry in its audit trail, the ``ticket_changed`` hook fires for it (so plugins and the
service levels, whose policies may be limited to a tag, re-evaluate it), and the deletion
itself goes to the admin audit log.
"""
from __future__ import annotations

from flask_babel import gettext, lazy_gettext
from sqlalchemy import select

import helpdesk.services.admin_audit as admin_audit
from helpdesk.extensions import db
from helpdesk.models import Tag, Ticket, User, ticket_tags
from helpdesk.models.base import utcnow
from helpdesk.plugin_manager import manager
from helpdesk.services.errors import PermissionDenied, ServiceError
from helpdesk.services.tickets import audit


def create_tag(name: str, actor: User | None = None) -> Tag:
    name = (name or "").strip().lower()
    if not name or len(name) > 60:
        raise ServiceError(gettext('Enter a tag (60 characters at most).'), field="name")
    if db.session.scalar(select(Tag.id).where(Tag.name == name)):
        raise ServiceError(gettext('This tag exists already.'), field="name")
    tag = Tag(name=name)
    db.session.add(tag)
    db.session.flush()
    audit_target = lazy_gettext("tag %(name)s (#%(id)s)", name=name, id=tag.id)
    admin_audit.record("tag", "created", audit_target, None, {"name": name}, actor=actor)
    db.session.commit()
    return tag


def delete_tag(tag: Tag, actor: User) -> int:
    """Remove ``tag`` everywhere; returns how many tickets carried it."""
    if not actor.is_admin:
        raise PermissionDenied(gettext('Only admins can delete tags.'))
    name = tag.name
    tickets = list(db.session.scalars(
        select(Ticket).where(Ticket.id.in_(select(ticket_tags.c.ticket_id).where(ticket_tags.c.tag_id == tag.id)))
        .order_by(Ticket.id)))
    changes: dict[int, dict[str, tuple]] = {}
    now = utcnow()
    for ticket in tickets:
        old_names = [t.name for t in ticket.tags]
        ticket.tags = [t for t in ticket.tags if t.id != tag.id]
        new_names = [t.name for t in ticket.tags]
        changes[ticket.id] = {"tags": (", ".join(old_names), ", ".join(new_names))}
        audit(ticket, actor, "changed", "tags", ", ".join(old_names), ", ".join(new_names),
              reason=lazy_gettext("tag %(name)s deleted by an admin", name=name))
        ticket.updated_at = now
    audit_target = lazy_gettext("tag %(name)s (#%(id)s)", name=name, id=tag.id)
    admin_audit.record("tag", "deleted", audit_target, {"name": name, "tickets": len(tickets)},
                       None, actor=actor)
    db.session.delete(tag)
    db.session.commit()
    for ticket in tickets:  # after the commit, like every ticket change
        manager().call_event("helpdesk_ticket_changed", ticket=ticket, changes=changes[ticket.id], actor=actor)
    return len(tickets)
