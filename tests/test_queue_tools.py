"""The queue's working tools: unread marks, totals, sortable columns, search by customer,
the Status filter as applied, bulk close/merge/spam with pickers, hover preview, ticket
picker, "Send and next", and the scope of each (team-scoped agents, light agents)."""
from __future__ import annotations

import pytest
from pagetext import alerts, attributes, text, texts
from sqlalchemy import select

from helpdesk import services
from helpdesk.models import Team, TicketRead
from helpdesk.services.bulk import bulk_merge, mark_spam
from helpdesk.services.reads import mark_seen, unread_ticket_ids
from helpdesk.web import queue_tools


def refs(page: str) -> list[str]:
    return [a["data-reference"] for a in attributes(page, tag="tr", cls="ticket-row")]


def unread_refs(page: str) -> set[str]:
    return {a["data-reference"] for a in attributes(page, tag="tr", cls="ticket-unread")}


def flashes(page: str) -> str:
    return " | ".join(alerts(page))


@pytest.fixture
def staff(client, login, agent):
    return login(client, agent)


# ------------------------------------------------------------------ unread marks


def test_unread_until_opened_again_after_a_customer_reply_and_per_agent(
        staff, client, login, app, db, make_user, agent, customer, ticket):
    colleague = make_user("agent", name="Cole League")
    assert unread_refs(staff.get("/queue").text) == {ticket.reference}  # new: unread for everyone

    last = ticket.messages[-1].id
    assert staff.post(f"/tickets/{ticket.reference}/seen", data={"message_id": str(last)}).status_code == 204
    assert unread_refs(staff.get("/queue").text) == set()
    assert unread_ticket_ids(colleague, [ticket.id]) == {ticket.id}  # per agent: still unread for others

    services.add_message(ticket, agent, "Hi Carla, we are on it.")  # my own reply keeps it read
    assert unread_refs(staff.get("/queue").text) == set()
    services.add_message(ticket, customer, "Any news?")
    page = staff.get("/queue").text
    assert unread_refs(page) == {ticket.reference}
    assert "(unread)" in text(page, cls="ticket-row")
    services.add_message(ticket, colleague, "Checked the printer", internal=True)  # a colleague's note too
    mark_seen(agent, ticket)
    assert unread_ticket_ids(agent, [ticket.id]) == set()
    services.add_message(ticket, colleague, "Toner ordered", internal=True)
    assert unread_ticket_ids(agent, [ticket.id]) == {ticket.id}


def test_read_mark_never_moves_back_nor_past_the_last_message(db, agent, customer, ticket):
    first = ticket.messages[0].id
    services.add_message(ticket, customer, "second")
    assert mark_seen(agent, ticket, 10**6) == ticket.messages[-1].id  # capped at the latest
    assert mark_seen(agent, ticket, first) == ticket.messages[-1].id  # never backwards
    assert db.session.scalar(select(TicketRead.last_seen_message_id)) == ticket.messages[-1].id


# ------------------------------------------------------------------ totals, sorting, status filter


def test_totals_by_status_for_the_filter_and_capped(staff, agent, customer, monkeypatch):
    made = [services.create_ticket(customer, f"T{i}", "x") for i in range(4)]
    services.update_ticket(made[0], agent, status="pending")
    services.update_ticket(made[1], agent, status="closed")
    page = staff.get("/queue").text
    assert text(page, id="queue-total") == "3 tickets"
    assert texts(page, cls="queue-total-status") == ["new 2", "pending 1"]
    assert texts(staff.get("/queue?status=all").text, cls="queue-total-status") == ["new 2", "pending 1", "closed 1"]
    monkeypatch.setattr(queue_tools, "TOTALS_CAP", 2)
    capped = staff.get("/queue").text
    assert text(capped, id="queue-total") == "2+ tickets" and texts(capped, cls="queue-total-status") == []


def test_column_headers_sort_and_say_how(staff, db, customer):
    a, b = (services.create_ticket(customer, name, "x") for name in ("Older", "Newer"))
    a.created_at = a.created_at.replace(year=2020)
    db.session.commit()
    page = staff.get("/queue?status=all").text
    links = {x.get("data-sort"): x["href"] for x in attributes(page, cls="sort-link")}
    assert links["created"] == "/queue?status=all&sort=created"  # "Ticket": newest first
    assert links["oldest"] == "/queue?status=all&sort=oldest"  # "Updated" is the current sort: flip it
    assert [h.get("aria-sort") for h in attributes(page, tag="th") if h.get("aria-sort")] == ["descending"]
    newest = staff.get(links["created"]).text
    assert refs(newest) == [b.reference, a.reference]
    flip = {x.get("data-sort"): x["href"] for x in attributes(newest, cls="sort-link")}["first"]
    assert refs(staff.get(flip).text) == [a.reference, b.reference]


