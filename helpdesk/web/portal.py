"""The customer portal: open tickets, follow them, reply, mark solved or reopen."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from helpdesk import services
from helpdesk.access import ticket_or_404, visible_messages, visible_tickets
from helpdesk.extensions import db
from helpdesk.i18n import gettext
from helpdesk.models import Announcement, AuditEvent, Ticket
from helpdesk.numbers import parse_page
from helpdesk.services import ServiceError
from helpdesk.services.announcements import announcement_in
from helpdesk.services.settings import site_setting
from helpdesk.web.auth import customer_required
from helpdesk.web.forms import ConfirmForm, CustomerReplyForm, NewTicketForm
from helpdesk.web.uploads import read_uploads

bp = Blueprint("portal", __name__, url_prefix="/portal")


def _page() -> int:
    return parse_page(request.args.get("page"))


@bp.get("/")
@customer_required
def index():
    page, size = _page(), 20
    rows = list(db.session.scalars(
        visible_tickets(current_user).where(Ticket.merged_into_id.is_(None))
        .order_by(Ticket.updated_at.desc(), Ticket.id.desc())
        .offset((page - 1) * size).limit(size + 1)))
    return render_template("portal/index.html", tickets=rows[:size], page=page,
                           has_next=len(rows) > size)


@bp.route("/new", methods=["GET", "POST"])
@customer_required
def new_ticket():
    form = NewTicketForm()
    asked = request.args.get("announcement", "")
    if request.method == "GET" and (number := announcement_in(f"[Announcement #{asked}]")):
        # "Questions?" from an announcement: the subject links the new ticket to it.
        subject = db.session.get(Announcement, number).subject
        form.subject.data = f"Re: {subject}"[:220] + f" [Announcement #{number}]"
    if form.validate_on_submit():
        try:
            ticket = services.create_ticket(
                current_user, form.subject.data, form.body.data,
                attachments=read_uploads(request.files.getlist(form.attachments.name)))
        except ServiceError as exc:
            _form_error(form, exc)
        else:
            flash(gettext("Thank you. Your ticket %(reference)s is open; we will reply here and by email.",
                          reference=ticket.reference),
                  "success")
            return redirect(url_for("portal.ticket", reference=ticket.reference))
    return render_template("portal/new.html", form=form), 200 if not form.errors else 422


def _form_error(form, exc: ServiceError) -> None:
    field = getattr(form, exc.field, None) if exc.field else None
    if field is None and exc.field == "message":
        field = form.body
    (field.errors if field is not None else form.form_errors).append(exc.message)


@bp.route("/tickets/<reference>", methods=["GET", "POST"])
@customer_required
def ticket(reference: str):
    ticket = ticket_or_404(current_user, reference)
    if ticket.merged_into_id and request.method != "POST":
        # The conversation moved; a reply posted from an old page still lands there (add_message follows).
        return redirect(url_for("portal.ticket", reference=_merge_target(ticket).reference))
    form = CustomerReplyForm()
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                message = services.add_message(
                    ticket, current_user, form.body.data,
                    attachments=read_uploads(request.files.getlist(form.attachments.name)))
            except ServiceError as exc:
                _form_error(form, exc)
            else:
                landed = message.ticket
                if landed.id not in (ticket.id, ticket.merged_into_id) and landed.linked_ticket is not None:
                    # "Closed means closed": the message opened a new request linked to the closed one.
                    flash(gettext("Your message started a new request %(new)s, linked to %(old)s.",
                                  new=landed.reference, old=landed.linked_ticket.reference), "success")
                else:
                    flash(gettext("Your reply was added."), "success")
                return redirect(url_for("portal.ticket", reference=landed.reference))
    history = list(db.session.scalars(
        select(AuditEvent).where(AuditEvent.ticket_id == ticket.id, AuditEvent.field == "status")
        .order_by(AuditEvent.id)))
    # Who said it is solved: the customer (their own words back) or us ("we think").
    solved_by_you = (ticket.status == "resolved" and bool(history) and history[-1].new_value == "resolved"
                     and history[-1].actor_id == current_user.id)
    return render_template("portal/ticket.html", ticket=ticket, form=form, action_form=ConfirmForm(),
                           messages=visible_messages(current_user, ticket), history=history,
                           solved_by_you=solved_by_you, colleague=ticket.customer_id != current_user.id,
                           related=_related(ticket),
                           reply_opens_new=ticket.status == "closed" and bool(site_setting("closed_means_closed"))), \
        422 if form.errors or form.form_errors else 200


def _merge_target(ticket: Ticket) -> Ticket:
    """The ticket a merged one continues in; 404 unless the customer may see it (merges never cross customers)."""
    return ticket_or_404(current_user, str(ticket.merged_into_id))


def _related(ticket: Ticket) -> dict[str, list[Ticket]]:
    """The customer's own tickets merged into this one and those continuing it (split off or follow-ups)."""
    def linked(column) -> list[Ticket]:
        return list(db.session.scalars(visible_tickets(current_user).where(column == ticket.id).order_by(Ticket.id)))

    linked_to = ticket.linked_ticket
    return {"merged_from": linked(Ticket.merged_into_id), "continues_in": linked(Ticket.linked_ticket_id),
            "linked_to": [linked_to] if linked_to is not None and linked_to.customer_id == current_user.id else []}


@bp.post("/tickets/<reference>/<action>")
@customer_required
def ticket_action(reference: str, action: str):
    ticket = ticket_or_404(current_user, reference)
    if action not in {"solved", "reopen"} or not ConfirmForm().validate_on_submit():
        abort(400)
    if ticket.merged_into_id:
        target = _merge_target(ticket)
        flash(gettext("%(old)s was merged into %(new)s: the conversation continues here.",
                      old=ticket.reference, new=target.reference), "info")
        return redirect(url_for("portal.ticket", reference=target.reference))
    try:
        services.update_ticket(ticket, current_user, status="resolved" if action == "solved" else "open")
    except ServiceError as exc:
        flash(exc.message, "danger")
    else:
        flash(gettext("Marked as solved. Thank you!") if action == "solved"
              else gettext("Reopened: we will get back to you."),
              "success")
    return redirect(url_for("portal.ticket", reference=ticket.reference))
