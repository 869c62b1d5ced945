"""The core's events as signed webhooks (registered as the always-enabled ``core.webhooks``).

Each event hook queues one delivery per subscribed endpoint (``services.webhooks.emit``);
with no endpoint registered it costs one read (the payload is made only for a listener).
``ticket.created`` is written in the ticket's transaction and its delivery job queued after
the commit; the other events run after the service's commit.
Payloads carry the full (staff) view of the ticket: webhooks are configured by admins.
"""
from __future__ import annotations

from typing import Any

from helpdesk.api.schemas import MessageSchema, SlaTargetSchema, TicketSchema
from helpdesk.api.serialize import message_dict, ticket_dict
from helpdesk.markers import hookimpl
from helpdesk.models import Message, SlaTarget, Ticket, User
from helpdesk.services.webhooks import emit


def _ticket(ticket: Ticket) -> dict[str, Any]:
    return TicketSchema().dump(ticket_dict(ticket, None))


def _actor(actor: User | None) -> dict[str, Any] | None:
    return {"id": actor.id, "name": actor.name, "role": actor.role} if actor is not None else None


@hookimpl
def helpdesk_ticket_created(ticket: Ticket, message: Message) -> None:
    emit("ticket.created", lambda: {"ticket": _ticket(ticket), "message": MessageSchema().dump(message_dict(message))})


@hookimpl
def helpdesk_ticket_changed(ticket: Ticket, changes: dict[str, tuple], actor: User | None) -> None:
    emit("ticket.updated", {"ticket": _ticket(ticket), "actor": _actor(actor),
                            "changes": {field: [old, new] for field, (old, new) in changes.items()}})


@hookimpl
def helpdesk_message_added(ticket: Ticket, message: Message) -> None:
    emit("message.added", lambda: {"ticket": _ticket(ticket), "message": MessageSchema().dump(message_dict(message))})


@hookimpl
def helpdesk_feedback_received(ticket: Ticket | None, customer: User, feedback: dict) -> None:
    emit("feedback.received", {"ticket": _ticket(ticket) if ticket is not None else None,
                               "customer": {"id": customer.id, "name": customer.name}, "feedback": dict(feedback)})


@hookimpl
def helpdesk_sla_breached(ticket: Ticket, target: SlaTarget) -> None:
    state = {"kind": target.kind, "state": "breached", "policy": target.policy.name if target.policy else None,
             "cycle": target.cycle, "due_at": target.due_at, "paused_at": target.paused_at, "met_at": target.met_at,
             "warned_at": target.warned_at, "breached_at": target.breached_at}
    emit("sla.breached", {"ticket": _ticket(ticket), "target": SlaTargetSchema().dump(state)})
