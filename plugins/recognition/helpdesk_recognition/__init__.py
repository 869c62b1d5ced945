"""Recognition: timely, specific praise for agents, from customers and from colleagues.

Customers' top ratings with a comment and their thank-yous become kudos for the agents who
worked the ticket; colleagues give kudos from a ticket or a profile. Agents see it on their
dashboard, in a feed, on profiles and a leaderboard (measures side by side, no single score),
and choose whether it is public. Milestone badges, a weekly digest. See the README.
"""
from __future__ import annotations

import random
from pathlib import Path
from types import ModuleType
from typing import Any

from flask import Blueprint, render_template, url_for
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from helpdesk import hookimpl
from helpdesk.plugin_api import (
    Message,
    NotificationKind,
    Setting,
    Ticket,
    User,
    active_agents,
    db_session,
    get_setting,
    gettext,
    lazy_gettext,
    nav_count,
    page_rows,
)
from helpdesk_recognition import access_rules, digest, kudos, milestones  # noqa: F401  (digest registers its job)
from helpdesk_recognition.config import MAX_MESSAGE, PLUGIN, SETTINGS, value_tags
from helpdesk_recognition.models import THANKS, Kudos
from helpdesk_recognition.notices import unread, unread_count, unread_count_query
from helpdesk_recognition.privacy import visible_to
from helpdesk_recognition.views import bp

__version__ = "0.1.0"


@hookimpl
def helpdesk_settings() -> list[Setting]:
    return SETTINGS


@hookimpl
def helpdesk_blueprints() -> list[Blueprint]:
    return [bp]


@hookimpl
def helpdesk_notification_kinds() -> list[NotificationKind]:
    # The bell by default: recognition mails kudos itself to agents who opted in.
    return [NotificationKind("recognition.kudos", lazy_gettext("Someone gives me kudos"), default="app")]


@hookimpl
def helpdesk_access_rules() -> ModuleType:
    """Who may use each page (the core's access-matrix test reads it)."""
    return access_rules


@hookimpl
def helpdesk_migrations() -> str:
    return str(Path(__file__).parent / "migrations")


@hookimpl
def helpdesk_demo_data(rng: random.Random) -> str:
    from helpdesk_recognition.demo import seed

    return seed(rng)


# ------------------------------------------------------------------ events


@hookimpl
def helpdesk_feedback_received(ticket: Ticket | None, customer: User, feedback: dict) -> None:
    """Ratings are credited to the ticket's agents; a top rating with words is also a kudos."""
    kind, score = feedback.get("kind"), feedback.get("score")
    if ticket is None or kind not in ("csat", "nps") or score is None:
        return
    agents = kudos.workers_of(ticket)
    for agent in agents:
        kudos.record_rating(agent, ticket, kind, int(score))
    if kudos.is_praise(feedback):
        kudos.credit_customer_praise(ticket, customer, "rating", feedback["comment"], int(score))
    if kind == "csat" and score == 5:
        for agent in agents:
            milestones.check_five_star(agent)
            milestones.check_complaint_turned(agent, ticket)


@hookimpl
def helpdesk_message_added(ticket: Ticket, message: Message) -> None:
    """A customer's unmistakable thank-you, after an agent answered, is a kudos for the agents."""
    _credit_thanks(ticket, message)


@hookimpl
def helpdesk_ticket_created(ticket: Ticket, message: Message) -> None:
    """"Thanks!" written after a ticket was closed opens a linked ticket: the thanks belong to the closed one."""
    if ticket.linked_ticket_id is not None:
        original = db_session().get(Ticket, ticket.linked_ticket_id)
        if original is not None:
            _credit_thanks(original, message)


def _credit_thanks(ticket: Ticket, message: Message) -> None:
    author = message.author
    if (author is None or author.is_staff or message.internal or message.needs_review
            or author.id != ticket.customer_id or kudos.is_automated(message)):
        return
    first = db_session().scalar(select(Message).where(Message.ticket_id == ticket.id).order_by(Message.id).limit(1))
    if first is not None and kudos.is_automated(first):
        return
    quote = kudos.find_thanks(message.body)
    if quote is None or not kudos.staff_replied_before(ticket, message):
        return
    kudos.credit_customer_praise(ticket, author, THANKS, quote)


