"""The core reports page, ``/reports`` (registered as ``core.reports``, always enabled).

Agents and admins (not light agents, not customers) read volume, backlog, response and
resolution times, SLA attainment, reopen and one-touch rates for the tickets they may see
(``access.ticket_scope``: a team-scoped agent's report covers their scope only), by team,
agent, channel, tag and priority, with the busiest hours in their own time zone; each
table downloads as CSV. Plugins add sections through ``helpdesk_report_sections``.

The numbers come from ``helpdesk.reports`` (``metrics`` over the ``ticket_facts`` rows,
which the event hooks below keep in step after every commit).
"""
from __future__ import annotations

import click
from flask import Blueprint, Response, abort, render_template, request, stream_with_context, url_for
from flask.cli import with_appcontext
from flask_babel import format_date, gettext
from flask_login import current_user
from markupsafe import Markup, escape
from sqlalchemy import select

from helpdesk.charts import column_chart, data_table, heatmap_chart
from helpdesk.csv_export import csv_lines
from helpdesk.extensions import db
from helpdesk.languages import N_
from helpdesk.markers import hookimpl
from helpdesk.models import Message, Organisation, SlaTarget, Tag, Team, Ticket, User
from helpdesk.models.tickets import PRIORITIES
from helpdesk.models.users import team_members
from helpdesk.plugin_manager import manager
from helpdesk.reports import facts, tables
from helpdesk.reports.filters import parse_filters
from helpdesk.reports.metrics import DIMENSIONS, WEEKDAYS, Report, build_report
from helpdesk.web.auth import staff_required

bp = Blueprint("reports", __name__)


@bp.get("/reports")
@staff_required
def index() -> tuple[str, int] | str:
    filters, errors = parse_filters(request.args, current_user)
    report = build_report(current_user, filters)
    sections = []
    for plugin, result in manager().call_collect("helpdesk_report_sections", filters=filters, user=current_user):
        for title, html in result or []:
            sections.append({"plugin": plugin, "title": str(title), "html": Markup(html)})
    query = {k: v for k, v in request.args.items() if k in FILTER_KEYS}
    page = render_template("reports/index.html", report=report, filters=filters, errors=errors,
                           typed=request.args, charts=_charts(report), tables=tables, query=query,
                           choices=_choices(), sections=sections, dimensions=DIMENSIONS)
    return (page, 422) if errors else page


FILTER_KEYS = ("start", "end", "interval", "team", "agent", "channel", "tag", "priority", "organisation")


