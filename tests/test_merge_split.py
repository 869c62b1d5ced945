"""Merging duplicate tickets, splitting a message out, and "closed means closed".

Every test counts messages and attachments before and after: nothing may be lost or
copied, and no customer may gain another customer's conversation.
"""
from __future__ import annotations

import re
import types

import pytest
from pagetext import alerts, attributes, text, texts
from sqlalchemy import func, select

from helpdesk import hookimpl, services
from helpdesk.models import Attachment, AuditEvent, Message, OutboxMail, Ticket
from helpdesk.plugin_manager import manager
from helpdesk.services import PermissionDenied, ServiceError
from helpdesk.services.merge import merge_tickets, split_message
from helpdesk.services.settings import save_site_settings
from helpdesk.services.tickets import NewAttachment


def flashes(page: str) -> str:
    return " | ".join(alerts(page))


def snapshot(db) -> dict:
    """Where every message and attachment is: {message id: ticket id}, {token: message id}."""
    db.session.expire_all()
    return {
        "messages": dict(db.session.execute(select(Message.id, Message.ticket_id)).all()),
        "attachments": dict(db.session.execute(select(Attachment.token, Attachment.message_id)).all()),
    }


def real_count(db, ticket: Ticket) -> int:
    return db.session.scalar(select(func.count(Message.id)).where(Message.ticket_id == ticket.id))


def attachment_links(page: str) -> list[str]:
    return [a["href"] for a in attributes(page, tag="a") if a.get("href", "").startswith("/attachments/")]


def audit_reasons(db, ticket: Ticket) -> list[tuple[str, str | None]]:
    return [(e.action, e.reason) for e in db.session.scalars(
        select(AuditEvent).where(AuditEvent.ticket_id == ticket.id).order_by(AuditEvent.id))]


def spy_plugin(app, seen: list) -> None:
    module = types.ModuleType("spy")
    module.helpdesk_ticket_changed = hookimpl(
        lambda ticket, changes: seen.append(("changed", ticket.reference, changes)))
    module.helpdesk_ticket_created = hookimpl(
        lambda ticket, message: seen.append(("created", ticket.reference, message.body)))
    manager(app).register(module, "spy")


def browser(app, login, user):
    """Another signed-in browser (with form tokens), beside the ``client`` fixture."""
    from helpdesk.testing import CSRFClient

    app.test_client_class = CSRFClient
    return login(app.test_client(), user)


@pytest.fixture
def staff(client, login, agent):
    login(client, agent)
    return client


@pytest.fixture
def duplicates(db, customer, agent):
    """Two tickets of one customer about the same problem, with replies, notes and files."""
    first = services.create_ticket(customer, "Printer jams", "It jams on page two.", tags=["printer"],
                                   attachments=[NewAttachment("jam.jpg", b"jpeg bytes", "image/jpeg")])
    services.add_message(first, agent, "Hi Carla, which model is it? (HD ticket)")
    services.add_message(first, customer, "Model X200, photo attached.",
                         attachments=[NewAttachment("model.png", b"png bytes", "image/png")])
    services.add_message(first, agent, "Known paper-path issue.", internal=True)
    second = services.create_ticket(customer, "Printer still jamming", "Same again, see the log.", tags=["urgent"],
                                    attachments=[NewAttachment("log.txt", b"error 42", "text/plain")])
    return first, second


# ------------------------------------------------------------------ merging


