"""Contracts the bundled plugins build on: notices through channels, change checks,
automatic changes, replies from strangers, and the per-message template slots."""
from __future__ import annotations

import pytest
from markupsafe import Markup
from sqlalchemy import func, select

from helpdesk import services
from helpdesk.models import AuditEvent, OutboxMail, Ticket
from helpdesk.plugin_api import Channel
from helpdesk.plugin_manager import manager
from helpdesk.testing import make_plugin


def test_a_notice_goes_by_email_for_web_tickets(app, db, customer, ticket):
    assert services.notify_customer(customer, "How did we do?", "Rate us: http://x", ticket=ticket)
    mail = db.session.scalars(select(OutboxMail)).one()
    assert (mail.to_addr, mail.subject, mail.ticket_id) == (customer.email, "How did we do?", ticket.id)
    assert "Rate us" in mail.body_text
    # A notice is not an agent reply: the ticket has no new message and no first response.
    db.session.refresh(ticket)
    assert ticket.message_count == 1 and ticket.first_response_at is None


def test_a_notice_uses_the_tickets_own_channel(app, db, customer):
    sent = []

    class Sms(Channel):
        def deliver(self, ticket, message):
            pass

        def notify(self, customer, subject, text, *, ticket=None, html=None, headers=None):
            sent.append((customer.name, text))
            return True

    manager(app).register(make_plugin("sms", helpdesk_channels=lambda: [Sms(name="sms", label="SMS")]), "sms")
    ticket = services.create_ticket(customer, "Hi", "text me", channel="sms")
    assert services.notify_customer(customer, "Survey", "Rate us: http://x/s/1", ticket=ticket)
    assert sent == [(customer.name, "Rate us: http://x/s/1")]
    assert db.session.scalars(select(OutboxMail)).all() == []


def test_a_broken_channel_falls_back_to_email(app, db, customer):
    class Broken(Channel):
        def deliver(self, ticket, message):
            pass

        def notify(self, *args, **kwargs):
            raise ConnectionError("provider down")

    manager(app).register(make_plugin("broken", helpdesk_channels=lambda: [Broken(name="chat")]), "broken")
    ticket = services.create_ticket(customer, "Hi", "chat", channel="chat")
    assert services.notify_customer(customer, "Ack", "We got it", ticket=ticket)
    assert db.session.scalars(select(OutboxMail.to_addr)).all() == [customer.email]


def test_no_notice_to_a_bouncing_address(app, db, make_user):
    customer = make_user("customer", name="Bo Bounce", email="bo@example.com")
    customer.identities[0].bouncing = True
    db.session.commit()
    assert services.notify_customer(customer, "Ack", "We got it") is False
    assert db.session.scalars(select(OutboxMail)).all() == []


def test_a_change_check_refuses_and_rolls_back(app, db, agent, ticket):
    manager(app).register(make_plugin(
        "playbook",
        helpdesk_ticket_change_check=lambda ticket, changes, actor: (
            "Record the remedy before resolving." if changes.get("status", (0, 0))[1] == "resolved" else None),
    ), "playbook")
    with pytest.raises(services.ServiceError, match="Record the remedy"):
        services.update_ticket(ticket, agent, status="resolved", priority="high")
    db.session.expire_all()
    fresh = db.session.get(Ticket, ticket.id)
    assert (fresh.status, fresh.priority) == ("new", "normal")  # nothing half-applied
    assert services.update_ticket(fresh, agent, priority="high") == {"priority": ("normal", "high")}


def test_an_automatic_change_has_staff_rights_and_no_actor(app, db, ticket):
    seen = []
    manager(app).register(make_plugin(
        "spy", helpdesk_ticket_changed=lambda changes, actor: seen.append((changes, actor))), "spy")
    assert services.update_ticket(ticket, None, priority="urgent")
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.field == "priority")).one()
    assert event.actor_id is None and event.new_value == "urgent"
    assert seen == [({"priority": ("normal", "urgent")}, None)]


def test_a_stranger_can_only_add_a_message_flagged_for_review(app, db, ticket, other_customer):
    with pytest.raises(services.PermissionDenied):
        services.add_message(ticket, other_customer, "I am in Cc")
    message = services.add_message(ticket, other_customer, "I am in Cc", needs_review=True)
    db.session.refresh(ticket)
    assert message.needs_review and message.ticket_id == ticket.id
    assert ticket.status == "new"  # a stranger's message changes nothing on the ticket


