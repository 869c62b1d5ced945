"""Surveys: CSAT after resolution and relationship NPS, one-click signed links, follow-up cases, reports.

See the plugin's README for the rules (throttle, sampling, quiet hours, expiry) and for why a
link's GET never records an answer.
"""
from __future__ import annotations

import random
from datetime import datetime, time, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import click
from flask import Blueprint, render_template, url_for
from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from helpdesk import hookimpl
from helpdesk.plugin_api import (
    NotificationKind,
    ReportFilters,
    Setting,
    Ticket,
    User,
    bar_chart,
    db_session,
    gettext,
    lazy_gettext,
    local_day_start,
    local_to_utc,
    ngettext,
    page_rows,
    utcnow,
)
from helpdesk_surveys import access_rules, views_public, views_staff  # noqa: F401  (routes register on import)
from helpdesk_surveys.api import api
from helpdesk_surveys.blueprint import bp
from helpdesk_surveys.config import PLUGIN, SETTINGS
from helpdesk_surveys.jobs import schedule_relationship_surveys, send_due_invitations  # noqa: F401
from helpdesk_surveys.models import SurveyFollowUp, SurveyInvitation, SurveyResponse
from helpdesk_surveys.reports import Tally, build_report, fmt_nps, fmt_percent, month_start
from helpdesk_surveys.responses import store_external
from helpdesk_surveys.scheduling import schedule_after_resolution, schedule_relationship, withdraw_for_ticket
from helpdesk_surveys.sending import send_due

__version__ = "0.1.0"


@hookimpl
def helpdesk_notification_kinds() -> list[NotificationKind]:
    return [NotificationKind("surveys.followup_case", lazy_gettext("A survey follow-up case is assigned to me"))]


@hookimpl
def helpdesk_settings() -> list[Setting]:
    return SETTINGS


@hookimpl
def helpdesk_blueprints() -> list[Blueprint]:
    return [bp]


@hookimpl
def helpdesk_api_blueprints() -> list:
    """Survey answers and feedback in the REST API (``/api/v1/surveys/answers``)."""
    return [api]


@hookimpl
def helpdesk_access_rules() -> ModuleType:
    """Who may use each page (the core's access-matrix test reads it)."""
    return access_rules


@hookimpl
def helpdesk_migrations() -> str:
    return str(Path(__file__).parent / "migrations")


@hookimpl
def helpdesk_demo_data(rng: random.Random) -> str:
    from helpdesk_surveys.demo import seed

    return seed(rng)


@hookimpl
def helpdesk_ticket_changed(ticket: Ticket, changes: dict[str, tuple]) -> None:
    old, new = changes.get("status", (None, None))
    if "merged_into_id" in changes:
        withdraw_for_ticket(ticket.id, "the ticket was merged into another", sent_too=False)
    elif new == "resolved":
        schedule_after_resolution(ticket)
    elif old in ("resolved", "closed") and new in ("new", "open", "pending"):
        # Reopened: the question "how did we do?" is premature; links already sent stop working.
        withdraw_for_ticket(ticket.id, "the ticket was reopened", sent_too=True)


@hookimpl
def helpdesk_feedback_received(ticket: Ticket | None, customer: User, feedback: dict) -> None:
    store_external(ticket, customer, feedback)


@hookimpl
def helpdesk_template_slot(slot: str, context: dict[str, Any]) -> Markup | None:
    user = context.get("user")
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_staff:
        return None
    if slot == "ticket.sidebar":
        return _ticket_sidebar(context["ticket"])
    if slot == "dashboard.main":
        return _dashboard(user)
    return None


@hookimpl
def helpdesk_page_queries(page: str, ticket_ids: list[int], user: User) -> dict[str, Any] | None:
    """The ticket sidebar's answers, invitations and follow-ups (with owners): the core's batch."""
    if page != "ticket" or not getattr(user, "is_staff", False):
        return None
    return {"responses": select(SurveyResponse).where(SurveyResponse.ticket_id.in_(ticket_ids)),
            "invitations": select(SurveyInvitation).where(SurveyInvitation.ticket_id.in_(ticket_ids))
            .order_by(SurveyInvitation.id.desc()).limit(5 * len(ticket_ids)),
            "cases": select(SurveyFollowUp).where(SurveyFollowUp.ticket_id.in_(ticket_ids)),
            "owners": select(User).where(User.id.in_(select(SurveyFollowUp.owner_id).where(
                SurveyFollowUp.ticket_id.in_(ticket_ids))))}


def _ticket_sidebar(ticket: Ticket) -> Markup:
    batch = {name: page_rows(PLUGIN, name, ticket_id=ticket.id)
             for name in ("responses", "invitations", "cases", "owners")}
    if all(rows is not None for rows in batch.values()):  # the page's one statement
        def mine(name: str) -> list[Any]:
            return sorted((r for r in batch[name] or [] if r.ticket_id == ticket.id), key=lambda r: r.id)
        return Markup(render_template("surveys/sidebar.html", responses=mine("responses"),
                                      invitations=mine("invitations")[::-1][:5], cases=mine("cases")))
    responses = list(db_session().scalars(select(SurveyResponse).where(SurveyResponse.ticket_id == ticket.id)
                                        .order_by(SurveyResponse.id)))
    invitations = list(db_session().scalars(select(SurveyInvitation).where(SurveyInvitation.ticket_id == ticket.id)
                                          .order_by(SurveyInvitation.id.desc()).limit(5)))
    cases = list(db_session().scalars(select(SurveyFollowUp).where(SurveyFollowUp.ticket_id == ticket.id)
                                    .options(selectinload(SurveyFollowUp.owner)).order_by(SurveyFollowUp.id)))
    return Markup(render_template("surveys/sidebar.html", responses=responses, invitations=invitations,
                                  cases=cases))


