"""Hello: greets every new ticket. The example plugin of ``docs/plugins.md``.

Everything a plugin needs comes from ``helpdesk.hookimpl`` and ``helpdesk.plugin_api``;
the rest is plain Flask, SQLAlchemy and click.
"""
from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

import click
from flask import Blueprint, render_template, url_for
from markupsafe import Markup
from sqlalchemy import func, select

from helpdesk import hookimpl
from helpdesk.plugin_api import Setting, Ticket, User, db_session, get_setting, lazy_gettext, utcnow
from helpdesk_hello import access_rules
from helpdesk_hello.jobs import count_greetings, greeting_count
from helpdesk_hello.models import HelloGreeting
from helpdesk_hello.views import bp

__version__ = "0.1.0"
PLUGIN = "hello"  # the entry-point name: settings, jobs and is_enabled() use it
requires_api = ">=1,<2"  # the plugin API versions this works with (helpdesk.plugin_api.API_VERSION)


@hookimpl
def helpdesk_settings() -> list[Setting]:
    return [
        Setting("greeting", "text", default="Hello", label=lazy_gettext("Greeting"),
                help=lazy_gettext("The greeting shown in the ticket sidebar.")),
        Setting("max_per_day", "int", default=50, min=1, max=1000, label=lazy_gettext("Greetings per day"),
                help=lazy_gettext("At most this many greetings are stored per day (UTC).")),
    ]


@hookimpl
def helpdesk_blueprints() -> list[Blueprint]:
    return [bp]


@hookimpl
def helpdesk_access_rules() -> ModuleType:
    """Who may use each page, for the core's access-matrix test."""
    return access_rules


@hookimpl
def helpdesk_migrations() -> str:
    return str(Path(__file__).parent / "migrations")


@hookimpl
def helpdesk_ticket_created(ticket: Ticket) -> None:
    """Store a greeting (up to ``max_per_day`` a day), then enqueue the counting job."""
    midnight = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
    today = db_session().scalar(
        select(func.count()).select_from(HelloGreeting).where(HelloGreeting.created_at >= midnight))
    if today >= get_setting(PLUGIN, "max_per_day"):
        return
    db_session().add(HelloGreeting(ticket_id=ticket.id))
    db_session().commit()  # event hooks run after the core's commit: the plugin commits its own row
    count_greetings()  # enqueues the job; the worker runs it


@hookimpl
def helpdesk_template_slot(slot: str, context: dict[str, Any]) -> Markup | None:
    if slot != "ticket.sidebar":
        return None
    ticket = context["ticket"]
    greeted_at = db_session().scalar(
        select(HelloGreeting.created_at).where(HelloGreeting.ticket_id == ticket.id).limit(1))
    # render_template returns a str; Markup says "this is HTML", or the core escapes it.
    return Markup(render_template("hello/sidebar.html", ticket=ticket, greeted_at=greeted_at,
                                  greeting=get_setting(PLUGIN, "greeting")))


@hookimpl
def helpdesk_nav_links(user: User) -> list[tuple[str, str]] | None:
    return [("Hello", url_for("hello.index"))] if user.is_staff else None


@hookimpl
def helpdesk_cli(cli: click.Group) -> None:
    @cli.command("hello-stats")
    def hello_stats() -> None:
        """Print how many greetings the hello plugin has stored."""
        click.echo(f"{greeting_count()} greeting(s)")
