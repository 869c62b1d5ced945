"""Coaching: specific, constructive feedback that helps agents grow.

Admins define a scorecard; team leads (or peers, when enabled) review solved tickets
against it, item by item, pointing at messages, with an overall comment and one
suggestion; the agent reads, replies or disputes. A queue suggests what to review by
stated rules (low CSAT, complaints, long resolution, reopened, a weekly random sample per
agent). Growth pages put scorecard trends, CSAT and reviews side by side, with a focus
agreed between lead and agent and a check-in reminder. In the composer, advisory reply
checks for clarity and empathy. See the README.
"""
from __future__ import annotations

import random
from pathlib import Path
from types import ModuleType
from typing import Any

from flask import Blueprint, render_template, url_for
from markupsafe import Markup
from sqlalchemy import select

from helpdesk import hookimpl
from helpdesk.plugin_api import (
    NotificationKind,
    ReplyWarning,
    Setting,
    Ticket,
    User,
    db_session,
    gettext,
    lazy_gettext,
)
from helpdesk_coaching import access_rules, checks, jobs  # noqa: F401  (jobs registers the reminder)
from helpdesk_coaching.config import SETTINGS
from helpdesk_coaching.models import Rating, Reopen
from helpdesk_coaching.people import SOLVED
from helpdesk_coaching.views import bp

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
    return [
        NotificationKind("coaching.review", lazy_gettext("Someone reviews my work on a ticket"), default="immediately"),
        NotificationKind("coaching.reply", lazy_gettext("A reply or dispute on a review I am part of"), default="app"),
        NotificationKind("coaching.checkin", lazy_gettext("A coaching check-in date has come"), default="immediately"),
    ]


@hookimpl
def helpdesk_demo_data(rng: random.Random) -> str:
    from helpdesk_coaching.demo import seed

    return seed(rng)


# ------------------------------------------------------------------ events (public data only)


@hookimpl
def helpdesk_feedback_received(ticket: Ticket | None, feedback: dict) -> None:
    """A CSAT rating on a ticket, credited to its assignee (the latest answer counts)."""
    score = feedback.get("score")
    if ticket is None or feedback.get("kind") != "csat" or score is None:
        return
    row = db_session().get(Rating, ticket.id) or Rating(ticket_id=ticket.id)
    row.agent_id, row.score = ticket.assignee_id, int(score)
    db_session().add(row)
    db_session().commit()


@hookimpl
def helpdesk_ticket_changed(ticket: Ticket, changes: dict[str, tuple]) -> None:
    old, new = changes.get("status", (None, None))
    if old in SOLVED and new is not None and new not in SOLVED:
        db_session().add(Reopen(ticket_id=ticket.id))
        db_session().commit()


@hookimpl
def helpdesk_reply_checks(ticket: Ticket, body: str) -> list[ReplyWarning]:
    return checks.check(ticket, body)


# ------------------------------------------------------------------ UI


@hookimpl
def helpdesk_nav_links(user: User) -> list[tuple[str, str]] | None:
    # No count here: the link is on every page, and pages must not pay a query for it.
    return [(gettext("Coaching"), url_for("coaching.index"))] if user.is_staff else None


@hookimpl
def helpdesk_template_slot(slot: str, context: dict[str, Any]) -> Markup | None:
    user = context.get("user")
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_staff:
        return None
    if slot == "ticket.sidebar":
        # A lazy panel: no query while the ticket page renders; coaching/panel.js fills it.
        return Markup(render_template("coaching/sidebar.html", ticket=context["ticket"]))
    if slot == "dashboard.main":
        from helpdesk_coaching.models import Review

        unread = list(db_session().scalars(select(Review).where(Review.agent_id == user.id, Review.read_at.is_(None))
                                           .order_by(Review.id.desc()).limit(5)))
        return Markup(render_template("coaching/dashboard.html", unread=unread)) if unread else None
    return None
