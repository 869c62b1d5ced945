"""Tickets, their messages, attachments and service levels, through the services and the
one scoping function (``helpdesk.access``), exactly as on the pages."""
from __future__ import annotations

import base64
import binascii
import functools
from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import g, send_file
from flask_smorest import Blueprint
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import selectinload
from werkzeug.datastructures import MultiDict

from helpdesk import access, services
from helpdesk.api.base import ApiError, api_user, need_staff, service_error
from helpdesk.api.schemas import (
    ChangesSchema,
    MergeSchema,
    MessageCreateSchema,
    MessageSchema,
    SlaTargetSchema,
    TicketCreateSchema,
    TicketListArgs,
    TicketPage,
    TicketSchema,
    TicketUpdateSchema,
)
from helpdesk.api.serialize import message_dict, ticket_dict
from helpdesk.extensions import db
from helpdesk.models import SlaTarget, Ticket, User
from helpdesk.models.tickets import parse_reference
from helpdesk.services.errors import ServiceError
from helpdesk.services.merge import merge_tickets
from helpdesk.services.tickets import NewAttachment, attachment_path
from helpdesk.services.users import find_or_create_customer
from helpdesk.web.agent import queue_query

blp = Blueprint("api_tickets", __name__, url_prefix="/tickets",
                description="Tickets: list with the queue's filters, read, open, change, reply, note, merge.")
files = Blueprint("api_attachments", __name__, url_prefix="/attachments",
                  description="Attachments: download by token, within what you may see.")
BLUEPRINTS = (blp, files)


# ------------------------------------------------------------------ serialising


def _decode_attachments(items: list[dict] | None) -> list[NewAttachment]:
    out = []
    for index, item in enumerate(items or []):
        try:
            content = base64.b64decode(item["content_base64"], validate=True)
        except (binascii.Error, ValueError):
            raise ApiError(422, f"Attachment {index + 1} ({item['filename']}): content_base64 is not valid base64.",
                           fields={f"attachments.{index}.content_base64": ["Not valid base64."]}) from None
        out.append(NewAttachment(item["filename"], content, item.get("content_type") or "application/octet-stream"))
    return out


# ------------------------------------------------------------------ cursors