def test_merge_keeps_every_message_and_attachment(staff, db, duplicates, customer):
    source, target = duplicates
    before = snapshot(db)
    source_ids = {m for m, t in before["messages"].items() if t == source.id}
    assert len(source_ids) == 4 and len(before["attachments"]) == 3

    page = staff.post(f"/tickets/{source.reference}/merge", data={"target": target.reference},
                      follow_redirects=True)
    assert page.request.path == f"/tickets/{target.reference}"
    assert (f"Merged {source.reference} into {target.reference}; the customer was told where the "
            "conversation continues.") in flashes(page.text)

    after = snapshot(db)
    assert after["attachments"] == before["attachments"]  # same files, same messages, same tokens
    moved = {m: t for m, t in after["messages"].items() if m in before["messages"]}
    assert moved == {m: target.id for m in before["messages"]}
    added = [db.session.get(Message, m) for m in set(after["messages"]) - set(before["messages"])]
    assert sorted((m.internal, m.author_id is None) for m in added) == [(False, False), (True, True)]
    assert len(after["messages"]) == len(before["messages"]) + 2

    db.session.expire_all()
    source, target = db.session.get(Ticket, source.id), db.session.get(Ticket, target.id)
    assert source.merged_into_id == target.id and source.status == "closed" and source.closed_at
    assert source.message_count == real_count(db, source) == 0
    assert target.message_count == real_count(db, target) == 7
    assert [t.name for t in target.tags] == ["printer", "urgent"]

    # The target's conversation holds everything, in the order it was written.
    shown = [int(a["data-message-id"]) for a in attributes(page.text, tag="article", cls="message")]
    assert set(shown) == set(after["messages"])
    times = [db.session.get(Message, m).created_at for m in shown]
    assert times == sorted(times)
    conversation = text(page.text, id="conversation")
    for words in ("It jams on page two.", "Model X200", "Known paper-path issue.", "Same again, see the log.",
                  f"Merged from {source.reference}: Printer jams"):
        assert words in conversation

    # Every file still downloads from the target page, for the agent and for the customer.
    links = attachment_links(page.text)
    assert len(links) == 3
    contents = {staff.get(link).data for link in links}
    assert contents == {b"jpeg bytes", b"png bytes", b"error 42"}
    assert text(page.text, id="merged-from").startswith(f"Merged here: {source.reference} Printer jams")


def test_merged_reference_still_resolves(staff, db, duplicates, customer, agent, login, app):
    source, target = duplicates
    merge_tickets(source, target, agent)

    agent_view = staff.get(f"/tickets/{source.reference}")
    assert agent_view.status_code == 302 and agent_view.headers["Location"].endswith(f"/tickets/{target.reference}")
    # The queue lists the target only; a search for the duplicate's words finds the target.
    queue = staff.get("/queue?q=jams").text
    refs = [r["data-reference"] for r in attributes(queue, tag="tr", cls="ticket-row")]
    assert refs == [target.reference]

    carla = browser(app, login, customer)
    portal_view = carla.get(f"/portal/tickets/{source.reference}")
    assert portal_view.status_code == 302
    assert portal_view.headers["Location"].endswith(f"/portal/tickets/{target.reference}")
    page = carla.get(f"/portal/tickets/{target.reference}")
    assert (f"Your request {source.reference} (Printer jams) was merged into this one."
            in text(page.text, id="ticket-links"))
    assert "Known paper-path issue." not in page.text  # internal notes stay internal after a merge
    assert "Merged from" not in page.text
    assert "Model X200" in text(page.text, id="conversation")
    assert {carla.get(link).data for link in attachment_links(page.text)} == {b"jpeg bytes", b"png bytes",
                                                                               b"error 42"}
    listing = carla.get("/portal/").text
    assert [r["data-reference"] for r in attributes(listing, cls="ticket-row")] == [target.reference]


def test_customer_is_told_where_the_conversation_continues(db, duplicates, agent, customer):
    source, target = duplicates
    mails_before = db.session.scalar(select(func.count(OutboxMail.id)))
    merge_tickets(source, target, agent)

    notice = (f"Your request {source.reference} (Printer jams) was merged into {target.reference}; "
              "we continue here.")
    public = db.session.scalars(select(Message).where(
        Message.ticket_id == target.id, Message.internal.is_(False), Message.author_id == agent.id)).all()
    assert [m.body for m in public][-1] == notice
    assert [m.body for m in public].count(notice) == 1
    mails = db.session.scalars(select(OutboxMail).where(OutboxMail.id > 0).order_by(OutboxMail.id)).all()
    assert len(mails) == mails_before + 1
    assert mails[-1].to_addr == "carla@example.test" and mails[-1].ticket_id == target.id
    assert target.reference in mails[-1].subject and notice in mails[-1].body_text


