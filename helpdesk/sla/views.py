"""Admin → Service levels: SLA policies and business hours (admins only)."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import available_timezones

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from helpdesk.extensions import db
from helpdesk.i18n import gettext, lazy_gettext, ngettext
from helpdesk.models import BusinessHours, SlaPolicy, SlaTarget, Team
from helpdesk.services import admin_audit
from helpdesk.sla import engine
from helpdesk.sla.clock import format_duration
from helpdesk.sla.forms import WEEKDAYS, HoursForm, PolicyForm, format_intervals
from helpdesk.web.auth import admin_required
from helpdesk.web.forms import ConfirmForm

bp = Blueprint("sla", __name__, url_prefix="/admin/sla")
TARGET_FIELDS = ("first_response_minutes", "next_response_minutes", "periodic_update_minutes", "resolution_minutes")
POLICY_AUDIT_FIELDS = ("name", "position", "active", "team_id", "priority", "tag", "business_hours_id",
                       *TARGET_FIELDS, "warn_before_minutes", "pause_statuses")
HOURS_AUDIT_FIELDS = ("name", "timezone", "schedule", "holidays")


@bp.app_template_global("sla_time_left")
def sla_time_left(due: datetime | None) -> tuple[str, str] | None:
    """For the queue's "Time left" column: ``("2h 10m left", badge classes)`` or None."""
    return engine.time_left(due)


@bp.app_template_filter("sla_minutes")
def sla_minutes(minutes: int | None) -> str:
    """480 → ``8h``, 90 → ``1h 30m``; business minutes as an admin reads them."""
    return format_duration(timedelta(minutes=minutes)) if minutes else "—"


def _teams() -> list[Team]:
    return list(db.session.scalars(select(Team).order_by(Team.name)))


def _hours() -> list[BusinessHours]:
    return list(db.session.scalars(select(BusinessHours).order_by(BusinessHours.name)))


@bp.get("/")
@admin_required
def index() -> str:
    policies = list(db.session.scalars(select(SlaPolicy).order_by(SlaPolicy.position, SlaPolicy.id)))
    running = dict(db.session.execute(
        select(SlaTarget.policy_id, func.count(func.distinct(SlaTarget.ticket_id)))
        .where(SlaTarget.met_at.is_(None)).group_by(SlaTarget.policy_id)).all())
    return render_template(
        "sla/index.html", policies=policies, hours=_hours(), teams={t.id: t for t in _teams()},
        running=running, weekdays=WEEKDAYS, format_intervals=format_intervals, delete_form=ConfirmForm())


def _policy_initial(policy: SlaPolicy | None) -> dict:
    if policy is None:
        return {"position": (db.session.scalar(select(func.max(SlaPolicy.position))) or 0) + 10,
                "active": True, "warn_before_minutes": 30, "pause_statuses": ["pending"]}
    initial = {field: getattr(policy, field) for field in TARGET_FIELDS}
    initial.update(name=policy.name, position=policy.position, active=policy.active,
                   team_id=str(policy.team_id or ""), priority=policy.priority or "", tag=policy.tag or "",
                   business_hours_id=str(policy.business_hours_id or ""),
                   warn_before_minutes=policy.warn_before_minutes,
                   pause_statuses=sorted(engine.pause_statuses(policy)))
    return initial


@bp.route("/policies/new", methods=["GET", "POST"], defaults={"policy_id": None})
@bp.route("/policies/<int:policy_id>", methods=["GET", "POST"])
@admin_required
def policy_edit(policy_id: int | None) -> Response | tuple[str, int]:
    policy = db.session.get(SlaPolicy, policy_id) if policy_id else None
    if policy_id and policy is None:
        abort(404)
    if request.method == "GET":
        form = PolicyForm(**_policy_initial(policy))
    else:
        form = PolicyForm()
    hours = _hours()
    form.team_id.choices = [("", "Any team")] + [(str(t.id), t.name) for t in _teams()]
    form.business_hours_id.choices = ([("", "The team's business hours (around the clock if none)")]
                                      + [(str(h.id), h.name) for h in hours])
    if form.validate_on_submit():
        name = form.name.data.strip()
        clash = db.session.scalar(select(SlaPolicy.id).where(SlaPolicy.name == name,
                                                             SlaPolicy.id != (policy_id or 0)))
        if clash:
            form.name.errors.append("A policy with this name already exists.")
        else:
            was_active = policy.active if policy is not None else None
            before = admin_audit.snapshot(policy, POLICY_AUDIT_FIELDS)
            policy = policy or SlaPolicy(name=name)
            policy.name = name
            policy.position = form.position.data
            policy.active = bool(form.active.data)
            policy.team_id = int(form.team_id.data) if form.team_id.data else None
            policy.priority = form.priority.data or None
            policy.tag = form.tag.data or None
            policy.business_hours_id = int(form.business_hours_id.data) if form.business_hours_id.data else None
            for field in TARGET_FIELDS:
                setattr(policy, field, getattr(form, field).data)
            policy.warn_before_minutes = form.warn_before_minutes.data
            policy.pause_statuses = ",".join(s for s in form.pause_statuses.data or [] if s)
            db.session.add(policy)
            db.session.flush()
            audit_target = lazy_gettext("SLA policy %(name)s (#%(id)s)", name=policy.name, id=policy.id)
            admin_audit.record_change("sla_policy", audit_target, before,
                                      admin_audit.snapshot(policy, POLICY_AUDIT_FIELDS))
            db.session.commit()
            if was_active and not policy.active:
                # A switched-off policy stops its clocks, like a deleted one.
                engine.remove_clocks(policy)
            flash(gettext("Saved policy %(name)s. It applies to new tickets and to tickets whose "
                          "team, priority or tags change.", name=policy.name), "success")
            return redirect(url_for("sla.index"))
    return render_template("sla/policy_form.html", form=form, policy=policy,
                           has_hours=bool(hours)), 422 if form.errors or form.form_errors else 200


