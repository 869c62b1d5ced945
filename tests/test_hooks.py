"""One test per hook, named ``test_hook_<name>``: each registers a throwaway plugin that
implements the hook and checks what a user (or the caller) gets from it.

``tests/test_hookspecs.py`` requires such a test for every hook in ``helpdesk/hookspecs.py``.
Other tests go deeper (errors, isolation, concurrency); these pin the contract.
"""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import click
import pytest
from flask import Blueprint
from markupsafe import Markup
from sqlalchemy import select

from helpdesk import services
from helpdesk.models import AuditEvent, SlaPolicy, Team
from helpdesk.models.base import utcnow
from helpdesk.plugin_api import Channel, Route, Setting
from helpdesk.plugin_manager import manager
from helpdesk.testing import make_plugin


def plug(app, name: str, **hooks):
    manager(app).register(make_plugin(name, **hooks), name)


# ------------------------------------------------------------------ setup hooks


def test_hook_settings(app, client, admin, login):
    plug(app, "greeter", helpdesk_settings=lambda: [Setting("greeting", "text", default="Hi", label="Greeting")])
    assert manager(app).get_setting("greeter", "greeting") == "Hi"
    login(client, admin)
    assert 'for="setting-greeting">Greeting' in client.get("/admin/plugins/greeter").text


def test_hook_blueprints(app, client, agent, login):
    bp = Blueprint("hookpage", __name__, url_prefix="/hookpage")
    bp.add_url_rule("/", "index", lambda: "the plugin's page")
    plug(app, "hookpage", helpdesk_blueprints=lambda: [bp])
    manager(app).register_blueprints(app)
    login(client, agent)
    assert client.get("/hookpage/").text == "the plugin's page"


def test_hook_cli(app):
    def add(cli: click.Group) -> None:
        @cli.command("hook-ping")
        def ping() -> None:
            click.echo("pong")

    plug(app, "pinger", helpdesk_cli=add)
    manager(app).register_cli(app)
    assert app.test_cli_runner().invoke(args=["hook-ping"]).output == "pong\n"


def test_hook_migrations(app, tmp_path):
    folder = tmp_path / "migrations"
    folder.mkdir()
    plug(app, "tabled", helpdesk_migrations=lambda: str(folder))
    assert manager(app).migration_folders_by_plugin()["tabled"] == str(folder)
    assert str(folder) in manager(app).migration_folders()


def test_hook_channels(app, customer, agent):
    sent = []

    class Pigeon(Channel):
        def deliver(self, ticket, message):
            sent.append(message.body)

    plug(app, "pigeon", helpdesk_channels=lambda: [Pigeon(name="pigeon", label="Pigeon post")])
    assert manager(app).channels()["pigeon"].plugin == "pigeon"
    ticket = services.create_ticket(customer, "Coo", "By bird", channel="pigeon")
    services.add_message(ticket, agent, "Hi Carla, by bird too")
    assert sent == ["Hi Carla, by bird too"]


def test_hook_demo_data(app):
    from helpdesk.demo import seed_demo

    draws = []
    plug(app, "showcase", helpdesk_demo_data=lambda rng: f"drew {draws.append(rng.random()) or len(draws)}")
    assert "showcase: drew 1" in seed_demo(3, seed=3, echo=lambda line: None)
    assert "showcase: drew 2" in seed_demo(3, seed=3, echo=lambda line: None)
    assert draws[0] == draws[1]  # the same seed, the same random numbers for the plugin


# ------------------------------------------------------------- decision hooks


def test_hook_inbound_filter(app, db, customer):
    plug(app, "blocker", helpdesk_inbound_filter=lambda sender, subject: "blocked sender"
         if sender == customer.email and subject == "Spam" else None)
    with pytest.raises(services.ServiceError, match="blocked sender"):
        services.create_ticket(customer, "Spam", "buy now")
    db.session.rollback()
    assert services.create_ticket(customer, "Real", "help").subject == "Real"


