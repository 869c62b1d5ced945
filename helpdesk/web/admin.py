"""Admin pages: users, teams, tags, canned replies, settings, plugins and the mail outbox."""
from __future__ import annotations

import os
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import available_timezones

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, stream_with_context, url_for
from flask_login import current_user
from sqlalchemy import func, select

from helpdesk.extensions import db
from helpdesk.i18n import gettext, ngettext
from helpdesk.models import BusinessHours, CannedReply, OutboxMail, PluginError, Tag, Team, Ticket, User
from helpdesk.models.base import utcnow
from helpdesk.models.tickets import OPEN_STATUSES
from helpdesk.models.users import ROLES
from helpdesk.numbers import parse_id, parse_page
from helpdesk.plugin_manager import CORE, PluginManager, manager
from helpdesk.plugin_settings import validate
from helpdesk.services import ServiceError, admin_audit, create_user
from helpdesk.services.canned_replies import delete_canned_reply, save_canned_reply
from helpdesk.services.plugin_config import save_plugin_settings, set_plugin_enabled
from helpdesk.services.settings import save_site_settings, site_setting
from helpdesk.services.tags import create_tag, delete_tag
from helpdesk.services.teams import save_team
from helpdesk.services.translations import language_texts, texts_from_form
from helpdesk.services.users import update_user
from helpdesk.web.auth import admin_required
from helpdesk.web.forms import (
    CannedReplyForm,
    ConfirmForm,
    SiteSettingsForm,
    TagForm,
    TeamForm,
    UserForm,
)

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
@admin_required
def _admins_only() -> None:
    """Every admin page needs the admin role (checked once, for the whole blueprint)."""


def _page() -> int:
    return parse_page(request.args.get("page"))


@bp.get("/")
def index():
    counts = {
        "open_tickets": db.session.scalar(select(func.count()).select_from(Ticket)
                                          .where(Ticket.status.in_(OPEN_STATUSES))),
        "agents": db.session.scalar(select(func.count()).select_from(User)
                                    .where(User.role.in_(("agent", "admin")))),
        "customers": db.session.scalar(select(func.count()).select_from(User)
                                       .where(User.role == "customer")),
        "queued_mail": db.session.scalar(select(func.count()).select_from(OutboxMail)
                                         .where(OutboxMail.status.in_(("queued", "failed")))),
    }
    return render_template("admin/index.html", counts=counts, plugins=_plugin_rows())


# ----------------------------------------------------------------- users


@bp.get("/users")
def users():
    role = request.args.get("role", "")
    query = select(User).where(User.merged_into_id.is_(None))
    if role in ROLES:
        query = query.where(User.role == role)
    page = _page()
    rows = list(db.session.scalars(query.order_by(User.role, User.name).offset((page - 1) * 50).limit(51)))
    return render_template("admin/users.html", users=rows[:50], page=page, has_next=len(rows) > 50,
                           role=role)


@bp.route("/users/new", methods=["GET", "POST"], defaults={"user_id": None})
@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def user_edit(user_id: int | None):
    user = db.session.get(User, user_id) if user_id else None
    if user_id and user is None:
        abort(404)
    form = UserForm(obj=user)
    form.teams.choices = [(t.id, t.name) for t in db.session.scalars(select(Team).order_by(Team.name))]
    if request.method == "GET" and user:
        form.teams.data = [t.id for t in user.teams]
    if form.validate_on_submit():
        teams = [db.session.get(Team, i) for i in form.teams.data or []]
        teams = [t for t in teams if t is not None]
        try:
            if user is None:
                if not form.password.data and form.role.data != "customer":
                    raise ServiceError(gettext('Staff accounts need a password.'), field="password")
                user = create_user(form.name.data, form.email.data, form.role.data,
                                   form.password.data or None, teams=teams, actor=current_user,
                                   available=bool(form.available.data), team_scoped=bool(form.team_scoped.data))
            else:
                update_user(user, current_user, name=form.name.data, email=form.email.data, role=form.role.data,
                            active=form.active.data, available=bool(form.available.data),
                            team_scoped=bool(form.team_scoped.data), teams=teams,
                            password=form.password.data or None)
        except ServiceError as exc:
            db.session.rollback()
            getattr(form, exc.field or "name").errors.append(exc.message)
        else:
            flash(gettext("Saved %(name)s.", name=user.name), "success")
            return redirect(url_for("admin.users"))
    return render_template("admin/user_form.html", form=form, user=user), 422 if form.errors else 200


# ----------------------------------------------------------------- teams


