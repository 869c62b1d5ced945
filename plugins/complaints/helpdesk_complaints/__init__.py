"""Complaints: detects complaints, routes them by rules, holds them to a tighter clock,
acknowledges them at once and follows up after they are resolved.

Hooks (see ``docs/hooks.md``): ``classify_ticket`` detects; ``route_ticket`` runs the admin's
rules; ``ticket_change_check`` keeps the playbook's remedy step; the event hooks record flags,
send acknowledgements and schedule follow-ups; ``sla_breached`` escalates; template slots
show the badge, the playbook panel, the portal's acknowledgement and supervisors' alerts.
"""
from __future__ import annotations

import logging
import random
from pathlib import Path
from types import ModuleType
from typing import Any

from flask import Blueprint, render_template, url_for
from markupsafe import Markup
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from helpdesk import hookimpl
from helpdesk.plugin_api import Message, Route, Setting, Ticket, User, db_session, gettext, lazy_gettext, page_rows
from helpdesk_complaints import access_rules, detector_views, escalation, flags, jobs, notices, playbook, rules
from helpdesk_complaints.config import PLUGIN, SETTINGS
from helpdesk_complaints.forms import ClearFlagForm, FlagForm, RemedyForm, StepForm
from helpdesk_complaints.models import (
    ComplaintAck,
    ComplaintAlert,
    ComplaintFlag,
    ComplaintFollowUp,
    ComplaintStep,
)
from helpdesk_complaints.views import bp

__version__ = "0.1.0"
__all__ = ["PLUGIN", "detector_views", "jobs"]  # detector_views: its routes join bp
log = logging.getLogger(__name__)


# ------------------------------------------------------------------ setup


@hookimpl
def helpdesk_settings() -> list[Setting]:
    return list(SETTINGS)


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


# ------------------------------------------------------------------ decisions


@hookimpl
def helpdesk_demo_data(rng: random.Random) -> str:
    from helpdesk_complaints.demo import seed

    return seed(rng)


@hookimpl
def helpdesk_classify_ticket(ticket: Ticket, message: Message) -> dict | None:
    return flags.classify(ticket, message)


@hookimpl
def helpdesk_route_ticket(ticket: Ticket, message: Message) -> Route | None:
    return rules.route(ticket, message)


@hookimpl
def helpdesk_ticket_change_check(ticket: Ticket, changes: dict[str, tuple], actor: User | None) -> str | None:
    return playbook.change_check(ticket, changes, actor)


# ------------------------------------------------------------------ events


@hookimpl
def helpdesk_ticket_created(ticket: Ticket, message: Message) -> None:
    flag = flags.record_flag(ticket, message, new_ticket=True)
    notices.acknowledge_later(ticket, message, detected=flag is not None and flag.active)
    notices.email_alerts(ticket.id)


@hookimpl
def helpdesk_message_added(ticket: Ticket, message: Message) -> None:
    author = message.author
    if author is not None and author.is_staff:
        if not message.internal and flags.flag_of(ticket.id) is not None:
            # A personal public reply acknowledges the complaint too.
            notices.mark_step(ticket.id, "acknowledge", author, note=lazy_gettext("answered by an agent"))
            db_session().commit()
        return
    if message.needs_review or author is None or author.id != ticket.customer_id:
        return
    flag = flags.record_flag(ticket, message)
    if flag is not None and flag.active:
        notices.acknowledge(ticket, detected=True)


@hookimpl
def helpdesk_ticket_changed(ticket: Ticket, changes: dict[str, tuple], actor: User | None) -> None:
    if "status" in changes:
        old, new = changes["status"]
        playbook.on_status_change(ticket, old, new, actor)


@hookimpl
def helpdesk_feedback_received(ticket: Ticket | None, customer: User, feedback: dict) -> None:
    flags.low_rating(ticket, customer, feedback)


@hookimpl
def helpdesk_sla_breached(ticket: Ticket, target: Any) -> None:
    escalation.escalate(ticket, target)


# ------------------------------------------------------------------ UI


@hookimpl
def helpdesk_template_slot(slot: str, context: dict[str, Any]) -> Markup | None:
    user = context.get("user")
    ticket = context.get("ticket")
    if slot == "portal.ticket" and ticket is not None:
        return _portal_ack(ticket, user)
    if user is None or not getattr(user, "is_staff", False):
        return None
    if slot == "ticket.badges" and ticket is not None:
        flag = _loaded(ticket)["flag"]
        if flag is None or not flag.active:
            return None
        return Markup(render_template("complaints/badge.html", flag=flag))
    if slot == "ticket.sidebar" and ticket is not None:
        return _panel(ticket)
    if slot == "dashboard.main":
        alerts = list(db_session().scalars(select(ComplaintAlert).where(
            ComplaintAlert.user_id == user.id, ComplaintAlert.dismissed_at.is_(None))
            .order_by(ComplaintAlert.id.desc()).limit(20)))
        if not alerts:
            return None
        return Markup(render_template("complaints/alerts.html", alerts=alerts, form=StepForm()))
    return None


@hookimpl
def helpdesk_page_queries(page: str, ticket_ids: list[int], user: User) -> dict[str, Any] | None:
    """The ticket page's flag, acknowledgement, follow-up and playbook steps, with who cleared
    or did them: run by the core in the page's one batched statement."""
    if page != "ticket" or not getattr(user, "is_staff", False):
        return None
    steps = select(ComplaintStep).where(ComplaintStep.ticket_id.in_(ticket_ids))
    flags = select(ComplaintFlag).where(ComplaintFlag.ticket_id.in_(ticket_ids))
    people = select(User).where(or_(User.id.in_(select(ComplaintStep.done_by_id).where(
        ComplaintStep.ticket_id.in_(ticket_ids))), User.id.in_(select(ComplaintFlag.cleared_by_id).where(
            ComplaintFlag.ticket_id.in_(ticket_ids)))))
    return {"flags": flags, "steps": steps, "people": people,
            "acks": select(ComplaintAck).where(ComplaintAck.ticket_id.in_(ticket_ids)),
            "followups": select(ComplaintFollowUp).where(ComplaintFollowUp.ticket_id.in_(ticket_ids))}


