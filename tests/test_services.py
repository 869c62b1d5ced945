"""The core's write path: tickets, messages, changes, audit trail, search."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from helpdesk import search, services
from helpdesk.models import AuditEvent, Message, Ticket
from helpdesk.services import PermissionDenied, ServiceError


def test_create_ticket_gives_reference_first_message_and_audit(db, customer):
    ticket = services.create_ticket(customer, "  Printer on fire ", "It smokes.", tags=["Hardware"])
    assert ticket.reference == f"HD-{ticket.id}"
    assert ticket.status == "new" and ticket.subject == "Printer on fire"
    assert [m.body for m in ticket.messages] == ["It smokes."]
    assert [t.name for t in ticket.tags] == ["hardware"]
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.ticket_id == ticket.id)).all()
    assert [e.action for e in events] == ["created"]


@pytest.mark.parametrize("subject,body,message", [
    ("", "body", "Subject cannot be empty."),
    ("subject", "   ", "Message cannot be empty."),
    ("x" * 251, "body", "Subject is too long"),
    ("subject", "y" * 100_001, "Message is too long"),
])
def test_create_ticket_refuses_bad_input_and_writes_nothing(db, customer, subject, body, message):
    with pytest.raises(ServiceError, match=message):
        services.create_ticket(customer, subject, body)
    db.session.rollback()
    assert db.session.scalar(select(Ticket.id)) is None


def test_agent_reply_opens_ticket_and_customer_reply_reopens_pending(db, ticket, agent, customer):
    services.add_message(ticket, agent, "Hi Carla, we are on it.")
    assert ticket.status == "open" and ticket.first_response_at is not None
    services.update_ticket(ticket, agent, status="pending")
    services.add_message(ticket, customer, "Still smoking!")
    assert ticket.status == "open"
    assert ticket.message_count == 3


def test_internal_notes_are_staff_only(ticket, customer, agent):
    with pytest.raises(PermissionDenied):
        services.add_message(ticket, customer, "sneaky", internal=True)
    note = services.add_message(ticket, agent, "Customer is a VIP", internal=True)
    assert note.internal


def test_customer_cannot_write_on_someone_elses_ticket(ticket, other_customer):
    with pytest.raises(PermissionDenied):
        services.add_message(ticket, other_customer, "hello")


def test_reopen_window(db, ticket, agent, customer, app):
    services.update_ticket(ticket, agent, status="resolved")
    services.add_message(ticket, customer, "Actually it is back")
    assert ticket.status == "open"
    services.update_ticket(ticket, agent, status="resolved")
    ticket.resolved_at -= timedelta(days=app.config["REOPEN_WINDOW_DAYS"] + 1)
    db.session.commit()
    with pytest.raises(ServiceError, match="Please open a new ticket"):
        services.add_message(ticket, customer, "and again")
    assert ticket.status == "resolved"


def test_closed_is_final(ticket, agent, customer):
    services.update_ticket(ticket, agent, status="closed")
    with pytest.raises(ServiceError, match="cannot become open"):
        services.update_ticket(ticket, agent, status="open")
    with pytest.raises(ServiceError, match="is closed"):
        services.add_message(ticket, customer, "hello?")


def test_field_level_permissions(ticket, customer, agent):
    with pytest.raises(PermissionDenied):
        services.update_ticket(ticket, customer, priority="urgent")
    with pytest.raises(PermissionDenied):
        services.update_ticket(ticket, agent, customer_id=123)
    with pytest.raises(ServiceError):
        services.update_ticket(ticket, agent, status="bogus")
    assert ticket.priority == "normal"


def test_update_writes_audit_with_old_and_new(db, ticket, agent):
    changes = services.update_ticket(ticket, agent, priority="high", assignee_id=agent.id, tags=["a", "b"])
    assert changes["priority"] == ("normal", "high")
    rows = db.session.scalars(select(AuditEvent).where(AuditEvent.field == "priority")).all()
    assert [(r.old_value, r.new_value, r.actor_id) for r in rows] == [("normal", "high", agent.id)]


def test_assigning_to_a_customer_is_refused(ticket, agent, other_customer):
    with pytest.raises(ServiceError, match="active agents"):
        services.update_ticket(ticket, agent, assignee_id=other_customer.id)


def test_full_text_search_finds_subject_and_reply_but_customers_never_match_notes(db, ticket, agent):
    services.add_message(ticket, agent, "zebra internal remark", internal=True)
    services.add_message(ticket, agent, "Replaced the toner cartridge")
    assert db.session.scalars(search.matching_ticket_ids("printer", True)).all() == [ticket.id]
    assert db.session.scalars(search.matching_ticket_ids("cartri", True)).all() == [ticket.id]
    assert db.session.scalars(search.matching_ticket_ids("zebra", True)).all() == [ticket.id]
    assert db.session.scalars(search.matching_ticket_ids("zebra", False)).all() == []


def test_search_input_with_fts_syntax_is_inert(db, ticket):
    for query in ['"', "NEAR(", "printer OR", "*", "a:b", "-x"]:
        list(db.session.scalars(search.matching_ticket_ids(query, True) if search.words(query)
                                else select(Ticket.id)))


def test_merge_customers_moves_tickets_and_identities(db, ticket, customer, other_customer, agent):
    services.create_ticket(other_customer, "Second", "Another issue")
    moved = services.merge_customers(other_customer, customer, agent)
    assert moved == 1
    assert {t.customer_id for t in db.session.scalars(select(Ticket))} == {customer.id}
    assert {i.value for i in customer.identities} == {"carla@example.test", "otto@example.test"}
    assert services.find_or_create_customer("email", "otto@example.test").id == customer.id
    with pytest.raises(PermissionDenied):
        services.merge_customers(customer, other_customer, customer)


def test_bulk_update_reports_each_failure(db, customer, agent):
    a = services.create_ticket(customer, "A", "a")
    b = services.create_ticket(customer, "B", "b")
    services.update_ticket(b, agent, status="closed")
    changed, errors = services.bulk_update([a, b], agent, status="pending")
    assert changed == 1 and len(errors) == 1 and b.reference in errors[0]


def test_messages_are_counted(db, ticket, agent):
    services.add_message(ticket, agent, "one")
    assert db.session.query(Message).filter_by(ticket_id=ticket.id).count() == ticket.message_count == 2


def test_dashboard_counts_my_work(db, client, login, agent, customer):
    mine = services.create_ticket(customer, "Mine", "x")
    services.update_ticket(mine, agent, assignee_id=agent.id)
    services.create_ticket(customer, "Nobody's", "y")
    login(client, agent)
    page = client.get("/dashboard").text
    assert 'data-count="mine_open"' in page and "Mine" in page
    assert page.split('data-count="unassigned"')[1].split("</div>")[0].strip().endswith(">1")


def test_audit_trail_names_people_not_ids(db, ticket, agent):
    services.update_ticket(ticket, agent, assignee_id=agent.id)
    row = db.session.scalars(select(AuditEvent).where(AuditEvent.field == "assignee_id")).one()
    assert row.new_value == f"Alex Agent (#{agent.id})"


def test_a_non_numeric_assignee_is_a_clear_error_not_a_crash(ticket, agent):
    with pytest.raises(ServiceError, match="not a valid choice"):
        services.update_ticket(ticket, agent, assignee_id="bob")


def test_search_plans_for_common_and_rare_words_give_the_same_tickets(db, ticket, customer, monkeypatch):
    for n in range(3):
        services.create_ticket(customer, f"Printer {n}", "The printer jams again.")
    newest_first = select(Ticket.id).order_by(Ticket.updated_at.desc(), Ticket.id.desc())
    rare = db.session.scalars(search.restrict(newest_first, "printer", include_internal=True)).all()
    monkeypatch.setattr(search, "COMMON_HITS", 1)  # now "printer" is common: the other plan
    common = db.session.scalars(search.restrict(newest_first, "printer", include_internal=True)).all()
    assert rare == common and len(common) == 4
    assert db.session.scalars(search.restrict(newest_first, "zzz", include_internal=True)).all() == []


def test_priority_rank_follows_priority_for_the_queue_sort(db, ticket, agent):
    assert ticket.priority_rank == 1
    services.update_ticket(ticket, agent, priority="urgent")
    db.session.expire_all()
    assert db.session.get(Ticket, ticket.id).priority_rank == 3