def _dashboard(user: User) -> Markup:
    since = local_to_utc(month_start(local_day_start(utcnow(), user)), user)  # the 1st, in the agent's days
    n, good = db_session().execute(
        select(func.count(), func.count().filter(SurveyResponse.score >= 4))
        .where(SurveyResponse.agent_id == user.id, SurveyResponse.kind == "csat",
               SurveyResponse.score.is_not(None), SurveyResponse.created_at >= since)).one()
    tally = Tally(csat_n=n, csat_good=good)
    comments = list(db_session().scalars(
        select(SurveyResponse).where(SurveyResponse.agent_id == user.id, SurveyResponse.comment != "")
        .options(selectinload(SurveyResponse.customer)).order_by(SurveyResponse.updated_at.desc()).limit(5)))
    open_cases = db_session().scalar(select(func.count()).select_from(SurveyFollowUp).where(
        SurveyFollowUp.owner_id == user.id, SurveyFollowUp.status == "open")) or 0
    return Markup(render_template("surveys/dashboard.html", csat=fmt_percent(tally.csat), tally=tally,
                                  comments=comments, open_cases=open_cases, month=since))


@hookimpl
def helpdesk_nav_links(user: User) -> list[tuple[str, str]] | None:
    if user.is_staff:
        return [(gettext("Satisfaction"), url_for("surveys.report")), (gettext("Follow-ups"), url_for("surveys.cases"))]
    if user.role == "customer":
        return [(gettext("Give feedback"), url_for("surveys.feedback"))]
    return None


@hookimpl
def helpdesk_reports() -> list[tuple[str, str]]:
    return [(gettext("Satisfaction: CSAT, NPS and response rate"), "surveys.report")]


@hookimpl
def helpdesk_report_sections(filters: ReportFilters, user: User) -> list[tuple[str, Markup]]:
    """Satisfaction on the core reports page: CSAT, NPS and response rate for the period, by
    team and by agent (the reader's scope; the team and agent filters pick the rows; the reader's
    days, as the page's own figures)."""
    start = datetime.combine(filters.start, time(0))
    data = build_report(start, datetime.combine(filters.end, time(0)) + timedelta(days=1), viewer=user)
    total = data.total
    if filters.team_id is not None:
        total = data.by_team.get(filters.team_id, Tally())
    elif filters.agent_id is not None:
        total = data.by_agent.get(filters.agent_id, Tally())
    rows = [(label, t.csat, ngettext("%(csat)s of %(num)d answer", "%(csat)s of %(num)d answers", t.csat_n,
                                     csat=fmt_percent(t.csat)))
            for label, t in data.rows("team" if filters.agent_id is None else "agent") if t.csat_n]
    by_team = filters.agent_id is None
    chart = bar_chart(rows, title=gettext("CSAT % by team") if by_team else gettext("CSAT % by agent"),
                      chart_class="chart report-chart", empty=gettext("No CSAT answers in this period"),
                      table=(gettext("Team") if by_team else gettext("Agent"), "CSAT"))
    return [(gettext("Satisfaction (surveys)"), Markup(render_template(
        "surveys/report_section.html", total=total, chart=chart, pct=fmt_percent, nps=fmt_nps,
        link=url_for("surveys.report") + f"?from={filters.start.isoformat()}&to={filters.end.isoformat()}")))]


@hookimpl
def helpdesk_cli(cli: click.Group) -> None:
    @cli.command("surveys-send")
    def surveys_send() -> None:
        """Send the survey invitations that are due now (the worker does this every minute)."""
        click.echo(f"relationship surveys scheduled: {schedule_relationship()}")
        click.echo(f"sent: {send_due()}")


@hookimpl
def helpdesk_customer_timeline(customer: User, user: User, before: datetime | None, limit: int) -> list:
    """The customer's survey answers on their timeline (scoped like the answers' tickets)."""
    from helpdesk.plugin_api import TimelineEntry, scoped_to_tickets

    query = (select(SurveyResponse).where(SurveyResponse.customer_id == customer.id,
                                          scoped_to_tickets(user, SurveyResponse.ticket_id))
             .order_by(SurveyResponse.created_at.desc()).limit(limit))
    if before is not None:
        query = query.where(SurveyResponse.created_at < before)
    entries = []
    for row in db_session().scalars(query):
        score = f" {row.score}" if row.score is not None else ""
        title = gettext("Survey answer (%(kind)s)%(score)s", kind=row.kind, score=score)
        entries.append(TimelineEntry(at=row.created_at, kind="survey", title=title,
                                     text=(row.comment or "")[:240],
                                     ticket_reference=row.ticket.reference if row.ticket else None))
    return entries
