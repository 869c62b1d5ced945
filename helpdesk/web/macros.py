"""Macros' pages and the composer's Markdown preview (registered as ``core.macros``, always on).

- ``/macros``: the macros a person may use, with how often each was applied; create, edit
  and delete (personal ones for everyone; shared ones as ``services.macros.can_manage`` says).
- The "Macros" card in the ticket sidebar (slot ``ticket.sidebar``): each macro opens to a
  preview of what it will do (the reply rendered), and one button applies all of it.
- ``POST /tickets/<ref>/preview``: the composer's Preview tab (sanitised HTML as JSON).
- The ``rich`` template filter shows a message written in Markdown, sanitised again.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from markupsafe import Markup
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import BooleanField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import Length

from helpdesk.access import ticket_or_404
from helpdesk.extensions import db
from helpdesk.i18n import PRIORITY_NAMES, STATUS_NAMES, gettext, lazy_gettext
from helpdesk.markers import hookimpl
from helpdesk.models import Macro, Team, Ticket, User
from helpdesk.models.tickets import PRIORITIES
from helpdesk.numbers import parse_int
from helpdesk.richtext import clean, render_markdown
from helpdesk.services import ServiceError, StaleTicket
from helpdesk.services.macros import (
    MACRO_STATUSES,
    applicable,
    apply_macro,
    can_manage,
    delete_macro,
    describe,
    macro_for,
    plan_macro,
    save_macro,
    visible_macros,
)
from helpdesk.services.translations import language_texts, texts_from_form
from helpdesk.web.auth import backoffice_required
from helpdesk.web.forms import ConfirmForm

bp = Blueprint("macros", __name__)
CARD_LIMIT = 50


class MacroForm(FlaskForm):
    name = StringField(lazy_gettext("Name"), validators=[Length(max=120)])
    body = TextAreaField(lazy_gettext("Reply (Markdown; placeholders as in canned replies)"),
                         validators=[Length(max=100_000)])
    internal = BooleanField(lazy_gettext("As an internal note (not sent to the customer)"))
    status = SelectField(lazy_gettext("Set status"),
                         choices=[("", lazy_gettext("keep"))] + [(s, STATUS_NAMES.get(s, s)) for s in MACRO_STATUSES],
                         validate_choice=False)
    priority = SelectField(lazy_gettext("Set priority"),
                           choices=[("", lazy_gettext("keep"))] + [(p, PRIORITY_NAMES.get(p, p)) for p in PRIORITIES],
                           validate_choice=False)
    add_tags = StringField(lazy_gettext("Add tags (comma separated)"), validators=[Length(max=500)])
    remove_tags = StringField(lazy_gettext("Remove tags (comma separated)"), validators=[Length(max=500)])
    assignee = SelectField(lazy_gettext("Assign to"), validate_choice=False)
    set_team_id = SelectField(lazy_gettext("Move to team"), validate_choice=False)
    scope = SelectField(lazy_gettext("Who may use it"), validate_choice=False)


class ApplyForm(FlaskForm):
    version = HiddenField()


def _agents() -> list[User]:
    return list(db.session.scalars(
        select(User).where(User.role.in_(("agent", "admin")), User.active.is_(True)).order_by(User.name)))


def _teams() -> list[Team]:
    return list(db.session.scalars(select(Team).order_by(Team.name)))


def _choices(form: MacroForm, macro: Macro | None) -> None:
    form.assignee.choices = [("", gettext("keep")), ("me", gettext("whoever applies the macro")),
                             ("none", gettext("nobody (unassign)"))] + [(str(a.id), a.name) for a in _agents()]
    teams = _teams()
    form.set_team_id.choices = [("", gettext("keep"))] + [(str(t.id), t.name) for t in teams]
    scopes = [("personal", gettext("only me"))]
    if macro is None or macro.scope != "personal":
        if can_manage(current_user, None, scope="everyone"):
            scopes.append(("everyone", gettext("everyone")))
        scopes += [(f"team:{t.id}", gettext("team %(name)s", name=t.name)) for t in teams
                   if can_manage(current_user, None, scope="team", team_id=t.id)]
    form.scope.choices = scopes


def _scope_of(macro: Macro) -> str:
    return {"personal": "personal", "everyone": "everyone"}.get(macro.scope, f"team:{macro.shared_team_id}")


@bp.get("/macros")
@backoffice_required
def index() -> str:
    macros = list(db.session.scalars(visible_macros(current_user)))
    return render_template("macros/index.html", macros=macros, can_manage=can_manage, describe=describe,
                           delete_form=ConfirmForm())


def _macro_or_404(macro_id: int) -> Macro:
    macro = macro_for(current_user, macro_id)
    if macro is None:
        abort(404)
    return macro


@bp.route("/macros/new", methods=["GET", "POST"])
@backoffice_required
def new() -> Any:
    return _form(None)


@bp.route("/macros/<int:macro_id>/edit", methods=["GET", "POST"])
@backoffice_required
def edit(macro_id: int) -> Any:
    macro = _macro_or_404(macro_id)
    if not can_manage(current_user, macro):
        abort(404)
    return _form(macro)


def _form(macro: Macro | None) -> Any:
    if macro is not None and request.method == "GET":
        form = MacroForm(obj=macro, formdata=None, add_tags=", ".join(macro.add_tags),
                         remove_tags=", ".join(macro.remove_tags), set_team_id=str(macro.set_team_id or ""),
                         scope=_scope_of(macro))
    else:
        form = MacroForm()
    _choices(form, macro)
    texts = language_texts("macro", macro.id if macro else None)
    text_errors: dict[str, str] = {}
    if form.validate_on_submit():
        scope, _, team = (form.scope.data or "personal").partition(":")
        try:
            saved = save_macro(
                current_user, macro, name=form.name.data, body=form.body.data or "", internal=form.internal.data,
                status=form.status.data or "", priority=form.priority.data or "", add_tags=form.add_tags.data or "",
                remove_tags=form.remove_tags.data or "", assignee=form.assignee.data or "",
                set_team_id=parse_int(form.set_team_id.data, 0) or None, scope=scope,
                team_id=parse_int(team, 0) or None, translations=texts_from_form(request.form))
        except ServiceError as exc:
            db.session.rollback()
            target = getattr(form, exc.field, None) if exc.field else None
            if (exc.field or "").startswith("body_"):
                text_errors[exc.field or ""] = exc.message
            else:
                (target.errors if target is not None else form.form_errors).append(exc.message)
        else:
            flash(gettext("Saved the macro “%(name)s”.", name=saved.name), "success")
            return redirect(url_for("macros.index"))
    status = 422 if request.method == "POST" else 200
    return render_template("macros/form.html", form=form, macro=macro, texts=texts, text_errors=text_errors), status


@bp.post("/tickets/<reference>/macros/<int:macro_id>")
@backoffice_required
def apply(reference: str, macro_id: int) -> Response:
    ticket = ticket_or_404(current_user, reference)
    macro = _macro_or_404(macro_id)
    back = redirect(url_for("agent.ticket", reference=ticket.reference))
    form = ApplyForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        plan = apply_macro(macro, ticket, current_user, expected_version=parse_int(form.version.data, 0))
    except StaleTicket as exc:
        db.session.rollback()
        flash(gettext("The macro “%(name)s” was not applied: %(reason)s", name=macro.name, reason=exc.message),
              "danger")
        return back
    except ServiceError as exc:
        db.session.rollback()
        flash(gettext("The macro “%(name)s” was not applied: %(reason)s", name=macro.name, reason=exc.message),
              "danger")
        return back
    flash(gettext("Applied the macro “%(name)s”: %(steps)s.", name=macro.name, steps="; ".join(plan.steps)), "success")
    return back


@bp.post("/tickets/<reference>/preview")
@backoffice_required
def preview(reference: str) -> Response:
    """The composer's Preview tab: the text rendered as it will be sent (sanitised HTML)."""
    ticket_or_404(current_user, reference)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    names = request.form.getlist("attachment_names")[:50]
    return jsonify(html=render_markdown(request.form.get("body", "")[:100_000], names))


