"""Agents' own availability switch (registered as ``core.availability``, always enabled).

Agents switch between available and away with ``POST /me/availability``; the card with the
switch is shown on the agent dashboard (slot ``dashboard.main``). Away agents get no new
tickets from the core's assignment (``helpdesk.assignment``).
"""
from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup
from werkzeug.wrappers import Response

from helpdesk.extensions import db
from helpdesk.i18n import gettext
from helpdesk.markers import hookimpl
from helpdesk.models import User
from helpdesk.web.auth import _safe_next, staff_required
from helpdesk.web.forms import ConfirmForm

bp = Blueprint("availability", __name__)


def _back() -> str:
    """The referring page when it is on this site, else the agent dashboard."""
    referrer = request.referrer or ""
    parts = urlsplit(referrer)
    if referrer and (not parts.netloc or parts.netloc == request.host):
        local = _safe_next(parts.path + (f"?{parts.query}" if parts.query else ""))
        if local:
            return local
    return url_for("agent.dashboard")


@bp.post("/me/availability")
@staff_required
def toggle() -> Response:
    """Switch the signed-in agent between available and away (staff only, CSRF checked)."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    user = db.session.get(User, current_user.id)
    user.available = not user.available
    db.session.commit()
    if user.available:
        flash(gettext("You are available again."), "success")
    else:
        flash(gettext("You are away: no new tickets are assigned to you."), "info")
    return redirect(_back())


@hookimpl
def helpdesk_blueprints() -> list[Blueprint]:
    return [bp]


@hookimpl
def helpdesk_template_slot(slot: str, context: dict[str, Any]) -> Markup | None:
    """The availability card on the agent dashboard."""
    user = context.get("user")
    if slot != "dashboard.main" or user is None or not getattr(user, "is_staff", False):
        return None
    return Markup(render_template("availability/toggle.html", user=user))
