"""Macros: placeholders, several actions at once, usage counts, who sees and changes which."""
from __future__ import annotations

import pytest
from pagetext import alerts, field_errors, texts
from sqlalchemy import func, select

from helpdesk.models import AdminAuditEntry, Macro, Message, OutboxMail, Team
from helpdesk.services import PermissionDenied, ServiceError, StaleTicket
from helpdesk.services.macros import apply_macro, plan_macro, save_macro, visible_macros

REPLY = "Hi {{ customer.first_name }},\n\n**{{ ticket.reference }}** is fixed.\n\n{{ agent.first_name }}"


@pytest.fixture
def full_macro(db, agent):
    return save_macro(agent, None, name="Fixed: resolve", body=REPLY, status="resolved", priority="low",
                      add_tags="fixed, printer", remove_tags="waiting", assignee="me")


def test_macro_applies_reply_status_tags_and_assignee_with_placeholders(db, agent, ticket, full_macro):
    from helpdesk import services

    services.update_ticket(ticket, agent, tags=["waiting", "vip"])
    plan = apply_macro(full_macro, ticket, agent, expected_version=ticket.version)
    db.session.expire_all()
    assert (ticket.status, ticket.priority, ticket.assignee_id) == ("resolved", "low", agent.id)
    assert [t.name for t in ticket.tags] == ["fixed", "printer", "vip"]
    reply = ticket.messages[-1]
    assert reply.body == f"Hi Carla,\n\n{ticket.reference} is fixed.\n\nAlex"
    assert f"<strong>{ticket.reference}</strong>" in reply.body_html and not reply.internal
    assert plan.steps == ["Send a reply to the customer", "Set the status to resolved", "Set the priority to low",
                          "Add the tags fixed, printer", "Remove the tags waiting", "Assign to Alex Agent"]
    [mail] = db.session.scalars(select(OutboxMail).where(OutboxMail.to_addr == "carla@example.test"))
    assert "Hi Carla," in mail.body_text and "<strong>" in mail.body_html


def test_usage_is_counted_per_macro(db, agent, ticket, full_macro, customer):
    from helpdesk import services

    other = save_macro(agent, None, name="Note", body="Seen.", internal=True)
    apply_macro(full_macro, ticket, agent)
    apply_macro(other, ticket, agent)
    apply_macro(other, services.create_ticket(customer, "Second", "Again"), agent)
    db.session.expire_all()
    assert (full_macro.usage_count, other.usage_count) == (1, 2)
    assert other.last_used_at is not None


def test_stale_ticket_applies_nothing(db, agent, ticket, full_macro):
    from helpdesk import services

    shown = ticket.version
    services.update_ticket(ticket, agent, priority="high")
    with pytest.raises(StaleTicket):
        apply_macro(full_macro, ticket, agent, expected_version=shown)
    db.session.rollback()
    db.session.expire_all()
    assert ticket.status == "new" and ticket.priority == "high" and len(ticket.messages) == 1
    assert full_macro.usage_count == 0


def test_broken_placeholder_refuses_before_anything_changes(db, agent, ticket):
    macro = save_macro(agent, None, name="Broken", body="Hi {{ customer.nickname }}", status="pending")
    with pytest.raises(ServiceError, match="could not be filled in"):
        apply_macro(macro, ticket, agent)
    db.session.expire_all()
    assert ticket.status == "new" and len(ticket.messages) == 1
    with pytest.raises(ServiceError, match="Template error"):
        save_macro(agent, None, name="Bad", body="{% if %}")


def test_light_agents_only_add_notes(db, agent, light_agent, ticket, full_macro):
    shared = save_macro(agent, None, name="Shared reply", body="Hello", scope="personal")
    with pytest.raises(PermissionDenied):
        save_macro(light_agent, None, name="Close it", status="closed")
    note = save_macro(light_agent, None, name="My note", body="Looked at {{ ticket.reference }}")
    assert note.internal  # forced: light agents write notes
    apply_macro(note, ticket, light_agent)
    db.session.expire_all()
    assert ticket.messages[-1].internal and ticket.messages[-1].body == f"Looked at {ticket.reference}"
    everyone = _everyone_macro(db, "Reply for all", body="Hello {{ customer.first_name }}")
    with pytest.raises(PermissionDenied):
        apply_macro(everyone, ticket, light_agent)
    with pytest.raises(PermissionDenied):
        apply_macro(shared, ticket, light_agent)  # someone else's personal macro