@bp.get("/reports/<table>.csv")
@staff_required
def export(table: str) -> Response:
    """One table of the page as CSV, for the same period and filters."""
    if table not in tables.TABLES:
        abort(404)
    filters, _errors = parse_filters(request.args, current_user)
    report = build_report(current_user, filters)
    lines = [tables.headers(table, csv=True), *tables.rows(report, table, csv=True)]
    filename = f"report-{table}-{filters.start.isoformat()}-{filters.end.isoformat()}.csv"
    return Response(stream_with_context(csv_lines(lines)), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _label(report: Report, index: int) -> str:
    day = report.series[index].start
    shown = format_date(day, "dd MMM")
    return shown if report.filters.interval == "day" else gettext("wk %(day)s", day=shown)


def _charts(report: Report) -> dict[str, Markup]:
    series = report.series
    weekly = report.filters.interval == "week"
    top = max([b.created for b in series] + [b.solved for b in series] + [1])
    backlog_top = max([b.backlog for b in series] + [1])
    period = gettext("Week starting") if weekly else gettext("Day")
    # Whole sentences for the translators: one per chart and interval, one tooltip per series.
    titles = {
        "created": gettext("Tickets created per week starting") if weekly else gettext("Tickets created per day"),
        "solved": gettext("Tickets solved per week starting") if weekly else gettext("Tickets solved per day"),
        "backlog": gettext("Open tickets at the end of each week starting") if weekly
        else gettext("Open tickets at the end of each day"),
    }
    tips = {"created": N_("%(day)s: %(num)s created"), "solved": N_("%(day)s: %(num)s solved"),
            "backlog": N_("%(day)s: %(num)s open")}

    def chart(attr: str, high: int) -> Markup:
        title = titles[attr]
        points = [(_label(report, i), float(getattr(b, attr)),
                   gettext(tips[attr], day=b.start.isoformat(), num=getattr(b, attr)))
                  for i, b in enumerate(series)]
        svg = column_chart(points, low=0, high=_nice(high), title=title, chart_class="chart report-chart",
                           css_class=f"report-{attr}", empty=gettext("No tickets"))
        table = data_table((period, title), [(b.start.isoformat(), getattr(b, attr)) for b in series], caption=title)
        return Markup(f'<h3 class="h6">{escape(title)}</h3>') + svg + table

    hours = [f"{h:02d}" for h in range(24)]
    return {
        "created": chart("created", top),
        "solved": chart("solved", top),
        "backlog": chart("backlog", backlog_top),
        "hours": heatmap_chart([gettext(day) for day in WEEKDAYS], hours, report.heatmap,
                               title=gettext("Tickets created by weekday and hour (%(zone)s)",
                                             zone=report.filters.timezone),
                               # heatmap_chart fills {row}, {column} and {value} in for each cell.
                               tip=gettext("{row} {column}:00: {value} tickets created"),
                               chart_class="chart report-chart"),
    }


def _nice(value: int) -> int:
    """An axis top that divides into four grid steps of whole numbers."""
    return max(4, -(-value // 4) * 4)


def _choices() -> dict:
    """The filters' lists: teams (a team-scoped agent's own), agents, channels, tags."""
    teams = select(Team.id, Team.name).order_by(Team.name)
    if not (current_user.is_admin or not current_user.team_scoped):
        teams = teams.join(team_members, team_members.c.team_id == Team.id).where(
            team_members.c.user_id == current_user.id)
    return {
        "teams": db.session.execute(teams).all(),
        "agents": db.session.execute(select(User.id, User.name).where(User.role.in_(("agent", "admin")))
                                     .order_by(User.name)).all(),
        "channels": list(db.session.scalars(select(Ticket.channel).distinct().order_by(Ticket.channel))),
        # What each channel is called (its label); a channel whose plugin is gone reads as its key.
        "channel_labels": {name: str(channel.label or name) for name, channel in manager().channels().items()},
        "tags": list(db.session.scalars(select(Tag.name).order_by(Tag.name).limit(500))),
        "priorities": PRIORITIES,
        "organisations": db.session.execute(select(Organisation.id, Organisation.name)
                                            .order_by(Organisation.name).limit(500)).all(),
    }


# ------------------------------------------------------------------ hooks


@hookimpl
def helpdesk_blueprints() -> list[Blueprint]:
    return [bp]


@hookimpl
def helpdesk_nav_links(user: User) -> list[tuple[str, str]] | None:
    return [("Reports", url_for("reports.index"))] if user.is_staff else None


@hookimpl
def helpdesk_ticket_created(ticket: Ticket) -> None:
    facts.refresh_new(ticket)  # in the ticket's transaction, committed with it


@hookimpl
def helpdesk_message_added(ticket: Ticket, message: Message) -> None:
    facts.refresh_one(ticket.id)


@hookimpl
def helpdesk_ticket_changed(ticket: Ticket) -> None:
    facts.refresh_one(ticket.id)


@hookimpl
def helpdesk_sla_breached(ticket: Ticket, target: SlaTarget) -> None:
    facts.refresh_one(ticket.id)


@hookimpl
def helpdesk_cli(cli: click.Group) -> None:
    @cli.group("reports")
    def reports_group() -> None:
        """The core reports."""

    @reports_group.command("backfill")
    @with_appcontext
    def backfill() -> None:
        """Rebuild the per-ticket facts the reports read (after upgrading or an import)."""
        done = facts.backfill()
        click.echo(f"Facts rebuilt for {done} tickets.")