def test_merge_is_in_both_histories_and_fires_ticket_changed(staff, db, duplicates, agent, app):
    source, target = duplicates
    seen: list = []
    spy_plugin(app, seen)
    merge_tickets(source, target, agent)

    reason = f"{source.reference} merged into {target.reference}"
    assert ("merged", reason) in audit_reasons(db, source)
    assert ("merged", f"{reason} (4 messages moved)") in audit_reasons(db, target)
    events = [e for e in db.session.scalars(select(AuditEvent).where(AuditEvent.action == "merged"))]
    assert {e.actor_id for e in events} == {agent.id}
    history = texts(staff.get(f"/tickets/{target.reference}").text, cls="audit-event")
    assert any("Alex Agent merged" in h and reason in h for h in history)
    assert ("changed", source.reference, {"merged_into_id": (None, target.id), "status": ("open", "closed")}) in seen
    assert ("changed", target.reference, {"tags": ("urgent", "printer, urgent")}) in seen


def test_merge_refusals_change_nothing(db, duplicates, customer, other_customer, agent, admin):
    source, target = duplicates
    theirs = services.create_ticket(other_customer, "Printer jams too", "Mine as well.")
    before = snapshot(db)

    with pytest.raises(ServiceError, match="belong to different customers"):
        merge_tickets(source, theirs, agent)
    with pytest.raises(PermissionDenied, match="Only agents can merge tickets"):
        merge_tickets(source, target, customer)
    with pytest.raises(ServiceError, match="cannot be merged into itself"):
        merge_tickets(source, source, agent)
    db.session.rollback()
    assert snapshot(db) == before

    merge_tickets(source, target, admin)
    after_first = snapshot(db)
    third = services.create_ticket(customer, "Third copy", "Printer again.")
    with pytest.raises(ServiceError, match=f"{source.reference} was already merged into {target.reference}"):
        merge_tickets(source, third, agent)
    with pytest.raises(ServiceError, match=f"was itself merged into {target.reference}"):
        merge_tickets(third, source, agent)
    db.session.rollback()
    now = snapshot(db)
    assert {m: t for m, t in now["messages"].items() if m in after_first["messages"]} == after_first["messages"]
    assert db.session.get(Ticket, third.id).merged_into_id is None and real_count(db, third) == 1

    services.update_ticket(third, agent, status="closed")
    with pytest.raises(ServiceError, match="is closed"):
        merge_tickets(target, third, agent)


def test_customer_b_sees_nothing_of_customer_a_after_merges(app, db, duplicates, customer, other_customer,
                                                            agent, login):
    source, target = duplicates
    theirs = services.create_ticket(other_customer, "Otto's printer", "Otto's own words.",
                                    attachments=[NewAttachment("otto.txt", b"otto", "text/plain")])
    with pytest.raises(ServiceError):
        merge_tickets(theirs, target, agent)
    merge_tickets(source, target, agent)
    tokens = [a.token for a in db.session.scalars(select(Attachment))]

    otto = browser(app, login, other_customer)
    for ticket in (source, target):  # the merged reference does not even redirect for him
        assert otto.get(f"/portal/tickets/{ticket.reference}").status_code == 404
        assert otto.post(f"/portal/tickets/{ticket.reference}", data={"body": "hi"}).status_code == 404
    own = db.session.get(Ticket, theirs.id)
    for token in tokens:
        expected = 200 if db.session.scalar(
            select(Attachment).where(Attachment.token == token)).message.ticket_id == own.id else 404
        assert otto.get(f"/attachments/{token}").status_code == expected
    listing = otto.get("/portal/").text
    assert [r["data-reference"] for r in attributes(listing, cls="ticket-row")] == [own.reference]
    page = otto.get(f"/portal/tickets/{own.reference}").text
    assert "Printer jams" not in page and "Model X200" not in page
    assert real_count(db, own) == 1 and own.merged_into_id is None


def test_reply_to_a_merged_ticket_lands_on_the_target(app, db, duplicates, customer, agent, login):
    source, target = duplicates
    merge_tickets(source, target, agent)
    message = services.add_message(db.session.get(Ticket, source.id), customer, "Any news?")
    assert message.ticket_id == target.id

    carla = browser(app, login, customer)
    # A reply from a page opened before the merge:
    answer = carla.post(f"/portal/tickets/{source.reference}", data={"body": "Still jamming."})
    assert answer.status_code == 302 and answer.headers["Location"].endswith(f"/portal/tickets/{target.reference}")
    assert real_count(db, source) == 0
    bodies = [m.body for m in db.session.scalars(select(Message).where(Message.ticket_id == target.id))]
    assert bodies[-2:] == ["Any news?", "Still jamming."]