@bp.post("/macros/<int:macro_id>/delete")
@backoffice_required
def delete(macro_id: int) -> Response:
    macro = _macro_or_404(macro_id)
    if not can_manage(current_user, macro) or not ConfirmForm().validate_on_submit():
        abort(404)
    name = macro.name
    delete_macro(current_user, macro)
    flash(gettext("Deleted the macro “%(name)s”.", name=name), "info")
    return redirect(url_for("macros.index"))


@bp.app_template_filter("rich")
def rich(html: str | None) -> Markup:
    """A stored Markdown message's HTML, sanitised again as it is shown."""
    return Markup(clean(html or ""))  # noqa: S704 - nh3-sanitised just above


@hookimpl
def helpdesk_page_queries(page: str, ticket_ids: list[int], user: User) -> dict[str, Any] | None:
    """The Macros card's macros, read in the ticket page's one batched statement."""
    if page != "ticket" or not getattr(user, "is_backoffice", False):
        return None
    return {"card": visible_macros(user).limit(CARD_LIMIT)}


def _card(ticket: Ticket, user: Any) -> Markup | None:
    from helpdesk.plugin_manager import manager

    found = manager().page_rows("core.macros", "card", ticket.id)
    if found is None:
        found = list(db.session.scalars(visible_macros(user).limit(CARD_LIMIT)))
    else:
        found = sorted(found, key=lambda m: (m.name, m.id))
    macros = [m for m in found if applicable(user, m)]
    rows = []
    for macro in macros:
        try:
            plan = plan_macro(macro, ticket, user)
            error = ""
        except ServiceError as exc:
            plan, error = None, exc.message
        rows.append({"macro": macro, "plan": plan, "error": error,
                     "html": Markup(render_markdown(plan.body)) if plan and plan.body else None})  # noqa: S704
    return Markup(render_template("macros/card.html", ticket=ticket, rows=rows,  # noqa: S704 - escaped by Jinja
                                  form=ApplyForm(formdata=None, version=str(ticket.version))))


@hookimpl
def helpdesk_blueprints() -> list[Blueprint]:
    return [bp]


@hookimpl
def helpdesk_template_slot(slot: str, context: dict[str, Any]) -> Markup | None:
    """The Macros card on the ticket page's sidebar."""
    user, ticket = context.get("user"), context.get("ticket")
    if slot != "ticket.sidebar" or ticket is None or user is None or not getattr(user, "is_backoffice", False):
        return None
    return _card(ticket, user)