@bp.get("/teams")
def teams():
    rows = list(db.session.scalars(select(Team).order_by(Team.name)))
    return render_template("admin/teams.html", teams=rows)


@bp.route("/teams/new", methods=["GET", "POST"], defaults={"team_id": None})
@bp.route("/teams/<int:team_id>", methods=["GET", "POST"])
def team_edit(team_id: int | None):
    team = db.session.get(Team, team_id) if team_id else None
    if team_id and team is None:
        abort(404)
    form = TeamForm(obj=team)
    staff = list(db.session.scalars(select(User).where(User.role.in_(("agent", "admin")))
                                    .order_by(User.name)))
    form.lead_id.choices = [("", gettext("No lead"))] + [(str(u.id), u.name) for u in staff]
    form.members.choices = [(u.id, u.name) for u in staff]
    hours = list(db.session.scalars(select(BusinessHours).order_by(BusinessHours.name)))
    form.business_hours_id.choices = [("", gettext("None (around the clock)"))] + [(str(h.id), h.name) for h in hours]
    if request.method == "GET" and team:
        form.members.data = [u.id for u in team.members]
        form.lead_id.data = str(team.lead_id or "")
        form.business_hours_id.data = str(team.business_hours_id or "")
    if form.validate_on_submit():
        hours_id = form.business_hours_id.data or ""
        try:
            team = save_team(
                team, name=form.name.data, description=form.description.data or "",
                lead_id=_choice_id(form.lead_id.data or ""),
                members=[u for u in staff if u.id in set(form.members.data or [])],
                assignment_strategy=form.assignment_strategy.data,
                max_open_per_agent=form.max_open_per_agent.data,
                business_hours_id=_choice_id(hours_id))
        except ServiceError as exc:
            db.session.rollback()
            getattr(form, exc.field or "name").errors.append(exc.message)
        else:
            flash(gettext("Saved team %(name)s.", name=team.name), "success")
            return redirect(url_for("admin.teams"))
    return render_template("admin/team_form.html", form=form, team=team), 422 if form.errors else 200


def _choice_id(raw: str) -> int | None:
    """An id picked from a list: None for "none", -1 (no row has it) for anything forged."""
    if not raw:
        return None
    ident = parse_id(raw)
    return ident if ident is not None else -1


# ------------------------------------------------------------------ tags


@bp.route("/tags", methods=["GET", "POST"])
def tags():
    form = TagForm()
    if form.validate_on_submit():
        try:
            tag = create_tag(form.name.data, actor=current_user)
        except ServiceError as exc:
            form.name.errors.append(exc.message)
        else:
            flash(gettext("Added tag %(name)s.", name=tag.name), "success")
            return redirect(url_for("admin.tags"))
    rows = list(db.session.scalars(select(Tag).order_by(Tag.name)))
    return render_template("admin/tags.html", tags=rows, form=form, delete_form=ConfirmForm()), \
        422 if form.errors else 200


@bp.post("/tags/<int:tag_id>/delete")
def tag_delete(tag_id: int):
    tag = db.session.get(Tag, tag_id)
    if tag is None or not ConfirmForm().validate_on_submit():
        abort(404)
    name = tag.name
    count = delete_tag(tag, current_user)
    flash(ngettext("Removed tag %(name)s from %(num)d ticket.", "Removed tag %(name)s from %(num)d tickets.", count,
                   name=name) if count else gettext("Removed tag %(name)s.", name=name), "info")
    return redirect(url_for("admin.tags"))


# --------------------------------------------------------- canned replies


@bp.get("/canned")
def canned():
    rows = list(db.session.scalars(select(CannedReply).order_by(CannedReply.title)))
    return render_template("admin/canned.html", replies=rows, delete_form=ConfirmForm())


@bp.route("/canned/new", methods=["GET", "POST"], defaults={"reply_id": None})
@bp.route("/canned/<int:reply_id>", methods=["GET", "POST"])
def canned_edit(reply_id: int | None):
    reply = db.session.get(CannedReply, reply_id) if reply_id else None
    if reply_id and reply is None:
        abort(404)
    form = CannedReplyForm(obj=reply)
    texts = language_texts("canned_reply", reply.id if reply else None)
    text_errors: dict[str, str] = {}
    if form.validate_on_submit():
        try:
            reply = save_canned_reply(reply, title=form.title.data, body=form.body.data,
                                      translations=texts_from_form(request.form))
        except ServiceError as exc:
            db.session.rollback()
            if (exc.field or "").startswith(("body_", "subject_")):
                text_errors[exc.field or ""] = exc.message
            else:
                getattr(form, exc.field or "title").errors.append(exc.message)
        else:
            flash(gettext("Saved “%(title)s”.", title=reply.title), "success")
            return redirect(url_for("admin.canned"))
    failed = bool(form.errors or text_errors)
    return render_template("admin/canned_form.html", form=form, reply=reply, texts=texts,
                           text_errors=text_errors), 422 if failed else 200


