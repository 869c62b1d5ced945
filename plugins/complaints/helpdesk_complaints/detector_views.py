"""Admin page of the detector (Complaints → Detector): which detector classifies, the learned
model's scores on held-back corrections, the labels, the top learned words, the switch back to
the built-in detector, and the sensitivity with a preview on the last 500 tickets."""
from __future__ import annotations

from dataclasses import dataclass, field

from flask import flash, redirect, render_template, url_for
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import IntegerField, SelectField
from wtforms.validators import InputRequired, NumberRange

from helpdesk.plugin_api import (
    Ticket,
    admin_required,
    db_session,
    gettext,
    lazy_gettext,
    ngettext,
    record_config_change,
)
from helpdesk_complaints import learning
from helpdesk_complaints.config import phrases, threshold
from helpdesk_complaints.detection import detect
from helpdesk_complaints.model import LinearModel, builtin
from helpdesk_complaints.models import ComplaintFlag
from helpdesk_complaints.rules import DRY_RUN_SECONDS, DRY_RUN_TICKETS, _first_messages, clock
from helpdesk_complaints.views import bp


class DetectorChoiceForm(FlaskForm):
    use = SelectField(lazy_gettext("Detector"), choices=[("learned", lazy_gettext("learned")),
                                                        ("builtin", lazy_gettext("built-in"))])


class SensitivityForm(FlaskForm):
    sensitivity = IntegerField(lazy_gettext("Sensitivity"), validators=[
        InputRequired(message=lazy_gettext(
            "Give a sensitivity from 0 (flags only clear complaints) to 100 (catches most).")),
        NumberRange(min=0, max=100, message=lazy_gettext("The sensitivity goes from 0 to 100."))])
    action = SelectField(choices=[("preview", "preview"), ("save", "save")])


class RetrainForm(FlaskForm):
    pass


@dataclass
class Preview:
    sensitivity: int
    checked: int = 0
    now: int = 0  # flagged (not cleared) today
    would: int = 0
    added: list[Ticket] = field(default_factory=list)
    dropped: list[Ticket] = field(default_factory=list)
    stopped: bool = False


def preview(sensitivity: int, limit: int = DRY_RUN_TICKETS, seconds: float = DRY_RUN_SECONDS) -> Preview:
    """What detection would flag among the last ``limit`` tickets (their first message) at ``sensitivity``."""
    tickets = list(db_session().scalars(select(Ticket).where(Ticket.merged_into_id.is_(None))
                                        .order_by(Ticket.id.desc()).limit(limit)))
    ids = [t.id for t in tickets]
    firsts = _first_messages(ids)
    flagged = set(db_session().scalars(select(ComplaintFlag.ticket_id).where(
        ComplaintFlag.ticket_id.in_(ids), ComplaintFlag.cleared_at.is_(None)))) if ids else set()
    model, record = learning.active_model()
    name = f"learned #{record.id}" if record is not None else "built-in"
    words, limit_at = phrases(), clock.monotonic() + seconds
    result = Preview(sensitivity=sensitivity)
    for ticket in tickets:
        if clock.monotonic() > limit_at:
            result.stopped = True
            break
        first = firsts.get(ticket.id)
        text = f"{ticket.subject}\n{first.body if first is not None else ''}"
        would = detect(text, phrases=words, threshold=threshold(), model=model, sensitivity=sensitivity,
                       detector=name).complaint
        result.checked += 1
        result.now += ticket.id in flagged
        result.would += would
        if would and ticket.id not in flagged:
            result.added.append(ticket)
        elif not would and ticket.id in flagged:
            result.dropped.append(ticket)
    return result


def _page(sensitivity_form: SensitivityForm | None = None, result: Preview | None = None) -> str:
    state = learning.state()
    model, record = learning.active_model()
    latest = learning.latest_model()
    shown: LinearModel | None = None
    if latest is not None:
        try:
            shown = LinearModel.from_json(latest.weights)
        except (ValueError, TypeError, AttributeError):
            shown = None
    if sensitivity_form is None:
        sensitivity_form = SensitivityForm(sensitivity=state.sensitivity)
    return render_template(
        "complaints/detector.html", state=state, active=record, latest=latest,
        top_words=shown.top_words(15) if shown is not None else [], builtin_meta=builtin().meta,
        counts=learning.label_counts(), min_labels=learning.MIN_LABELS, min_per_class=learning.MIN_PER_CLASS,
        choice_form=DetectorChoiceForm(), sensitivity_form=sensitivity_form, retrain_form=RetrainForm(),
        result=result)


@bp.get("/detector")
@admin_required
def detector() -> str:
    return _page()


@bp.post("/detector/use")
@admin_required
def detector_use() -> Response:
    form = DetectorChoiceForm()
    if not form.validate_on_submit():
        flash(gettext("Choose the learned model or the built-in detector."), "danger")
        return redirect(url_for("complaints.detector"))
    before = learning.state().use_learned
    use_learned = form.use.data == "learned"
    learning.save_state(use_learned=use_learned)
    record_config_change("complaints.detector", "changed", "complaint detector",
                         {"use_learned": before}, {"use_learned": use_learned})
    db_session().commit()
    if use_learned:
        flash(gettext("The learned model is used whenever it beats the built-in detector."), "success")
    else:
        flash(gettext("Switched back to the built-in detector."), "success")
    return redirect(url_for("complaints.detector"))


@bp.post("/detector/retrain")
@admin_required
def detector_retrain() -> Response:
    if not RetrainForm().validate_on_submit():
        flash(gettext("The form expired; please try again."), "danger")
        return redirect(url_for("complaints.detector"))
    record = learning.retrain()
    if record is None:
        flash(gettext("Not enough corrections yet: %(needed)s are needed, with at least %(each)s of each kind.",
                      needed=learning.MIN_LABELS, each=learning.MIN_PER_CLASS), "info")
    elif record.beats_builtin:
        flash(ngettext("Trained on %(num)d correction: the learned model beats the built-in detector.",
                       "Trained on %(num)d corrections: the learned model beats the built-in detector.",
                       record.label_count), "success")
    else:
        flash(ngettext("Trained on %(num)d correction: the built-in detector is still better and stays.",
                       "Trained on %(num)d corrections: the built-in detector is still better and stays.",
                       record.label_count), "info")
    return redirect(url_for("complaints.detector"))


@bp.post("/detector/sensitivity")
@admin_required
def detector_sensitivity() -> str | Response:
    form = SensitivityForm()
    if not form.validate_on_submit():
        return _page(sensitivity_form=form)
    value = int(form.sensitivity.data)
    if form.action.data == "save":
        before = learning.state().sensitivity
        learning.save_state(sensitivity=value)
        record_config_change("complaints.detector", "changed", "complaint detector",
                             {"sensitivity": before}, {"sensitivity": value})
        db_session().commit()
        flash(gettext("Sensitivity set to %(value)s.", value=value), "success")
        return redirect(url_for("complaints.detector"))
    return _page(sensitivity_form=form, result=preview(value))