def test_hook_classify_ticket(app, customer):
    plug(app, "labeller", helpdesk_classify_ticket=lambda message: {"tags": ["billing"], "priority": "high",
                                                                    "labels": {"topic": "refund"}}
         if "refund" in message.body else None)
    ticket = services.create_ticket(customer, "Money back", "I want a refund")
    assert [t.name for t in ticket.tags] == ["billing"] and ticket.priority == "high"
    assert ticket.messages[0].meta["labels"]["labeller"] == {"topic": "refund"}
    assert services.create_ticket(customer, "Hello", "Just saying hi").priority == "normal"


def test_hook_route_ticket(app, db, customer, make_user):
    team = Team(name="Billing")
    db.session.add(team)
    db.session.commit()
    lead = make_user("agent", name="Bill Lead")
    plug(app, "router", helpdesk_route_ticket=lambda ticket: Route(team_id=team.id, assignee_id=lead.id,
                                                                    reason="money goes to billing"))
    ticket = services.create_ticket(customer, "Invoice", "Wrong amount")
    assert (ticket.team_id, ticket.assignee_id) == (team.id, lead.id)
    assert "money goes to billing" in db.session.scalars(
        select(AuditEvent.reason).where(AuditEvent.ticket_id == ticket.id)).all()


def test_hook_ticket_change_check(app, db, ticket, agent):
    plug(app, "gate", helpdesk_ticket_change_check=lambda changes: "Tag it first."
         if changes.get("status", (None, None))[1] == "closed" else None)
    with pytest.raises(services.ServiceError, match="Tag it first."):
        services.update_ticket(ticket, agent, status="closed")
    db.session.rollback()
    assert services.update_ticket(ticket, agent, status="open") == {"status": ("new", "open")}


def test_hook_reply_checks(app, ticket, agent):
    plug(app, "tone", helpdesk_reply_checks=lambda body: ["Say sorry."] if "sorry" not in body else None)
    assert "Say sorry." in services.reply_checks(ticket, "It is fixed.", agent)
    assert "Say sorry." not in services.reply_checks(ticket, f"Hi Carla, sorry! {ticket.reference}", agent)
    # The richer form: named checks, each switchable (Admin → Reply checks).
    from helpdesk.plugin_api import ReplyWarning
    from helpdesk.services.reply_review import review_reply, save_check_modes

    plug(app, "style", helpdesk_reply_checks=lambda body: [ReplyWarning("asap", "Avoid ASAP."), "Be brief."])
    found = {(f.check, f.text, f.mode) for f in review_reply(ticket, "Fix it ASAP.", agent)}
    assert {("style.asap", "Avoid ASAP.", "advise"), ("style", "Be brief.", "advise")} <= found
    save_check_modes({"style.asap": "block", "style": "off"})
    found = {(f.check, f.mode) for f in review_reply(ticket, "Fix it ASAP.", agent)}
    assert ("style.asap", "block") in found and ("style", "advise") not in found


def test_hook_reply_variables(app, ticket, agent):
    from helpdesk.canned import render_reply

    plug(app, "tier", helpdesk_reply_variables=lambda customer: {"tier": f"gold for {customer.first_name}"})
    assert render_reply("{{ tier }}", ticket, agent) == "gold for Carla"


# ---------------------------------------------------------------- event hooks


def test_hook_ticket_created(app, customer):
    seen = []
    plug(app, "spy", helpdesk_ticket_created=lambda ticket, message: seen.append((ticket.subject, message.body)))
    services.create_ticket(customer, "New one", "First words")
    assert seen == [("New one", "First words")]


def test_ticket_created_hook_runs_in_the_tickets_transaction(app, db, customer):
    """Each plugin in a savepoint of its own, one commit with the ticket (issue 19): a plugin
    that writes and then raises leaves nothing behind, the others' rows are committed."""
    from helpdesk.models import PluginError, Tag, Ticket

    def writes_then_fails(ticket, message):
        db.session.add(Tag(name="from-the-broken-plugin"))
        db.session.commit()  # only a flush here: undone with the rest of this plugin's work
        raise RuntimeError("broken after writing")

    def writes(ticket, message):
        db.session.add(Tag(name="from-the-good-plugin"))
        db.session.commit()

    plug(app, "broken", helpdesk_ticket_created=writes_then_fails)
    plug(app, "good", helpdesk_ticket_created=writes)
    ticket_id = services.create_ticket(customer, "Both plugins", "First words").id
    db.session.remove()  # read back what was committed, not what the session remembers
    names = set(db.session.scalars(select(Tag.name)))
    assert "from-the-good-plugin" in names and "from-the-broken-plugin" not in names
    assert db.session.get(Ticket, ticket_id).subject == "Both plugins"
    errors = db.session.scalars(select(PluginError).where(PluginError.plugin == "broken")).all()
    assert [e.message for e in errors] == ["RuntimeError: broken after writing"]