@bp.post("/canned/<int:reply_id>/delete")
def canned_delete(reply_id: int):
    reply = db.session.get(CannedReply, reply_id)
    if reply is None or not ConfirmForm().validate_on_submit():
        abort(404)
    delete_canned_reply(reply)
    flash(gettext("Canned reply removed."), "info")
    return redirect(url_for("admin.canned"))


# --------------------------------------------------------------- settings


@bp.route("/settings", methods=["GET", "POST"])
def settings():
    keys = ("helpdesk_name", "mail_from", "reopen_window_days", "closed_means_closed", "timezone",
            "notices_per_recipient_per_hour")
    form = SiteSettingsForm(data={k: site_setting(k) for k in keys} if request.method == "GET" else None)
    if form.validate_on_submit():
        save_site_settings({"helpdesk_name": form.helpdesk_name.data.strip(),
                            "mail_from": form.mail_from.data.strip(),
                            "reopen_window_days": form.reopen_window_days.data,
                            "closed_means_closed": bool(form.closed_means_closed.data),
                            "timezone": form.timezone.data,
                            # left empty: unchanged
                            "notices_per_recipient_per_hour": site_setting("notices_per_recipient_per_hour")
                            if form.notices_per_recipient_per_hour.data is None
                            else form.notices_per_recipient_per_hour.data})
        flash(gettext("Settings saved."), "success")
        return redirect(url_for("admin.settings"))
    return render_template("admin/settings.html", form=form, placeholder_from=_placeholder_from(),
                           timezones=sorted(available_timezones())), 422 if form.errors else 200


def _placeholder_from() -> str | None:
    """The reply-from address in use when it is on a reserved domain (the install's
    placeholder): it saves, but customers' replies to it go nowhere, so the page says so."""
    address = str(site_setting("mail_from") or "")
    return address if address.lower().rsplit(".", 1)[-1] in ("invalid", "example", "localhost") else None


# ---------------------------------------------------------------- plugins


def _plugin_rows() -> list[dict]:
    plugins = manager()
    since = utcnow().replace(microsecond=0)

    counts = dict(db.session.execute(
        select(PluginError.plugin, func.count()).where(PluginError.created_at >= since - timedelta(hours=24))
        .group_by(PluginError.plugin)).all())
    rows = []
    for name, info in sorted(plugins.plugins.items()):
        rows.append({"name": name, "version": info.version, "description": info.description,
                     "enabled": plugins.is_enabled(name), "load_error": info.load_error,
                     "incompatible": info.incompatible,
                     "errors_24h": counts.get(name, 0), "has_settings": bool(plugins.setting_specs(name))})
    return rows


@bp.get("/plugins")
def plugins():
    return render_template("admin/plugins.html", plugins=_plugin_rows(), toggle_form=ConfirmForm())


@bp.post("/plugins/<name>/toggle")
def plugin_toggle(name: str):
    plugins = manager()
    if name not in plugins.plugins or name == CORE or not ConfirmForm().validate_on_submit():
        abort(404)
    if plugins.plugins[name].incompatible:
        flash(plugins.plugins[name].incompatible, "danger")
        return redirect(url_for("admin.plugins"))
    if plugins.plugins[name].load_error:
        flash(gettext("%(name)s failed to load; fix the error and restart before enabling it.", name=name), "danger")
        return redirect(url_for("admin.plugins"))
    enabled = not plugins.is_enabled(name)
    set_plugin_enabled(name, enabled)
    flash(gettext("%(name)s is enabled.", name=name) if enabled else gettext("%(name)s is disabled.", name=name),
          "success")
    return redirect(request.referrer if request.referrer and "/admin/" in request.referrer
                    else url_for("admin.plugins"))