def test_merge_view_bad_input_flashes_and_changes_nothing(staff, db, duplicates, other_customer, client, login,
                                                          customer):
    source, target = duplicates
    theirs = services.create_ticket(other_customer, "Other", "Other customer's ticket.")
    before = snapshot(db)
    cases = [
        ({"target": "HD-99999"}, "There is no ticket “HD-99999”: check the reference."),
        ({"target": "nonsense"}, "There is no ticket “nonsense”: check the reference."),
        ({"target": ""}, "Enter the reference of the ticket to merge into (like HD-42)."),
        ({"target": source.reference}, f"A ticket cannot be merged into itself ({source.reference})."),
        ({"target": theirs.reference}, f"{source.reference} and {theirs.reference} belong to different customers"),
    ]
    for data, message in cases:
        page = staff.post(f"/tickets/{source.reference}/merge", data=data, follow_redirects=True)
        assert page.status_code == 200 and page.request.path == f"/tickets/{source.reference}"
        assert message in flashes(page.text), data
    assert snapshot(db) == before
    assert db.session.get(Ticket, source.id).merged_into_id is None

    login(client, customer)  # customers cannot reach the view at all
    assert client.post(f"/tickets/{source.reference}/merge", data={"target": target.reference}).status_code == 404
    assert snapshot(db) == before


def test_ticket_page_offers_merge_with_csrf(staff, duplicates):
    source, _target = duplicates
    page = staff.get(f"/tickets/{source.reference}").text
    assert "Merge into…" in text(page, id="merge-heading")
    form = attributes(page, id="merge-form")[0]
    assert form["method"] == "post" and form["action"] == f"/tickets/{source.reference}/merge"
    assert re.search(r'<form[^>]*id="merge-form".*?name="csrf_token"', page, re.S)


# ------------------------------------------------------------------ splitting


@pytest.fixture
def mixed(db, customer, agent):
    """A ticket where the customer raised a second, unrelated problem in a later message."""
    ticket = services.create_ticket(customer, "Printer jams", "It jams on page two.", priority="high",
                                    attachments=[NewAttachment("jam.jpg", b"jpeg bytes", "image/jpeg")])
    services.add_message(ticket, agent, "Hi Carla, we are on it.")
    second = services.add_message(ticket, customer, "Also my laptop zebrafish battery is swollen.",
                                  attachments=[NewAttachment("battery.jpg", b"battery", "image/jpeg"),
                                               NewAttachment("receipt.pdf", b"receipt", "application/pdf")])
    services.add_message(ticket, agent, "Checking with the vendor.", internal=True)
    services.add_message(ticket, customer, "Thanks!")
    return ticket, second


def test_split_moves_exactly_one_message_with_its_attachments(staff, db, mixed, app):
    ticket, second = mixed
    seen: list = []
    spy_plugin(app, seen)
    before = snapshot(db)
    page = staff.post(f"/tickets/{ticket.reference}/split/{second.id}", data={"subject": "Swollen battery"},
                      follow_redirects=True)
    new = db.session.scalar(select(Ticket).where(Ticket.subject == "Swollen battery"))
    assert page.request.path == f"/tickets/{new.reference}"
    assert f"The message is now {new.reference}, linked to {ticket.reference}." in flashes(page.text)

    after = snapshot(db)
    assert after["attachments"] == before["attachments"]
    changed = {m: t for m, t in after["messages"].items() if before["messages"][m] != t}
    assert changed == {second.id: new.id} and set(after["messages"]) == set(before["messages"])
    db.session.expire_all()
    ticket, new = db.session.get(Ticket, ticket.id), db.session.get(Ticket, new.id)
    assert ticket.message_count == real_count(db, ticket) == 4
    assert new.message_count == real_count(db, new) == 1
    assert (new.customer_id, new.channel, new.priority, new.team_id) == (
        ticket.customer_id, ticket.channel, ticket.priority, ticket.team_id)
    assert new.linked_ticket_id == ticket.id and new.status == "new"
    assert ("created", new.reference, "Also my laptop zebrafish battery is swollen.") in seen

    # Both pages show the link; the files download from the new ticket.
    assert text(page.text, id="linked-to").startswith(f"Linked to {ticket.reference} Printer jams")
    assert {staff.get(link).data for link in attachment_links(page.text)} == {b"battery", b"receipt"}
    original = staff.get(f"/tickets/{ticket.reference}").text
    assert text(original, id="split-tickets").startswith(f"Split tickets: {new.reference} Swollen battery")
    assert "zebrafish" not in text(original, id="conversation")
    assert ("created", f"split from {ticket.reference}") in audit_reasons(db, new)
    assert ("split", f"message split into {new.reference}") in audit_reasons(db, ticket)

    # Search finds the split message under the new ticket only.
    refs = [r["data-reference"] for r in attributes(staff.get("/queue?q=zebrafish").text, tag="tr", cls="ticket-row")]
    assert refs == [new.reference]
    refs = [r["data-reference"] for r in attributes(staff.get("/queue?q=jams").text, tag="tr", cls="ticket-row")]
    assert refs == [ticket.reference]


