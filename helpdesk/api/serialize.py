"""The API's view of tickets and messages, as dicts for the schemas (also the webhooks' payloads)."""
from __future__ import annotations

from typing import Any

from helpdesk.api.base import PREFIX
from helpdesk.models import Message, Ticket, User
from helpdesk.models.tickets import format_reference


def ticket_dict(ticket: Ticket, viewer: User | None) -> dict[str, Any]:
    """A ticket as the API shows it to ``viewer`` (customers: no assignee, team or tags;
    ``None``: the full view, for webhooks)."""
    staff_view = viewer is None or viewer.is_backoffice
    return {
        "id": ticket.id, "reference": ticket.reference, "subject": ticket.subject, "status": ticket.status,
        "priority": ticket.priority, "channel": ticket.channel,
        "customer": {"id": ticket.customer_id, "name": ticket.customer.name if ticket.customer else ""},
        "assignee": {"id": ticket.assignee.id, "name": ticket.assignee.name}
        if staff_view and ticket.assignee else None,
        "team": {"id": ticket.team.id, "name": ticket.team.name} if staff_view and ticket.team else None,
        "tags": [t.name for t in ticket.tags] if staff_view else [],
        "message_count": ticket.message_count, "version": ticket.version,
        "merged_into": format_reference(ticket.merged_into_id) if ticket.merged_into_id else None,
        "sla_due_at": ticket.sla_due_at if staff_view else None,
        "created_at": ticket.created_at, "updated_at": ticket.updated_at,
        "first_response_at": ticket.first_response_at, "resolved_at": ticket.resolved_at,
        "closed_at": ticket.closed_at,
    }


def message_dict(message: Message) -> dict[str, Any]:
    author = message.author
    return {
        "id": message.id, "ticket": format_reference(message.ticket_id),
        "author": {"id": author.id, "name": author.name, "role": author.role} if author else None,
        "internal": message.internal, "body": message.body, "body_html": message.body_html,
        "channel": message.channel, "created_at": message.created_at,
        "attachments": [{"token": a.token, "filename": a.filename, "content_type": a.content_type,
                         "size": a.size, "url": f"{PREFIX}/attachments/{a.token}"}
                        for a in message.attachments],
    }
