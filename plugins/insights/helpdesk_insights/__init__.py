"""Insights: what customers keep telling us (themes), what is rising, "you said, we did"
follow-ups, and customers at risk. Offline: TF-IDF and clustering from scikit-learn.

The plugin listens to public hooks only: ``helpdesk_ticket_created`` (subject and first
message, complaint labels), ``helpdesk_feedback_received`` (survey and portal comments,
low scores), ``helpdesk_ticket_changed`` (reopened tickets) and ``helpdesk_message_added``
(answers to a follow-up). It adds nothing to the queue or the ticket page.
"""
from __future__ import annotations

import random
from pathlib import Path
from types import ModuleType
from typing import Any

import click
from flask import Blueprint, render_template, url_for
from markupsafe import Markup

from helpdesk import hookimpl
from helpdesk.plugin_api import (
    Message,
    NotificationKind,
    ReportFilters,
    Setting,
    SlaTarget,
    Ticket,
    User,
    gettext,
    lazy_gettext,
    sees_every_ticket,
)
from helpdesk_insights import access_rules, analytics, followups, jobs, store
from helpdesk_insights.config import SETTINGS
from helpdesk_insights.views import bp, can_read

__version__ = "0.1.0"


@hookimpl
def helpdesk_settings() -> list[Setting]:
    return SETTINGS


@hookimpl
def helpdesk_blueprints() -> list[Blueprint]:
    return [bp]


@hookimpl
def helpdesk_access_rules() -> ModuleType:
    return access_rules


@hookimpl
def helpdesk_migrations() -> str:
    return str(Path(__file__).parent / "migrations")


@hookimpl
def helpdesk_notification_kinds() -> list[NotificationKind]:
    return [NotificationKind(jobs.KIND, lazy_gettext("A customer theme is rising"))]


@hookimpl
def helpdesk_demo_data(rng: random.Random) -> str:
    from helpdesk_insights.demo import seed

    return seed(rng)


# ------------------------------------------------------------------ events


@hookimpl
def helpdesk_ticket_created(ticket: Ticket, message: Message) -> None:
    text_id = store.ingest_ticket(ticket, message)
    if text_id is not None:
        jobs.assign_text(text_id)  # after the commit: the theme is found within seconds


@hookimpl
def helpdesk_feedback_received(ticket: Ticket | None, customer: User, feedback: dict) -> None:
    text_id = store.ingest_feedback(ticket, customer, feedback)
    if text_id is not None:
        jobs.assign_text(text_id)


@hookimpl
def helpdesk_ticket_changed(ticket: Ticket, changes: dict[str, tuple]) -> None:
    old, new = changes.get("status", (None, None))
    if old in ("resolved", "closed") and new in ("new", "open", "pending"):
        store.ticket_reopened(ticket)


@hookimpl
def helpdesk_sla_breached(ticket: Ticket, target: SlaTarget) -> None:
    store.sla_breached(ticket, target)


@hookimpl
def helpdesk_message_added(ticket: Ticket, message: Message) -> None:
    followups.customer_replied(ticket, message)


# ------------------------------------------------------------------ pages


@hookimpl
def helpdesk_nav_links(user: User) -> list[tuple[str, str]] | None:
    return [(gettext("Insights"), url_for("insights.index"))] if can_read(user) else None


@hookimpl
def helpdesk_reports() -> list[tuple[str, str]]:
    return [(gettext("Insights: customer themes"), "insights.index")]


@hookimpl
def helpdesk_template_slot(slot: str, context: dict[str, Any]) -> Markup | None:
    """Rising themes on the agent dashboard; customer health on the ticket page and the customer
    page as an empty placeholder that the plugin's script fills from its own URL after load (no
    SQL in the page's render)."""
    user = context.get("user")
    if user is None or not getattr(user, "is_authenticated", False) or not can_read(user):
        return None
    if slot in ("ticket.customer_context", "customer.sidebar"):
        customer = context.get("customer")
        if customer is None:
            return None
        return Markup(render_template("insights/health_placeholder.html", customer_id=customer.id))
    if slot != "dashboard.main":
        return None
    rising = analytics.rising_themes()
    if not rising:
        return None
    return Markup(render_template("insights/dashboard_card.html", rising=rising))


@hookimpl
def helpdesk_report_sections(filters: ReportFilters, user: User) -> list[tuple[str, Markup]] | None:
    """Themes of the period on /reports; follows the channel and team filters (the others: ignored).

    Themes look across every ticket, so only readers who see every ticket get the section."""
    if not sees_every_ticket(user) or not user.is_staff:
        return None
    stats = analytics.theme_stats(since=filters.since, until=filters.until, channel=filters.channel,
                                  team_id=filters.team_id, now=filters.until)
    return [(gettext("Customer themes (insights)"), Markup(render_template(
        "insights/report_section.html", stats=stats[:10], filters=filters)))]


@hookimpl
def helpdesk_cli(cli: click.Group) -> None:
    @cli.command("insights-recompute")
    def insights_recompute() -> None:
        """Group every text into themes again (the worker does this every night)."""
        with click.progressbar(length=100, label="Finding themes") as bar:
            done = [0]

            def progress(what: str, pct: int) -> None:
                bar.label = f"Finding themes: {what}"
                bar.update(pct - done[0])
                done[0] = pct

            model = store.recompute(progress=progress)
        click.echo(f"{model.texts} texts, {model.themes} themes")