@bp.route("/plugins/<name>", methods=["GET", "POST"])
def plugin_settings(name: str):
    plugins = manager()
    info = plugins.plugins.get(name)
    if info is None:
        abort(404)
    specs = plugins.setting_specs(name)
    values = {n: ("" if s.type == "secret" else plugins.get_setting(name, n)) for n, s in specs.items()}
    errors: dict[str, str] = {}
    form = ConfirmForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        submitted = {n: request.form.get(n) for n in specs}
        new_values, errors = validate(specs, submitted)
        if not errors:
            save_plugin_settings(name, new_values)
            flash(gettext("Settings of %(name)s saved.", name=name), "success")
            return redirect(url_for("admin.plugin_settings", name=name))
        values = {n: submitted.get(n) or "" for n in specs}
        values.update({n: "" for n, s in specs.items() if s.type == "secret"})
        flash(gettext("Some settings need fixing; see below."), "danger")
    staff = list(db.session.scalars(select(User).where(User.role.in_(("agent", "admin"))).order_by(User.name)))
    env_overrides = {n: f"HELPDESK_PLUGIN_{name}_{n}".upper() for n in specs
                     if os.environ.get(f"HELPDESK_PLUGIN_{name}_{n}".upper()) is not None}
    return render_template(
        "admin/plugin_settings.html", info=info, enabled=plugins.is_enabled(name), specs=specs,
        values=values, errors=errors, form=form, toggle_form=ConfirmForm(),
        recent_errors=plugins.recent_errors(name), teams=list(db.session.scalars(select(Team).order_by(Team.name))),
        agents=staff, env_overrides=env_overrides, secrets_set=_stored_secrets(plugins, name, specs)), \
        422 if errors else 200


def _stored_secrets(plugins: PluginManager, name: str, specs: dict[str, Any]) -> set[str]:
    """Names of the plugin's secret settings that hold a value (the value itself stays out of the page)."""
    return {n for n, s in specs.items() if s.type == "secret" and plugins.get_setting(name, n)}


# ---------------------------------------------------------------- reports


@bp.get("/reports")
def reports():
    """Reports are pages of plugins; this lists the ones enabled plugins offer."""
    entries = []
    for plugin, result in manager().call_collect("helpdesk_reports"):
        for title, endpoint in result:
            try:
                entries.append({"plugin": plugin, "title": title, "url": url_for(endpoint)})
            except Exception as exc:  # a wrong endpoint name is the plugin's bug, not the page's
                manager().record_error(plugin, "helpdesk_reports", exc)
    return render_template("admin/reports.html", reports=entries)


# ----------------------------------------------------------------- outbox


@bp.get("/outbox")
def outbox():
    page = _page()
    rows = list(db.session.scalars(select(OutboxMail).order_by(OutboxMail.id.desc())
                                   .offset((page - 1) * 50).limit(51)))
    return render_template("admin/outbox.html", mails=rows[:50], page=page, has_next=len(rows) > 50)


@bp.get("/outbox/<int:mail_id>")
def outbox_mail(mail_id: int):
    mail = db.session.get(OutboxMail, mail_id)
    if mail is None:
        abort(404)
    return render_template("admin/outbox_mail.html", mail=mail)


# -------------------------------------------------------------- audit log

AUDIT_PAGE_SIZE = 50


def _audit_filters() -> tuple[dict, dict[str, str]]:
    """The audit page's filters from the query string: (service arguments, what the form shows)."""
    args = request.args
    shown = {k: (args.get(k) or "").strip()[:80] for k in ("actor", "kind", "since", "until")}
    actor = shown["actor"]
    filters: dict = {"actor_id": parse_id(actor),
                     "kind": shown["kind"] or None}
    for key in ("since", "until"):
        try:
            filters[key] = date.fromisoformat(shown[key]) if shown[key] else None
        except ValueError:
            filters[key] = None
            flash(gettext("“%(text)s” is not a date (use the form YYYY-MM-DD); that filter is ignored.",
                          text=shown[key]), "warning")
            shown[key] = ""
    return filters, shown


@bp.get("/audit")
def audit_log():
    filters, shown = _audit_filters()
    page = _page()
    rows = list(db.session.scalars(admin_audit.entries_query(**filters)
                                   .offset((page - 1) * AUDIT_PAGE_SIZE).limit(AUDIT_PAGE_SIZE + 1)))
    query_string = urlencode({k: v for k, v in shown.items() if v})
    return render_template("admin/audit.html", entries=rows[:AUDIT_PAGE_SIZE], has_next=len(rows) > AUDIT_PAGE_SIZE,
                           page=page, shown=shown, kinds=admin_audit.kinds(), kind_name=admin_audit.kind_name,
                           actors=admin_audit.actors(),
                           query_string=query_string, describe=admin_audit.describe)


@bp.get("/audit.csv")
def audit_log_csv():
    filters, _shown = _audit_filters()
    rows = admin_audit.csv_rows(admin_audit.entries_query(**filters))
    # stream_with_context: the rows are read while streaming, after the view has returned.
    return Response(stream_with_context(rows), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=admin-audit-log.csv"})