def _everyone_macro(db, name, **values):
    macro = Macro(name=name, body=values.pop("body", ""), add_tags=[], remove_tags=[], **values)
    db.session.add(macro)
    db.session.commit()
    return macro


def test_others_personal_macros_are_not_found(client, login, db, make_user, agent, ticket, full_macro):
    other = make_user("agent", name="Otto Agent", email="otto.agent@example.test")
    login(client, other)
    assert client.get(f"/macros/{full_macro.id}/edit").status_code == 404
    assert client.post(f"/macros/{full_macro.id}/delete").status_code == 404
    assert client.post(f"/tickets/{ticket.reference}/macros/{full_macro.id}",
                       data={"version": ticket.version}).status_code == 404
    assert "Fixed: resolve" not in client.get("/macros").text
    assert "Fixed: resolve" not in client.get(f"/tickets/{ticket.reference}").text
    db.session.expire_all()
    assert full_macro.usage_count == 0 and len(ticket.messages) == 1


def test_team_macros_are_shared_with_the_team_and_audited(client, login, db, make_user, admin, agent, ticket):
    billing, tech = Team(name="Billing"), Team(name="Tech")
    billing.members.append(agent)
    db.session.add_all([billing, tech])
    db.session.commit()
    outsider = make_user("agent", name="Olga Out", email="olga@example.test")
    login(client, agent)
    with pytest.raises(PermissionDenied):
        save_macro(agent, None, name="For everyone", body="x", scope="everyone")
    with pytest.raises(PermissionDenied):
        save_macro(agent, None, name="For tech", body="x", scope="team", team_id=tech.id)
    answer = client.post("/macros/new", data={"name": "Billing hello", "body": "Hello", "scope": f"team:{billing.id}"})
    assert answer.status_code == 302
    macro = db.session.scalar(select(Macro).where(Macro.name == "Billing hello"))
    assert macro.shared_team_id == billing.id and macro.owner_id is None
    entry = db.session.scalar(select(AdminAuditEntry).where(AdminAuditEntry.kind == "macro"))
    assert entry.action == "created" and entry.actor_name == "Alex Agent"
    assert [m.name for m in db.session.scalars(visible_macros(outsider))] == []
    assert [m.name for m in db.session.scalars(visible_macros(admin))] == ["Billing hello"]
    login(client, outsider)
    assert client.get(f"/macros/{macro.id}/edit").status_code == 404


def test_macro_form_says_what_is_wrong_and_keeps_the_input(client, login, agent):
    login(client, agent)
    answer = client.post("/macros/new", data={"name": "", "body": "Keep {{ this }}", "scope": "personal"})
    assert answer.status_code == 422
    assert "Enter a name (120 characters at most)." in field_errors(answer.text)
    assert "Keep {{ this }}" in answer.text
    answer = client.post("/macros/new", data={"name": "Empty", "scope": "personal"})
    assert "A macro needs a reply or at least one change." in field_errors(answer.text)


def test_apply_from_the_ticket_page(client, login, db, agent, ticket, full_macro):
    login(client, agent)
    page = client.get(f"/tickets/{ticket.reference}").text
    assert texts(page, cls="macro-name")[0].startswith("Fixed: resolve")
    assert f"<strong>{ticket.reference}</strong> is fixed." in page  # the preview, rendered
    stale = client.post(f"/tickets/{ticket.reference}/macros/{full_macro.id}", data={"version": ticket.version + 5})
    assert "was not applied" in " ".join(alerts(client.get(stale.location).text))
    answer = client.post(f"/tickets/{ticket.reference}/macros/{full_macro.id}", data={"version": ticket.version})
    assert "Applied the macro “Fixed: resolve”" in " ".join(alerts(client.get(answer.location).text))
    assert db.session.scalar(select(func.count(Message.id)).where(Message.ticket_id == ticket.id)) == 2
    assert plan_macro(full_macro, ticket, agent).steps == ["Send a reply to the customer"]
    listing = client.get("/macros").text
    assert texts(listing, cls="macro-usage") == ["1"]
