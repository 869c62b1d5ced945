"""Agents' pages: link a channel contact to a known customer, log a call, open a ticket from a call.

Linking uses the core's customer merge (``services.merge_customers``, its rules: staff only,
two different customers not merged before): the contact's record — a chat visitor, a phone
number, a messaging handle — folds into the known customer, with its identities and tickets,
so every channel's messages show under one customer.
"""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from helpdesk.plugin_api import (
    PermissionDenied,
    ServiceError,
    Ticket,
    User,
    current_user,
    db_session,
    find_customer,
    gettext,
    ngettext,
    normalise_email,
    parse_reference,
    services,
    staff_required,
    visible_tickets,
)
from helpdesk_messaging.views import bp

DIRECTIONS = ("inbound", "outbound")


def ticket_or_404(reference: str) -> Ticket:
    ticket_id = parse_reference(reference)
    ticket = db_session().scalar(visible_tickets(current_user).where(Ticket.id == ticket_id)) if ticket_id else None
    if ticket is None:
        abort(404)
    return ticket


def known_customer(text: str) -> User | None:
    """The customer with this email address or phone number (an identity, or the account's address)."""
    text = text.strip()
    if "@" in text:
        return find_customer("email", normalise_email(text))
    number = "".join(c for c in text if c.isdigit() or c == "+")
    return find_customer("phone", number) if number else None


@bp.route("/messaging/tickets/<reference>/link", methods=["GET", "POST"])
@staff_required
def link(reference: str):
    ticket = ticket_or_404(reference)
    contact = ticket.customer
    error = None
    target = None
    if request.method == "POST":
        target = known_customer(request.form.get("customer", "")[:320])
        if target is None:
            error = gettext("No customer has that email address or phone number.")
        elif request.form.get("confirm") == "yes":
            try:
                moved = services.merge_customers(contact, target, current_user)
            except (ServiceError, PermissionDenied) as exc:
                error = str(exc)
            else:
                flash(ngettext("%(contact)s is now part of %(target)s (%(num)d ticket(s) moved).",
                               "%(contact)s is now part of %(target)s (%(num)d ticket(s) moved).", moved,
                               contact=contact.name, target=target.name), "success")
                return redirect(url_for("agent.ticket", reference=ticket.reference))
    return render_template("messaging/link.html", ticket=ticket, contact=contact, target=target, error=error,
                           typed=request.form.get("customer", ""))


@bp.route("/messaging/tickets/<reference>/call", methods=["GET", "POST"])
@staff_required
def log_call(reference: str):
    """Log a call on a ticket: an internal note the conversation shows, with the call's details."""
    ticket = ticket_or_404(reference)
    errors: dict[str, str] = {}
    form = request.form
    if request.method == "POST":
        call = _read_call(form, errors)
        if not errors:
            services.add_message(ticket, current_user, _call_text(call), internal=True, meta={"call": call})
            flash(gettext("Call logged."), "success")
            return redirect(url_for("agent.ticket", reference=ticket.reference))
    return render_template("messaging/call.html", ticket=ticket, errors=errors, form=form, directions=DIRECTIONS)


@bp.route("/messaging/calls/new", methods=["GET", "POST"])
@staff_required
def new_call():
    """Open a ticket from a call: the caller is found (or made) by phone number."""
    errors: dict[str, str] = {}
    form = request.form
    if request.method == "POST":
        call = _read_call(form, errors)
        subject = form.get("subject", "").strip()[:200]
        if not subject:
            errors["subject"] = gettext("Say in a few words what the call was about.")
        if not call.get("number"):
            errors["number"] = gettext("The caller's number is needed to find or add the customer.")
        if not errors:
            try:
                customer = services.find_or_create_customer("phone", call["number"],
                                                            name=form.get("name", "").strip()[:200] or None)
                ticket = services.create_ticket(customer, subject, _call_text(call), channel="phone",
                                                actor=current_user, meta={"call": call})
            except ServiceError as exc:
                errors[exc.field or "summary"] = str(exc)
            else:
                flash(gettext("%(reference)s opened from the call.", reference=ticket.reference), "success")
                return redirect(url_for("agent.ticket", reference=ticket.reference))
    return render_template("messaging/call.html", ticket=None, errors=errors, form=form, directions=DIRECTIONS)


def _read_call(form, errors: dict[str, str]) -> dict:  # noqa: ANN001 - the request's form
    direction = form.get("direction", "inbound")
    if direction not in DIRECTIONS:
        errors["direction"] = gettext("Choose inbound or outbound.")
    number = "".join(c for c in form.get("number", "")[:40] if c.isdigit() or c == "+")
    minutes = form.get("minutes", "").strip()
    if minutes and (not minutes.isdigit() or int(minutes) > 24 * 60):
        errors["minutes"] = gettext("Minutes: a whole number up to 1440.")
    summary = form.get("summary", "").strip()[:5000]
    if not summary:
        errors["summary"] = gettext("Write what was said.")
    return {"direction": direction, "number": number, "minutes": int(minutes) if minutes.isdigit() else None,
            "summary": summary}


def _call_text(call: dict) -> str:
    parts = [f"Call ({call['direction']}"]
    if call.get("number"):
        parts.append(f", {call['number']}")
    if call.get("minutes") is not None:
        parts.append(f", {call['minutes']} min")
    return "".join(parts) + f"): {call['summary']}"


def agents_to_alert() -> list[User]:
    return list(db_session().scalars(select(User).where(User.role.in_(("agent", "admin")), User.active.is_(True))))