def encode_cursor(moment: datetime, row_id: int) -> str:
    return base64.urlsafe_b64encode(f"{moment.isoformat()}|{row_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        moment, _, row_id = text.partition("|")
        return datetime.fromisoformat(moment), int(row_id)
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise ApiError(400, "The cursor is not valid: pass next_cursor exactly as it came.",
                       fields={"cursor": ["Not a cursor from this API."]}) from None


CUSTOMER, LIGHT, AGENT, ADMIN = "customer", "light_agent", "agent", "admin"
READERS = (CUSTOMER, LIGHT, AGENT, ADMIN)
STAFF = (AGENT, ADMIN)


def ticket_view(roles: tuple[str, ...] = READERS, refuse: int = 403) -> Callable:
    """Check the role, then find the ticket through the scoping function (404), before the
    body is read: a refused caller learns nothing from validation errors."""
    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            user = api_user()
            if user.role not in roles:
                if refuse == 404:
                    raise ApiError(404, "Not found (or you cannot see it).")
                raise ApiError(403, "Your role cannot do this.")
            g.api_ticket = access.ticket_or_404(user, kwargs["reference"])
            return view(*args, **kwargs)
        return wrapped
    return decorator


def roles_only(*roles: str) -> Callable:
    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if api_user().role not in roles:
                raise ApiError(403, "Your role cannot do this.")
            return view(*args, **kwargs)
        return wrapped
    return decorator


def _ticket(_reference: str) -> Ticket:
    return g.api_ticket


# ------------------------------------------------------------------ tickets


@blp.get("")
@blp.arguments(TicketListArgs, location="query")
@blp.response(200, TicketPage)
def list_tickets(args: dict):
    """List the tickets you may see, newest change first, with the queue's filters.

    Customers see their own tickets. Pages are cursor-based: pass ``next_cursor`` as
    ``cursor`` until it is null."""
    user = api_user()
    filters = MultiDict({k: str(v) for k, v in args.items() if k not in ("limit", "cursor")})
    query, _active = queue_query(user, filters)
    query = query.order_by(None).order_by(Ticket.updated_at.desc(), Ticket.id.desc())
    if args.get("cursor"):
        moment, last_id = decode_cursor(args["cursor"])
        query = query.where(or_(Ticket.updated_at < moment, and_(Ticket.updated_at == moment, Ticket.id < last_id)))
    limit = args["limit"]
    rows = list(db.session.scalars(query.options(
        selectinload(Ticket.customer), selectinload(Ticket.assignee), selectinload(Ticket.team),
        selectinload(Ticket.tags)).limit(limit + 1)))
    items = rows[:limit]
    next_cursor = encode_cursor(items[-1].updated_at, items[-1].id) if len(rows) > limit else None
    return {"items": [ticket_dict(t, user) for t in items], "next_cursor": next_cursor}


@blp.post("")
@roles_only(CUSTOMER, AGENT, ADMIN)
@blp.arguments(TicketCreateSchema)
@blp.response(201, TicketSchema)
def create_ticket(data: dict):
    """Open a ticket. A customer opens their own; an agent or admin names the customer
    (``customer_id`` or ``customer_email``) and may set priority, team and tags."""
    user = api_user()
    attachments = _decode_attachments(data.get("attachments"))
    staff_only = {"customer_id", "customer_email", "customer_name", "priority", "team_id", "tags"}
    if user.role == "customer":
        used = sorted(staff_only & set(data))
        if used:
            raise ApiError(403, f"Customers cannot set: {', '.join(used)}.", fields={f: ["Not allowed."] for f in used})
        customer = user
    else:
        need_staff()
        if "customer_id" in data:
            customer = db.session.scalar(access.visible_customers(user).where(User.id == data["customer_id"]))
            if customer is None:
                raise ApiError(422, "No such customer.", fields={"customer_id": ["No customer with this id."]})
        elif "customer_email" in data:
            try:
                customer = find_or_create_customer("email", data["customer_email"], data.get("customer_name"))
            except ServiceError as exc:
                raise service_error(exc) from None
            if customer.role != "customer":
                raise ApiError(422, "This address belongs to a member of staff, not a customer.",
                               fields={"customer_email": ["Not a customer."]})
        else:
            raise ApiError(422, "Name the customer: customer_id or customer_email.",
                           fields={"customer_id": ["customer_id or customer_email is required."]})
    try:
        ticket = services.create_ticket(
            customer, data["subject"], data["body"], channel="api", actor=user, attachments=attachments,
            priority=data.get("priority", "normal"), team_id=data.get("team_id"), tags=data.get("tags", ()))
    except ServiceError as exc:
        db.session.rollback()
        raise service_error(exc) from None
    return ticket_dict(ticket, user)


@blp.get("/<reference>")
@ticket_view()
@blp.response(200, TicketSchema)
def get_ticket(reference: str):
    """One ticket (404 if it does not exist or you may not see it)."""
    return ticket_dict(_ticket(reference), api_user())


@blp.patch("/<reference>")
@ticket_view((CUSTOMER, AGENT, ADMIN))
@blp.arguments(TicketUpdateSchema)
@blp.response(200, ChangesSchema)
def update_ticket(data: dict, reference: str):
    """Change fields. Agents and admins: status, priority, assignee_id, team_id, tags, subject;
    customers: status (resolved, or open again within the reopen window). Send ``version``
    to refuse the change if someone changed the ticket since you read it (409)."""
    user = api_user()
    ticket = _ticket(reference)
    changes = dict(data)
    version = changes.pop("version", None)
    if not changes:
        raise ApiError(422, "Nothing to change: send at least one field.")
    try:
        done = services.update_ticket(ticket, user, expected_version=version, **changes)
    except ServiceError as exc:
        db.session.rollback()
        raise service_error(exc) from None
    return {"ticket": ticket_dict(ticket, user), "changed": sorted(done)}


@blp.get("/<reference>/messages")
@ticket_view()
@blp.response(200, MessageSchema(many=True))
def list_messages(reference: str):
    """The conversation as you may see it (customers never see internal notes)."""
    user = api_user()
    return [message_dict(m) for m in access.visible_messages(user, _ticket(reference))]


def _add(reference: str, data: dict, internal: bool):
    user = api_user()
    ticket = _ticket(reference)
    attachments = _decode_attachments(data.get("attachments"))
    if not (data.get("body") or "").strip() and not attachments:
        raise ApiError(422, "The message is empty: send a body or an attachment.",
                       fields={"body": ["Cannot be empty."]})
    try:
        message = services.add_message(ticket, user, data.get("body") or "", internal=internal,
                                       attachments=attachments, channel=None if not user.is_staff else "web")
    except ServiceError as exc:
        db.session.rollback()
        raise service_error(exc) from None
    return message_dict(message)


@blp.post("/<reference>/replies")
@ticket_view((CUSTOMER, AGENT, ADMIN))
@blp.arguments(MessageCreateSchema)
@blp.response(201, MessageSchema)
def reply(data: dict, reference: str):
    """A public reply: from the customer, or from an agent (delivered through the ticket's channel)."""
    return _add(reference, data, internal=False)


@blp.post("/<reference>/notes")
@ticket_view((LIGHT, AGENT, ADMIN))
@blp.arguments(MessageCreateSchema)
@blp.response(201, MessageSchema)
def note(data: dict, reference: str):
    """An internal note (agents, light agents and admins; customers never see it)."""
    return _add(reference, data, internal=True)


@blp.post("/<reference>/merge")
@ticket_view(STAFF)
@blp.arguments(MergeSchema)
@blp.response(200, TicketSchema)
def merge(data: dict, reference: str):
    """Merge this ticket into another of the same customer (agents and admins)."""
    user = api_user()
    source = _ticket(reference)
    target_id = parse_reference(data["into"])
    target = db.session.scalar(access.visible_tickets(user).where(Ticket.id == target_id)) \
        if target_id is not None else None
    if target is None:
        raise ApiError(422, f"There is no ticket {data['into']!r} (or you cannot see it).",
                       fields={"into": ["No such ticket."]})
    try:
        merged = merge_tickets(source, target, user)
    except ServiceError as exc:
        db.session.rollback()
        raise service_error(exc) from None
    return ticket_dict(merged, user)


@blp.get("/<reference>/sla")
@ticket_view((LIGHT, AGENT, ADMIN), refuse=404)
@blp.response(200, SlaTargetSchema(many=True))
def sla(reference: str):
    """The ticket's service-level clocks (staff: customers get 404 as for any staff-only view)."""
    ticket = _ticket(reference)
    targets = db.session.scalars(select(SlaTarget).where(SlaTarget.ticket_id == ticket.id)
                                 .options(selectinload(SlaTarget.policy)).order_by(SlaTarget.id))
    out = []
    for t in targets:
        state = "met" if t.met_at else "breached" if t.breached_at else "paused" if t.paused_at else "running"
        out.append({"kind": t.kind, "state": state, "policy": t.policy.name if t.policy else None, "cycle": t.cycle,
                    "due_at": t.due_at, "paused_at": t.paused_at, "met_at": t.met_at, "warned_at": t.warned_at,
                    "breached_at": t.breached_at})
    return out


# ------------------------------------------------------------------ attachments


@files.get("/<token>")
@files.doc(responses={"200": {"description": "the file, as a download", "content": {
    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}})
def download(token: str):
    """Download an attachment you may see (customers: not those of internal notes)."""
    attachment = access.attachment_or_404(api_user(), token)
    return send_file(attachment_path(attachment.token), mimetype=attachment.content_type, as_attachment=True,
                     download_name=attachment.filename, max_age=0)