def test_hook_message_added(app, ticket, customer, agent):
    seen = []
    plug(app, "spy", helpdesk_message_added=lambda ticket, message: seen.append(
        (message.author.role, message.body)))
    services.add_message(ticket, customer, "More details")
    services.add_message(ticket, agent, "Hi Carla, thanks")
    assert seen == [("customer", "More details"), ("agent", "Hi Carla, thanks")]


def test_hook_ticket_changed(app, ticket, agent):
    seen = []
    plug(app, "spy", helpdesk_ticket_changed=lambda changes, actor: seen.append((changes, actor.name)))
    services.update_ticket(ticket, agent, priority="urgent")
    assert seen == [({"priority": ("normal", "urgent")}, "Alex Agent")]


def test_hook_feedback_received(app, ticket, customer):
    seen = []
    plug(app, "spy", helpdesk_feedback_received=lambda ticket, customer, feedback: seen.append(
        (ticket.reference, customer.name, feedback["kind"], feedback["score"])))
    services.record_feedback(customer, "csat", score=4, ticket=ticket)
    assert seen == [(ticket.reference, "Carla Customer", "csat", 4)]


def first_response_policy(db) -> None:
    db.session.add(SlaPolicy(name="Fast", first_response_minutes=60, warn_before_minutes=15,
                             pause_statuses="pending"))
    db.session.commit()


def test_hook_sla_warning(app, db, customer):
    from helpdesk.sla.engine import check_sla

    seen: list = []
    plug(app, "sla_spy", helpdesk_sla_warning=lambda ticket, target: seen.append(
        ("warning", ticket.reference, target.kind)))
    first_response_policy(db)
    ticket = services.create_ticket(customer, "Help", "Broken")
    assert check_sla(now=utcnow() + timedelta(minutes=50))["warned"] == 1
    assert seen == [("warning", ticket.reference, "first_response")]


def test_hook_sla_breached(app, db, customer):
    from helpdesk.sla.engine import check_sla

    seen: list = []
    plug(app, "sla_spy", helpdesk_sla_breached=lambda ticket, target: seen.append(
        ("breached", ticket.reference, target.kind)))
    first_response_policy(db)
    ticket = services.create_ticket(customer, "Help", "Broken")
    assert check_sla(now=utcnow() + timedelta(minutes=61))["breached"] == 1
    assert seen == [("breached", ticket.reference, "first_response")]


# ------------------------------------------------------------------- UI hooks


def test_hook_template_slot(app, client, agent, ticket, login):
    plug(app, "badge", helpdesk_template_slot=lambda slot, context: Markup("<b>VIP</b> ") + context["ticket"].subject
         if slot == "ticket.sidebar" else None)
    login(client, agent)
    assert '<div class="plugin-slot" data-plugin="badge"><b>VIP</b> Printer on fire</div>' in client.get(
        f"/tickets/{ticket.reference}").text


def test_hook_nav_links(app, client, agent, customer, login):
    plug(app, "nav", helpdesk_nav_links=lambda user: [("Team wiki", "/wiki")] if user.is_staff else None)
    login(client, agent)
    assert 'href="/wiki"' in client.get("/queue").text
    login(client, customer)
    assert 'href="/wiki"' not in client.get("/portal/").text


