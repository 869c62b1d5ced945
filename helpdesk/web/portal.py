"""The customer portal: open tickets, follow them, reply, mark solved or reopen."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from helpdesk import services
from helpdesk.access import ticket_or_404, visible_messages, visible_tickets
from helpdesk.extensions import db
from helpdesk.models import AuditEvent, Ticket
from helpdesk.services import ServiceError
from helpdesk.web.auth import customer_required
from helpdesk.web.forms import ConfirmForm, CustomerReplyForm, NewTicketForm
from helpdesk.web.uploads import read_uploads

bp = Blueprint("portal", __name__, url_prefix="/portal")


def _page() -> int:
    value = request.args.get("page", "1")
    return max(1, min(int(value), 10_000)) if value.isdigit() else 1


@bp.get("/")
@customer_required
def index():
    page, size = _page(), 20
    rows = list(db.session.scalars(
        visible_tickets(current_user).order_by(Ticket.updated_at.desc(), Ticket.id.desc())
        .offset((page - 1) * size).limit(size + 1)))
    return render_template("portal/index.html", tickets=rows[:size], page=page,
                           has_next=len(rows) > size)


@bp.route("/new", methods=["GET", "POST"])
@customer_required
def new_ticket():
    form = NewTicketForm()
    if form.validate_on_submit():
        try:
            ticket = services.create_ticket(
                current_user, form.subject.data, form.body.data,
                attachments=read_uploads(request.files.getlist(form.attachments.name)))
        except ServiceError as exc:
            _form_error(form, exc)
        else:
            flash(f"Thank you. Your ticket {ticket.reference} is open; we will reply here and by email.",
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
    form = CustomerReplyForm()
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                services.add_message(ticket, current_user, form.body.data,
                                     attachments=read_uploads(request.files.getlist(form.attachments.name)))
            except ServiceError as exc:
                _form_error(form, exc)
            else:
                flash("Your reply was added.", "success")
                return redirect(url_for("portal.ticket", reference=ticket.reference))
    history = list(db.session.scalars(
        select(AuditEvent).where(AuditEvent.ticket_id == ticket.id, AuditEvent.field == "status")
        .order_by(AuditEvent.id)))
    return render_template("portal/ticket.html", ticket=ticket, form=form, action_form=ConfirmForm(),
                           messages=visible_messages(current_user, ticket), history=history), \
        422 if form.errors or form.form_errors else 200


@bp.post("/tickets/<reference>/<action>")
@customer_required
def ticket_action(reference: str, action: str):
    ticket = ticket_or_404(current_user, reference)
    if action not in {"solved", "reopen"} or not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        services.update_ticket(ticket, current_user, status="resolved" if action == "solved" else "open")
    except ServiceError as exc:
        flash(exc.message, "danger")
    else:
        flash("Marked as solved. Thank you!" if action == "solved" else "Reopened: we will get back to you.",
              "success")
    return redirect(url_for("portal.ticket", reference=ticket.reference))