def _load(ticket_ids: list[int]) -> dict[int, dict[str, Any]]:
    out: dict[int, dict[str, Any]] = {i: {"flag": None, "ack": None, "followup": None, "steps": []}
                                      for i in ticket_ids}
    rows = db_session().execute(
        select(Ticket.id, ComplaintFlag, ComplaintAck, ComplaintFollowUp).where(Ticket.id.in_(ticket_ids))
        .outerjoin(ComplaintFlag, ComplaintFlag.ticket_id == Ticket.id)
        .outerjoin(ComplaintAck, ComplaintAck.ticket_id == Ticket.id)
        .outerjoin(ComplaintFollowUp, ComplaintFollowUp.ticket_id == Ticket.id)
        .options(joinedload(ComplaintFlag.cleared_by)))
    for ticket_id, flag, ack, followup in rows:
        out[ticket_id].update(flag=flag, ack=ack, followup=followup)
    flagged = [i for i, data in out.items() if data["flag"] is not None]
    if flagged:
        for step in db_session().scalars(select(ComplaintStep).where(ComplaintStep.ticket_id.in_(flagged))
                                         .options(joinedload(ComplaintStep.done_by))):
            out[step.ticket_id]["steps"].append(step)
    return out


def _from_page(ticket_id: int) -> dict[str, Any] | None:
    """This ticket's complaint data from the page's batched rows (None outside a ticket page)."""
    rows = {name: page_rows(PLUGIN, name, ticket_id=ticket_id) for name in ("flags", "acks", "followups", "steps")}
    if any(found is None for found in rows.values()):
        return None
    flag = next((f for f in rows["flags"] or [] if f.ticket_id == ticket_id), None)
    ack = next((a for a in rows["acks"] or [] if a.ticket_id == ticket_id), None)
    followup = next((f for f in rows["followups"] or [] if f.ticket_id == ticket_id), None)
    steps = sorted((s for s in rows["steps"] or [] if s.ticket_id == ticket_id), key=lambda s: s.id)
    return {"flag": flag, "ack": ack, "followup": followup, "steps": steps if flag is not None else []}


def _loaded(ticket: Ticket) -> dict[str, Any]:
    """This ticket's complaint data: from the page's one batch, or read now (outside a page)."""
    data = _from_page(ticket.id)
    return data if data is not None else _load([ticket.id])[ticket.id]


def _panel(ticket: Ticket) -> Markup:
    data = _loaded(ticket)
    flag, rows = data["flag"], data["steps"]
    remedy = next((s for s in rows if s.step == "remedy"), None)
    return Markup(render_template(
        "complaints/panel.html", ticket=ticket, flag=flag, steps=playbook.steps(ticket, rows) if flag else [],
        ack=data["ack"], followup=data["followup"], remedy=remedy, step_form=StepForm(), remedy_form=RemedyForm(),
        clear_form=ClearFlagForm(), flag_form=FlagForm()))


def _portal_ack(ticket: Ticket, user: Any) -> Markup | None:
    if user is None or getattr(user, "id", None) != ticket.customer_id:
        return None
    ack = db_session().scalar(select(ComplaintAck).where(ComplaintAck.ticket_id == ticket.id,
                                                       ComplaintAck.status == "sent"))
    if ack is None:
        return None
    return Markup(render_template("complaints/portal_ack.html", ack=ack))


@hookimpl
def helpdesk_nav_links(user: User) -> list[tuple[str, str]] | None:
    if not user.is_staff:
        return None
    links = [(gettext("Complaints"), url_for("complaints.dashboard"))]
    if user.is_admin:
        links.append((gettext("Routing rules"), url_for("complaints.rules")))
        links.append((gettext("Complaint detector"), url_for("complaints.detector")))
    return links


@hookimpl
def helpdesk_reports() -> list[tuple[str, str]]:
    return [(gettext("Complaints"), "complaints.dashboard")]


@hookimpl
def helpdesk_customer_timeline(customer: User, user: User, before: Any, limit: int) -> list:
    """The customer's tickets flagged as complaints (cleared flags say so)."""
    from helpdesk.plugin_api import TimelineEntry, scoped_to_tickets
    from helpdesk_complaints.models import ComplaintFlag

    query = (select(ComplaintFlag, Ticket).join(Ticket, Ticket.id == ComplaintFlag.ticket_id)
             .where(Ticket.customer_id == customer.id, scoped_to_tickets(user, ComplaintFlag.ticket_id))
             .order_by(ComplaintFlag.flagged_at.desc()).limit(limit))
    if before is not None:
        query = query.where(ComplaintFlag.flagged_at < before)
    entries = []
    for flag, ticket in db_session().execute(query):
        reference = ticket.reference
        title = (gettext("Complaint flagged on %(reference)s by %(source)s (cleared: not a complaint)",
                         reference=reference, source=flag.source) if flag.cleared_at
                 else gettext("Complaint flagged on %(reference)s by %(source)s", reference=reference,
                              source=flag.source))
        entries.append(TimelineEntry(at=flag.flagged_at, kind="complaint", title=title,
                                     ticket_reference=reference))
    return entries