def test_status_dropdown_says_what_a_search_looked_through(staff, agent, customer):
    """Broken item 4: the dropdown said "active" while a search listed resolved and closed tickets."""
    old = services.create_ticket(customer, "Walrus invoice", "archived problem")
    services.update_ticket(old, agent, status="closed")
    searched = staff.get("/queue?q=walrus").text
    assert refs(searched) == [old.reference]
    assert [o["value"] for o in attributes(searched, tag="option") if "selected" in o][0] == "all"
    assert "Status: every status" in text(searched, id="queue-status-note")

    narrowed = staff.get("/queue?q=walrus&status=active").text
    assert refs(narrowed) == []
    assert [o["value"] for o in attributes(narrowed, tag="option") if "selected" in o][0] == "active"
    assert "Status: new, open and pending (active)" in text(narrowed, id="queue-status-note")
    assert refs(staff.get(attributes(narrowed, id="search-all-statuses")[0]["href"]).text) == [old.reference]

    # The filter form's default: active tickets, but every status for a search (then shown as "all").
    plain = staff.get("/queue").text
    assert [(o["value"], t) for o, t in zip(attributes(plain, tag="option"), texts(plain, tag="option"),
                                            strict=False) if "selected" in o][0] == ("", "active (search: all)")
    assert refs(staff.get("/queue?q=walrus&status=").text) == [old.reference]
    odd = staff.get("/queue?status=bogus").text  # an unknown status is the default, and shown as such
    assert refs(odd) == [] and "Status: new, open and pending (active)" in text(odd, id="queue-status-note")


# ------------------------------------------------------------------ search by customer


def test_search_finds_a_customers_tickets_by_email_or_name(staff, customer, other_customer, make_user):
    carla = services.create_ticket(customer, "Printer", "paper jam")
    otto = services.create_ticket(other_customer, "Login", "password loop")
    assert refs(staff.get("/queue?q=carla@example.test").text) == [carla.reference]
    assert refs(staff.get("/queue?q=CARLA@EXAMPLE").text) == [carla.reference]
    assert refs(staff.get("/queue?q=Otto Other").text) == [otto.reference]
    assert refs(staff.get("/queue?q=jam").text) == [carla.reference]  # words still work


def test_search_by_customer_stays_in_scope(client, login, db, make_user, customer):
    billing, hr = Team(name="Billing"), Team(name="HR")
    scoped = make_user("agent", name="Bill Billing", team_scoped=True)
    billing.members = [scoped]
    db.session.add_all([billing, hr])
    db.session.commit()
    mine = services.create_ticket(customer, "Invoice", "x", team_id=billing.id)
    services.create_ticket(customer, "Grievance", "y", team_id=hr.id)
    login(client, scoped)
    assert refs(client.get("/queue?q=carla@example.test").text) == [mine.reference]


# ------------------------------------------------------------------ bulk actions


@pytest.fixture
def teams(db, make_user):
    billing = Team(name="Billing")
    db.session.add(billing)
    db.session.commit()
    return {"billing": billing, "bea": make_user("agent", name="Bea Backup", email="bea@example.test")}


def test_bulk_pickers_assign_by_name_and_move_to_team(staff, db, customer, teams):
    a, b = (services.create_ticket(customer, s, "x") for s in ("A", "B"))
    page = staff.get("/queue").text
    assert "Bea Backup" in text(page, id="bulk-assignee") and text(page, id="bulk-team") == "no team Billing"
    done = staff.post("/queue/bulk", data={"ticket_ids": [a.id, b.id], "action": "assign",
                                           "assignee_id": str(teams["bea"].id), "team_id": "", "value": ""},
                      follow_redirects=True)
    assert "Updated 2 of 2 tickets." in flashes(done.text)
    staff.post("/queue/bulk", data={"ticket_ids": [a.id], "action": "team", "team_id": str(teams["billing"].id),
                                    "assignee_id": ""})
    db.session.expire_all()
    assert (a.assignee_id, b.assignee_id, a.team_id) == (teams["bea"].id, teams["bea"].id, teams["billing"].id)


def test_bulk_close_spam_and_merge(staff, db, agent, customer, other_customer):
    a, b, c = (services.create_ticket(customer, s, "x") for s in ("A", "B", "C"))
    otto = services.create_ticket(other_customer, "Otto's", "y")
    closed = staff.post("/queue/bulk", data={"ticket_ids": [a.id], "action": "close"}, follow_redirects=True)
    assert "Updated 1 of 1 tickets." in flashes(closed.text)
    spam = staff.post("/queue/bulk", data={"ticket_ids": [otto.id], "action": "spam"}, follow_redirects=True)
    assert "Updated 1 of 1 tickets." in flashes(spam.text)
    db.session.expire_all()
    assert a.status == "closed" and (otto.status, [t.name for t in otto.tags]) == ("closed", ["spam"])
    assert refs(staff.get("/queue?tag=spam&status=all").text) == [otto.reference]

    merged = staff.post("/queue/bulk", data={"ticket_ids": [b.id, c.id, otto.id], "action": "merge",
                                             "target": f"{c.reference} · C"}, follow_redirects=True)
    assert f"Merged 1 of 2 tickets into {c.reference}." in flashes(merged.text)
    assert f"{otto.reference}: " in flashes(merged.text) and "different customers" in flashes(merged.text)
    db.session.expire_all()
    assert b.merged_into_id == c.id and otto.merged_into_id is None
    unknown = staff.post("/queue/bulk", data={"ticket_ids": [b.id], "action": "merge", "target": "nonsense"},
                         follow_redirects=True)
    assert "there is no ticket “nonsense”" in flashes(unknown.text)


