"""Staff pages: reports (with CSV), follow-up cases; admins: survey types and preview."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import aliased, selectinload

from helpdesk.plugin_api import (
    ServiceError,
    Team,
    User,
    admin_required,
    csv_lines,
    db_session,
    format_local,
    gettext,
    language_texts,
    lazy_gettext,
    local_day_start,
    local_to_utc,
    ngettext,
    parse_page,
    record_config_change,
    save_translations,
    scoped_to_tickets,
    staff_required,
    texts_from_form,
    utcnow,
)
from helpdesk_surveys.blueprint import bp
from helpdesk_surveys.charts import bar_chart
from helpdesk_surveys.config import PLUGIN, TEXTS_KIND, TYPE_NUMBERS, split_list, survey_type, survey_types
from helpdesk_surveys.forms import CaseForm, TypeForm
from helpdesk_surveys.models import KINDS, SurveyFollowUp, SurveyResponse, SurveyType
from helpdesk_surveys.reports import build_report, default_range, fmt_nps, fmt_percent
from helpdesk_surveys.responses import AnswerError, close_case
from helpdesk_surveys.sending import check_template, compose

PAGE_SIZE = 20


def _page() -> int:
    return parse_page(request.args.get("page"))


def _reference(ticket_id: int | None) -> str:
    return f"{current_app.config['TICKET_PREFIX']}-{ticket_id}" if ticket_id else ""


# ------------------------------------------------------------------- reports


def _report_params() -> tuple[datetime, datetime, str, dict[str, str]]:
    """The period (midnights of the reader's days, as ``build_report`` takes them) and bucket
    from the query string; errors are shown next to the fields."""
    errors: dict[str, str] = {}
    today = local_day_start(utcnow(), current_user)
    start, end = default_range(today)
    dates = {}
    for name in ("from", "to"):
        raw = request.args.get(name, "").strip()
        if not raw:
            continue
        try:
            dates[name] = datetime.strptime(raw, "%Y-%m-%d")
        except ValueError:
            errors[name] = gettext("Use the form YYYY-MM-DD.")
    if "from" in dates:
        start = dates["from"]
    if "to" in dates:
        end = dates["to"] + timedelta(days=1)  # "to" is inclusive
    if end <= start:
        errors["to"] = gettext("The end must not be before the start.")
        start, end = default_range(today)
    bucket = request.args.get("bucket", "week")
    if bucket not in ("week", "month"):
        errors["bucket"] = gettext("Choose week or month.")
        bucket = "week"
    return start, end, bucket, errors


@bp.get("/surveys/reports")
@staff_required
def report():
    start, end, bucket, errors = _report_params()
    data = build_report(start, end, bucket, viewer=current_user)
    periods = data.periods()
    weekly = bucket == "week"
    csat_chart = bar_chart([(p, t.csat, ngettext("%(period)s: CSAT %(csat)s (%(num)d answer)",
                                                  "%(period)s: CSAT %(csat)s (%(num)d answers)", t.csat_n,
                                                  period=p, csat=fmt_percent(t.csat)))
                            for p, t in periods if t.csat_n], low=0, high=100,
                           title=gettext("CSAT % by week") if weekly else gettext("CSAT % by month"),
                           css_class="chart-csat")
    nps_chart = bar_chart([(p, t.nps, ngettext("%(period)s: NPS %(nps)s (%(num)d answer)",
                                                "%(period)s: NPS %(nps)s (%(num)d answers)", t.nps_n,
                                                period=p, nps=fmt_nps(t.nps)))
                           for p, t in periods if t.nps_n], low=-100, high=100,
                          title=gettext("NPS by week") if weekly else gettext("NPS by month"), css_class="chart-nps")
    since, until = local_to_utc(start, current_user), local_to_utc(end, current_user)
    comments = list(db_session().scalars(
        select(SurveyResponse).where(SurveyResponse.created_at >= since, SurveyResponse.created_at < until,
                                     SurveyResponse.comment != "",
                                     scoped_to_tickets(current_user, SurveyResponse.ticket_id))
        .options(selectinload(SurveyResponse.customer), selectinload(SurveyResponse.agent))
        .order_by(SurveyResponse.created_at.desc()).limit(10)))
    query = {"from": start.strftime("%Y-%m-%d"), "to": (end - timedelta(days=1)).strftime("%Y-%m-%d"),
             "bucket": bucket}
    return render_template("surveys/report.html", data=data, errors=errors, query=query, csat_chart=csat_chart,
                           nps_chart=nps_chart, comments=comments, pct=fmt_percent, nps=fmt_nps,
                           reference=_reference), 200 if not errors else 422


@bp.get("/surveys/reports.csv")
@staff_required
def report_csv():
    start, end, bucket, errors = _report_params()
    if errors:
        abort(400)
    what = request.args.get("what", "responses")
    name = f"satisfaction-{what}-{start:%Y%m%d}-{(end - timedelta(days=1)):%Y%m%d}.csv"
    if what in ("agent", "team", "channel", "period"):
        data = build_report(start, end, bucket, viewer=current_user)
        source = data.periods() if what == "period" else data.rows(what)

        def aggregated() -> Iterator[list]:
            yield [what, "csat_percent", "csat_answers", "nps", "promoters", "passives", "detractors",
                   "invitations_sent", "answered", "response_rate_percent"]
            for label, t in source:
                yield [label, _round(t.csat), t.csat_n, _round(t.nps), t.promoters, t.passives, t.detractors,
                       t.sent, t.answered, _round(t.rate)]

        rows = aggregated()
    elif what == "responses":
        # Decided now, while the request (and so the signed-in user) is there: rows are read later.
        rows = _response_rows(local_to_utc(start, current_user), local_to_utc(end, current_user),
                              scoped_to_tickets(current_user, SurveyResponse.ticket_id))
    else:
        abort(404)
    # The body is written after the view returns: keep the request (and its database session) open.
    return Response(stream_with_context(csv_lines(rows)), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _round(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def _response_rows(start: datetime, end: datetime, in_scope: Any) -> Iterator[list]:
    """Each answer in [start, end) (UTC) that the viewer may see (``in_scope``: a WHERE clause)."""
    customer, agent = aliased(User), aliased(User)
    r = SurveyResponse
    query = (select(r.created_at, r.kind, r.score, r.comment, r.ticket_id, customer.name, customer.email,
                    agent.name, Team.name, r.channel, r.source)
             .outerjoin(customer, customer.id == r.customer_id).outerjoin(agent, agent.id == r.agent_id)
             .outerjoin(Team, Team.id == r.team_id)
             .where(r.created_at >= start, r.created_at < end, in_scope).order_by(r.created_at, r.id))
    yield ["answered_at_utc", "kind", "score", "comment", "ticket", "customer", "customer_email", "agent", "team",
           "channel", "source"]
    for row in db_session().execute(query.execution_options(yield_per=1000)):
        yield [row[0].strftime("%Y-%m-%d %H:%M:%S"), row[1], row[2], row[3], _reference(row[4]), *row[5:]]


# ------------------------------------------------------------------ follow-up cases

CASE_FILTERS = {"open": lazy_gettext("Open"), "overdue": lazy_gettext("Overdue"), "mine": lazy_gettext("Mine (open)"),
                "closed": lazy_gettext("Closed"), "all": lazy_gettext("All")}


@bp.get("/surveys/cases")
@staff_required
def cases():
    show = request.args.get("show", "open")
    if show not in CASE_FILTERS:
        show = "open"
    now = utcnow()
    query = select(SurveyFollowUp).options(
        selectinload(SurveyFollowUp.owner), selectinload(SurveyFollowUp.customer),
        selectinload(SurveyFollowUp.response))
    if show in ("open", "mine", "overdue"):
        query = query.where(SurveyFollowUp.status == "open")
    if show == "overdue":
        query = query.where(SurveyFollowUp.due_at < now)
    if show == "mine":
        query = query.where(SurveyFollowUp.owner_id == current_user.id)
    if show == "closed":
        query = query.where(SurveyFollowUp.status == "closed").order_by(SurveyFollowUp.closed_at.desc())
    query = query.where(scoped_to_tickets(current_user, SurveyFollowUp.ticket_id))
    query = query.order_by(SurveyFollowUp.due_at, SurveyFollowUp.id)
    page = _page()
    rows = list(db_session().scalars(query.offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)))
    return render_template("surveys/cases.html", cases=rows[:PAGE_SIZE], page=page, has_next=len(rows) > PAGE_SIZE,
                           show=show, filters=CASE_FILTERS, now=now, reference=_reference)


def _staff_choices() -> list[tuple[int, str]]:
    staff = db_session().scalars(select(User).where(User.role.in_(("agent", "admin")), User.active.is_(True),
                                                  User.merged_into_id.is_(None)).order_by(User.name))
    return [(0, "(nobody)")] + [(u.id, u.name) for u in staff]


@bp.route("/surveys/cases/<int:case_id>", methods=["GET", "POST"])
@staff_required
def case(case_id: int):
    found = db_session().scalar(select(SurveyFollowUp).where(
        SurveyFollowUp.id == case_id, scoped_to_tickets(current_user, SurveyFollowUp.ticket_id)))
    if found is None:  # no such case, or about a ticket outside the viewer's teams
        abort(404)
    form = CaseForm(obj=None if request.method == "POST" else _case_defaults(found))
    form.owner_id.choices = _staff_choices()
    status = 200
    if request.method == "POST":
        if found.status == "closed":
            flash(gettext("This case is closed; it cannot be changed."), "warning")
            return redirect(url_for("surveys.case", case_id=found.id))
        if form.validate_on_submit():
            now = utcnow()
            found.owner_id = form.owner_id.data or None
            if form.contacted.data and found.contacted_at is None:
                found.contacted_at = now
            elif not form.contacted.data:
                found.contacted_at = None
            found.remedy = (form.remedy.data or "").strip()
            found.outcome = (form.outcome.data or "").strip()
            db_session().commit()
            if request.form.get("action") == "close":
                try:
                    invitation = close_case(found, current_user, now)
                except AnswerError as exc:
                    form.outcome.errors = [str(exc)]
                    status = 422
                else:
                    flash(gettext("Case closed. The customer will be asked again after %(when)s.",
                                  when=format_local(invitation.send_after, current_user, "%Y-%m-%d %H:%M %Z")),
                          "success")
                    return redirect(url_for("surveys.case", case_id=found.id))
            else:
                flash(gettext("Case saved."), "success")
                return redirect(url_for("surveys.case", case_id=found.id))
        else:
            status = 400 if form.csrf_token.errors else 422
    return render_template("surveys/case.html", case=found, form=form, now=utcnow(),
                           reference=_reference), status


def _case_defaults(found: SurveyFollowUp) -> object:
    class Defaults:
        owner_id = found.owner_id or 0
        contacted = found.contacted_at is not None
        remedy = found.remedy
        outcome = found.outcome

    return Defaults()


# ------------------------------------------------------------------------- admin


@bp.get("/surveys/admin")
@admin_required
def admin():
    teams = dict(db_session().execute(select(Team.id, Team.name)).all())
    return render_template("surveys/admin.html", types=survey_types(), teams=teams, plugin=PLUGIN)


@bp.route("/surveys/admin/types/<survey_kind>", methods=["GET", "POST"])
@admin_required
def type_edit(survey_kind: str):
    if survey_kind not in KINDS:
        abort(404)
    current = survey_type(survey_kind)
    form = TypeForm(obj=None if request.method == "POST" else _type_defaults(current))
    form.team_ids.choices = [(t.id, t.name) for t in db_session().scalars(select(Team).order_by(Team.name))]
    preview = None
    status = 200
    text_errors: dict[str, str] = {}
    if request.method == "POST":
        if form.validate_on_submit():
            for name in ("subject", "body"):
                problem = check_template(getattr(form, name).data)
                if problem:
                    getattr(form, name).errors = [problem]
        if form.errors:
            status = 400 if form.csrf_token.errors else 422
        else:
            edited = _apply(SurveyType(kind=survey_kind), form)
            if request.form.get("action") == "preview":
                preview = _preview(edited)
            else:
                stored = db_session().get(SurveyType, survey_kind)
                before = _type_values(stored or current)
                row = stored or SurveyType(kind=survey_kind)
                _apply(row, form)
                row.updated_at = utcnow()
                db_session().add(row)
                try:
                    save_translations(TEXTS_KIND, TYPE_NUMBERS[survey_kind], texts_from_form(request.form, True),
                                      check=check_template)
                except ServiceError as exc:
                    db_session().rollback()
                    text_errors[exc.field or "body"] = str(exc)
                    return render_template("surveys/type_form.html", form=form, kind=survey_kind, preview=None,
                                           texts=language_texts(TEXTS_KIND, TYPE_NUMBERS[survey_kind], True),
                                           text_errors=text_errors), 422
                record_config_change("surveys.type", "changed", f"{survey_kind.upper()} survey", before,
                                     _type_values(row))
                db_session().commit()
                flash(gettext("%(kind)s survey saved.", kind=survey_kind.upper()), "success")
                return redirect(url_for("surveys.admin"))
    return render_template("surveys/type_form.html", form=form, kind=survey_kind, preview=preview,
                           texts=language_texts(TEXTS_KIND, TYPE_NUMBERS[survey_kind], True),
                           text_errors=text_errors), status


TYPE_FIELDS = ("enabled", "trigger", "delay_minutes", "interval_days", "active_days", "team_ids", "channels",
               "question", "subject", "body")


def _type_values(row: SurveyType) -> dict:
    """What the admin audit log keeps of a survey type (its settings and mail template)."""
    return {name: getattr(row, name) for name in TYPE_FIELDS}


def _type_defaults(current: SurveyType) -> object:
    class Defaults:
        enabled, trigger, delay_minutes = current.enabled, current.trigger, current.delay_minutes
        interval_days, active_days = current.interval_days, current.active_days
        team_ids = list(current.team_ids or [])
        channels = ", ".join(current.channels or [])
        question, subject, body = current.question, current.subject, current.body

    return Defaults()


def _apply(row: SurveyType, form: TypeForm) -> SurveyType:
    row.enabled, row.trigger = bool(form.enabled.data), form.trigger.data
    row.delay_minutes, row.interval_days, row.active_days = (form.delay_minutes.data, form.interval_days.data,
                                                             form.active_days.data)
    row.team_ids = [int(t) for t in form.team_ids.data or []]
    row.channels = split_list(form.channels.data)
    row.question, row.subject = form.question.data.strip(), form.subject.data.strip()
    row.body = form.body.data.replace("\r\n", "\n").strip()
    return row


class _Sample:
    """A made-up customer, agent and ticket for the preview (nothing is written)."""

    def __init__(self, name: str, email: str | None = None) -> None:
        self.name, self.email = name, email
        self.first_name = name.split(" ")[0]


class _SampleTicket:
    reference, subject, status, channel, customer_id = "HD-1234", "Printer on fire", "resolved", "web", 0


def _preview(kind_type: SurveyType):
    customer = _Sample("Carla Customer", "carla@example.com")
    agent = _Sample(current_user.name)
    ticket = _SampleTicket() if kind_type.trigger == "resolution" else None
    # Stand-ins with the attributes compose reads, not database rows.
    return compose(kind_type, customer, ticket, agent, "preview-link",  # type: ignore[arg-type]
                   utcnow() + timedelta(days=14))
