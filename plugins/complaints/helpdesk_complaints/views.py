"""Pages: the complaints dashboard, routing rules (admin), the explain view, the playbook's
forms on the ticket page, and the customer's follow-up answer (public, by signed link)."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from helpdesk.plugin_api import (
    ServiceError,
    Team,
    Ticket,
    User,
    admin_required,
    audit,
    db_session,
    delete_translations,
    gettext,
    language_texts,
    lazy_gettext,
    record_config_change,
    save_translations,
    services,
    staff_required,
    texts_from_form,
    utcnow,
    visible_tickets,
    words_text,
)
from helpdesk_complaints import core_tables, flags, notices, playbook, stats
from helpdesk_complaints.forms import ClearFlagForm, FlagForm, FollowUpForm, RemedyForm, RuleForm, StepForm
from helpdesk_complaints.inputs import get_by_id, parse_id, parse_page
from helpdesk_complaints.models import ComplaintAlert, ComplaintFlag, ComplaintFollowUp, ComplaintRule
from helpdesk_complaints.rules import (
    ACK_TEXTS,
    ASSIGN_MODES,
    all_rules,
    check_template,
    describe,
    describe_actions,
    dry_run,
    explain,
)

bp = Blueprint("complaints", __name__, url_prefix="/complaints", template_folder="templates")
PER_PAGE = 25
ROUTING_ACTIONS = ("routed", "assigned", "escalated", "notified", "sla_policy", "acknowledgement",
                   "complaint_flagged", "complaint_cleared")


def ticket_or_404(reference: str) -> Ticket:
    """A ticket the signed-in user may see, by reference (``HD-42`` or ``42``)."""
    text = (reference or "").strip()
    prefix = current_app.config["TICKET_PREFIX"].lower() + "-"
    if text.lower().startswith(prefix):
        text = text[len(prefix):]
    ticket_id = parse_id(text)
    if ticket_id is None:
        abort(404)
    ticket = db_session().scalar(visible_tickets(current_user).where(Ticket.id == ticket_id))
    if ticket is None:
        abort(404)
    return ticket


def _page() -> int:
    return parse_page(request.args.get("page"))


# ------------------------------------------------------------------ dashboard


@bp.get("/")
@staff_required
def dashboard() -> str:
    visible = visible_tickets(current_user).with_only_columns(Ticket.id)
    page = _page()
    open_rows = list(db_session().execute(
        select(Ticket, ComplaintFlag).join(ComplaintFlag, ComplaintFlag.ticket_id == Ticket.id)
        .where(Ticket.id.in_(visible), ComplaintFlag.cleared_at.is_(None), Ticket.status.in_(stats.OPEN))
        .options(selectinload(Ticket.customer), selectinload(Ticket.assignee), selectinload(Ticket.team))
        .order_by(Ticket.created_at.desc(), Ticket.id.desc()).offset((page - 1) * PER_PAGE).limit(PER_PAGE + 1)))
    weeks = stats.weekly(visible, viewer=current_user)
    return render_template("complaints/dashboard.html", rows=open_rows[:PER_PAGE], has_next=len(open_rows) > PER_PAGE,
                           page=page, summary=stats.summary(visible), weeks=weeks, chart=stats.trend_svg(weeks),
                           duration=stats.duration)


@bp.post("/alerts/<int:alert_id>/dismiss")
@staff_required
def dismiss_alert(alert_id: int) -> Response:
    alert = get_by_id(ComplaintAlert, alert_id)
    if alert is None or alert.user_id != current_user.id:
        abort(404)
    if not _csrf_ok():
        abort(400)
    alert.dismissed_at = utcnow()
    db_session().commit()
    flash(gettext("Alert dismissed."), "info")
    return redirect(url_for("agent.dashboard"))


def _csrf_ok() -> bool:
    from flask_wtf import FlaskForm

    return FlaskForm().validate_on_submit()


# ------------------------------------------------------------------ rules (admin)


def _choices(form: RuleForm) -> None:
    teams = list(db_session().scalars(select(Team).order_by(Team.name)))
    agents = list(db_session().scalars(select(User).where(User.role.in_(("agent", "admin")), User.active.is_(True))
                                     .order_by(User.name)))
    form.team_id.choices = [("", "Any team")] + [(str(t.id), t.name) for t in teams]
    form.set_team_id.choices = [("", "Leave as it is")] + [(str(t.id), t.name) for t in teams]
    form.agent_id.choices = [("", "—")] + [(str(a.id), a.name + ("" if a.available else " (away)")) for a in agents]
    form.sla_policy_id.choices = [("", "None")] + [
        (str(p.id), f"{p.name} (tickets tagged {p.tag})" + ("" if p.active else " — inactive"))
        for p in core_tables.tagged_policies()]


@bp.get("/rules")
@admin_required
def rules() -> str:
    return render_template("complaints/rules.html", rules=all_rules(), describe=describe,
                           describe_actions=describe_actions, form=StepForm())


@bp.route("/rules/new", methods=["GET", "POST"], defaults={"rule_id": None})
@bp.route("/rules/<int:rule_id>", methods=["GET", "POST"])
@admin_required
def rule_edit(rule_id: int | None) -> Response | tuple[str, int]:
    rule = get_by_id(ComplaintRule, rule_id) if rule_id is not None else None
    if rule_id is not None and rule is None:
        abort(404)
    form = RuleForm()
    _choices(form)
    if request.method == "GET" and rule is not None:
        form.name.data, form.active.data, form.stop.data = rule.name, rule.active, rule.stop
        form.fill(rule.conditions, rule.actions)
    result = None
    text_errors: dict[str, str] = {}
    if request.method == "POST":
        if form.validate_on_submit():
            if "test" in request.form:
                result = dry_run(form.conditions())
            else:
                created = rule is None
                before = None if created else _rule_values(rule)
                if rule is None:
                    top = db_session().scalar(select(func.max(ComplaintRule.position))) or 0
                    rule = ComplaintRule(position=top + 10)
                    db_session().add(rule)
                rule.name = " ".join(form.name.data.split())  # one line: it goes into audit reasons and mail
                rule.active, rule.stop = bool(form.active.data), bool(form.stop.data)
                rule.conditions, rule.actions = form.conditions(), form.actions()
                rule.last_error = rule.last_error_at = None  # saved again: give it a fresh start
                rule.updated_at = utcnow()
                db_session().flush()
                try:
                    save_translations(ACK_TEXTS, rule.id, texts_from_form(request.form), check=check_template)
                except ServiceError as exc:
                    db_session().rollback()
                    text_errors[exc.field or "body"] = str(exc)
                    rule = get_by_id(ComplaintRule, rule_id) if rule_id is not None else None
                    return render_template("complaints/rule_form.html", form=form, rule=rule, result=None,
                                           assign_modes=ASSIGN_MODES, texts=language_texts(ACK_TEXTS, rule_id),
                                           text_errors=text_errors), 422
                record_config_change("complaints.rule", "created" if created else "changed",
                                     f"complaint rule “{rule.name}” (#{rule.id})", before, _rule_values(rule))
                db_session().commit()
                flash(gettext("Created rule “%(name)s”. It applies to new tickets.", name=rule.name) if created
                      else gettext("Saved rule “%(name)s”. It applies to new tickets.", name=rule.name), "success")
                return redirect(url_for("complaints.rules"))
    status = 422 if request.method == "POST" and (form.errors or form.form_errors) else 200
    return render_template("complaints/rule_form.html", form=form, rule=rule, result=result,
                           assign_modes=ASSIGN_MODES, texts=language_texts(ACK_TEXTS, rule.id if rule else None),
                           text_errors=text_errors), status


def _rule_values(rule: ComplaintRule) -> dict:
    """What the admin audit log keeps of a rule."""
    return {"name": rule.name, "active": rule.active, "stop": rule.stop, "position": rule.position,
            "conditions": rule.conditions, "actions": rule.actions}


@bp.post("/rules/<int:rule_id>/move")
@admin_required
def rule_move(rule_id: int) -> Response:
    rule = get_by_id(ComplaintRule, rule_id)
    if rule is None:
        abort(404)
    if not _csrf_ok():
        abort(400)
    direction = request.form.get("direction")
    ordered = all_rules()
    index = ordered.index(rule)
    other = index - 1 if direction == "up" else index + 1 if direction == "down" else None
    if other is None or not 0 <= other < len(ordered):
        flash(gettext("That rule cannot move further."), "info")
        return redirect(url_for("complaints.rules"))
    before = {"order": [item.name for item in ordered]}
    ordered[index], ordered[other] = ordered[other], ordered[index]
    for position, item in enumerate(ordered, start=1):
        item.position = position * 10  # renumbered: equal positions can no longer tie
    record_config_change("complaints.rule", "moved", f"complaint rule “{rule.name}” (#{rule.id}) {direction}",
                         before, {"order": [item.name for item in ordered]})
    db_session().commit()
    flash(gettext("Moved “%(name)s” up.", name=rule.name) if direction == "up"
          else gettext("Moved “%(name)s” down.", name=rule.name), "success")
    return redirect(url_for("complaints.rules"))


@bp.post("/rules/<int:rule_id>/delete")
@admin_required
def rule_delete(rule_id: int) -> Response:
    rule = get_by_id(ComplaintRule, rule_id)
    if rule is None:
        abort(404)
    if not _csrf_ok():
        abort(400)
    record_config_change("complaints.rule", "deleted", f"complaint rule “{rule.name}” (#{rule.id})",
                         _rule_values(rule), None)
    delete_translations(ACK_TEXTS, rule.id)
    db_session().delete(rule)
    db_session().commit()
    flash(gettext("Deleted rule “%(name)s”.", name=rule.name), "info")
    return redirect(url_for("complaints.rules"))


# ------------------------------------------------------------------ ticket: explain and playbook


@bp.get("/tickets/<reference>/explain")
@staff_required
def explain_ticket(reference: str) -> str:
    ticket = ticket_or_404(reference)
    explanations, facts = explain(ticket)
    a = core_tables.audit_events().c
    users = User.__table__.c
    decisions = list(db_session().execute(
        select(a.created_at, a.action, a.field, a.old_value, a.new_value, a.reason, a.reason_words,
               users.name.label("actor"))
        .select_from(core_tables.audit_events().outerjoin(User.__table__, users.id == a.actor_id))
        .where(a.ticket_id == ticket.id, or_(a.action.in_(ROUTING_ACTIONS), a.reason.like("rule '%"),
                                              a.reason.like("classified by%")))
        .order_by(a.id)))
    return render_template("complaints/explain.html", ticket=ticket, explanations=explanations, facts=facts,
                           decisions=decisions, describe_actions=describe_actions, words_text=words_text,
                           flag=flags.flag_of(ticket.id))


def _back(ticket: Ticket) -> Response:
    return redirect(url_for("agent.ticket", reference=ticket.reference) + "#complaint-panel")


def _flash_errors(form: Any) -> None:
    for field, errors in form.errors.items():
        for error in errors:
            flash(error if field != "csrf_token" else gettext("The form expired: reload the page and try again."),
                  "danger")


@bp.post("/tickets/<reference>/step")
@staff_required
def step(reference: str) -> Response:
    ticket = ticket_or_404(reference)
    form = StepForm()
    if not form.validate_on_submit():
        _flash_errors(form)
        return _back(ticket)
    if flags.flag_of(ticket.id) is None:
        flash(gettext("This ticket is not a complaint."), "warning")
        return _back(ticket)
    done = form.done.data == "yes"
    label = playbook.STEP_LABELS[form.step.data]
    if playbook.set_step(ticket, form.step.data, current_user, done):
        flash(gettext("%(step)s: done.", step=label) if done else gettext("%(step)s: not done.", step=label),
              "success")
    else:
        flash(gettext("%(step)s was already done.", step=label) if done
              else gettext("%(step)s was already not done.", step=label), "info")
    return _back(ticket)


@bp.post("/tickets/<reference>/remedy")
@staff_required
def remedy(reference: str) -> Response:
    ticket = ticket_or_404(reference)
    form = RemedyForm()
    if not form.validate_on_submit():
        _flash_errors(form)
        return _back(ticket)
    if flags.flag_of(ticket.id) is None:
        flash(gettext("This ticket is not a complaint."), "warning")
        return _back(ticket)
    playbook.record_remedy(ticket, current_user, form.text.data, no_remedy=form.kind.data == "none")
    flash(gettext("Remedy recorded.") if form.kind.data == "offered" else gettext("Recorded why there is no remedy."),
          "success")
    return _back(ticket)


@bp.post("/tickets/<reference>/clear")
@staff_required
def clear(reference: str) -> Response:
    ticket = ticket_or_404(reference)
    form = ClearFlagForm()
    if not form.validate_on_submit():
        _flash_errors(form)
        return _back(ticket)
    flag = flags.flag_of(ticket.id)
    if flag is None or not flag.active:
        flash(gettext("This ticket is not flagged as a complaint."), "info")
        return _back(ticket)
    flags.clear_flag(ticket, current_user, form.reason.data.strip())
    flash(gettext("Complaint flag cleared. Thanks: the correction is kept for the detection reports."), "success")
    return _back(ticket)


@bp.post("/tickets/<reference>/flag")
@staff_required
def flag(reference: str) -> Response:
    ticket = ticket_or_404(reference)
    form = FlagForm()
    if not form.validate_on_submit():
        _flash_errors(form)
        return _back(ticket)
    existing = flags.flag_of(ticket.id)
    if existing is not None and existing.active:
        flash(gettext("This ticket is already flagged as a complaint."), "info")
        return _back(ticket)
    flags.flag_by_hand(ticket, current_user, form.reason.data.strip())
    flash(gettext("Flagged as a complaint: the playbook is open."), "success")
    return _back(ticket)


# ------------------------------------------------------------------ follow-up (public, signed link)


@bp.route("/followup/<followup_token>", methods=["GET", "POST"])
def followup(followup_token: str) -> Response | tuple[str, int]:
    try:
        item = notices.followup_from_token(followup_token)
    except notices.TokenProblem as problem:
        return render_template("complaints/followup_invalid.html", message=problem.message), problem.status
    ticket = db_session().get(Ticket, item.ticket_id)
    if item.answered_at is not None:
        return render_template("complaints/followup.html", ticket=ticket, item=item, form=None, answered=True), 200
    form = FollowUpForm()
    if form.validate_on_submit():
        claimed = db_session().execute(
            ComplaintFollowUp.__table__.update().where(ComplaintFollowUp.__table__.c.id == item.id,
                                                       ComplaintFollowUp.__table__.c.answered_at.is_(None))
            .values(answered_at=utcnow(), resolved=form.resolved.data == "yes", comment=form.comment.data or ""))
        db_session().commit()
        if claimed.rowcount == 1:  # type: ignore[attr-defined]  # a CursorResult
            _record_answer(ticket, form.resolved.data == "yes", (form.comment.data or "").strip())
        db_session().refresh(item)
        return render_template("complaints/followup.html", ticket=ticket, item=item, form=None, answered=True,
                               just_now=True), 200
    status = 422 if request.method == "POST" else 200
    return render_template("complaints/followup.html", ticket=ticket, item=item, form=form, answered=False), status


def _record_answer(ticket: Ticket, resolved: bool, comment: str) -> None:
    """The customer's answer: feedback for the surveys' reports; a "no" reopens the ticket."""
    if resolved:
        note = (lazy_gettext("resolved: %(comment)s", comment=comment) if comment else lazy_gettext("resolved"))
    else:
        note = (lazy_gettext("not resolved: %(comment)s", comment=comment) if comment
                else lazy_gettext("not resolved"))
    notices.mark_step(ticket.id, "follow_up", None, note=note)
    audit(ticket, None, "follow_up", None, None, "resolved" if resolved else "not resolved",
          reason=(lazy_gettext("customer answered the follow-up: %(comment)s", comment=comment) if comment
                  else lazy_gettext("customer answered the follow-up")))
    db_session().commit()
    services.record_feedback(ticket.customer, "csat", score=5 if resolved else 1, comment=comment, ticket=ticket,
                             source="complaint_followup", reference=f"complaint_followup:{ticket.id}")
    if not resolved and ticket.status == "resolved":
        try:
            services.update_ticket(ticket, None, status="open")
        except services.ServiceError:
            pass  # past the reopen window or closed: the answer is recorded all the same
