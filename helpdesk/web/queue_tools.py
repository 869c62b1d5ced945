"""The queue's helpers: bulk actions with pickers, the hover preview, the ticket picker, read marks.

Every ticket here is found through the scoping function (``access``): a ticket outside the
agent's scope is 404 for the preview and the read mark, and silently not among the tickets
a bulk action touches; the ticket picker lists only tickets the agent may see.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode

from flask import Blueprint, abort, flash, has_request_context, jsonify, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import Select, func, or_, select

from helpdesk import services
from helpdesk.access import ticket_or_404, visible_tickets
from helpdesk.extensions import db
from helpdesk.i18n import gettext, ngettext
from helpdesk.models import ContactIdentity, Message, Ticket, User
from helpdesk.models.tickets import STATUSES, format_reference, parse_reference
from helpdesk.numbers import parse_id
from helpdesk.services import ServiceError
from helpdesk.services.bulk import bulk_close, bulk_merge, mark_spam
from helpdesk.services.reads import mark_seen
from helpdesk.web.auth import backoffice_required, staff_required
from helpdesk.web.forms import BulkForm

bp = Blueprint("queue_tools", __name__)

PREVIEW_CHARS = 300
MAX_BULK = 500
# The picker field each action reads; "value" (free text) stays accepted for every action.
PICKERS = {"status": "status", "priority": "priority", "assign": "assignee_id", "team": "team_id",
           "merge": "target"}


def _chosen(form: BulkForm) -> str:
    picker = PICKERS.get(form.action.data)
    chosen = (request.form.get(picker) or "") if picker else ""
    return (chosen or form.value.data or "").strip()


def apply_bulk():
    """The queue's "With selected" form (``agent.bulk``): one action for the ticked tickets."""
    form = BulkForm()
    back = redirect(request.referrer or url_for("agent.queue"))
    if not form.validate_on_submit():
        flash(gettext("Choose tickets and an action."), "danger")
        return redirect(url_for("agent.queue"))
    ids = request.form.getlist("ticket_ids", type=int)[:MAX_BULK]
    tickets = list(db.session.scalars(visible_tickets(current_user).where(Ticket.id.in_(ids)))) if ids else []
    if not tickets:
        flash(gettext("Select at least one ticket."), "warning")
        return back
    action, value = form.action.data, _chosen(form)
    if action == "tag":
        changed, errors = _add_tag(tickets, value)
    elif action == "close":
        changed, errors = bulk_close(tickets, current_user)
    elif action == "spam":
        changed, errors = mark_spam(tickets, current_user)
    elif action == "merge":
        target = _ticket_by_reference(value)
        if target is None:
            flash(gettext("Choose the ticket to merge into: there is no ticket “%(reference)s”.", reference=value[:60])
                  if value else gettext("Choose the ticket to merge into."), "danger")
            return back
        changed, errors = bulk_merge(tickets, target, current_user)
        # English keeps "of 1 tickets"; ngettext lets other languages decline the noun by the total.
        flash(ngettext("Merged %(changed)s of %(num)d tickets into %(target)s.",
                       "Merged %(changed)s of %(num)d tickets into %(target)s.",
                       len([t for t in tickets if t.id != target.id]), changed=changed, target=target.reference),
              "success" if not errors else "warning")
        for error in errors[:10]:
            flash(error, "danger")
        return back
    else:
        field = {"status": "status", "priority": "priority", "assign": "assignee_id", "team": "team_id"}[action]
        changed, errors = services.bulk_update(tickets, current_user, **{field: value or None})
    flash(ngettext("Updated %(changed)s of %(num)d tickets.", "Updated %(changed)s of %(num)d tickets.", len(tickets),
                   changed=changed), "success" if not errors else "warning")
    for error in errors[:10]:
        flash(error, "danger")
    return back


def _add_tag(tickets: list[Ticket], value: str) -> tuple[int, list[str]]:
    changed, errors = 0, []
    already = sum(1 for t in tickets if value.lower() in [tag.name for tag in t.tags])
    if already:
        flash(gettext("%(count)s of the selected tickets already had the tag “%(tag)s”.", count=already, tag=value),
              "info")
    for ticket in tickets:
        names = [t.name for t in ticket.tags]
        if value and value.lower() not in names:
            try:
                services.update_ticket(ticket, current_user, tags=names + [value])
                changed += 1
            except ServiceError as exc:
                errors.append(f"{ticket.reference}: {exc.message}")
    return changed, errors


def _ticket_by_reference(text: str) -> Ticket | None:
    """A ticket the current user may see, by ``HD-42``, ``42`` or a picker's "HD-42 · subject"."""
    ticket_id = parse_reference(text.split(" ", 1)[0]) if text else None
    if ticket_id is None:
        return None
    return db.session.scalar(visible_tickets(current_user).where(Ticket.id == ticket_id))