def test_hook_reports(app, client, admin, login):
    bp = Blueprint("hookrep", __name__)
    bp.add_url_rule("/hookrep", "report", lambda: "report")
    plug(app, "hookrep", helpdesk_blueprints=lambda: [bp],
         helpdesk_reports=lambda: [("Weekly volume", "hookrep.report")])
    manager(app).register_blueprints(app)
    login(client, admin)
    page = client.get("/admin/reports").text
    assert "Weekly volume" in page and 'href="/hookrep"' in page


# ------------------------------------------------------------ notification hooks


def test_hook_notification_kinds(app, client, db, agent, make_user, login):
    from helpdesk.plugin_api import NotificationKind, notify_agents

    plug(app, "waver", helpdesk_notification_kinds=lambda: [
        NotificationKind("waver.waved", "A colleague waves at me", default="app")])
    lea = make_user("agent", name="Lea Park")
    assert notify_agents("waver.waved", [agent, lea], text="Lea waves at you", actor=lea) == 1
    login(client, agent)
    assert 'id="notification-count">1<' in client.get("/queue").text
    assert "Lea waves at you" in client.get("/notifications").text
    assert "A colleague waves at me" in client.get("/profile/notifications").text
def test_hook_report_sections(app, client, admin, make_user, login):
    seen = []

    def sections(filters, user):
        seen.append((filters.start.isoformat(), filters.end.isoformat(), filters.team_id, user.id))
        return [("Greetings <sent>", Markup("<p id='greetings'>12 greetings</p>"))]

    plug(app, "hookrep2", helpdesk_report_sections=sections)
    login(client, admin)
    page = client.get("/reports?start=2026-11-02&end=2026-11-08").text
    assert "Greetings &lt;sent&gt;</h2>" in page and "<p id='greetings'>12 greetings</p>" in page
    assert seen == [("2026-11-02", "2026-11-08", None, admin.id)]
    manager(app).register(make_plugin("broken", helpdesk_report_sections=lambda filters: 1 / 0), "broken")
    assert client.get("/reports").status_code == 200  # a failing section is skipped, the page stays


def test_every_hook_here_is_a_real_hook():
    from helpdesk import hookspecs

    names = {name[len("test_hook_"):] for name in globals() if name.startswith("test_hook_")}
    assert {f"helpdesk_{name}" for name in names} <= set(vars(hookspecs)), names
    assert Path(__file__).name == "test_hooks.py"


def test_hook_reply_channel(app, customer, agent):
    sent = []

    class Pigeon(Channel):
        def deliver(self, ticket, message):
            sent.append((self.name, message.body))

    plug(app, "pigeons", helpdesk_channels=lambda: [Pigeon(name="pigeon", label="Pigeon"),
                                                     Pigeon(name="owl", label="Owl")],
         helpdesk_reply_channel=lambda ticket, message: "owl" if "owl" in message.body else
         ("nowhere" if "lost" in message.body else None))
    ticket = services.create_ticket(customer, "Coo", "By bird", channel="pigeon")
    services.add_message(ticket, agent, "Hi Carla, by owl")
    services.add_message(ticket, agent, "Hi Carla, by pigeon")
    services.add_message(ticket, agent, "Hi Carla, lost channel: the ticket's own")
    assert sent == [("owl", "Hi Carla, by owl"), ("pigeon", "Hi Carla, by pigeon"),
                    ("pigeon", "Hi Carla, lost channel: the ticket's own")]


# ------------------------------------------------------------------ customer timeline


def test_hook_customer_timeline(app, client, agent, customer, login):
    """A plugin's entries join the core's on the customer page, newest first, filterable by kind."""
    from helpdesk.plugin_api import TimelineEntry

    ticket = services.create_ticket(customer, "Where is my parcel", "It has been a week.")
    calls = []

    def entries(customer, user, before, limit):
        calls.append((customer.id, user.id, before, limit))
        return [TimelineEntry(at=ticket.created_at + timedelta(minutes=5), kind="greeting",
                              title="Waved hello <b>twice</b>")]

    plug(app, "greeter", helpdesk_customer_timeline=entries)
    login(client, agent)
    page = client.get(f"/customers/{customer.id}").text
    assert "Waved hello &lt;b&gt;twice&lt;/b&gt;" in page  # escaped
    assert page.index("Waved hello") < page.index("Opened " + ticket.reference)  # newer first
    assert calls[0][:2] == (customer.id, agent.id)
    only = client.get(f"/customers/{customer.id}?kind=greeting").text
    assert "Waved hello" in only and "Opened " + ticket.reference not in only


