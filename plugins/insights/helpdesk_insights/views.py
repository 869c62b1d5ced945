"""Insights pages: themes (list, one theme, admin edits), "you said, we did", customers at risk.

Readers are staff who see every ticket (themes quote tickets of every team); admins edit
themes; leads (admins and team leads) write the action and send the follow-up. The opt-out
page behind a signed link is public: the link is the permission.
"""
from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from helpdesk.plugin_api import (
    ServiceError,
    Team,
    User,
    column_chart,
    csv_lines,
    db_session,
    format_local,
    gettext,
    ngettext,
    parse_int,
    record_config_change,
    sees_every_ticket,
    staff_required,
)
from helpdesk_insights import analytics, followups, health, jobs, risk, store
from helpdesk_insights.models import InsightsTheme

bp = Blueprint("insights", __name__, url_prefix="/insights", template_folder="templates",
               static_folder="static", static_url_path="/static")


def can_read(user: User) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_staff and sees_every_ticket(user))


def is_lead(user: User) -> bool:
    """Admins, and agents who lead a team."""
    if not can_read(user):
        return False
    return user.is_admin or db_session().scalar(select(Team.id).where(Team.lead_id == user.id).limit(1)) is not None


def _reader() -> None:
    if not can_read(current_user):
        abort(403)


def _theme(theme_id: int) -> InsightsTheme:
    theme = store.get_theme(theme_id)
    if theme is None:
        abort(404)
    return theme


def _filters() -> dict:
    """The themes list's filters from the query string (unknown values: ignored, shown as "any")."""
    channel = (request.args.get("channel") or "").strip()[:40] or None
    team = store.get_team(request.args.get("team"))
    csat = request.args.get("csat") if request.args.get("csat") in analytics.CSAT_BANDS else None
    return {"channel": channel, "team_id": team.id if team else None, "csat": csat}


@bp.get("/")
@staff_required
def index():
    _reader()
    filters = _filters()
    stats = analytics.theme_stats(include_hidden=current_user.is_admin, **filters)
    return render_template("insights/index.html", stats=stats, model=store.current_model(),
                           lead=is_lead(current_user), filters=filters, bands=list(analytics.CSAT_BANDS),
                           teams=list(db_session().scalars(select(Team).order_by(Team.name))),
                           channels=store.channels(), query=request.query_string.decode())


