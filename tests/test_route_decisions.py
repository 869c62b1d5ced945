"""Routing and classification decisions are applied by the core, by the core's rules:
a priority only rises, tags are only added, each change is audited with its reason."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from helpdesk import plugin_api, services
from helpdesk.models import AuditEvent, PluginError, Team
from helpdesk.plugin_api import Route
from helpdesk.plugin_manager import manager
from helpdesk.testing import make_plugin


def audit_of(db, ticket) -> list[tuple[str, str | None, str | None, str | None]]:
    return [(e.action, e.field, e.new_value, e.reason) for e in db.session.scalars(
        select(AuditEvent).where(AuditEvent.ticket_id == ticket.id).order_by(AuditEvent.id))]


def test_a_route_carries_priority_and_tags_the_core_applies(app, db, customer):
    team = Team(name="Billing")
    db.session.add(team)
    db.session.commit()
    manager(app).register(make_plugin("router", helpdesk_route_ticket=lambda: Route(
        team_id=team.id, priority="urgent", tags=("Refund", "refund", " vip "), reason="refund words")), "router")
    ticket = services.create_ticket(customer, "Refund please", "I was charged twice")
    assert ticket.priority == "urgent" and ticket.team_id == team.id
    assert sorted(t.name for t in ticket.tags) == ["refund", "vip"]
    rows = audit_of(db, ticket)
    assert ("changed", "priority", "urgent", "refund words") in rows
    assert [r for r in rows if r[0] == "tagged"] == [("tagged", "tags", "refund", "refund words"),
                                                      ("tagged", "tags", "vip", "refund words")]


def test_a_route_never_lowers_the_priority(app, db, customer):
    manager(app).register(make_plugin("calm", helpdesk_route_ticket=lambda: Route(priority="low")), "calm")
    ticket = services.create_ticket(customer, "Down", "Everything is down", priority="high")
    assert ticket.priority == "high"
    assert [r for r in audit_of(db, ticket) if r[1] == "priority"] == []


def test_a_route_with_an_unknown_priority_is_recorded_and_the_ticket_kept(app, db, customer):
    manager(app).register(make_plugin("typo", helpdesk_route_ticket=lambda: Route(priority="hgih")), "typo")
    ticket = services.create_ticket(customer, "Hello", "Still created")
    assert ticket.id and ticket.priority == "normal"
    errors = db.session.scalars(select(PluginError).where(PluginError.plugin == "typo")).all()
    assert errors and "Unknown priority 'hgih'" in errors[0].message


def test_classification_goes_through_the_same_rules(app, db, customer):
    manager(app).register(make_plugin("sorter", helpdesk_classify_ticket=lambda: {
        "priority": "low", "tags": ["billing"]}), "sorter")
    ticket = services.create_ticket(customer, "Invoice", "Where is it?", priority="high")
    assert ticket.priority == "high" and [t.name for t in ticket.tags] == ["billing"]


def test_apply_route_decision_for_plugins(app, db, ticket):
    plugin_api.apply_route_decision(ticket, reason="rule 'VIP'", priority="high", tags=["vip"], tag_action="sla_policy")
    plugin_api.apply_route_decision(ticket, reason="rule 'calm'", priority="low")
    assert ticket.priority == "high" and [t.name for t in ticket.tags] == ["vip"]
    assert ("sla_policy", "tags", "vip", "rule 'VIP'") in audit_of(db, ticket)
    with pytest.raises(plugin_api.ServiceError, match="Unknown priority"):
        plugin_api.apply_route_decision(ticket, reason="x", priority="critical")
    assert [t.name for t in plugin_api.tags_named(["VIP", "new one", ""])] == ["vip", "new one"]


def test_priority_names_are_exported():
    assert plugin_api.PRIORITIES == ("low", "normal", "high", "urgent")