@hookimpl
def helpdesk_ticket_changed(ticket: Ticket, changes: dict[str, tuple]) -> None:
    if changes.get("status", (None, None))[1] == "resolved" and ticket.assignee_id:
        assignee = db_session().get(User, ticket.assignee_id)
        if assignee is not None and assignee.is_staff:
            milestones.check_resolved(assignee)


# ------------------------------------------------------------------ UI


@hookimpl
def helpdesk_nav_links(user: User) -> list[tuple[str, str]] | None:
    if not user.is_staff:
        return None
    count = nav_count(PLUGIN, "unread")  # with the bell and other plugins' counts: one statement
    label = gettext("Kudos (%(count)d)", count=count) if count else gettext("Kudos")
    return [(label, url_for("recognition.feed_index"))]


@hookimpl
def helpdesk_nav_counts(user: User) -> dict[str, Any] | None:
    if not user.is_staff:
        return None
    return {"unread": unread_count_query(user.id)}


@hookimpl
def helpdesk_template_slot(slot: str, context: dict[str, Any]) -> Markup | None:
    user = context.get("user")
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_staff:
        return None
    if slot == "dashboard.main":
        return Markup(render_template("recognition/dashboard.html", notifications=unread(user.id, limit=5),
                                      unread=unread_count(user.id)))
    if slot == "ticket.sidebar":
        ticket = context["ticket"]
        batch = page_rows(PLUGIN, "kudos", ticket_id=ticket.id)
        if batch is not None and page_rows(PLUGIN, "people") is not None:  # the page's one statement
            given = sorted((k for k in batch if k.ticket_id == ticket.id), key=lambda k: k.id)
        else:
            given = _kudos_on(user, [ticket.id]).get(ticket.id, [])
        # The give-kudos form as plain HTML (sidebar.html): no WTForms instance per page (issue 19).
        colleagues = [(str(u.id), u.name) for u in active_agents() if u.id != user.id]  # the snapshot: no query
        return Markup(render_template("recognition/sidebar.html", ticket=ticket, given=given, colleagues=colleagues,
                                      value_tags=value_tags(), max_message=MAX_MESSAGE))
    return None


@hookimpl
def helpdesk_page_queries(page: str, ticket_ids: list[int], user: User) -> dict[str, Any] | None:
    """The kudos given on the ticket page's ticket, with recipients and givers (the core's batch)."""
    if page != "ticket" or not getattr(user, "is_staff", False):
        return None
    kudos = select(Kudos).where(Kudos.ticket_id.in_(ticket_ids), visible_to(user, Kudos.recipient_id))
    ids = select(Kudos.recipient_id).where(Kudos.ticket_id.in_(ticket_ids)).union(
        select(Kudos.giver_id).where(Kudos.ticket_id.in_(ticket_ids)))
    return {"kudos": kudos, "people": select(User).where(User.id.in_(ids))}


def _kudos_on(user: User, ticket_ids: list[int]) -> dict[int, list[Kudos]]:
    out: dict[int, list[Kudos]] = {}
    for k in db_session().scalars(
            select(Kudos).where(Kudos.ticket_id.in_(ticket_ids), visible_to(user, Kudos.recipient_id))
            .options(joinedload(Kudos.recipient), joinedload(Kudos.giver)).order_by(Kudos.id)):
        out.setdefault(k.ticket_id, []).append(k)
    return out


@hookimpl
def helpdesk_reports() -> list[tuple[str, str]] | None:
    return [(gettext("Recognition leaderboard"), "recognition.leaderboard")] if get_setting(
        PLUGIN, "leaderboard_enabled") else None


@hookimpl
def helpdesk_customer_timeline(customer: User, user: User, before: Any, limit: int) -> list:
    """Praise the customer gave (a five-star rating or a thank-you that became kudos)."""
    from helpdesk.plugin_api import TimelineEntry, scoped_to_tickets

    query = (select(Kudos).where(Kudos.giver_id == customer.id, scoped_to_tickets(user, Kudos.ticket_id),
                                 visible_to(user, Kudos.recipient_id))
             .order_by(Kudos.created_at.desc()).limit(limit))
    if before is not None:
        query = query.where(Kudos.created_at < before)
    return [TimelineEntry(at=k.created_at, kind="kudos", title=gettext("Kudos for %(name)s", name=k.recipient.name),
                          text=(k.message or "")[:240],
                          ticket_reference=k.ticket.reference if k.ticket else None)
            for k in db_session().scalars(query)]
