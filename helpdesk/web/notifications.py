"""Agents' notification pages (registered as ``core.notifications_web``, always enabled).

- the bell in the navigation (``unread_notifications()`` in templates: one query, made only
  when a page for a back-office user renders the nav);
- ``/notifications``: the list, newest first, paginated; mark one or all read;
- ``/profile/notifications``: the delivery per kind (email at once, daily digest, app only, off);
- follow / unfollow a ticket (the button on the ticket page);
- ``/agents/mentionable``: the JSON list ``static/mentions.js`` offers in internal notes.

Every ticket goes through ``helpdesk.access``: out of scope is 404, and notifications about
tickets the agent can no longer see are not listed or counted.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, abort, flash, g, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from helpdesk.access import ticket_or_404
from helpdesk.contract import DELIVERIES
from helpdesk.i18n import gettext, ngettext
from helpdesk.markers import hookimpl
from helpdesk.models import Ticket, TicketFollower
from helpdesk.numbers import parse_id, parse_page
from helpdesk.services import notifications as notes
from helpdesk.web.auth import backoffice_required
from helpdesk.web.forms import ConfirmForm

bp = Blueprint("notifications", __name__)


@bp.record_once
def _template_helpers(state: Any) -> None:
    app: Flask = state.app
    app.jinja_env.globals.update(unread_notifications=_unread, is_following=_is_following,
                                 plain_mentions=notes.plain_mentions)
    app.before_request(_forget_count)


def _forget_count() -> None:
    g.pop("_unread_notifications", None)  # an app context (and g) may outlive a request


def _unread() -> int:
    """The bell's count for the signed-in back-office user (once per request)."""
    if not getattr(current_user, "is_authenticated", False) or not current_user.is_backoffice:
        return 0
    if "_unread_notifications" not in g:  # with the other navigation counts: one statement
        from helpdesk.plugin_manager import manager

        g._unread_notifications = manager().nav_count("core.notifications", "bell")
    return g._unread_notifications


def _is_following(ticket: Ticket) -> bool:
    from helpdesk.plugin_manager import manager

    rows = manager().page_rows("core.notifications_web", "following", ticket.id)
    if rows is None:
        return notes.is_following(current_user, ticket)
    return any(r.ticket_id == ticket.id and r.user_id == current_user.id for r in rows)


@hookimpl
def helpdesk_page_queries(page: str, ticket_ids: list[int], user: Any) -> dict[str, Any] | None:
    """Whether the reader follows the ticket page's ticket (the Follow button), in the page's batch."""
    if page != "ticket" or not getattr(user, "is_backoffice", False):
        return None
    return {"following": select(TicketFollower).where(TicketFollower.ticket_id.in_(ticket_ids),
                                                      TicketFollower.user_id == user.id)}


def _csrf_checked() -> None:
    if not ConfirmForm().validate_on_submit():
        abort(400)


@bp.get("/notifications")
@backoffice_required
def index() -> str:
    page = parse_page(request.args.get("page"))
    rows, has_next = notes.page_of(current_user, page)
    return render_template("notifications/index.html", rows=rows, page=page, has_next=has_next,
                           form=ConfirmForm(), unread=_unread())


@bp.post("/notifications/read")
@backoffice_required
def read() -> Response:
    """Mark one notification (form field ``id``) or, without one, all of them read."""
    _csrf_checked()
    raw = request.form.get("id")
    if raw:
        ident = parse_id(raw)
        if ident is None:
            abort(404)
        notes.mark_read(current_user, ident)
    else:
        done = notes.mark_all_read(current_user)
        flash(ngettext("%(num)d notification marked read.", "%(num)d notifications marked read.", done), "success")
    page = parse_page(request.form.get("page"))
    return redirect(url_for(".index", page=page) if page > 1 else url_for(".index"))


@bp.route("/profile/notifications", methods=["GET", "POST"])
@backoffice_required
def preferences() -> tuple[str, int] | Response:
    kinds = notes.kinds()
    current = notes.preferences(current_user)
    errors: dict[str, str] = {}
    if request.method == "POST":
        _csrf_checked()
        chosen = {name: request.form.get(f"kind-{name}", current[name]) for name in kinds}
        for name, value in chosen.items():
            if value not in DELIVERIES:
                errors[name] = gettext("Choose one of: %(choices)s.",
                                       choices=", ".join(gettext(label) for label in notes.DELIVERY_LABELS.values()))
        if not errors:
            notes.save_preferences(current_user, chosen)
            flash(gettext("Your notification choices are saved."), "success")
            return redirect(url_for(".preferences"))
        current = {**current, **{k: v for k, v in chosen.items() if k not in errors}}
    return render_template("notifications/preferences.html", kinds=kinds, current=current, errors=errors,
                           labels=notes.DELIVERY_LABELS, form=ConfirmForm(),
                           digest_hour=notes.digest_hour()), (400 if errors else 200)


@bp.post("/tickets/<reference>/follow")
@backoffice_required
def follow(reference: str) -> Response:
    """Follow (``action=follow``) or unfollow the ticket; the customer's replies are then notified."""
    ticket = ticket_or_404(current_user, reference)
    _csrf_checked()
    if request.form.get("action") == "unfollow":
        notes.unfollow(current_user, ticket)
        flash(gettext("You no longer follow %(reference)s.", reference=ticket.reference), "info")
    else:
        notes.follow(current_user, ticket)
        flash(gettext("You follow %(reference)s: you are told when the customer replies.", reference=ticket.reference),
              "success")
    return redirect(url_for("agent.ticket", reference=ticket.reference))


@bp.get("/agents/mentionable")
@backoffice_required
def mentionable() -> Response:
    """Agents to @mention: ``?q=`` filters by name, ``?ticket=REF`` keeps those who can see it."""
    ticket = ticket_or_404(current_user, request.args["ticket"]) if request.args.get("ticket") else None
    users = notes.mentionable(current_user, request.args.get("q", ""), ticket)
    return jsonify([{"id": u.id, "name": u.name, "token": notes.mention_token(u)} for u in users])


@hookimpl
def helpdesk_blueprints() -> list[Blueprint]:
    return [bp]