# ------------------------------------------------------------------ page data (1.2)


def test_hook_page_data(app, client, agent, customer, login):
    """Called once per page, lazily, with every ticket of the page; the slot reads the result."""
    from helpdesk.plugin_api import page_data

    calls: list[tuple[str, list[int]]] = []

    def load(page, ticket_ids, user):
        calls.append((page, list(ticket_ids)))
        return {i: f"note for {i} read by {user.name}" for i in ticket_ids}

    def slot(slot, context):
        if slot == "ticket.sidebar":
            return page_data("pager")[context["ticket"].id]
        if slot == "queue.top":
            return f"{len(page_data('pager') or {})} tickets loaded at once"
        return None

    plug(app, "pager", helpdesk_page_data=load, helpdesk_template_slot=slot)
    tickets = [services.create_ticket(customer, f"Subject {i}", "body") for i in range(3)]
    login(client, agent)
    page = client.get("/queue").text
    assert "3 tickets loaded at once" in page
    assert calls == [("queue", sorted((t.id for t in tickets), reverse=True))]
    calls.clear()
    page = client.get(f"/tickets/{tickets[0].reference}").text
    assert f"note for {tickets[0].id} read by Alex Agent" in page
    assert calls == [("ticket", [tickets[0].id])]


def test_hook_page_queries(app, client, agent, customer, login, statements):
    """Declared SELECTs run in the page's one batch; rows come back as instances with Python values,
    their many-to-one people without SQL; a failing query gives its plugin None and is recorded."""
    from sqlalchemy import select, text

    from helpdesk.models import Message, User
    from helpdesk.plugin_api import page_rows

    def queries(page, ticket_ids, user):
        if page != "ticket":
            return None
        return {"messages": select(Message).where(Message.ticket_id.in_(ticket_ids)),
                "authors": select(User).where(User.id.in_(select(Message.author_id).where(
                    Message.ticket_id.in_(ticket_ids))))}

    def slot(slot, context):
        if slot != "ticket.sidebar":
            return None
        rows = page_rows("batched", "messages", ticket_id=context["ticket"].id)
        return " | ".join(f"{m.author.name}/{m.internal}/{m.created_at.year}/{type(m.meta).__name__}"
                          for m in sorted(rows, key=lambda m: m.id))

    def broken(page, ticket_ids, user):
        return {"bad": select(Message).where(text("no_such_column = 1"))}  # fails when run

    plug(app, "batched", helpdesk_page_queries=queries, helpdesk_template_slot=slot)
    ticket = services.create_ticket(customer, "Subject", "body")
    services.add_message(ticket, agent, "a note", internal=True)
    login(client, agent)
    client.get(f"/tickets/{ticket.reference}")
    with statements:
        page = client.get(f"/tickets/{ticket.reference}")
    year = ticket.created_at.year
    assert f"Carla Customer/False/{year}/dict | Alex Agent/True/{year}/dict" in page.text
    assert statements.count <= 6, statements.listing()

    plug(app, "broken", helpdesk_page_queries=broken)
    page = client.get(f"/tickets/{ticket.reference}")
    assert page.status_code == 200 and "Carla Customer/False" in page.text  # the others' rows still come
    assert manager(app).recent_errors("broken")


def test_page_data_is_none_outside_a_page_and_a_failing_loader_gives_none(app, client, agent, ticket, login):
    from helpdesk.plugin_api import page_data

    assert page_data("broken") is None

    def boom(page, ticket_ids, user):
        raise RuntimeError("no data today")

    plug(app, "broken", helpdesk_page_data=boom,
         helpdesk_template_slot=lambda slot, context: (f"data is {page_data('broken')}"
                                                       if slot == "ticket.sidebar" else None))
    login(client, agent)
    page = client.get(f"/tickets/{ticket.reference}")
    assert page.status_code == 200 and "data is None" in page.text
    assert [e.message for e in manager(app).recent_errors("broken")] == ["RuntimeError: no data today"]


