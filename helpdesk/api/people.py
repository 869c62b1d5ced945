"""Customers with their contact identities, users and teams (read), tags, and "who am I"."""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import g
from flask_smorest import Blueprint
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from helpdesk import access
from helpdesk.api.base import ApiError, api_token, api_user, need_admin, need_backoffice, need_staff, service_error
from helpdesk.api.schemas import (
    CustomerListArgs,
    CustomerPage,
    CustomerSchema,
    IdentityCreateSchema,
    IdentitySchema,
    MeSchema,
    TagCreateSchema,
    TagSchema,
    TeamSchema,
    UserSchema,
)
from helpdesk.extensions import db
from helpdesk.models import ContactIdentity, Tag, Team, User
from helpdesk.models.users import BACKOFFICE_ROLES
from helpdesk.services.errors import ServiceError
from helpdesk.services.tags import create_tag
from helpdesk.services.users import add_identity

customers = Blueprint("api_customers", __name__, url_prefix="/customers",
                      description="Customers and their contact identities (agents and admins, within their scope).")
people = Blueprint("api_people", __name__, url_prefix="",
                   description="Who you are; users and teams (read); tags.")
BLUEPRINTS = (customers, people)


def customer_dict(customer: User) -> dict:
    return {"id": customer.id, "name": customer.name, "email": customer.email, "active": customer.active,
            "created_at": customer.created_at,
            "identities": [{"id": i.id, "kind": i.kind, "value": i.value, "verified": i.verified}
                           for i in customer.identities],
            "organisation": {"id": customer.organisation.id, "name": customer.organisation.name}
            if customer.organisation is not None else None}


def customer_view(view: Callable) -> Callable:
    """Agents and admins, and a customer they may open (else 404), before the body is read."""
    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        need_staff()
        g.api_customer = access.customer_or_404(api_user(), kwargs["customer_id"])
        return view(*args, **kwargs)
    return wrapped


def _customer(_customer_id: int) -> User:
    return g.api_customer


def admin_view(view: Callable) -> Callable:
    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        need_admin()
        return view(*args, **kwargs)
    return wrapped


@customers.get("")
@customers.arguments(CustomerListArgs, location="query")
@customers.response(200, CustomerPage)
def list_customers(args: dict):
    """Customers you may open (agents and admins; a team-scoped agent those with a ticket they see), by id."""
    need_staff()
    query = access.visible_customers(api_user()).where(User.merged_into_id.is_(None))
    if text := (args.get("q") or "").strip():
        like = f"%{text.lower()}%"
        query = query.where(or_(db.func.lower(User.name).like(like), db.func.lower(User.email).like(like),
                                User.id.in_(select(ContactIdentity.user_id).where(
                                    db.func.lower(ContactIdentity.value).like(like)))))
    if args.get("cursor"):
        try:
            after = int(args["cursor"])
        except ValueError:
            raise ApiError(400, "The cursor is not valid: pass next_cursor exactly as it came.",
                           fields={"cursor": ["Not a cursor from this API."]}) from None
        query = query.where(User.id > after)
    limit = args["limit"]
    rows = list(db.session.scalars(query.options(selectinload(User.identities), selectinload(User.organisation))
                                   .order_by(User.id).limit(limit + 1)))
    items = rows[:limit]
    return {"items": [customer_dict(c) for c in items],
            "next_cursor": str(items[-1].id) if len(rows) > limit else None}


@customers.get("/<int:customer_id>")
@customer_view
@customers.response(200, CustomerSchema)
def get_customer(customer_id: int):
    """One customer with their contact identities."""
    return customer_dict(_customer(customer_id))


@customers.post("/<int:customer_id>/identities")
@customer_view
@customers.arguments(IdentityCreateSchema)
@customers.response(201, IdentitySchema)
def add_customer_identity(data: dict, customer_id: int):
    """Add a way to reach the customer (an address, a phone number, a chat handle)."""
    customer = _customer(customer_id)
    try:
        identity = add_identity(customer, data["kind"], data["value"])
    except ServiceError as exc:
        db.session.rollback()
        raise service_error(exc) from None
    return {"id": identity.id, "kind": identity.kind, "value": identity.value, "verified": identity.verified}


@people.get("/me")
@people.response(200, MeSchema)
def me():
    """Who the token (or the browser session) acts as, and the token's scope."""
    user, token = api_user(), api_token()
    return {"id": user.id, "name": user.name, "role": user.role, "scope": token.scope if token else None,
            "token_expires_at": token.expires_at if token else None}


@people.get("/users")
@people.response(200, UserSchema(many=True))
def list_users():
    """The people behind the desk (agents, light agents, admins) and their teams."""
    need_backoffice()
    users = db.session.scalars(select(User).where(User.role.in_(BACKOFFICE_ROLES), User.merged_into_id.is_(None))
                               .options(selectinload(User.teams)).order_by(User.name, User.id))
    return [_user_dict(u) for u in users]


def _user_dict(user: User) -> dict:
    return {"id": user.id, "name": user.name, "role": user.role, "active": user.active, "available": user.available,
            "teams": [{"id": t.id, "name": t.name} for t in user.teams]}


@people.get("/users/<int:user_id>")
@people.response(200, UserSchema)
def get_user(user_id: int):
    """One person behind the desk (customers are under /customers)."""
    need_backoffice()
    user = db.session.get(User, user_id)
    if user is None or user.role not in BACKOFFICE_ROLES:
        raise ApiError(404, "Not found (or you cannot see it).")
    return _user_dict(user)


@people.get("/teams")
@people.response(200, TeamSchema(many=True))
def list_teams():
    """Teams and their members."""
    need_backoffice()
    teams = db.session.scalars(select(Team).options(selectinload(Team.members)).order_by(Team.name))
    return [_team_dict(t) for t in teams]


def _team_dict(team: Team) -> dict:
    return {"id": team.id, "name": team.name, "description": team.description,
            "members": [{"id": m.id, "name": m.name} for m in team.members]}


@people.get("/teams/<int:team_id>")
@people.response(200, TeamSchema)
def get_team(team_id: int):
    """One team and its members."""
    need_backoffice()
    team = db.session.get(Team, team_id)
    if team is None:
        raise ApiError(404, "Not found (or you cannot see it).")
    return _team_dict(team)


@people.get("/tags")
@people.response(200, TagSchema(many=True))
def list_tags():
    """Every tag (people behind the desk)."""
    need_backoffice()
    return [{"id": t.id, "name": t.name} for t in db.session.scalars(select(Tag).order_by(Tag.name))]


@people.post("/tags")
@admin_view
@people.arguments(TagCreateSchema)
@people.response(201, TagSchema)
def add_tag(data: dict):
    """Make a tag (admins, with a token of the admin scope)."""
    user = api_user()
    try:
        tag = create_tag(data["name"], user)
    except ServiceError as exc:
        db.session.rollback()
        raise service_error(exc) from None
    return {"id": tag.id, "name": tag.name}