@bp.post("/policies/<int:policy_id>/delete")
@admin_required
def policy_delete(policy_id: int) -> Response:
    policy = db.session.get(SlaPolicy, policy_id)
    if policy is None:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    name = policy.name
    admin_audit.record_change("sla_policy", lazy_gettext("SLA policy %(name)s (#%(id)s)", name=name, id=policy.id),
                              admin_audit.snapshot(policy, POLICY_AUDIT_FIELDS), None)
    moved = engine.remove_policy(policy)  # commits the removal and the audit entry together
    flash(ngettext("Removed policy %(name)s. Its %(num)s running ticket moves to the next matching policy.",
                   "Removed policy %(name)s. Its %(num)s running tickets move to the next matching policy.",
                   moved, name=name) if moved else gettext("Removed policy %(name)s.", name=name), "info")
    return redirect(url_for("sla.index"))


@bp.route("/hours/new", methods=["GET", "POST"], defaults={"hours_id": None})
@bp.route("/hours/<int:hours_id>", methods=["GET", "POST"])
@admin_required
def hours_edit(hours_id: int | None) -> Response | tuple[str, int]:
    hours = db.session.get(BusinessHours, hours_id) if hours_id else None
    if hours_id and hours is None:
        abort(404)
    form = HoursForm()
    if request.method == "GET":
        if hours is not None:
            form.name.data, form.timezone.data = hours.name, hours.timezone
            for (number, _label), day in zip(WEEKDAYS, form.days(), strict=True):
                day.data = format_intervals((hours.schedule or {}).get(number))
            form.holidays.data = "\n".join(sorted(hours.holidays or []))
        else:
            for (number, _label), day in zip(WEEKDAYS, form.days(), strict=True):
                day.data = "09:00-17:00" if int(number) <= 5 else ""
    if form.validate_on_submit():
        name = form.name.data.strip()
        clash = db.session.scalar(select(BusinessHours.id).where(BusinessHours.name == name,
                                                                 BusinessHours.id != (hours_id or 0)))
        if clash:
            form.name.errors.append("Business hours with this name already exist.")
        else:
            before = admin_audit.snapshot(hours, HOURS_AUDIT_FIELDS)
            hours = hours or BusinessHours(name=name)
            hours.name = name
            hours.timezone = form.timezone.data
            hours.schedule = form.schedule()
            hours.holidays = form.holiday_dates
            db.session.add(hours)
            db.session.flush()
            audit_target = lazy_gettext("business hours %(name)s (#%(id)s)", name=hours.name, id=hours.id)
            admin_audit.record_change("business_hours", audit_target, before,
                                      admin_audit.snapshot(hours, HOURS_AUDIT_FIELDS))
            db.session.commit()
            flash(gettext("Saved business hours %(name)s. New clocks count with them; running ones keep "
                          "their due times.", name=hours.name), "success")
            return redirect(url_for("sla.index"))
    return render_template("sla/hours_form.html", form=form, hours=hours, weekdays=WEEKDAYS,
                           timezones=sorted(available_timezones())), \
        422 if form.errors or form.form_errors else 200


@bp.post("/hours/<int:hours_id>/delete")
@admin_required
def hours_delete(hours_id: int) -> Response:
    hours = db.session.get(BusinessHours, hours_id)
    if hours is None:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    # Policies and teams using them fall back (foreign keys are ON DELETE SET NULL).
    audit_target = lazy_gettext("business hours %(name)s (#%(id)s)", name=hours.name, id=hours.id)
    admin_audit.record_change("business_hours", audit_target,
                              admin_audit.snapshot(hours, HOURS_AUDIT_FIELDS), None)
    db.session.delete(hours)
    db.session.commit()
    flash(gettext("Removed business hours %(name)s. Policies and teams that used them now count "
                  "around the clock.", name=hours.name), "info")
    return redirect(url_for("sla.index"))
