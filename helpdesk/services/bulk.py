"""Bulk actions of the queue beyond "set a field": close, merge into one ticket, mark as spam.

Each works ticket by ticket through the single-ticket services (so every rule, hook, audit
entry and notification is the same as when done one at a time) and reports per ticket
what was refused. Only agents and admins may act in bulk; the caller passes tickets it has
already limited to the actor's scope (``access.visible_tickets``).

**Spam** means: the ticket is closed and tagged ``spam`` (so it leaves every active view,
stays findable with the tag filter and can be counted or purged later). The sender is not
blocked: the core has no block list; a plugin that keeps one can act on
``ticket_changed`` when the ``spam`` tag appears.
"""
from __future__ import annotations

from collections.abc import Sequence

from flask_babel import gettext

from helpdesk.extensions import db
from helpdesk.models import Ticket, User
from helpdesk.services.errors import PermissionDenied, ServiceError
from helpdesk.services.merge import merge_tickets
from helpdesk.services.tickets import bulk_update, update_ticket

SPAM_TAG = "spam"


def _staff_only(actor: User) -> None:
    if not actor.is_staff:
        raise PermissionDenied(gettext('Only agents can change tickets in bulk.'))


def bulk_close(tickets: Sequence[Ticket], actor: User) -> tuple[int, list[str]]:
    """Close every ticket; returns (how many changed, error messages)."""
    _staff_only(actor)
    return bulk_update(tickets, actor, status="closed")


def mark_spam(tickets: Sequence[Ticket], actor: User) -> tuple[int, list[str]]:
    """Close each ticket and tag it ``spam``; returns (how many changed, error messages)."""
    _staff_only(actor)
    changed, errors = 0, []
    for ticket in tickets:
        tags = [t.name for t in ticket.tags]
        if SPAM_TAG not in tags:
            tags.append(SPAM_TAG)
        try:
            done = update_ticket(ticket, actor, status="closed", tags=tags)
        except ServiceError as exc:
            errors.append(f"{ticket.reference}: {exc.message}")
            continue
        changed += bool(done)
    return changed, errors


def bulk_merge(tickets: Sequence[Ticket], target: Ticket, actor: User) -> tuple[int, list[str]]:
    """Merge every ticket (but the target itself) into ``target``; returns (merged, errors)."""
    _staff_only(actor)
    merged, errors = 0, []
    for ticket in tickets:
        if ticket.id == target.id:
            continue
        try:
            merge_tickets(ticket, target, actor)
        except ServiceError as exc:
            db.session.rollback()
            errors.append(f"{ticket.reference}: {exc.message}")
            continue
        merged += 1
    return merged, errors