def test_hook_nav_counts(app, client, agent, login, db):
    """Every declared count and the bell run in one statement; a failing one reads 0 and is recorded."""
    from sqlalchemy import event, func, literal

    from helpdesk.models import Ticket
    from helpdesk.plugin_api import nav_count

    plug(app, "counter", helpdesk_nav_counts=lambda user: {"tickets": select(func.count(Ticket.id))},
         helpdesk_nav_links=lambda user: [(f"Counter ({nav_count('counter', 'tickets')})", "/queue")])
    plug(app, "second", helpdesk_nav_counts=lambda user: {"seven": select(literal(7))},
         helpdesk_nav_links=lambda user: [(f"Seven ({nav_count('second', 'seven')})", "/queue")])
    login(client, agent)
    seen: list[str] = []
    record = lambda _c, _cu, statement, *_a: seen.append(statement)  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", record)
    try:
        page = client.get("/queue").text
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert "Counter (0)" in page and "Seven (7)" in page
    counting = [s for s in seen if "FROM notifications" in s or "count(tickets.id)" in s]
    assert len(counting) == 1 and "FROM notifications" in counting[0] and "count(tickets.id)" in counting[0]

    def broken(user):
        raise RuntimeError("no count today")

    plug(app, "broken", helpdesk_nav_counts=broken)
    page = client.get("/queue")
    assert page.status_code == 200 and "Seven (7)" in page.text
    assert manager(app).recent_errors("broken")


# ------------------------------------------------------------------ self-service answers (Plugin API 1.3)


def test_hook_suggest_answers(app):
    """First result: a plugin answering None lets the next one answer; a raising one is skipped;
    without any answer plugin_api.suggest_answers gives []."""
    from helpdesk.plugin_api import suggest_answers

    assert suggest_answers("I forgot my password", "de", 2) == []
    calls = []

    def broken(text, language, limit):
        raise RuntimeError("index gone")

    def faq(text, language, limit):
        calls.append((text, language, limit))
        if "password" not in text:
            return None
        return [{"id": 7, "title": "Passwort zurücksetzen", "url": "https://help.test/faq/7", "excerpt": "",
                 "language": language, "confidence": 0.9, "confident": True}][:limit]

    plug(app, "broken_faq", helpdesk_suggest_answers=broken)
    plug(app, "faq", helpdesk_suggest_answers=faq)
    [answer] = suggest_answers("I forgot my password", "de", 2)
    assert (answer["title"], answer["confident"]) == ("Passwort zurücksetzen", True)
    assert calls == [("I forgot my password", "de", 2)]
    assert suggest_answers("Printer on fire", "en", 50) == [] and calls[-1][2] == 10  # the limit is capped
    from flask import g

    assert [(e["plugin"], e["hook"]) for e in g.get("_helpdesk_plugin_errors", [])][:1] == [
        ("broken_faq", "helpdesk_suggest_answers")]  # recorded for Admin → Plugins, then skipped


def test_hook_answer_accepted(app):
    """First result: the plugin owning the article counts it (True once, then False); None passes."""
    from helpdesk.plugin_api import answer_accepted

    counted: set[str] = set()

    def other(article_id, attempt, channel, text):
        return None  # not one of this plugin's articles

    def faq(article_id, attempt, channel, text):
        if article_id != 7:
            return None
        key = f"{channel}:{attempt}"
        if key in counted:
            return False
        counted.add(key)
        return True

    assert answer_accepted(7, "visitor.abc12345", "chat") is False  # nobody counts it
    plug(app, "other", helpdesk_answer_accepted=other)
    plug(app, "faq", helpdesk_answer_accepted=faq)
    assert answer_accepted(7, "visitor.abc12345", "chat", "forgot my password") is True
    assert answer_accepted(7, "visitor.abc12345", "chat") is False  # the same attempt: once
    assert answer_accepted(8, "visitor.abc12345", "chat") is False
    assert counted == {"chat:visitor.abc12345"}
