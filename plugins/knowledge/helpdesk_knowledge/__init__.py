"""Knowledge base and self-service: articles in Markdown, a help centre, suggestions before tickets.

See the plugin's README: who writes (the ``editor_roles`` setting), who reads what (the
one scoping function ``articles.visible_articles``), how search works on SQLite and
PostgreSQL, and what the plugin puts on the core's pages (no queries on the ticket page:
the suggestions panel fetches its content after load).
"""
from __future__ import annotations

import random
import secrets
from datetime import datetime, time, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

from flask import Blueprint, render_template, url_for
from markupsafe import Markup

from helpdesk import hookimpl
from helpdesk.plugin_api import ReportFilters, Setting, User, gettext
from helpdesk_knowledge import access_rules, stats
from helpdesk_knowledge.config import SETTINGS, is_editor, is_public
from helpdesk_knowledge.views import bp

__version__ = "0.1.0"


@hookimpl
def helpdesk_settings() -> list[Setting]:
    return SETTINGS


@hookimpl
def helpdesk_blueprints() -> list[Blueprint]:
    return [bp]


@hookimpl
def helpdesk_access_rules() -> ModuleType:
    """Who may use each page (the core's access-matrix test reads it)."""
    return access_rules


@hookimpl
def helpdesk_migrations() -> str:
    return str(Path(__file__).parent / "migrations")


@hookimpl
def helpdesk_demo_data(rng: random.Random) -> str:
    from helpdesk_knowledge.demo import seed

    return seed(rng)


@hookimpl
def helpdesk_template_slot(slot: str, context: dict[str, Any]) -> Markup | None:
    """No slot reads the database: the ticket panel is a placeholder filled by knowledge.js."""
    user = context.get("user")
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    if slot == "portal.new_ticket" and user.role == "customer":
        return Markup(render_template("knowledge/_portal_suggest.html", attempt=secrets.token_urlsafe(18)))
    if slot == "ticket.sidebar" and user.is_backoffice:
        ticket = context["ticket"]
        return Markup(render_template("knowledge/_ticket_panel.html", ticket=ticket, editor=is_editor(user)))
    if slot == "message.after_body" and user.is_backoffice and is_editor(user):
        message, ticket = context["message"], context["ticket"]
        if not message.internal and message.author_id is not None and message.author_id != ticket.customer_id:
            return Markup(render_template("knowledge/_from_reply.html", message=message))
    return None


@hookimpl
def helpdesk_suggest_answers(text: str, language: str, limit: int) -> list[dict[str, Any]]:
    """Public articles for a customer's words, with a confidence (the chat widget's and the
    email acknowledgement's answer bot; see ``answers.py``)."""
    from helpdesk_knowledge.answers import suggest_answers

    return suggest_answers(text, language, limit)


@hookimpl
def helpdesk_answer_accepted(article_id: int, attempt: str, channel: str, text: str) -> bool | None:
    """A suggested article solved it: one deflection per attempt."""
    from helpdesk_knowledge.answers import answer_accepted

    return answer_accepted(article_id, attempt, channel, text)


@hookimpl
def helpdesk_nav_links(user: User) -> list[tuple[str, str]] | None:
    if user.is_backoffice:
        return [(gettext("Knowledge"), url_for("knowledge.manage"))]
    if user.role == "customer":
        return [(gettext("Help centre"), url_for("knowledge.home"))]
    return None


@hookimpl
def helpdesk_reports() -> list[tuple[str, str]]:
    return [(gettext("Knowledge base: deflection, votes, searches with no result"), "knowledge.manage")]


@hookimpl
def helpdesk_report_sections(filters: ReportFilters, user: User) -> list[tuple[str, Markup]] | None:
    """Self-service on the core reports page: deflection rate, helpful votes, searches with no
    result, for the period (whole days in UTC; team and agent filters do not apply)."""
    if not user.is_backoffice:
        return None
    start = datetime.combine(filters.start, time(0))
    end = datetime.combine(filters.end, time(0)) + timedelta(days=1)
    return [(gettext("Self-service (knowledge base)"), Markup(render_template(
        "knowledge/report_section.html", f=stats.figures(start, end), public=is_public())))]
