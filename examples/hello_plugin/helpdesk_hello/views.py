"""The plugin's page: ``/hello/`` lists the greetings (agents and admins only)."""
from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user
from sqlalchemy import select

from helpdesk.plugin_api import Ticket, db_session, get_setting, staff_required, visible_tickets
from helpdesk_hello.models import HelloGreeting

bp = Blueprint("hello", __name__, url_prefix="/hello", template_folder="templates")


@bp.get("/")
@staff_required
def index() -> str:
    # Scope through visible_tickets, like every core page: a plugin never widens access.
    visible_ids = visible_tickets(current_user).with_only_columns(Ticket.id)
    greetings = db_session().scalars(
        select(HelloGreeting).where(HelloGreeting.ticket_id.in_(visible_ids))
        .order_by(HelloGreeting.id.desc()).limit(100))
    return render_template("hello/index.html", greetings=list(greetings),
                           greeting=get_setting("hello", "greeting"))
