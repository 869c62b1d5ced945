"""Agents' pages: the queue, a ticket, customers, attachments."""
from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import (
    Blueprint,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import current_user, login_required
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from helpdesk import search, services
from helpdesk.access import (
    attachment_or_404,
    customer_or_404,
    message_or_404,
    ticket_or_404,
    visible_customers,
    visible_messages,
    visible_tickets,
)
from helpdesk.canned import render_reply, text_for
from helpdesk.config_cache import Row, snapshot
from helpdesk.extensions import db
from helpdesk.i18n import gettext, ngettext
from helpdesk.models import AuditEvent, CannedReply, Delivery, Message, SavedView, Tag, Ticket, User, ticket_tags
from helpdesk.models.tickets import OPEN_STATUSES, PRIORITIES, STATUSES, parse_reference
from helpdesk.numbers import parse_id, parse_int, parse_page
from helpdesk.plugin_manager import CORE, manager
from helpdesk.richtext import compose
from helpdesk.services import ServiceError, StaleTicket
from helpdesk.services.merge import merge_tickets, split_message
from helpdesk.services.reads import unread_column
from helpdesk.services.reply_review import review_reply
from helpdesk.services.tickets import attachment_path
from helpdesk.services.users import add_identity
from helpdesk.web.auth import backoffice_required, staff_required
from helpdesk.web.collisions import reply_news, seen_mark
from helpdesk.web.forms import (
    BulkForm,
    ConfirmForm,
    IdentityForm,
    MergeCustomerForm,
    MergeTicketForm,
    ReplyForm,
    SavedViewForm,
    SplitForm,
    TicketFieldsForm,
)
from helpdesk.web.html_frame import html_frame
from helpdesk.web.queue_tools import apply_bulk, customer_ids_matching, next_in_queue, queue_totals
from helpdesk.web.uploads import check_file_count, read_uploads

bp = Blueprint("agent", __name__)

SORTS = {
    "updated": (Ticket.updated_at.desc(), Ticket.id.desc()),
    "oldest": (Ticket.updated_at.asc(), Ticket.id.asc()),
    "created": (Ticket.created_at.desc(), Ticket.id.desc()),
    # Nearest service-level due time first; tickets without one last (NULLs sort last on both databases).
    "sla": (Ticket.sla_due_at.is_(None), Ticket.sla_due_at.asc(), Ticket.id.asc()),
    "priority": (Ticket.priority_rank.desc(), Ticket.updated_at.desc()),
    "first": (Ticket.created_at.asc(), Ticket.id.asc()),
}
FILTER_KEYS = ("status", "priority", "team", "assignee", "tag", "channel", "q", "sort")


def queue_query(user: User, args, for_totals: bool = False) -> tuple[Select, dict[str, str]]:
    """The queue's SELECT for these filters, and the filters as understood.

    ``active["status"]`` is always the status filter really applied, so the Status dropdown
    shows what the list holds (a search without a chosen status looks through "all").
    """
    query = visible_tickets(user).where(Ticket.merged_into_id.is_(None))
    active = {k: args.get(k, "") for k in FILTER_KEYS if args.get(k)}
    if active.get("status") not in (*STATUSES, "active", "all"):
        active.pop("status", None)  # an unknown status is no status: the default applies, and is shown
    # A search looks through every status unless one is chosen: old tickets matter too.
    if active.get("q", "").strip() and "status" not in active:
        active["status"] = "all"
    status = active.get("status", "active")
    # For sorts other than by update, hide the status column from SQLite's planner: the
    # status index would make it fetch and sort every matching ticket (200 ms at 100,000),
    # while the sort's own index finds a page of open tickets within a few hundred rows.
    # (Totals read no order, so there the status index is the quick way.)
    status_column = Ticket.status if for_totals or active.get("sort", "updated") in ("updated", "oldest") \
        else Ticket.status.concat("")
    if status == "active":
        query = query.where(status_column.in_(OPEN_STATUSES))
    elif status in STATUSES:
        query = query.where(status_column == status)
    if active.get("priority") in PRIORITIES:
        query = query.where(Ticket.priority == active["priority"])
    if (team := parse_id(active.get("team"))) is not None:
        query = query.where(Ticket.team_id == team)
    assignee = active.get("assignee", "")
    if assignee == "me":
        query = query.where(Ticket.assignee_id == user.id)
    elif assignee == "none":
        query = query.where(Ticket.assignee_id.is_(None))
    elif (agent := parse_id(assignee)) is not None:
        query = query.where(Ticket.assignee_id == agent)
    if tag := active.get("tag"):
        query = query.where(Ticket.id.in_(
            select(ticket_tags.c.ticket_id).join(Tag).where(Tag.name == tag.lower())))
    if channel := active.get("channel"):
        query = query.where(Ticket.channel == channel)
    if text := active.get("q", "").strip():
        # "HD-42" finds that ticket; anything else is a full-text search.
        is_reference = text.lower().startswith(f"{_prefix().lower()}-")
        ref = parse_reference(text) if is_reference else None
        if ref is not None:
            query = query.where(Ticket.id == ref)
        elif customers := customer_ids_matching(text):  # a customer's name or address, or words
            hits = search.matching_ticket_ids(text, include_internal=user.is_backoffice)
            query = query.where(or_(Ticket.customer_id.in_(customers), Ticket.id.in_(hits))
                                if hits is not None else Ticket.customer_id.in_(customers))
        else:
            query = search.restrict(query, text, include_internal=user.is_backoffice)
    query = query.order_by(*SORTS.get(active.get("sort", "updated"), SORTS["updated"]))
    return query, active


def _prefix() -> str:
    from flask import current_app

    return current_app.config["TICKET_PREFIX"]


@bp.get("/dashboard")
@backoffice_required
def dashboard():
    """An agent's own view: what waits for me, what waits for anyone, and plugins' blocks."""
    mine = visible_tickets(current_user).where(Ticket.assignee_id == current_user.id,
                                               Ticket.status.in_(OPEN_STATUSES))

    def count(query: Select) -> int:
        return db.session.scalar(select(func.count()).select_from(query.subquery()))

    counts = {
        "mine_open": count(mine.where(Ticket.status.in_(("new", "open")))),
        "mine_pending": count(mine.where(Ticket.status == "pending")),
        "unassigned": count(visible_tickets(current_user).where(
            Ticket.assignee_id.is_(None), Ticket.status.in_(OPEN_STATUSES))),
    }
    recent = list(db.session.scalars(mine.options(selectinload(Ticket.customer))
                                      .order_by(Ticket.updated_at.desc()).limit(10)))
    return render_template("agent/dashboard.html", counts=counts, recent=recent)


@bp.get("/queue")
@backoffice_required
def queue():
    query, active = queue_query(current_user, request.args)
    page = parse_page(request.args.get("page"))
    size = 25
    # One statement: the page of tickets with customer, assignee, team, tag names and the unread
    # marker. (Tags as a correlated aggregate: SQLite materialises a joined many-to-many.)
    found = db.session.execute(
        query.add_columns(unread_column(current_user).label("unread"), _tag_names().label("tag_names"))
        .options(joinedload(Ticket.customer), joinedload(Ticket.assignee), joinedload(Ticket.team))
        .offset((page - 1) * size).limit(size + 1)).all()
    rows = [row[0] for row in found]
    unread = {row[0].id for row in found[:size] if row[1]}
    tag_names = {row[0].id: sorted(row[2].split(TAG_SEPARATOR)) for row in found[:size] if row[2]}
    base = {k: v for k, v in active.items()}
    tickets = rows[:size]
    manager().begin_page("queue", [t.id for t in tickets])  # plugins' page_data loads for these at once
    totals = queue_totals(queue_query(current_user, request.args, for_totals=True)[0]) \
        if tickets or page == 1 else None
    return render_template(
        "agent/queue.html", tickets=tickets, has_next=len(rows) > size, page=page, totals=totals,
        unread=unread, tag_names=tag_names, searched_statuses=_searched_statuses(active),
        active=active, filters_qs=urlencode(base), statuses=STATUSES,
        sort_base=urlencode({k: v for k, v in base.items() if k != "sort"}), priorities=PRIORITIES,
        teams=_teams(), agents=_agents(), bulk_form=BulkForm(), view_form=SavedViewForm(),
        saved_views=_saved_views(), delete_form=ConfirmForm(),
        # Each row's links: the URL up to the reference, built once (references need no quoting).
        ticket_url=url_for("agent.ticket", reference="X")[:-1],
        preview_url=url_for("queue_tools.preview", reference="X")[:-1])


TAG_SEPARATOR = "\x1f"  # the ASCII unit separator: never in a tag name


def _tag_names():
    """A ticket's tag names in one text (``TAG_SEPARATOR`` between), as a correlated subquery."""
    return (select(func.aggregate_strings(Tag.name, TAG_SEPARATOR)).select_from(ticket_tags)
            .join(Tag, Tag.id == ticket_tags.c.tag_id).where(ticket_tags.c.ticket_id == Ticket.id)
            .correlate(Ticket).scalar_subquery())


def _searched_statuses(active: dict[str, str]) -> str:
    """What the Status filter applied, in words (shown above the list, so it never surprises)."""
    status = active.get("status", "active")
    if status == "all":
        return (gettext("every status (a search looks through every status unless you choose one)")
                if active.get("q") else gettext("every status"))
    return gettext("new, open and pending (active)") if status not in STATUSES else status


def _teams() -> list[Row]:
    """Every team by name (id, name), from the configuration snapshot."""
    return snapshot().teams


def _agents() -> list[Row]:
    """Active agents and admins by name (id, name, role), from the configuration snapshot."""
    return snapshot().agents


def _saved_views() -> list[Row]:
    return snapshot().saved_views.get(current_user.id, [])


@bp.post("/queue/views")
@backoffice_required
def save_view():
    form = SavedViewForm()
    if not form.validate_on_submit():
        flash(gettext("Give the view a name."), "danger")
        return redirect(url_for("agent.queue"))
    db.session.add(SavedView(user_id=current_user.id, name=form.name.data.strip(),
                             query=form.query.data or ""))
    db.session.commit()
    flash(gettext("Saved view “%(name)s”.", name=form.name.data.strip()), "success")
    return redirect(url_for("agent.queue") + "?" + (form.query.data or ""))


@bp.post("/queue/views/<int:view_id>/delete")
@backoffice_required
def delete_view(view_id: int):
    view = db.session.get(SavedView, view_id)
    if view is None or view.user_id != current_user.id or not ConfirmForm().validate_on_submit():
        abort(404)
    db.session.delete(view)
    db.session.commit()
    flash(gettext("View removed."), "info")
    return redirect(url_for("agent.queue"))


@bp.post("/queue/bulk")
@staff_required
def bulk():
    return apply_bulk()  # helpdesk/web/queue_tools.py: pickers, close, merge, spam


@bp.route("/tickets/<reference>", methods=["GET", "POST"])
@backoffice_required
def ticket(reference: str):
    # One statement: the ticket with what the page shows of it (people, team, tags, the
    # customer's addresses for the bounce badge).
    ticket = ticket_or_404(current_user, reference, joinedload(Ticket.customer).joinedload(User.identities),
                           joinedload(Ticket.assignee), joinedload(Ticket.team), joinedload(Ticket.tags))
    if ticket.merged_into_id:
        return redirect(url_for("agent.ticket", reference=db.session.get(Ticket, ticket.merged_into_id).reference))
    form = ReplyForm()
    warnings: list[str] = []
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                attachments = read_uploads(request.files.getlist(form.attachments.name))
                if current_user.is_light_agent:  # notes only, whatever the form says
                    form.internal.data, form.status_after.data = True, ""
                # Never reply blind: something new since the page was shown? Ask first.
                news = [] if form.internal.data else reply_news(ticket, current_user, form.seen.data)
                if news:
                    return _render_ticket(ticket, form, [], news=news)
                findings = [] if form.internal.data else review_reply(ticket, form.body.data, current_user)
                # Only checks an admin made blocking hold a reply back; the others are advice.
                warnings = [f.text for f in findings if f.blocking]
                if not warnings:
                    check_file_count(attachments)
                    services.add_message(ticket, current_user, internal=form.internal.data, attachments=attachments,
                                         **compose(form.body.data, [a.filename for a in attachments]))
                    flash(gettext("Note added.") if form.internal.data else gettext("Reply sent."), "success")
                    for finding in findings:
                        flash(gettext("Reply check: %(text)s", text=finding.text), "warning")
                    if form.status_after.data:
                        try:
                            services.update_ticket(ticket, current_user, status=form.status_after.data)
                        except ServiceError as exc:  # the reply is out; say why the status stayed
                            flash(gettext("The status was not changed: %(reason)s", reason=exc.message), "warning")
                    if request.form.get("send_next"):
                        return redirect(next_in_queue(request.form))
                    return redirect(url_for("agent.ticket", reference=ticket.reference))
            except ServiceError as exc:
                form.body.errors.append(exc.message)
    return _render_ticket(ticket, form, warnings)


def _audit_trail(ticket: Ticket, after: int = 0) -> list[AuditEvent]:
    return list(db.session.scalars(
        select(AuditEvent).where(AuditEvent.ticket_id == ticket.id, AuditEvent.id > after)
        .options(joinedload(AuditEvent.actor)).order_by(AuditEvent.id)))


def _fields_form(ticket: Ticket, audit_trail: list[AuditEvent]) -> TicketFieldsForm:
    """The sidebar form as the ticket is now, stamped with its version."""
    return TicketFieldsForm(
        status=ticket.status, priority=ticket.priority,
        assignee_id=str(ticket.assignee_id or ""), team_id=str(ticket.team_id or ""),
        tags=", ".join(t.name for t in ticket.tags), version=str(ticket.version),
        audit_mark=str(audit_trail[-1].id if audit_trail else 0), formdata=None)


def _render_ticket(ticket: Ticket, form: ReplyForm, warnings: list[str], fields_form=None, news=None):
    # The page's small reads run as one statement with every plugin's page queries and the
    # navigation counts (helpdesk_page_queries, helpdesk/page_batch.py), the first time any is read.
    other = (visible_tickets(current_user).where(Ticket.customer_id == ticket.customer_id, Ticket.id != ticket.id)
             .order_by(Ticket.updated_at.desc()).limit(10))
    related = visible_tickets(current_user).where(or_(Ticket.merged_into_id == ticket.id,
                                                      Ticket.linked_ticket_id == ticket.id))
    failed = select(Delivery).where(Delivery.message_id.in_(select(Message.id).where(Message.ticket_id == ticket.id)),
                                    Delivery.status == "failed")
    manager().begin_page("ticket", [ticket.id], queries={"other_tickets": other, "related": related,
                                                          "failed_replies": failed})
    audit_trail = _audit_trail(ticket)
    fields_form = fields_form or _fields_form(ticket, audit_trail)
    fields_form.assignee_id.choices = [("", gettext("Unassigned"))] + [(str(a.id), a.name) for a in _agents()]
    fields_form.team_id.choices = [("", gettext("No team"))] + [(str(t.id), t.name) for t in _teams()]
    other_tickets = sorted(_batch("other_tickets", other), key=lambda t: (t.updated_at, t.id), reverse=True)
    canned = snapshot().canned
    messages = visible_messages(current_user, ticket)
    form.seen.data = seen_mark(ticket, messages, audit_trail)  # what this page shows
    status = 422 if (form.errors or fields_form.errors) else 409 if news else 200
    shown = {message.id for message in messages}
    return render_template(
        "agent/ticket.html", ticket=ticket, messages=messages, reply_news=news or [],
        form=form, fields_form=fields_form, warnings=warnings, other_tickets=other_tickets,
        audit_trail=audit_trail, canned=canned, merge_form=MergeTicketForm(formdata=None),
        split_form=SplitForm(formdata=None), related=_related_tickets(ticket, _batch("related", related)),
        failed_replies={d.message_id: d for d in _batch("failed_replies", failed) if d.message_id in shown}), status


def _batch(name: str, query: Any) -> list[Any]:
    """The view's query ``name`` from the page's one batched statement (run alone if that failed)."""
    rows = manager().page_rows(CORE, name)
    return list(db.session.scalars(query)) if rows is None else rows


def _related_tickets(ticket: Ticket, both: list[Ticket]) -> dict[str, list[Ticket]]:
    """Tickets merged into this one, and tickets split from (or following up on) it."""
    both = sorted(both, key=lambda t: t.id)
    return {"merged_from": [t for t in both if t.merged_into_id == ticket.id],
            "linked_from": [t for t in both if t.linked_ticket_id == ticket.id]}


@bp.post("/tickets/<reference>/fields")
@staff_required
def ticket_fields(reference: str):
    ticket = ticket_or_404(current_user, reference)
    form = TicketFieldsForm()
    form.assignee_id.choices = form.team_id.choices = []
    if form.validate_on_submit():
        tags = [t for t in (form.tags.data or "").split(",") if t.strip()]
        try:
            done = services.update_ticket(
                ticket, current_user, status=form.status.data, priority=form.priority.data,
                assignee_id=form.assignee_id.data or None, team_id=form.team_id.data or None, tags=tags,
                expected_version=parse_int(form.version.data, 0))
        except StaleTicket:
            return _render_stale(ticket, form)
        except ServiceError as exc:
            (getattr(form, exc.field).errors if exc.field and hasattr(form, exc.field)
             else form.form_errors).append(exc.message)
        else:
            flash(gettext("Saved.") if done else gettext("Nothing changed."), "success" if done else "info")
            return redirect(url_for("agent.ticket", reference=ticket.reference))
    return _render_ticket(ticket, ReplyForm(formdata=None), [], fields_form=form)


def _render_stale(ticket: Ticket, form: TicketFieldsForm):
    """A save from a stale form: what changed meanwhile, and the agent's change, kept to re-apply."""
    changed_meanwhile = _audit_trail(ticket, after=parse_int(form.audit_mark.data, 0) or 0)
    agents = [("", gettext("Unassigned"))] + [(str(a.id), a.name) for a in _agents()]
    teams = [("", gettext("No team"))] + [(str(t.id), t.name) for t in _teams()]
    now = {"status": ticket.status, "priority": ticket.priority, "assignee_id": str(ticket.assignee_id or ""),
           "team_id": str(ticket.team_id or ""), "tags": ", ".join(t.name for t in ticket.tags)}
    yours = {"status": form.status.data, "priority": form.priority.data,
             "assignee_id": form.assignee_id.data or "", "team_id": form.team_id.data or "",
             "tags": ", ".join(t.strip() for t in (form.tags.data or "").split(",") if t.strip())}
    names = {"assignee_id": dict(agents), "team_id": dict(teams)}
    rows = [{"field": field, "label": label, "now": names.get(field, {}).get(now[field], now[field]),
             "yours": names.get(field, {}).get(yours[field], yours[field]), "differs": now[field] != yours[field]}
            for field, label in (("status", gettext("Status")), ("priority", gettext("Priority")),
                                 ("assignee_id", gettext("Assignee")), ("team_id", gettext("Team")),
                                 ("tags", gettext("Tags")))]
    # The form to re-apply: what the agent chose, stamped with the ticket's version now.
    again = TicketFieldsForm(formdata=None, **yours, version=str(ticket.version),
                             audit_mark=str(changed_meanwhile[-1].id if changed_meanwhile
                                            else parse_int(form.audit_mark.data, 0) or 0))
    again.assignee_id.choices, again.team_id.choices = agents, teams
    return render_template("agent/ticket_stale.html", ticket=ticket, changed_meanwhile=changed_meanwhile,
                           rows=rows, form=again), 409


def _find_ticket(reference: str) -> Ticket | None:
    """A ticket the current user may see, by reference (``HD-42`` or ``42``); None if there is none."""
    ticket_id = parse_reference(reference)
    if ticket_id is None:
        return None
    return db.session.scalar(visible_tickets(current_user).where(Ticket.id == ticket_id))


@bp.post("/tickets/<reference>/merge")
@staff_required
def merge(reference: str):
    """Fold this ticket into another one of the same customer."""
    source = ticket_or_404(current_user, reference)
    back = redirect(url_for("agent.ticket", reference=source.reference))
    form = MergeTicketForm()
    if not form.validate_on_submit():
        example = f"{_prefix()}-42"
        flash(gettext("Enter the reference of the ticket to merge into (like %(example)s).", example=example), "danger")
        return back
    wanted = form.target.data.strip()
    target = _find_ticket(wanted)
    if target is None:
        flash(gettext("There is no ticket “%(reference)s”: check the reference.", reference=wanted), "danger")
        return back
    try:
        merge_tickets(source, target, current_user)
    except ServiceError as exc:
        db.session.rollback()
        flash(exc.message, "danger")
        return back
    flash(gettext("Merged %(source)s into %(target)s; the customer was told where the conversation continues.",
                  source=source.reference, target=target.reference), "success")
    return redirect(url_for("agent.ticket", reference=target.reference))


@bp.post("/tickets/<reference>/split/<int:message_id>")
@staff_required
def split(reference: str, message_id: int):
    """Move one customer message into a new ticket linked to this one."""
    ticket = ticket_or_404(current_user, reference)
    message = db.session.get(Message, message_id)
    if message is None or message.ticket_id != ticket.id:
        abort(404)
    back = redirect(url_for("agent.ticket", reference=ticket.reference))
    form = SplitForm()
    if not form.validate_on_submit():
        flash(gettext("The subject is too long (at most 250 characters)."), "danger")
        return back
    try:
        new = split_message(message, current_user, subject=form.subject.data)
    except ServiceError as exc:
        db.session.rollback()
        flash(exc.message, "danger")
        return back
    flash(gettext("The message is now %(new)s, linked to %(old)s.", new=new.reference, old=ticket.reference), "success")
    return redirect(url_for("agent.ticket", reference=new.reference))


def _canned_text(reply: CannedReply, ticket: Ticket) -> str:
    """The canned reply in the customer's language (its text in that language, else the default)."""
    return render_reply(text_for("canned_reply", reply.id, reply.body, ticket.customer)[1], ticket, current_user)


@bp.post("/tickets/<reference>/canned/<int:reply_id>")
@backoffice_required
def canned_reply(reference: str, reply_id: int):
    """The canned reply rendered for this ticket (JSON for the composer)."""
    ticket = ticket_or_404(current_user, reference)
    reply = db.session.get(CannedReply, reply_id)
    if reply is None:
        abort(404)
    return jsonify(body=_canned_text(reply, ticket))


@bp.get("/tickets/<reference>/canned/<int:reply_id>")
@backoffice_required
def canned_reply_page(reference: str, reply_id: int):
    """Without JavaScript: open the ticket with the canned reply in the composer."""
    ticket = ticket_or_404(current_user, reference)
    reply = db.session.get(CannedReply, reply_id)
    if reply is None:
        abort(404)
    form = ReplyForm(formdata=None, body=_canned_text(reply, ticket))
    return _render_ticket(ticket, form, [])


@bp.post("/tickets/<reference>/checks")
@backoffice_required
def checks(reference: str):
    ticket = ticket_or_404(current_user, reference)
    body = request.form.get("body", "")[:100_000]
    findings = review_reply(ticket, body, current_user)
    return jsonify(warnings=[f.text for f in findings], blocking=[f.text for f in findings if f.blocking])


@bp.get("/attachments/<token>")
@login_required  # customers download their own attachments here too
def attachment(token: str):
    item = attachment_or_404(current_user, token)
    return send_file(attachment_path(item.token), as_attachment=True, download_name=item.filename,
                     mimetype="application/octet-stream", max_age=0)


@bp.get("/messages/<int:message_id>/html")
@login_required
def message_html(message_id: int):
    """A message's HTML body, for the sandboxed frame on the ticket page (agents and customers)."""
    message = message_or_404(current_user, message_id)
    if not message.body_html:
        abort(404)
    return html_frame(message.body_html, title=f"Message {message.id}")


@bp.get("/customers")
@staff_required
def customers():
    text = request.args.get("q", "").strip()[:100]
    page = parse_page(request.args.get("page"))
    query = visible_customers(current_user).where(User.merged_into_id.is_(None))
    if text:
        like = f"%{text.replace('%', '').replace('_', '')}%"
        query = query.where((User.name.ilike(like)) | (User.email.ilike(like)))
    rows = list(db.session.scalars(query.order_by(User.name).offset((page - 1) * 50).limit(51)))
    return render_template("agent/customers.html", customers=rows[:50], has_next=len(rows) > 50,
                           page=page, q=text)


@bp.route("/customers/<int:customer_id>", methods=["GET", "POST"])
@staff_required
def customer(customer_id: int):
    person = customer_or_404(current_user, customer_id)
    if person.merged_into_id:
        return redirect(url_for("agent.customer", customer_id=person.merged_into_id))
    identity_form, merge_form = IdentityForm(prefix="identity"), MergeCustomerForm(prefix="merge")
    if request.method == "POST":
        try:
            if "identity-value" in request.form:
                if identity_form.validate_on_submit():
                    add_identity(person, identity_form.kind.data, identity_form.value.data)
                    flash(gettext("Contact added."), "success")
                    return redirect(url_for("agent.customer", customer_id=person.id))
            elif merge_form.validate_on_submit():
                source = db.session.scalar(visible_customers(current_user).where(User.id == merge_form.target_id.data))
                if source is None:
                    raise ServiceError(gettext("There is no customer number %(number)s.",
                                               number=merge_form.target_id.data))
                moved = services.merge_customers(source, person, current_user)
                flash(ngettext("Merged %(source)s into %(target)s: %(num)d tickets moved.",
                               "Merged %(source)s into %(target)s: %(num)d tickets moved.", moved,
                               source=source.name, target=person.name), "success")
                return redirect(url_for("agent.customer", customer_id=person.id))
        except ServiceError as exc:
            flash(exc.message, "danger")
    tickets = list(db.session.scalars(
        visible_tickets(current_user).where(Ticket.customer_id == person.id)
        .order_by(Ticket.updated_at.desc()).limit(100)))
    return render_template("agent/customer.html", customer=person, tickets=tickets,
                           identity_form=identity_form, merge_form=merge_form)