def test_message_slots_render_under_each_message(app, db, client, login, agent, customer, ticket):
    def slot(slot, context):
        if slot in {"message.after_body", "portal.message"}:
            return Markup(f'<span class="probe">{slot} #{context["message"].id}</span>')
        if slot == "ticket.badges":
            return Markup('<span class="probe">badge</span>')
        return None

    manager(app).register(make_plugin("probe", helpdesk_template_slot=slot), "probe")
    login(client, agent)
    page = client.get(f"/tickets/{ticket.reference}").text
    assert f"message.after_body #{ticket.messages[0].id}" in page and ">badge<" in page
    login(client, customer)
    assert f"portal.message #{ticket.messages[0].id}" in client.get(f"/portal/tickets/{ticket.reference}").text


def test_plugins_add_their_demo_data_to_the_summary(app, db):
    from helpdesk.demo import seed_demo

    draws = []

    def demo(rng):
        draws.append(rng.random())
        return f"{db.session.scalar(select(func.count()).select_from(Ticket))} tickets seen"

    manager(app).register(make_plugin("showcase", helpdesk_demo_data=demo), "showcase")
    summary = seed_demo(5, seed=7, echo=lambda line: None)
    assert "showcase: 5 tickets seen" in summary  # called after the core's tickets exist
    seed_demo(5, seed=7, echo=lambda line: None)
    assert draws[0] == draws[1]  # the same seed gives a plugin the same data


def test_a_refused_status_after_a_reply_keeps_the_reply_and_says_why(app, db, client, login, agent, ticket):
    manager(app).register(make_plugin(
        "playbook", helpdesk_ticket_change_check=lambda changes: "Record the remedy first."
        if changes.get("status", (0, 0))[1] == "resolved" else None), "playbook")
    login(client, agent)
    answer = client.post(f"/tickets/{ticket.reference}", data={
        "body": f"Hi Carla, done ({ticket.reference}).", "status_after": "resolved"}, follow_redirects=True)
    assert "Reply sent." in answer.text and "The status was not changed: Record the remedy first." in answer.text
    db.session.expire_all()
    fresh = db.session.get(Ticket, ticket.id)
    assert fresh.message_count == 2 and fresh.status == "open"


def test_importing_history_writes_to_nobody(app, db, customer, agent):
    sent = []
    manager(app).register(make_plugin(
        "ack", helpdesk_ticket_created=lambda ticket: sent.append(
            services.notify_customer(ticket.customer, "Got it", "We got it", ticket=ticket))), "ack")
    with services.importing():
        ticket = services.create_ticket(customer, "Old", "From 2019")
        services.add_message(ticket, agent, f"Hi Carla, answered back then ({ticket.reference})")
    assert sent == [False]
    assert db.session.scalars(select(OutboxMail)).all() == []  # no acknowledgement, no reply mailed
    assert ticket.message_count == 2  # the history itself is kept
    services.add_message(ticket, agent, f"Hi Carla, and today ({ticket.reference})")
    assert len(db.session.scalars(select(OutboxMail)).all()) == 1  # outside the block, mail flows again


def test_a_channels_own_rows_commit_with_the_ticket_or_not_at_all(app, db, customer, agent):
    from helpdesk.models import Tag

    def stage(ticket, message):
        assert ticket.id and message.id  # both have ids by now
        db.session.add(Tag(name=f"mail-{ticket.id}-{message.id}"))  # stands in for a channel's own table

    ticket = services.create_ticket(customer, "Hi", "By mail", before_commit=stage)
    reply = services.add_message(ticket, customer, "Again", before_commit=stage)
    db.session.rollback()  # only what was committed remains
    names = set(db.session.scalars(select(Tag.name)))
    assert {f"mail-{ticket.id}-{ticket.messages[0].id}", f"mail-{ticket.id}-{reply.id}"} <= names

    def broken(ticket, message):
        raise ValueError("duplicate in the channel's index")

    tickets_before = db.session.scalar(select(func.count()).select_from(Ticket))
    with pytest.raises(ValueError):
        services.create_ticket(customer, "Twice", "The same mail again", before_commit=broken)
    assert db.session.scalar(select(func.count()).select_from(Ticket)) == tickets_before  # nothing half-written
