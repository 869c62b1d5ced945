"""The core's service-level hooks (registered as ``core.sla``, always enabled).

They are ordinary hook implementations, the same a third-party plugin would write: the
event hooks keep each ticket's clocks (``helpdesk.sla.engine``), ``helpdesk_blueprints``
adds Admin → Service levels, and the ``ticket.sidebar`` slot shows each clock's state with
a drafted "still working on it" message when an update to the customer is due soon.
"""
from __future__ import annotations

from typing import Any

import pluggy
from flask import Blueprint, render_template
from markupsafe import Markup
from sqlalchemy import select

from helpdesk.canned import render_reply
from helpdesk.models import Message, SlaPolicy, SlaTarget, Ticket, User
from helpdesk.sla import engine
from helpdesk.sla.views import bp

hookimpl = pluggy.HookimplMarker("helpdesk")

# The drafted update, rendered like a canned reply (sandboxed, personal placeholders).
UPDATE_TEMPLATE = (
    "Hi {{ customer.first_name }},\n\n"
    "I am still working on {{ ticket.reference }} ({{ ticket.subject }}) and wanted to let you know "
    "where things stand: it has not been forgotten, and I will write again as soon as I have news.\n\n"
    "Best regards,\n"
    "{{ agent.name }}"
)


@hookimpl
def helpdesk_blueprints() -> list[Blueprint]:
    return [bp]


@hookimpl
def helpdesk_ticket_created(ticket: Ticket) -> None:
    engine.on_ticket_created(ticket)


@hookimpl
def helpdesk_message_added(ticket: Ticket, message: Message) -> None:
    author = message.author
    engine.on_message_added(ticket, internal=message.internal,
                            from_staff=None if author is None else author.is_staff)


@hookimpl
def helpdesk_ticket_changed(ticket: Ticket, changes: dict[str, tuple]) -> None:
    engine.on_ticket_changed(ticket, changes)


@hookimpl
def helpdesk_template_slot(slot: str, context: dict[str, Any]) -> Markup | None:
    if slot != "ticket.sidebar":
        return None
    ticket, user = context.get("ticket"), context.get("user")
    if ticket is None or user is None or not getattr(user, "is_staff", False):
        return None
    return sidebar(ticket, user)


@hookimpl
def helpdesk_page_queries(page: str, ticket_ids: list[int], user: User) -> dict[str, Any] | None:
    """The ticket page's clocks and their policies, read in the page's one batched statement."""
    if page != "ticket" or not getattr(user, "is_staff", False):
        return None
    return {"targets": select(SlaTarget).where(SlaTarget.ticket_id.in_(ticket_ids)),
            "policies": select(SlaPolicy).where(SlaPolicy.id.in_(
                select(SlaTarget.policy_id).where(SlaTarget.ticket_id.in_(ticket_ids))))}


def _page_targets(ticket: Ticket) -> dict[str, SlaTarget] | None:
    from helpdesk.plugin_manager import manager

    rows, policies = (manager().page_rows("core.sla", name, ticket.id) for name in ("targets", "policies"))
    if rows is None or policies is None:
        return None
    return {t.kind: t for t in rows if t.ticket_id == ticket.id}


def sidebar(ticket: Ticket, agent: User) -> Markup | None:
    """The "Service level" card: each clock's state, and the drafted update when it is due."""
    now = engine.utcnow()  # engine's clock, so tests control both with one monkeypatch
    targets = _page_targets(ticket) if ticket.id is not None else None
    if targets is None:
        targets = engine.ticket_targets(ticket)
    states = engine.target_states(ticket, now, targets)
    if not states:
        return None
    policy = next((s.target.policy for s in states if s.target.policy is not None), None)
    draft = render_reply(UPDATE_TEMPLATE, ticket, agent) if engine.update_is_near(ticket, now, targets) else None
    return Markup(render_template("sla/sidebar.html", ticket=ticket, states=states, policy=policy,
                                  draft=draft))
