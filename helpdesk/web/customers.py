"""Knowing the customer, agents' side (registered as ``core.customers``, always on).

- ``/organisations``: the list (agents), creating one (admins); ``/organisations/<id>``:
  its members and tickets (scoped), notes, account owner and custom fields (agents), name,
  domains and "members see each other's tickets" (admins).
- The customer page's cards (slots ``customer.main`` and ``customer.sidebar``): the
  timeline (filterable by kind, paged by time) and the profile (organisation, preferred
  name, language, time zone, preferred channel, consent, custom fields).
- ``/admin/custom-fields``: the admin's fields for customers, tickets and organisations.
- The ticket page's "Fields" card is a lazy panel: the slot renders an empty placeholder
  (no query), ``static/lazy_panel.js`` fetches ``/tickets/<ref>/custom-fields`` after load.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import available_timezones

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import func, select

from helpdesk.access import customer_or_404, ticket_or_404, visible_customers, visible_tickets
from helpdesk.extensions import db
from helpdesk.i18n import gettext
from helpdesk.languages import LANGUAGES
from helpdesk.markers import hookimpl
from helpdesk.models import CustomField, Organisation, Ticket, User
from helpdesk.models.customers import (
    CONSENT_KINDS,
    CONSENT_LABELS,
    FIELD_KIND_NAMES,
    FIELD_KINDS,
    FIELD_TARGET_NAMES,
    FIELD_TARGETS,
)
from helpdesk.numbers import parse_id, parse_page
from helpdesk.services import ServiceError
from helpdesk.services.custom_fields import delete_field, fields_for, save_field, set_ticket_fields
from helpdesk.services.organisations import delete_organisation, save_organisation, set_customer_organisation
from helpdesk.services.profiles import channel_labels, update_preferences
from helpdesk.timeline import CORE_KINDS, customer_timeline, plugin_kinds
from helpdesk.timeline import kind_name as timeline_kind_name
from helpdesk.web.auth import admin_required, staff_required
from helpdesk.web.forms import ConfirmForm

bp = Blueprint("customers", __name__)
PAGE = 50


def _checked(name: str) -> bool:
    return request.form.get(name) in ("1", "on", "true", "yes")


def _field_values(fields: list[CustomField]) -> dict[str, Any]:
    return {f.key: request.form.get(f"cf_{f.key}", "") for f in fields if f"cf_{f.key}" in request.form}


def _csrf_or_400() -> None:
    if not ConfirmForm().validate_on_submit():
        abort(400)


# ------------------------------------------------------------------ organisations


@bp.route("/organisations", methods=["GET", "POST"])
@staff_required
def organisations():
    if request.method == "POST":
        _csrf_or_400()
        try:
            org = save_organisation(current_user, name=request.form.get("name", ""),
                                    domains=request.form.get("domains", ""),
                                    shared_tickets=_checked("shared_tickets"))
        except ServiceError as exc:
            flash(exc.message, "danger")
        else:
            flash(gettext("Organisation %(name)s created.", name=org.name), "success")
            return redirect(url_for("customers.organisation", organisation_id=org.id))
    text = request.args.get("q", "").strip()[:100]
    page = parse_page(request.args.get("page"))
    members = (select(User.organisation_id, func.count(User.id).label("n")).where(User.role == "customer")
               .group_by(User.organisation_id).subquery())
    query = (select(Organisation, func.coalesce(members.c.n, 0))
             .outerjoin(members, members.c.organisation_id == Organisation.id))
    if text:
        query = query.where(Organisation.name.ilike(f"%{text.replace('%', '').replace('_', '')}%"))
    rows = list(db.session.execute(query.order_by(Organisation.name).offset((page - 1) * PAGE).limit(PAGE + 1)))
    return render_template("customers/organisations.html", rows=rows[:PAGE], has_next=len(rows) > PAGE,
                           page=page, q=text, form=ConfirmForm())


def _organisation_or_404(organisation_id: int) -> Organisation:
    org = db.session.get(Organisation, organisation_id)
    if org is None:
        abort(404)
    return org


@bp.route("/organisations/<int:organisation_id>", methods=["GET", "POST"])
@staff_required
def organisation(organisation_id: int):
    org = _organisation_or_404(organisation_id)
    fields = fields_for("organisation")
    if request.method == "POST":
        _csrf_or_400()
        try:
            if request.form.get("part") == "admin":
                save_organisation(current_user, org, name=request.form.get("name", ""),
                                  domains=request.form.get("domains", ""), shared_tickets=_checked("shared_tickets"))
            else:
                owner = request.form.get("account_owner", "")
                save_organisation(current_user, org, notes=request.form.get("notes", ""),
                                  account_owner_id=parse_id(owner) if owner else None,
                                  custom_fields=_field_values(fields))
        except ServiceError as exc:
            flash(exc.message, "danger")
        else:
            flash(gettext("Organisation saved."), "success")
            return redirect(url_for("customers.organisation", organisation_id=org.id))
    page = parse_page(request.args.get("page"))
    tickets = list(db.session.scalars(
        visible_tickets(current_user).join(User, User.id == Ticket.customer_id)
        .where(User.organisation_id == org.id, Ticket.merged_into_id.is_(None))
        .order_by(Ticket.updated_at.desc(), Ticket.id.desc()).offset((page - 1) * PAGE).limit(PAGE + 1)))
    members = list(db.session.scalars(visible_customers(current_user).where(User.organisation_id == org.id)
                                      .order_by(User.name).limit(200)))
    owners = list(db.session.scalars(select(User).where(User.role.in_(("agent", "admin")), User.active.is_(True))
                                     .order_by(User.name)))
    return render_template("customers/organisation.html", org=org, tickets=tickets[:PAGE],
                           has_next=len(tickets) > PAGE, page=page, members=members, owners=owners,
                           fields=fields, form=ConfirmForm())


@bp.post("/organisations/<int:organisation_id>/delete")
@admin_required
def organisation_delete(organisation_id: int):
    org = _organisation_or_404(organisation_id)
    _csrf_or_400()
    delete_organisation(current_user, org)
    flash(gettext("Organisation %(name)s deleted; its members stay customers.", name=org.name), "success")
    return redirect(url_for("customers.organisations"))


# ------------------------------------------------------------------ a customer's profile


@bp.post("/customers/<int:customer_id>/profile")
@staff_required
def profile(customer_id: int):
    person = customer_or_404(current_user, customer_id)
    _csrf_or_400()
    try:
        org_id = parse_id(request.form.get("organisation", ""))
        org = db.session.get(Organisation, org_id) if org_id else None
        if org_id and org is None:
            raise ServiceError(gettext("There is no such organisation."))
        if (org.id if org else None) != person.organisation_id:
            set_customer_organisation(person, org, current_user)
        update_preferences(
            person, current_user, preferred_name=request.form.get("preferred_name", ""),
            language=request.form.get("language", ""), timezone=request.form.get("timezone", ""),
            preferred_channel=request.form.get("preferred_channel", ""),
            consent={kind: _checked(f"consent_{kind}") for kind in CONSENT_KINDS},
            custom_fields=_field_values(fields_for("customer")))
    except ServiceError as exc:
        db.session.rollback()
        flash(exc.message, "danger")
    else:
        flash(gettext("Profile saved."), "success")
    return redirect(url_for("agent.customer", customer_id=person.id) + "#profile")


def _timeline_cursor() -> datetime | None:
    raw = request.args.get("before", "")
    try:
        return datetime.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def _customer_main(customer: User, user: User) -> Markup:
    kind = request.args.get("kind", "")
    before = _timeline_cursor()
    entries, next_before = customer_timeline(customer, user, before=before, kinds={kind} if kind else None)
    # The filter offers the core's kinds and the plugins' kinds on this page (no second read).
    kinds = list(CORE_KINDS) + sorted(set(plugin_kinds(entries)) | ({kind} - set(CORE_KINDS) if kind else set()))
    return Markup(render_template("customers/timeline.html", customer=customer, entries=entries,  # noqa: S704
                                  next_before=next_before, kind=kind, kinds=kinds, before=before,
                                  kind_name=timeline_kind_name))


def _customer_sidebar(customer: User, user: User) -> Markup:
    return Markup(render_template(  # noqa: S704 - escaped by Jinja
        "customers/profile_card.html", customer=customer, form=ConfirmForm(),
        organisations=list(db.session.scalars(select(Organisation).order_by(Organisation.name).limit(500))),
        languages=LANGUAGES, channels=channel_labels(), timezones=sorted(available_timezones()),
        consent_kinds=CONSENT_KINDS, consent_labels=CONSENT_LABELS, fields=fields_for("customer")))


# ------------------------------------------------------------------ custom fields (admin)


@bp.route("/admin/custom-fields", methods=["GET", "POST"])
@admin_required
def fields():
    if request.method == "POST":
        _csrf_or_400()
        existing = db.session.get(CustomField, parse_id(request.form.get("field_id", "")) or 0)
        try:
            save_field(current_user, existing, applies_to=request.form.get("applies_to", ""),
                       key=request.form.get("key", ""), label=request.form.get("label", ""),
                       kind=request.form.get("kind", ""), choices=request.form.get("choices", ""),
                       position=parse_id(request.form.get("position", "")) or 0)
        except ServiceError as exc:
            flash(exc.message, "danger")
        else:
            flash(gettext("Field saved."), "success")
            return redirect(url_for("customers.fields"))
    return render_template("customers/fields.html", groups={t: fields_for(t) for t in FIELD_TARGETS},
                           kinds=FIELD_KINDS, targets=FIELD_TARGETS, kind_names=FIELD_KIND_NAMES,
                           target_names=FIELD_TARGET_NAMES, form=ConfirmForm(), admin_page="fields")


@bp.post("/admin/custom-fields/<int:field_id>/delete")
@admin_required
def field_delete(field_id: int):
    field = db.session.get(CustomField, field_id)
    if field is None:
        abort(404)
    _csrf_or_400()
    delete_field(current_user, field)
    flash(gettext("Field deleted; values already filled in are kept but no longer shown."), "success")
    return redirect(url_for("customers.fields"))


# ------------------------------------------------------------------ a ticket's fields (lazy panel)


@bp.route("/tickets/<reference>/custom-fields", methods=["GET", "POST"])
@staff_required
def ticket_fields(reference: str):
    ticket = ticket_or_404(current_user, reference)
    fields = fields_for("ticket")
    error = None
    if request.method == "POST":
        _csrf_or_400()
        try:
            set_ticket_fields(ticket, current_user, _field_values(fields))
        except ServiceError as exc:
            db.session.rollback()
            error = exc.message
        else:
            flash(gettext("Fields saved."), "success")
            return redirect(url_for("agent.ticket", reference=ticket.reference))
    return render_template("customers/ticket_fields.html", ticket=ticket, fields=fields,
                           values=ticket.custom_fields or {}, error=error, form=ConfirmForm()), 422 if error else 200


# ------------------------------------------------------------------ hooks


@hookimpl
def helpdesk_blueprints() -> list[Blueprint]:
    return [bp]


@hookimpl
def helpdesk_template_slot(slot: str, context: dict[str, Any]) -> Markup | None:
    user = context.get("user")
    if user is None or not getattr(user, "is_staff", False):
        return None
    if slot == "customer.main" and context.get("customer") is not None:
        return _customer_main(context["customer"], user)
    if slot == "customer.sidebar" and context.get("customer") is not None:
        return _customer_sidebar(context["customer"], user)
    if slot == "ticket.sidebar" and context.get("ticket") is not None:
        # A placeholder filled after load: no query on the ticket page.
        return Markup(render_template("customers/ticket_fields_lazy.html", ticket=context["ticket"]))  # noqa: S704
    return None


@hookimpl
def helpdesk_nav_links(user: User) -> list[tuple[str, str]] | None:
    return [(gettext("Organisations"), url_for("customers.organisations"))] if user.is_staff else None