def test_split_shows_on_the_customers_pages(app, db, mixed, agent, customer, login):
    ticket, second = mixed
    new = split_message(second, agent)
    assert new.subject == f"Printer jams (split from {ticket.reference})"
    carla = browser(app, login, customer)
    original = carla.get(f"/portal/tickets/{ticket.reference}").text
    assert f"This request continues in {new.reference}" in text(original, id="ticket-links")
    page = carla.get(f"/portal/tickets/{new.reference}").text
    assert f"This request follows on from {ticket.reference}" in text(page, id="ticket-links")
    assert "zebrafish" in text(page, id="conversation")
    listing = carla.get("/portal/").text
    assert f"(follows on from {ticket.reference})" in text(listing, cls="linked-note")


def test_split_form_is_offered_on_later_customer_messages_only(staff, mixed):
    ticket, second = mixed
    page = staff.get(f"/tickets/{ticket.reference}").text
    actions = [a["action"] for a in attributes(page, tag="form", cls="split-form")]
    last = ticket.messages[-1]
    assert actions == [f"/tickets/{ticket.reference}/split/{second.id}",
                       f"/tickets/{ticket.reference}/split/{last.id}"]
    assert page.count('name="csrf_token"') >= 2 + len(actions)


def test_split_refusals_change_nothing(staff, db, mixed, ticket, agent, customer):
    """The fixture ``ticket`` has one message only."""
    original, _second = mixed
    before = snapshot(db)
    only = ticket.messages[0]
    page = staff.post(f"/tickets/{ticket.reference}/split/{only.id}", data={}, follow_redirects=True)
    assert page.request.path == f"/tickets/{ticket.reference}"
    assert f"This is the only message on {ticket.reference}; there is nothing to split from." in flashes(page.text)

    reply = next(m for m in original.messages if m.author_id == agent.id and not m.internal)
    note = next(m for m in original.messages if m.internal)
    for message in (reply, note):
        page = staff.post(f"/tickets/{original.reference}/split/{message.id}", data={}, follow_redirects=True)
        assert "Only a customer's public message can be split into a new ticket." in flashes(page.text)
    # A message of another ticket is not found under this one.
    assert staff.post(f"/tickets/{original.reference}/split/{only.id}", data={}).status_code == 404
    too_long = staff.post(f"/tickets/{original.reference}/split/{_second.id}", data={"subject": "x" * 251},
                          follow_redirects=True)
    assert "The subject is too long (at most 250 characters)." in flashes(too_long.text)
    with pytest.raises(PermissionDenied):
        split_message(_second, customer)
    services.update_ticket(original, agent, status="closed")
    with pytest.raises(ServiceError, match="only open or resolved tickets can be split"):
        split_message(_second, agent)
    db.session.rollback()
    assert snapshot(db)["messages"] == before["messages"]
    assert db.session.scalar(select(func.count(Ticket.id))) == 2


