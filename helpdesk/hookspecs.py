"""The plugin contract: every hook a Helpdesk plugin may implement.

Hooks come in three kinds, and the plugin manager calls each kind in its own way:

* **setup hooks** run when an app is created (settings, blueprints, CLI commands,
  migrations, channels);
* **decision hooks** run inside a service's database transaction and shape what is
  written (``inbound_filter``, ``classify_ticket``, ``route_ticket``). A decision hook
  that raises is logged, recorded and skipped; the core's default applies;
* **event hooks** run after the transaction has committed (``ticket_created``,
  ``message_added``, ``ticket_changed``, ``feedback_received``). A plugin that raises is
  logged, recorded for Admin → Plugins and skipped: the ticket is already safe.

Every implementation is called with keyword arguments and may accept fewer arguments
than the spec lists (pluggy's argument pruning), so adding an argument later never breaks
a plugin. Decision, event and UI hooks call enabled plugins only; setup hooks run for
every installed plugin at start-up, so enabling one later needs no restart.
``docs/hooks.md`` is generated from this file (``make docs``); a test fails when it is
stale or when a hook has no test.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from helpdesk.markers import hookspec

if TYPE_CHECKING:  # pragma: no cover
    import random
    from datetime import datetime

    import click
    from flask import Blueprint
    from markupsafe import Markup

    from helpdesk.contract import Channel, NotificationKind, ReplyWarning, ReportFilters, Route, Setting, TimelineEntry
    from helpdesk.models import Message, SlaTarget, Ticket, User

# ---------------------------------------------------------------- setup hooks


@hookspec
def helpdesk_settings() -> list[Setting]:
    """Declare this plugin's settings.

    Called when the admin opens the plugin's settings page and when a setting is read.
    Return a list of ``helpdesk.plugin_api.Setting``; the admin form is rendered and
    validated from it. Types: ``text``, ``lines`` (one entry per line), ``secret``, ``int``,
    ``bool``, ``choice``, ``email``, ``url``, ``team``, ``agent``. Secret values are write-only in the page and
    encrypted at rest. Read a value with ``plugin_api.get_setting("myplugin", "name")``.
    The declarations are kept across requests: give ``label`` and ``help`` with
    ``plugin_api.lazy_gettext`` (a ``Text``), so that each admin reads them in their language.

    Semantics: collected, one list per plugin.

    Example::

        @hookimpl
        def helpdesk_settings():
            return [Setting("greeting", "text", default="Hello", label=lazy_gettext("Greeting"),
                            help=lazy_gettext("Shown on the page"))]
    """


@hookspec
def helpdesk_blueprints() -> list[Blueprint]:
    """Return Flask blueprints to register (pages and APIs of the plugin).

    Called once per app at start-up. Every blueprint answers 404 while the plugin is
    disabled. Keep templates under ``templates/<plugin name>/`` to avoid clashes.

    Semantics: collected.

    Example::

        bp = Blueprint("hello", __name__, url_prefix="/hello", template_folder="templates")

        @hookimpl
        def helpdesk_blueprints():
            return [bp]
    """


@hookspec
def helpdesk_cli(cli: click.Group) -> None:
    """Add commands to the ``helpdesk`` command line.

    Called once per app at start-up with the app's click group.

    Semantics: collected; the return value is ignored.

    Example::

        @hookimpl
        def helpdesk_cli(cli):
            @cli.command("hello")
            def hello():
                click.echo("hello")
    """


@hookspec
def helpdesk_migrations() -> str | None:
    """Return the folder holding this plugin's Alembic revisions.

    The folder is added to Alembic's ``version_locations``; the plugin's first revision
    carries ``branch_labels = ("<plugin name>",)`` and ``depends_on`` the core's first
    revision. ``helpdesk db upgrade`` migrates the core and every installed plugin;
    migrations never run implicitly, and disabling a plugin never drops its tables.

    Semantics: collected.

    Example::

        @hookimpl
        def helpdesk_migrations():
            return str(Path(__file__).parent / "migrations")
    """


@hookspec
def helpdesk_access_rules() -> Any:
    """Return who may use each of this plugin's routes, for the core's access-matrix test.

    The core's suite requests every route of every installed plugin as each kind of
    visitor and compares the answer with these rules, so a page that forgets its
    permission check fails there. Return an object (usually a module of your package)
    with:

    - ``RULES``: a dict of endpoint → set of role names that get through (everyone else
      must be refused: the sign-in page, 403 or 404);
    - ``ROLES`` (optional): the role names your rules cover. Roles the matrix knows but your
      rules do not cover are skipped for your routes with a message (default: the five
      original roles ``anonymous``, ``customer_a``, ``customer_b``, ``agent``, ``admin``);
    - ``values(world)`` (optional): creates what your URLs point at and returns the URL
      placeholders (``{"rule_id": 3}``); ``world`` has ``users`` (role → user),
      ``values`` and ``ticket`` (customer_a's ticket, in the team the team-scoped agent is
      not a member of).

    Roles: ``anonymous``; ``customer_a`` (the ticket's customer) and ``customer_b``;
    ``agent`` and ``admin``; ``team_agent`` (an agent who sees only their teams' tickets,
    so the world's ticket is out of their scope); ``light_agent`` (reads tickets and adds
    internal notes only). A plugin that returns nothing has its routes skipped with a
    message, never an error. Setup hook: asked of every installed plugin, enabled or not.

    Semantics: collected.

    Example::

        # helpdesk_hello/access_rules.py
        ROLES = ("anonymous", "customer_a", "customer_b", "agent", "team_agent",
                 "light_agent", "admin")
        RULES = {"hello.index": {"agent", "team_agent", "admin"}}

        # helpdesk_hello/__init__.py
        from helpdesk_hello import access_rules

        @hookimpl
        def helpdesk_access_rules():
            return access_rules
    """


@hookspec
def helpdesk_channels() -> list[Channel]:
    """Return the channels (ways customers reach us) this plugin provides.

    A channel turns what arrives (a mail, an SMS, a chat message) into calls of the
    core's services with the customer's identity on that channel, and delivers outbound
    public replies for tickets whose ``channel`` equals its ``name``. The core ships the
    ``web`` channel (portal, with an email notification). See ``plugin_api.Channel``.
    Its ``label`` names it for people: a ``Text``, given with ``plugin_api.lazy_gettext``
    (read in the reader's language); ``name`` is the key stored on tickets.

    Semantics: collected.

    Example::

        class SmsChannel(Channel):
            name = "sms"
            label = lazy_gettext("Text messages")
            def deliver(self, ticket, message):
                send_sms(ticket.customer, message.body)

        @hookimpl
        def helpdesk_channels():
            return [SmsChannel()]
    """


@hookspec
def helpdesk_demo_data(rng: random.Random) -> str | None:
    """Add this plugin's demo data after the core's (``helpdesk init --demo``, ``helpdesk demo``).

    Called once the demo teams, agents, customers and tickets exist, so a plugin can give
    a newcomer something to look at (survey answers, kudos, a routing rule). Use ``rng``
    for anything random so every run gives the same data; keep it small (the benchmark
    seeds 100,000 tickets through the same command). Return one line for the summary.

    Semantics: collected; a plugin that raises is skipped.

    Example::

        @hookimpl
        def helpdesk_demo_data(rng):
            for ticket in recent_resolved_tickets(limit=50):
                add_rating(ticket, rng.randint(1, 5))
            return "50 ratings"
    """


# ------------------------------------------------------------- decision hooks


@hookspec(firstresult=True)
def helpdesk_inbound_filter(
    channel: str, sender: str, subject: str, body: str, headers: dict[str, str]
) -> str | None:
    """Refuse an inbound message before it becomes a ticket (spam, blocklists).

    Called inside ``create_ticket`` for messages that come from customers, with the
    ``channel`` name, the ``sender`` address, the ``subject``, the ``body`` and the
    ``headers`` the channel received (empty for the web form). Return a human-readable
    reason to refuse the message, or ``None`` to let it through. A channel keeps refused
    input (for example in its quarantine); nothing is silently dropped.

    Semantics: first result; a plugin that raises is skipped.

    Example::

        @hookimpl
        def helpdesk_inbound_filter(sender):
            if sender.endswith("@spam.example"):
                return "sender is blocklisted"
    """


@hookspec
def helpdesk_classify_ticket(ticket: Ticket, message: Message) -> dict[str, Any] | None:
    """Label a new ticket or a new customer message (sentiment, complaint, language, ...).

    Called inside the transaction of ``create_ticket`` and of ``add_message`` for
    customer messages. Return ``None`` or a dict with any of ``tags`` (list of tag names
    to add), ``priority`` (raise only: the highest proposed priority wins) and ``labels``
    (free-form data, kept in the message's ``meta["labels"][plugin]``).

    Semantics: collected; a plugin that raises is skipped.

    Example::

        @hookimpl
        def helpdesk_classify_ticket(message):
            if "refund" in message.body.lower():
                return {"tags": ["billing"], "labels": {"topic": "refund"}}
    """


@hookspec(firstresult=True)
def helpdesk_route_ticket(ticket: Ticket, message: Message) -> Route | None:
    """Decide which team and agent get a new ticket.

    Called inside ``create_ticket`` after classification, with the new ``ticket`` and its
    first ``message``. Return a
    ``plugin_api.Route(team_id=..., assignee_id=..., reason=...)`` or ``None`` to let the
    next plugin (and finally the core) decide. The decision and its reason are written to
    the ticket's audit trail. A route with a team but no agent leaves the agent to that
    team's assignment strategy (manual, round robin or least loaded). A route may also
    carry ``priority`` and ``tags``: the core applies them (a priority only rises, tags
    are only added); rules that fire one by one call ``plugin_api.apply_route_decision``.

    Semantics: first result; a plugin that raises is skipped.

    Example::

        @hookimpl
        def helpdesk_route_ticket(ticket):
            if "invoice" in ticket.subject.lower():
                return Route(team_id=BILLING_ID, reason="subject mentions an invoice")
    """


@hookspec(firstresult=True)
def helpdesk_ticket_change_check(ticket: Ticket, changes: dict[str, tuple], actor: User | None) -> str | None:
    """Refuse a change to a ticket before it is committed (a workflow's own rules).

    Called inside ``update_ticket`` (and so bulk changes) with the changes about to be
    made, ``{field: (old, new)}``, already applied to ``ticket`` but not committed;
    ``actor`` is ``None`` for automatic changes. Return a message telling the person what
    to do instead, and the whole change is rolled back and refused with that message.

    Semantics: first result; a plugin that raises is skipped (the change goes through).

    Example::

        @hookimpl
        def helpdesk_ticket_change_check(ticket, changes):
            if changes.get("status", (None, None))[1] == "resolved" and not remedy_recorded(ticket):
                return "Record the remedy offered (or why there is none) before resolving."
    """


@hookspec
def helpdesk_reply_checks(ticket: Ticket, body: str, agent: User) -> list[str | ReplyWarning] | None:
    """Gentle checks on an agent's reply (the composer guardrails).

    Called when an agent sends a public reply (and by the composer's "Check reply" button).
    Return a list of short, friendly warnings. By default a warning *advises*: the reply is
    sent and the agent sees it. An admin switches each check off, or makes it *blocking*
    (the reply is then not sent, the text is kept), on Admin → Reply checks. The core ships
    ``core.greeting`` ("not greeted by name") and ``core.reference`` ("no ticket reference").

    A plain string counts as the plugin's one check, switched under the plugin's name. To
    let admins switch several checks separately, return ``ReplyWarning(check, text)``
    items (``helpdesk.plugin_api.ReplyWarning``; key ``"<plugin>.<check>"``, which follows
    the plugin's own switch unless it has one of its own). Both forms may be mixed. The
    agent who is replying reads the text: build it with ``plugin_api.gettext`` (placeholders
    for the variable parts); ``label`` (what the check looks for) may be a lazy string.

    Semantics: collected and concatenated; checks switched off are dropped.

    Example::

        @hookimpl
        def helpdesk_reply_checks(body):
            if "asap" in body.lower():
                return [ReplyWarning("asap", gettext("Avoid 'ASAP': give the customer a concrete time."),
                                     label=lazy_gettext("ASAP in a reply"))]
    """


@hookspec
def helpdesk_reply_variables(ticket: Ticket, customer: User, agent: User | None) -> dict | None:
    """Add placeholders for canned replies and templates.

    Called when a canned reply is rendered. Return a dict of plain values (strings,
    numbers, lists, dicts); they are available in the sandboxed template, next to the
    core's ``customer``, ``ticket``, ``agent`` and ``helpdesk``.

    Semantics: collected and merged (later plugins cannot replace the core's keys).

    Example::

        @hookimpl
        def helpdesk_reply_variables(customer):
            return {"loyalty_tier": lookup_tier(customer.email)}
    """


# ---------------------------------------------------------------- event hooks


@hookspec
def helpdesk_ticket_created(ticket: Ticket, message: Message) -> None:
    """A ticket was created (by any channel, the portal or an agent, or split from another).

    ``message`` is the ticket's first message (for a split ticket: the message split off).

    Semantics: event, inside the ticket's transaction (since Plugin API 1.4): each
    implementation runs in a SAVEPOINT of its own and its rows are committed with the ticket,
    by one commit after the last implementation. A plugin that raises is rolled back alone
    (its rows only), recorded and skipped. Inside it ``session.commit()`` only flushes and
    ``session.rollback()`` undoes this plugin's own work; jobs it queues and live events it
    publishes go out after the commit. Do not write through another connection here
    (``db.engine``): on SQLite it would wait for this transaction's lock.

    Example::

        @hookimpl
        def helpdesk_ticket_created(ticket):
            log.info("new ticket %s", ticket.reference)
    """


@hookspec
def helpdesk_message_added(ticket: Ticket, message: Message) -> None:
    """A reply or internal note was added to an existing ticket and committed.

    ``message.internal`` tells notes from public replies; ``message.author.role`` tells
    customers from agents.

    Semantics: event, after commit.

    Example::

        @hookimpl
        def helpdesk_message_added(ticket, message):
            if not message.internal:
                notify_watchers(ticket, message)
    """


@hookspec
def helpdesk_ticket_changed(ticket: Ticket, changes: dict[str, tuple], actor: User | None) -> None:
    """Fields of a ticket changed (status, priority, assignee, team, tags, subject).

    ``changes`` maps each field to ``(old, new)``; ``actor`` is ``None`` for automatic
    changes.

    Semantics: event, after commit.

    Example::

        @hookimpl
        def helpdesk_ticket_changed(ticket, changes):
            if changes.get("status", (None, None))[1] == "resolved":
                schedule_survey(ticket.id)
    """


@hookspec
def helpdesk_feedback_received(ticket: Ticket | None, customer: User, feedback: dict) -> None:
    """A customer gave feedback (a rating, a comment, free feedback from the portal).

    ``feedback`` holds at least ``kind`` (``csat``, ``nps`` or ``comment``), and where
    they apply ``score`` and ``comment``; ``source`` (``survey``, ``portal``, ...),
    ``ticket_id``, ``reference`` (where the answer lives, e.g. ``survey:42``) and
    ``updated`` (True when the customer changed or completed an earlier answer with that
    reference: count it once). Fired by plugins such as surveys; recognition
    and complaints listen to it.

    Semantics: event, after commit.

    Example::

        @hookimpl
        def helpdesk_feedback_received(ticket, feedback):
            if feedback.get("kind") == "csat" and feedback.get("score") == 5:
                give_kudos(ticket.assignee, feedback.get("comment"))
    """


@hookspec
def helpdesk_sla_warning(ticket: Ticket, target: SlaTarget) -> None:
    """A service-level target of a ticket is about to be missed.

    Fired by the periodic SLA job once per target and cycle (``target.cycle``), even when
    several workers run the job at the same time. ``target.kind`` is ``first_response``,
    ``next_response``, ``periodic_update`` or ``resolution``; ``target.due_at`` is when it
    is due (naive UTC).

    Semantics: event, after commit.

    Example::

        @hookimpl
        def helpdesk_sla_warning(ticket, target):
            notify(ticket.assignee, f"{ticket.reference}: {target.kind} due {target.due_at}")
    """


@hookspec
def helpdesk_sla_breached(ticket: Ticket, target: SlaTarget) -> None:
    """A service-level target of a ticket was missed.

    Fired once per target and cycle by the periodic SLA job; plugins escalate here
    (reassign, raise priority, tell the team lead). ``target`` is as in ``sla_warning``.

    Semantics: event, after commit.

    Example::

        @hookimpl
        def helpdesk_sla_breached(ticket, target):
            if target.kind == "first_response":
                services.update_ticket(ticket, None, priority="urgent")
    """


# ------------------------------------------------------------------- UI hooks


@hookspec
def helpdesk_template_slot(slot: str, context: dict[str, Any]) -> str | Markup | None:
    """Add a block of HTML to a named place in a core page.

    Core templates call ``{{ slot("ticket.sidebar", ticket=ticket) }}``; ``context``
    holds those keyword arguments plus ``user`` (the signed-in user). Return ``None`` for
    slots you do not fill. Plain strings are escaped; wrap HTML in ``Markup``, e.g.
    ``Markup(render_template(...))`` (``render_template`` returns a plain string). Each
    plugin's block is rendered on its own: one that raises renders nothing and the page
    still works. Blocks appear in plugin name order.

    Slots: ``ticket.sidebar`` (ticket, for agents), ``ticket.badges`` (ticket, inline
    beside its status, for agents), ``ticket.customer_context`` (ticket, customer),
    ``message.after_body`` (ticket, message, for agents, under each message's text),
    ``portal.ticket`` (ticket, for the customer), ``portal.message`` (ticket, message, for
    the customer), ``queue.top``, ``dashboard.main`` (for agents), ``admin.dashboard``,
    ``customer.main`` and ``customer.sidebar`` (customer, on an agent's customer page).
    ``portal.new_ticket`` (form, for the customer, under the new-ticket form: the subject
    and message fields are ``#subject`` and ``#body``).

    Semantics: collected, isolated per plugin.

    Example::

        @hookimpl
        def helpdesk_template_slot(slot, context):
            if slot == "ticket.sidebar":
                return Markup(render_template("hello/sidebar.html", ticket=context["ticket"]))
    """


@hookspec
def helpdesk_nav_links(user: User) -> list[tuple[str, str]] | None:
    """Add links to the top navigation for this user: a list of ``(label, url)``.

    Check the user's role yourself (``user.is_staff``, ``user.is_admin``).

    Semantics: collected.

    Example::

        @hookimpl
        def helpdesk_nav_links(user):
            if user.is_staff:
                return [("Hello", url_for("hello.index"))]
    """


@hookspec
def helpdesk_reports() -> list[tuple[str, str]] | None:
    """List report pages for Admin → Reports: a list of ``(title, endpoint)``.

    Semantics: collected.

    Example::

        @hookimpl
        def helpdesk_reports():
            return [("Satisfaction", "surveys.report")]
    """


# --------------------------------------------------------- notification hooks


@hookspec
def helpdesk_notification_kinds() -> list[NotificationKind] | None:
    """Declare the kinds of agent notification this plugin raises.

    Each ``plugin_api.NotificationKind(name, label, default="immediately", help="")`` gets
    a row on every agent's notification preferences page (Profile → Notifications), where
    the agent picks ``immediately`` (the bell and an email at once), ``digest`` (the bell
    and one daily email), ``app`` (the bell only) or ``off``; ``default`` applies until they
    choose. Prefix names with the plugin's name. Raise a notification with
    ``plugin_api.notify_agents(kind, users, ticket=..., text=..., actor=...)``: the core
    leaves out the actor, inactive accounts and customers, anyone who cannot see the ticket
    and anyone who turned the kind off. The core declares ``assigned``, ``team_assigned``,
    ``customer_replied``, ``mention``, ``sla_warning`` and ``sla_breached`` the same way.
    ``label`` and ``help`` are ``Text``: give them with ``plugin_api.lazy_gettext`` so that
    each agent reads them in their own language.

    Semantics: collected; kinds of disabled plugins are not offered (and cannot be raised).

    Example::

        @hookimpl
        def helpdesk_notification_kinds():
            return [NotificationKind("hello.waved", lazy_gettext("A colleague waves at me"), default="app")]

        # later, after your own commit:
        notify_agents("hello.waved", [colleague], text=f"{me.name} waves at you", actor=me)
    """


# ------------------------------------------------------------------ report hooks


@hookspec
def helpdesk_report_sections(filters: ReportFilters, user: User) -> list[tuple[str, Markup]] | None:
    """Add sections to the core reports page (``/reports``): a list of ``(title, html)``.

    Called for each view of the page with the reader's choices (``ReportFilters``: the
    period as local days and as naive-UTC ``since``/``until``, the time zone, the interval
    and the team, agent, channel, tag and priority filters, ``None`` meaning any) and the
    reader. Scope your rows to the reader yourself (``scoped_to_tickets(user, column)``),
    follow as many filters as make sense for your data and say which ones you ignore. The
    html is put on the page as it is: escape what you write (``render_template`` does), no
    inline script or style. ``column_chart``, ``bar_chart``, ``heatmap_chart`` and
    ``data_table`` from ``plugin_api`` draw charts that match the page. Return ``None`` or
    ``[]`` for "nothing to add" (a title with an empty-state text is friendlier).

    Semantics: collected, in plugin order; a plugin that raises is recorded and skipped.

    Example::

        @hookimpl
        def helpdesk_report_sections(filters, user):
            count = db_session().scalar(
                select(func.count(Greeting.id)).where(
                    Greeting.created_at >= filters.since, Greeting.created_at < filters.until,
                    scoped_to_tickets(user, Greeting.ticket_id)))
            return [("Greetings", Markup(render_template("hello/report.html", count=count)))]
    """


# ----------------------------------------------------------- customer timeline


@hookspec
def helpdesk_customer_timeline(customer: User, user: User, before: datetime | None,
                               limit: int) -> list[TimelineEntry] | None:
    """Add events to a customer's timeline (the customer page, for agents and admins).

    Return at most ``limit`` ``plugin_api.TimelineEntry`` items about ``customer`` that
    happened strictly before ``before`` (naive UTC; ``None``: up to now), newest first.
    Show only what ``user`` (the reader) may see: rows about a ticket through
    ``scoped_to_tickets(user, YourRow.ticket_id)``. The page merges every plugin's entries
    with the core's (tickets, messages, notices, announcements), sorts them, keeps one page
    and offers the next page from the oldest entry shown; readers filter by ``kind``, so
    name yours (``survey``, ``complaint``, ``kudos``).

    Semantics: collected; a plugin that raises is recorded and skipped (the page still shows).

    Example::

        @hookimpl
        def helpdesk_customer_timeline(customer, user, before, limit):
            query = select(Greeting).where(Greeting.customer_id == customer.id,
                                           scoped_to_tickets(user, Greeting.ticket_id))
            if before is not None:
                query = query.where(Greeting.created_at < before)
            rows = db_session().scalars(query.order_by(Greeting.created_at.desc()).limit(limit))
            return [TimelineEntry(at=row.created_at, kind="greeting", title="Waved hello")
                    for row in rows]
    """


# ------------------------------------------------------------------ channel hooks (Plugin API 1.2)


@hookspec(firstresult=True)
def helpdesk_reply_channel(ticket: Ticket, message: Message) -> str | None:
    """Choose the channel an agent's public reply goes out through (default: the ticket's).

    Called by the delivery job for each public agent ``message`` on ``ticket``, before the
    reply is handed to a channel's ``deliver``. Return the name of a channel (one a plugin's
    ``helpdesk_channels`` provides) or ``None`` for "the ticket's channel". A customer who
    started in the website chat and wrote on by SMS on the same (merged) ticket is answered
    by SMS: a channel plugin answers with the channel of the customer's latest message when
    that message came through one of its channels. An unknown name is ignored (the ticket's
    channel is used, and a warning logged).

    Semantics: first result; a plugin that raises is recorded and skipped.

    Example::

        @hookimpl
        def helpdesk_reply_channel(ticket, message):
            last = last_customer_message(ticket)
            if last is not None and last.channel in ("sms", "whatsapp"):
                return last.channel
    """


# ------------------------------------------------------------------ REST API and webhook hooks


@hookspec
def helpdesk_api_blueprints() -> list[Any] | None:
    """Return flask-smorest blueprints (``plugin_api.ApiBlueprint``) of REST API endpoints.

    They are served under ``/api/v1`` (the blueprint's ``url_prefix`` is appended: use
    ``/<plugin name>/…``) and appear in the same OpenAPI spec (``/api/v1/openapi.json``)
    and docs page. The core authenticates every request first (an API token, or the signed-in
    browser session with its CSRF token for writes), checks the token's scope (GET needs
    ``read``, other methods ``write``), rate-limits it and answers errors as JSON; inside a
    view, ``plugin_api.api_user()`` is who is asking. Scope your rows to them yourself
    (``scoped_to_tickets(api_user(), column)``; another's object is 404) and raise
    ``plugin_api.ApiError(status, message)`` for refusals. Describe bodies and answers
    with marshmallow schemas (``@blp.arguments``, ``@blp.response``) so the spec is right.
    Endpoints of a disabled plugin answer 404.

    Semantics: collected once per app at start-up, from every installed plugin.

    Example::

        api = ApiBlueprint("hello_api", __name__, url_prefix="/hello", description="Greetings")

        class GreetingSchema(Schema):
            id = fields.Int()
            text = fields.Str()

        @api.get("/greetings")
        @api.response(200, GreetingSchema(many=True))
        def greetings():
            user = api_user()
            return db_session().scalars(select(Greeting).where(
                scoped_to_tickets(user, Greeting.ticket_id))).all()

        @hookimpl
        def helpdesk_api_blueprints():
            return [api]
    """


@hookspec
def helpdesk_webhook_events() -> dict[str, str] | None:
    """Declare webhook events this plugin sends: ``{"<plugin>.<event>": "description"}``.

    Admins can then subscribe endpoints to them on Admin → Webhooks, beside the core's
    (``ticket.created``, ``ticket.updated``, ``message.added``, ``feedback.received``,
    ``sla.breached``). Send one after your own commit with
    ``plugin_api.send_webhook(name, data)``: ``data`` is JSON-able (times become ISO 8601
    UTC); the core signs and delivers it durably, with retries, to every subscribed endpoint.
    Names must start with the plugin's name (others are ignored, with a warning).

    Semantics: collected; events of disabled plugins are not offered.

    Example::

        @hookimpl
        def helpdesk_webhook_events():
            return {"hello.waved": "A colleague waved at someone"}

        # later, after your own commit:
        send_webhook("hello.waved", {"from": me.id, "to": colleague.id})
    """


# ------------------------------------------------------------------ page data (Plugin API 1.2)


@hookspec
def helpdesk_page_data(page: str, ticket_ids: list[int], user: User) -> Any:
    """Load what your slots need for a whole page in one go, instead of once per slot or ticket.

    ``page`` is ``"ticket"`` (``ticket_ids`` holds that one ticket) or ``"queue"`` (the
    tickets of the queue page being shown, in order); ``user`` is the reader. Return any
    object (usually a dict keyed by ticket id), or ``None`` for pages you show nothing on.
    Nothing is called until one of your slots asks for it: ``page_data("yourplugin")``
    (``plugin_api``) calls your implementation the first time, with every ticket id of the
    page, and hands back the same object for the rest of the request. So a queue of 25
    tickets costs your plugin one query, not 25, and a page you add nothing to costs none.

    Read as little as the page shows: one statement (join, or ``selectinload`` what the
    template touches) is the aim, as the queue must stay within 4 statements and the
    ticket page within 6 whatever plugins are enabled (tests/test_page_statements.py).
    Scope rows to the reader as the page would (``visible_tickets``, ``scoped_to_tickets``).
    ``page_data`` returns ``None`` outside a page (a job, a test's direct slot call): fall
    back to reading the one ticket then.

    Semantics: called at most once per plugin and request, lazily; a plugin that raises is
    recorded and gets ``None``.

    Example::

        @hookimpl
        def helpdesk_page_data(page, ticket_ids, user):
            if page != "ticket":
                return None
            rows = db_session().scalars(select(Greeting).where(Greeting.ticket_id.in_(ticket_ids)))
            by_ticket = {}
            for row in rows:
                by_ticket.setdefault(row.ticket_id, []).append(row)
            return by_ticket

        @hookimpl
        def helpdesk_template_slot(slot, context):
            if slot == "ticket.sidebar":
                ticket = context["ticket"]
                loaded = page_data("hello")
                greetings = loaded.get(ticket.id, []) if loaded is not None else load_greetings(ticket)
                return Markup(render_template("hello/sidebar.html", greetings=greetings))
    """


@hookspec
def helpdesk_page_queries(page: str, ticket_ids: list[int], user: User) -> dict[str, Any] | None:
    """Your slots' reads for a page as SELECTs that the core runs with everyone else's, at once.

    Same arguments as ``helpdesk_page_data``. Return ``{name: select(Model).where(...)}`` (one
    mapped class per SELECT, not run by you). The first time any slot of the page asks,
    the core runs every plugin's queries, its own, and the navigation counts as **one**
    statement (each query's rows as a JSON array), and ``page_rows(plugin, name)``
    (``plugin_api``) returns the rows as ``Model`` instances in the session, loaded without
    further SQL. So nine plugins reading three tables each still cost the page one statement.

    Relationships: a many-to-one whose target is in the session loads without SQL, so add a
    query for the people (or rows) your template shows, e.g. ``select(User).where(User.id.in_(
    select(Kudos.giver_id).where(Kudos.ticket_id.in_(ticket_ids))))``. Collections are not
    loaded (accessing one runs a query): declare their rows as a query and group them yourself.
    Sort in Python if the order matters. Scope rows to the reader as the page would.

    ``page_rows`` returns ``None`` outside a page, for a name you did not declare, or when
    your query failed (recorded as a plugin error): fall back to reading the one ticket then.

    Semantics: collected; called at most once per page, lazily.

    Example::

        @hookimpl
        def helpdesk_page_queries(page, ticket_ids, user):
            if page != "ticket":
                return None
            return {"greetings": select(Greeting).where(Greeting.ticket_id.in_(ticket_ids))}

        @hookimpl
        def helpdesk_template_slot(slot, context):
            if slot == "ticket.sidebar":
                rows = page_rows("hello", "greetings")
                if rows is None:
                    rows = load_greetings(context["ticket"])
                ...
    """


@hookspec
def helpdesk_nav_counts(user: User) -> dict[str, Any] | None:
    """Numbers the navigation shows for this user (an unread count beside a link), as SQL.

    Return ``{name: select(func.count())...}``: one SELECT of one number per name, not run
    by you. The core runs every plugin's counts and its own (the bell) together in **one**
    statement per page, the first time any of them is asked for, and ``nav_count(plugin,
    name)`` (``plugin_api``) returns the number (0 for a count nobody declared). So ten
    plugins with a badge cost one statement, not ten. Scope the count to the user yourself.

    Semantics: collected; a plugin that raises, or whose SELECT fails, is recorded and its
    counts read 0.

    Example::

        @hookimpl
        def helpdesk_nav_counts(user):
            if not user.is_staff:
                return None
            return {"unread": select(func.count()).select_from(Greeting)
                    .where(Greeting.user_id == user.id, Greeting.read_at.is_(None))}

        @hookimpl
        def helpdesk_nav_links(user):
            count = nav_count("hello", "unread")
            return [(f"Hello ({count})" if count else "Hello", url_for("hello.index"))]
    """


# ------------------------------------------------------------------ self-service answers (Plugin API 1.3)


@hookspec(firstresult=True)
def helpdesk_suggest_answers(text: str, language: str, limit: int) -> list[dict[str, Any]] | None:
    """Articles that may answer a customer's words, for answer bots (the chat widget, mail).

    ``text`` is what the customer wrote (a chat's first message, a new ticket's subject and
    text), ``language`` the customer's language code (``en``, ``de``, ``pt-BR``), ``limit``
    the most answers wanted. Return a list, best first, of dicts with ``id`` (int),
    ``title``, ``url`` (absolute: it goes into mail and other sites' pages; the version in
    ``language`` when one exists), ``excerpt`` (plain text), ``language``, ``confidence``
    (0–1) and ``confident`` (bool: offer this before a person answers); an empty list when
    nothing matches; ``None`` to let the next plugin answer. Only what every visitor may read
    (published, public); retrieval only: nothing the customer reads is generated. Callers use
    ``plugin_api.suggest_answers``, which returns ``[]`` when no plugin answers.

    Semantics: first result; a plugin that raises is recorded and skipped.

    Example::

        @hookimpl
        def helpdesk_suggest_answers(text, language, limit):
            found = search_public_articles(text, limit)
            return [{"id": a.id, "title": a.title, "url": external_url("faq.show", id=a.id),
                     "excerpt": a.summary, "language": a.language, "confidence": score,
                     "confident": score >= 0.6} for a, score in found]
    """


@hookspec(firstresult=True)
def helpdesk_answer_accepted(article_id: int, attempt: str, channel: str, text: str) -> bool | None:
    """A customer said a suggested answer solved their question: no ticket is opened; count it.

    ``article_id`` is an ``id`` from ``helpdesk_suggest_answers``; ``attempt`` an opaque
    string (8–64 of ``A-Z a-z 0-9 _ : . -``) the caller makes once per question, so a second
    click or a reload counts nothing; ``channel`` the caller's channel (``chat``); ``text`` the
    customer's words (kept for the reports, at most 500 characters). Return ``True`` when
    counted, ``False`` when that attempt was counted before, ``None`` when the article is
    not yours or not public (the next plugin is asked). Callers use
    ``plugin_api.answer_accepted``, which returns ``False`` when nobody counted it.

    Semantics: first result; a plugin that raises is recorded and skipped.

    Example::

        @hookimpl
        def helpdesk_answer_accepted(article_id, attempt, channel, text):
            if get_public_article(article_id) is None:
                return None
            return record_once(f"{channel}:{attempt}", article_id, text)
    """