@bp.get("/queue/tickets.json")
@staff_required
def lookup():
    """The ticket picker (merge targets): up to 10 open tickets the agent may see, by reference or subject."""
    text = request.args.get("q", "").strip()[:100]
    query = visible_tickets(current_user).where(Ticket.merged_into_id.is_(None), Ticket.status != "closed")
    if (customer := parse_id(request.args.get("customer"))) is not None:
        query = query.where(Ticket.customer_id == customer)
    if text:
        ticket_id = parse_reference(text)
        like = f"%{text.replace('%', '').replace('_', '')}%"
        query = query.where(or_(Ticket.id == ticket_id, Ticket.subject.ilike(like)) if ticket_id is not None
                            else Ticket.subject.ilike(like))
    rows = db.session.scalars(query.order_by(Ticket.updated_at.desc()).limit(10))
    return jsonify(tickets=[{"reference": t.reference, "subject": t.subject, "status": t.status,
                             "label": f"{t.reference} · {t.subject}"} for t in rows])


@bp.get("/queue/preview/<reference>")
@backoffice_required
def preview(reference: str):
    """The last message of a ticket, shortened (the queue's hover preview)."""
    ticket = ticket_or_404(current_user, reference)
    # Back-office people read internal notes too, so the latest message is the latest of all.
    message = db.session.scalar(
        select(Message).where(Message.ticket_id == ticket.id).order_by(Message.id.desc()).limit(1))
    if message is None:
        return jsonify(reference=ticket.reference, author="", internal=False, excerpt=gettext("No messages yet."))
    body = " ".join(message.body.split())
    excerpt = body if len(body) <= PREVIEW_CHARS else body[:PREVIEW_CHARS - 1].rstrip() + "…"
    return jsonify(reference=ticket.reference, author=message.author.name if message.author else gettext("System"),
                   internal=message.internal, when=message.created_at.isoformat() + "Z", excerpt=excerpt)


@bp.post("/tickets/<reference>/seen")
@backoffice_required
def seen(reference: str):
    """Mark the ticket read for the current agent up to the message the page showed last.

    Sent by the ticket page's script once it has loaded (a POST: reading a page changes nothing
    by itself), so a message that arrived after the page was rendered stays unread.
    """
    ticket = ticket_or_404(current_user, reference)
    up_to = parse_id(request.form.get("message_id"))
    if up_to is None:
        abort(400)
    mark_seen(current_user, ticket, up_to)
    return "", 204


# ------------------------------------------------------------------ the queue page's helpers

TOTALS_CAP = 1000
MAX_CUSTOMER_MATCHES = 200


def customer_ids_matching(text: str) -> list[int]:
    """Customers whose name, email address or other contact (phone, chat handle) contains ``text``.

    At most ``MAX_CUSTOMER_MATCHES``; none for fewer than three characters. The queue then
    shows these customers' tickets, still limited by ``visible_tickets``, so a team-scoped
    agent finds only the tickets of that customer they may see.
    """
    text = text.strip()
    if len(text) < 3:
        return []
    # The page and its totals ask alike: remember the answer for this request (not on ``g``,
    # which outlives requests when an app context is pushed around them, as in tests).
    cache = request.environ.setdefault("helpdesk.queue_customer_matches", {}) if has_request_context() else {}
    if text not in cache:
        cache[text] = _customer_ids(text)
    return cache[text]


def _customer_ids(text: str) -> list[int]:
    like = f"%{text.replace('%', '').replace('_', '').lower()}%"
    by_identity = select(ContactIdentity.user_id).where(func.lower(ContactIdentity.value).like(like))
    query = (select(User.id).where(User.role == "customer", User.merged_into_id.is_(None),
                                   or_(func.lower(User.name).like(like), func.lower(User.email).like(like),
                                       User.id.in_(by_identity)))
             .limit(MAX_CUSTOMER_MATCHES))
    return list(db.session.scalars(query))


def queue_totals(query: Select) -> dict[str, Any]:
    """How many tickets match the queue's filters, by status, in one grouped query.

    The queue never counts everything (see docs/architecture.md): at most ``TOTALS_CAP`` + 1
    matching rows are read, and beyond that the total is shown as "1,000+" without the
    split by status.
    """
    capped = query.order_by(None).with_only_columns(Ticket.status).limit(TOTALS_CAP + 1).subquery()
    rows = db.session.execute(select(capped.c.status, func.count()).group_by(capped.c.status)).all()
    total = sum(n for _status, n in rows)
    if total > TOTALS_CAP:
        return {"total": TOTALS_CAP, "capped": True, "by_status": {}}
    order = {s: i for i, s in enumerate(STATUSES)}
    return {"total": total, "capped": False,
            "by_status": dict(sorted(((s, n) for s, n in rows), key=lambda row: order.get(row[0], 99)))}


def next_in_queue(form: Mapping[str, str]) -> str:
    """Where "Send and next" goes: the next ticket of the queue the agent came from, else that queue.

    The page's script fills ``next_ticket`` (a reference) and ``next_queue`` (the queue's query
    string) from what the queue page remembered; both are rebuilt here, never used as given,
    so no URL from the form is followed. The ticket page itself checks the next ticket's scope.
    """
    ticket_id = parse_reference((form.get("next_ticket") or "").strip())
    if ticket_id is not None:
        return url_for("agent.ticket", reference=format_reference(ticket_id))
    query = urlencode(parse_qsl((form.get("next_queue") or "").lstrip("?")[:1000]))
    return url_for("agent.queue") + (f"?{query}" if query else "")