def test_split_tickets_created_hook_is_committed_with_the_split(staff, db, mixed, plugins):
    """As for ``create_ticket`` (Plugin API 1.4): the created hook runs in the split's
    transaction. A plugin's write needs no commit of its own and is committed with the split;
    a plugin that writes and then raises is undone alone and recorded; the split stands."""
    from helpdesk.models import PluginError, Tag
    from helpdesk.testing import make_plugin

    ticket, second = mixed

    def triage(ticket, message):  # no commit: the split's commit takes the tag with it
        ticket.tags.append(Tag(name="triage-split"))

    def writes_then_fails(ticket, message):
        db.session.add(Tag(name="from-the-broken-plugin"))
        db.session.commit()  # only a flush in the split's transaction: undone with the rest
        raise RuntimeError("broken after writing")

    plugins.register(make_plugin("triage", helpdesk_ticket_created=triage))
    plugins.register(make_plugin("broken", helpdesk_ticket_created=writes_then_fails))
    page = staff.post(f"/tickets/{ticket.reference}/split/{second.id}", data={"subject": "Swollen battery"},
                      follow_redirects=True)
    db.session.remove()  # read back what was committed, not what the session remembers
    new = db.session.scalar(select(Ticket).where(Ticket.subject == "Swollen battery"))
    assert new is not None and page.request.path == f"/tickets/{new.reference}"
    assert f"The message is now {new.reference}, linked to {ticket.reference}." in flashes(page.text)
    assert [t.name for t in new.tags] == ["triage-split"]
    assert real_count(db, new) == 1 and second.id in {m.id for m in new.messages}
    assert "from-the-broken-plugin" not in set(db.session.scalars(select(Tag.name)))
    errors = db.session.scalars(select(PluginError).where(PluginError.plugin == "broken")).all()
    assert [e.message for e in errors] == ["RuntimeError: broken after writing"]
    # The agent sees the plugin's tag on the new ticket's page.
    assert "triage-split" in staff.get(f"/tickets/{new.reference}").text


# ------------------------------------------------------------------ closed means closed


def test_closed_means_closed_opens_a_linked_ticket(app, db, ticket, agent, customer, login):
    from helpdesk.testing import CSRFClient

    save_site_settings({"closed_means_closed": True})
    services.update_ticket(ticket, agent, status="closed")
    app.test_client_class = CSRFClient
    carla = browser(app, login, customer)
    page = carla.get(f"/portal/tickets/{ticket.reference}").text
    assert "your message will start a new request linked to it" in text(page, id="reply-opens-new")

    answer = carla.post(f"/portal/tickets/{ticket.reference}", data={"body": "It is smoking again."},
                        follow_redirects=True)
    new = db.session.scalar(select(Ticket).where(Ticket.id != ticket.id))
    assert answer.request.path == f"/portal/tickets/{new.reference}"
    assert f"Your message started a new request {new.reference}, linked to {ticket.reference}." in flashes(answer.text)
    assert new.subject == "Re: Printer on fire" and new.linked_ticket_id == ticket.id
    assert new.customer_id == customer.id and new.status == "new"
    assert [m.body for m in new.messages] == ["It is smoking again."]
    db.session.expire_all()
    closed = db.session.get(Ticket, ticket.id)
    assert closed.status == "closed" and real_count(db, closed) == closed.message_count == 1
    assert f"This request continues in {new.reference}" in text(
        carla.get(f"/portal/tickets/{ticket.reference}").text, id="ticket-links")

    # Through the service: the returned message is on the new ticket; files come along.
    message = services.add_message(closed, customer, "", attachments=[NewAttachment("a.txt", b"a", "text/plain")])
    assert message.ticket.linked_ticket_id == closed.id and message.ticket.id != new.id
    assert [a.filename for a in message.attachments] == ["a.txt"]
    assert real_count(db, closed) == 1


def test_closed_ticket_without_the_policy_refuses_clearly(db, ticket, agent, customer):
    services.update_ticket(ticket, agent, status="closed")
    before = snapshot(db)
    with pytest.raises(ServiceError, match=f"{ticket.reference} is closed. Please open a new ticket."):
        services.add_message(ticket, customer, "Hello again")
    db.session.rollback()
    assert snapshot(db) == before
    assert db.session.scalar(select(func.count(Ticket.id))) == 1