def test_merge_and_spam_services_report_per_ticket(db, agent, light_agent, customer):
    a, b, target = (services.create_ticket(customer, s, "x") for s in ("A", "B", "Target"))
    services.update_ticket(b, agent, status="closed")
    assert bulk_merge([a, b, target], target, agent) == (2, [])
    assert mark_spam([target], agent) == (1, [])
    assert mark_spam([target], agent) == (0, [])  # already spam: nothing changes
    with pytest.raises(services.PermissionDenied):
        mark_spam([target], light_agent)
    with pytest.raises(services.PermissionDenied):
        bulk_merge([a], target, light_agent)


def test_single_merge_form_offers_the_customers_other_tickets(staff, customer, other_customer):
    a, b = (services.create_ticket(customer, s, "x") for s in ("A", "B"))
    services.create_ticket(other_customer, "Not a candidate", "y")
    page = staff.get(f"/tickets/{a.reference}").text
    assert attributes(page, id="merge-target")[0]["list"] == "merge-candidates"
    assert [o["value"] for o in attributes(page, tag="option") if o.get("value", "").startswith("HD-")] == \
        [b.reference]


def test_ticket_picker_and_preview(staff, agent, customer, other_customer):
    a = services.create_ticket(customer, "Broken printer", "x")
    services.add_message(a, customer, "It now smells of smoke " + "and more " * 80)
    services.create_ticket(other_customer, "Broken screen", "y")
    found = staff.get("/queue/tickets.json?q=printer").get_json()["tickets"]
    assert [t["label"] for t in found] == [f"{a.reference} · Broken printer"]
    assert len(staff.get("/queue/tickets.json?q=broken").get_json()["tickets"]) == 2
    assert staff.get(f"/queue/tickets.json?q=broken&customer={customer.id}").get_json()["tickets"][0][
        "reference"] == a.reference
    preview = staff.get(f"/queue/preview/{a.reference}").get_json()
    assert preview["author"] == "Carla Customer" and preview["excerpt"].startswith("It now smells of smoke")
    assert len(preview["excerpt"]) == queue_tools.PREVIEW_CHARS and preview["excerpt"].endswith("…")


def test_scoped_agent_cannot_preview_mark_bulk_or_pick_tickets_outside_their_teams(client, login, db, make_user,
                                                                                   customer):
    billing, hr = Team(name="Billing"), Team(name="HR")
    scoped = make_user("agent", name="Bill Billing", team_scoped=True)
    billing.members = [scoped]
    db.session.add_all([billing, hr])
    db.session.commit()
    mine = services.create_ticket(customer, "Invoice", "x", team_id=billing.id)
    theirs = services.create_ticket(customer, "Grievance", "y", team_id=hr.id)
    login(client, scoped)
    assert client.get(f"/queue/preview/{theirs.reference}").status_code == 404
    assert client.post(f"/tickets/{theirs.reference}/seen", data={"message_id": "1"}).status_code == 404
    assert client.get(f"/queue/preview/{mine.reference}").status_code == 200
    assert [t["reference"] for t in client.get("/queue/tickets.json?q=i").get_json()["tickets"]] == [mine.reference]
    for action in ("close", "spam"):
        answer = client.post("/queue/bulk", data={"ticket_ids": [theirs.id], "action": action},
                             follow_redirects=True)
        assert "Select at least one ticket." in flashes(answer.text)
    answer = client.post("/queue/bulk", data={"ticket_ids": [mine.id], "action": "merge",
                                              "target": theirs.reference}, follow_redirects=True)
    assert f"there is no ticket “{theirs.reference}”" in flashes(answer.text)
    db.session.expire_all()
    assert (theirs.status, mine.merged_into_id) == ("new", None)


def test_light_agents_cannot_act_in_bulk(client, login, light_agent, ticket):
    login(client, light_agent)
    assert client.post("/queue/bulk", data={"ticket_ids": [ticket.id], "action": "spam"}).status_code == 404
    assert "bulk-bar" not in client.get("/queue").text


# ------------------------------------------------------------------ send and next


def test_send_and_next_opens_the_next_ticket_or_the_queue(staff, db, customer, ticket):
    other = services.create_ticket(customer, "Next one", "x")
    reply = {"body": "Hi Carla, fixed. " + ticket.reference, "status_after": "", "send_next": "1"}
    answer = staff.post(f"/tickets/{ticket.reference}", data={**reply, "next_ticket": other.reference})
    assert answer.status_code == 302 and answer.headers["Location"] == f"/tickets/{other.reference}"
    last = staff.post(f"/tickets/{ticket.reference}",
                      data={**reply, "next_ticket": "", "next_queue": "?status=all&q=x y"})
    assert last.headers["Location"] == "/queue?status=all&q=x+y"
    odd = staff.post(f"/tickets/{ticket.reference}", data={**reply, "next_ticket": "//evil.example/x"})
    assert odd.headers["Location"] == "/queue"