@bp.get("/themes.csv")
@staff_required
def themes_csv():
    _reader()
    filters = _filters()
    rows = [("theme", "texts", "tickets", "customers", "sentiment", "complaints", "last 7 days", "weekly baseline",
             "rising", "channels", "key phrases", "pinned tag", "action")]
    for s in analytics.theme_stats(**filters):
        rows.append((s.theme.name, s.texts, s.tickets, s.customers, s.sentiment, s.complaints, s.recent,
                     round(s.baseline, 2), "yes" if s.rising else "no",
                     "; ".join(f"{c} {n}" for c, n in s.channels.most_common()), "; ".join(s.theme.key_phrases),
                     s.theme.pinned_tag or "", s.theme.action or ""))
    return Response(csv_lines(rows), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=insights-themes.csv"})


@bp.post("/recompute")
@staff_required
def recompute():
    if not current_user.is_admin:
        abort(403)
    jobs.recompute_now()
    flash(gettext("Themes are being grouped again; this page shows the result when it is done."), "success")
    return redirect(url_for("insights.index"))


@bp.get("/themes/<int:theme_id>")
@staff_required
def theme(theme_id: int):
    _reader()
    item = _theme(theme_id)
    if item.merged_into_id is not None:
        flash(gettext("“%(theme)s” was merged into this theme.", theme=item.name), "info")
        return redirect(url_for("insights.theme", theme_id=item.merged_into_id))
    stats = next(iter(analytics.theme_stats(include_hidden=True, theme_ids=[item.id])), None) \
        or analytics.ThemeStats(item)
    weeks = analytics.weekly(item.id)
    chart = column_chart([(format_local(start, current_user, "%d %b"), count,
                           f"{count} in the week from {format_local(start, current_user, '%d %b')}")
                          for start, count in weeks],
                         low=0, high=max([c for _, c in weeks] + [4]), title=f"{item.name}: texts per week",
                         chart_class="chart insights-chart", empty="Nothing in the last 12 weeks",
                         table=("Week from", "Texts"))
    others = [t for t in db_session().scalars(select(InsightsTheme).where(
        InsightsTheme.merged_into_id.is_(None), InsightsTheme.id != item.id).order_by(InsightsTheme.name))]
    return render_template("insights/theme.html", theme=item, stats=stats, chart=chart,
                           quotes=analytics.quotes(item.id), others=others, lead=is_lead(current_user),
                           record=followups.record(item))


def _admin_edit(theme_id: int, what):
    if not current_user.is_admin:
        abort(403)
    item = _theme(theme_id)
    try:
        message = what(item)
    except ServiceError as error:
        flash(str(error), "danger")
    else:
        record_config_change("insights.theme", "changed", f"theme {item.name} (#{item.id})", actor=current_user,
                             after={"result": message})
        db_session().commit()
        flash(message, "success")
    return redirect(url_for("insights.theme", theme_id=item.merged_into_id or item.id))


@bp.post("/themes/<int:theme_id>/rename")
@staff_required
def rename(theme_id: int):
    def go(item: InsightsTheme) -> str:
        store.rename(item, request.form.get("name", ""))
        return f"Theme renamed to “{item.name}”."
    return _admin_edit(theme_id, go)


@bp.post("/themes/<int:theme_id>/hide")
@staff_required
def hide(theme_id: int):
    def go(item: InsightsTheme) -> str:
        store.set_hidden(item, request.form.get("hidden") == "1")
        return f"“{item.name}” is {'hidden from the lists' if item.hidden else 'shown again'}."
    return _admin_edit(theme_id, go)


@bp.post("/themes/<int:theme_id>/pin")
@staff_required
def pin(theme_id: int):
    def go(item: InsightsTheme) -> str:
        store.pin(item, request.form.get("tag", ""))
        return (f"New tickets in “{item.name}” get the tag {item.pinned_tag}." if item.pinned_tag
                else f"“{item.name}” no longer tags new tickets.")
    return _admin_edit(theme_id, go)


@bp.post("/themes/<int:theme_id>/merge")
@staff_required
def merge(theme_id: int):
    def go(item: InsightsTheme) -> str:
        target = store.get_theme(parse_int(request.form.get("target"), low=1))
        if target is None:
            raise ServiceError(gettext('Choose the theme to merge into.'), field="target")
        store.merge(item, target)
        return f"“{item.name}” merged into “{target.name}”."
    return _admin_edit(theme_id, go)


@bp.post("/themes/<int:theme_id>/split")
@staff_required
def split(theme_id: int):
    def go(item: InsightsTheme) -> str:
        other = store.split(item)
        return f"“{item.name}” split: part of it is now “{other.name}”."
    return _admin_edit(theme_id, go)


def _lead_theme(theme_id: int) -> InsightsTheme:
    if not is_lead(current_user):
        abort(403)
    return _theme(theme_id)


@bp.post("/themes/<int:theme_id>/action")
@staff_required
def action(theme_id: int):
    item = _lead_theme(theme_id)
    try:
        followups.set_action(item, request.form.get("action", ""), current_user)
    except ServiceError as error:
        flash(str(error), "danger")
        return redirect(url_for("insights.theme", theme_id=item.id))
    flash(gettext("Action saved. Preview the follow-up to tell the customers who raised it."), "success")
    return redirect(url_for("insights.follow_up", theme_id=item.id))


@bp.route("/themes/<int:theme_id>/follow-up", methods=["GET", "POST"])
@staff_required
def follow_up(theme_id: int):
    item = _lead_theme(theme_id)
    if request.method == "POST":
        try:
            counts = followups.send(item, current_user, expected=parse_int(request.form.get("expected"), low=0) or 0)
        except ServiceError as error:
            flash(str(error), "danger")
        else:
            if counts["held"]:
                said = ngettext("Follow-up sent to %(num)d customer, %(held)s held back by the notice rules "
                                "(see their tickets' history).",
                                "Follow-up sent to %(num)d customers, %(held)s held back by the notice rules "
                                "(see their tickets' history).", counts["sent"], held=counts["held"])
            else:
                said = ngettext("Follow-up sent to %(num)d customer.", "Follow-up sent to %(num)d customers.",
                                counts["sent"])
            flash(said, "success")
            return redirect(url_for("insights.theme", theme_id=item.id))
    recipients = followups.recipients(item)
    due = [r for r in recipients if r.status == "send"]
    sample = followups.message_for(item, due[0]) if due and item.action else None
    return render_template("insights/follow_up.html", theme=item, recipients=recipients, due=due, sample=sample)


@bp.get("/at-risk")
@staff_required
def at_risk():
    _reader()
    from helpdesk_insights.config import setting

    rows = risk.at_risk()
    return render_template("insights/at_risk.html", rows=rows, days=setting("risk_days"),
                           least=setting("risk_min_signals"), scores={r.customer.id: health.health(r.customer.id)
                                                                       for r in rows})


@bp.get("/customers/<int:customer_id>/health")
@staff_required
def customer_health(customer_id: int):
    """The customer's health and its reasons: a fragment for the ticket page's lazy panel."""
    _reader()
    customer = db_session().get(User, customer_id)
    if customer is None or customer.role != "customer":
        abort(404)
    return render_template("insights/health_panel.html", customer=customer, health=health.health(customer.id))


@bp.route("/optout/<optout_token>", methods=["GET", "POST"])
def optout(optout_token: str):
    customer_id = followups.read_optout(optout_token)
    if customer_id is None:
        return render_template("insights/optout.html", problem=True), 400
    done = False
    if request.method == "POST":
        followups.opt_out(customer_id)
        done = True
    return render_template("insights/optout.html", problem=False, done=done)
