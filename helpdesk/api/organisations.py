"""Organisations (issue 24) in the REST API, with the rules of the Organisations pages
(``helpdesk.web.customers``): agents and admins read every organisation and keep the notes,
the account owner and the custom fields; admins (with an admin-scoped token) create them and
set name, domains and sharing. Light agents and customers are refused (403). Every write goes
through ``helpdesk.services.organisations``, as the pages' forms do. Deleting is left to the page.
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import g
from flask_smorest import Blueprint
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from helpdesk.api.base import ApiError, api_user, need_admin, need_staff, service_error
from helpdesk.api.schemas import (
    OrganisationCreateSchema,
    OrganisationListArgs,
    OrganisationPage,
    OrganisationSchema,
    OrganisationUpdateSchema,
)
from helpdesk.extensions import db
from helpdesk.models import Organisation, User
from helpdesk.services.errors import ServiceError
from helpdesk.services.organisations import save_organisation

organisations = Blueprint("api_organisations", __name__, url_prefix="/organisations",
                          description="Organisations: companies their customers belong to (agents and admins).")
BLUEPRINTS = (organisations,)
ADMIN_FIELDS = ("name", "domains", "shared_tickets")


def organisation_dict(org: Organisation, member_count: int) -> dict[str, Any]:
    return {"id": org.id, "name": org.name, "domains": [d.domain for d in org.domains],
            "shared_tickets": org.shared_tickets, "notes": org.notes or "",
            "account_owner_id": org.account_owner_id, "custom_fields": dict(org.custom_fields or {}),
            "member_count": member_count, "created_at": org.created_at}


def _member_count(org: Organisation) -> int:
    # Counted as on the Organisations page: every customer of the organisation.
    return db.session.scalar(select(func.count(User.id)).where(User.role == "customer",
                                                                User.organisation_id == org.id)) or 0


def organisation_view(view: Callable) -> Callable:
    """Agents and admins, and an organisation that exists (else 404), before the body is read."""
    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        need_staff()
        org = db.session.get(Organisation, kwargs["organisation_id"])
        if org is None:
            raise ApiError(404, "Not found (or you cannot see it).")
        g.api_organisation = org
        return view(*args, **kwargs)
    return wrapped


def admin_view(view: Callable) -> Callable:
    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        need_admin()
        return view(*args, **kwargs)
    return wrapped


def _save(org: Organisation | None, data: dict[str, Any]) -> Organisation:
    if org is None or any(name in data for name in ADMIN_FIELDS):
        need_admin()  # also: a token with the admin scope
    owner = data.get("account_owner_id", "") if "account_owner_id" in data else ""
    try:
        return save_organisation(api_user(), org, name=data.get("name"), domains=data.get("domains"),
                                 shared_tickets=data.get("shared_tickets"), notes=data.get("notes"),
                                 account_owner_id=owner, custom_fields=data.get("custom_fields"))
    except ServiceError as exc:
        db.session.rollback()
        field = getattr(exc, "field", None)
        if field == "account_owner":
            exc.field = "account_owner_id"
        elif field and field.startswith("cf_"):
            exc.field = "custom_fields." + field[3:]
        raise service_error(exc) from None


@organisations.get("")
@organisations.arguments(OrganisationListArgs, location="query")
@organisations.response(200, OrganisationPage)
def list_organisations(args: dict):
    """Organisations by id, with their member counts (agents and admins)."""
    need_staff()
    members = (select(User.organisation_id, func.count(User.id).label("n")).where(User.role == "customer")
               .group_by(User.organisation_id).subquery())
    query = (select(Organisation, func.coalesce(members.c.n, 0))
             .outerjoin(members, members.c.organisation_id == Organisation.id))
    if text := (args.get("q") or "").strip():
        query = query.where(func.lower(Organisation.name).like(
            f"%{text.lower().replace('%', '').replace('_', '')}%"))
    if args.get("cursor"):
        try:
            after = int(args["cursor"])
        except ValueError:
            raise ApiError(400, "The cursor is not valid: pass next_cursor exactly as it came.",
                           fields={"cursor": ["Not a cursor from this API."]}) from None
        query = query.where(Organisation.id > after)
    limit = args["limit"]
    rows = list(db.session.execute(query.options(selectinload(Organisation.domains))
                                   .order_by(Organisation.id).limit(limit + 1)))
    items = rows[:limit]
    return {"items": [organisation_dict(org, count) for org, count in items],
            "next_cursor": str(items[-1][0].id) if len(rows) > limit else None}


@organisations.post("")
@admin_view
@organisations.arguments(OrganisationCreateSchema)
@organisations.response(201, OrganisationSchema)
def create_organisation(data: dict):
    """Make an organisation (admins, with a token of the admin scope); customers of its domains
    without an organisation join it."""
    org = _save(None, data)
    return organisation_dict(org, _member_count(org))


@organisations.get("/<int:organisation_id>")
@organisation_view
@organisations.response(200, OrganisationSchema)
def get_organisation(organisation_id: int):
    """One organisation: domains, sharing, notes, account owner, custom fields, member count."""
    org = g.api_organisation
    return organisation_dict(org, _member_count(org))


@organisations.patch("/<int:organisation_id>")
@organisation_view
@organisations.arguments(OrganisationUpdateSchema)
@organisations.response(200, OrganisationSchema)
def update_organisation(data: dict, organisation_id: int):
    """Change what you send: agents the notes, account owner and custom fields; admins (admin
    scope) also the name, the domains (the whole list) and whether members share tickets."""
    org = _save(g.api_organisation, data)
    return organisation_dict(org, _member_count(org))
