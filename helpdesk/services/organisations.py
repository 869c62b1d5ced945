"""Organisations: companies their customers belong to, matched by email domain.

Admins keep the list of domains (``example.com`` also matches ``mail.example.com``) and
whether members see each other's tickets in the portal (``access.ticket_scope``); agents
keep the notes, the account owner and the custom field values. A customer joins the
organisation of their address's domain when their record is created, and when a domain
is added every customer of that domain without an organisation joins; an agent can move a
customer by hand (an explicit choice is never undone by matching).
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from flask_babel import gettext, lazy_gettext
from sqlalchemy import func, or_, select, update

import helpdesk.services.admin_audit as admin_audit
from helpdesk.extensions import db
from helpdesk.models import Organisation, OrganisationDomain, User
from helpdesk.services.custom_fields import clean_values
from helpdesk.services.errors import PermissionDenied, ServiceError

DOMAIN = re.compile(r"^(?=.{3,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,62}$")
# Mail providers everyone uses: matching them would put strangers in one company.
PUBLIC_PROVIDERS = frozenset({"gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com",
                              "yahoo.com", "icloud.com", "me.com", "aol.com", "gmx.de", "gmx.net", "web.de",
                              "proton.me", "protonmail.com", "mail.com", "yandex.ru"})


def normalise_domain(text: str) -> str:
    """``@Example.COM `` → ``example.com``; a ``ServiceError`` for anything that is not a domain."""
    domain = (text or "").strip().lower().lstrip("@").rstrip(".")
    try:
        domain = domain.encode("idna").decode("ascii") if domain else domain
    except UnicodeError:
        pass
    if not DOMAIN.match(domain):
        raise ServiceError(
            gettext('%(value)s is not a domain (write it like example.com).',
                    value=repr(text.strip())), field="domains")
    if domain in PUBLIC_PROVIDERS:
        raise ServiceError(
            gettext('%(domain)s is a public mail provider: its users are not one organisation.', domain=domain),
                           field="domains")
    return domain


def parse_domains(text: str | Iterable[str]) -> list[str]:
    """Domains from a form: separated by commas, spaces or lines; duplicates dropped."""
    parts = re.split(r"[\s,;]+", text) if isinstance(text, str) else list(text)
    seen: dict[str, None] = {}
    for part in parts:
        if part.strip():
            seen[normalise_domain(part)] = None
    return list(seen)


def _candidates(email: str | None) -> list[str]:
    domain = (email or "").rpartition("@")[2].lower()
    labels = domain.split(".")
    return [".".join(labels[i:]) for i in range(len(labels) - 1)] if domain else []


def organisation_for_email(email: str | None) -> Organisation | None:
    """The organisation whose domain (or a parent domain) the address belongs to; the longest match wins."""
    candidates = _candidates(email)
    if not candidates:
        return None
    row = db.session.scalar(select(OrganisationDomain).where(OrganisationDomain.domain.in_(candidates))
                            .order_by(func.length(OrganisationDomain.domain).desc()).limit(1))
    return row.organisation if row is not None else None


def match_organisation(user: User) -> Organisation | None:
    """Put a customer without an organisation into their domain's (the caller commits)."""
    if user.role != "customer" or user.organisation_id is not None:
        return None
    organisation = organisation_for_email(user.email)
    if organisation is not None:
        user.organisation = organisation
    return organisation


def _snapshot(org: Organisation) -> dict[str, Any]:
    return {"name": org.name, "domains": [d.domain for d in org.domains], "shared_tickets": org.shared_tickets,
            "account_owner": org.account_owner.name if org.account_owner else "", "notes": org.notes,
            "custom_fields": dict(org.custom_fields or {})}


def save_organisation(actor: User, organisation: Organisation | None = None, *, name: str | None = None,
                      domains: str | Iterable[str] | None = None, shared_tickets: bool | None = None,
                      notes: str | None = None, account_owner_id: int | None | str = "",
                      custom_fields: dict[str, Any] | None = None) -> Organisation:
    """Create (``organisation=None``) or change an organisation; ``None`` leaves a value as it is.

    Admins change everything; agents only the notes, the account owner and the custom fields.
    ``account_owner_id`` "" means unchanged, ``None`` no owner.
    """
    if not actor.is_staff:
        raise PermissionDenied(gettext('Only agents and admins can change organisations.'))
    admin_only = organisation is None or name is not None or domains is not None or shared_tickets is not None
    if admin_only and not actor.is_admin:
        raise PermissionDenied(
            gettext('Only admins create organisations, name them or change their domains and sharing.'))
    before = _snapshot(organisation) if organisation is not None else None
    org = organisation or Organisation(name="", notes="", custom_fields={})
    if name is not None:
        name = name.strip()
        if not name or len(name) > 200:
            raise ServiceError(gettext('Enter a name (200 characters at most).'), field="name")
        clash = db.session.scalar(select(Organisation.id).where(func.lower(Organisation.name) == name.lower()))
        if clash is not None and clash != org.id:
            raise ServiceError(gettext('There is already an organisation called %(name)s.', name=name), field="name")
        org.name = name
    new_domains: list[str] = []
    if domains is not None:
        wanted = parse_domains(domains)
        taken = dict(db.session.execute(select(OrganisationDomain.domain, Organisation.name)
                                        .join(Organisation).where(OrganisationDomain.domain.in_(wanted),
                                                                  Organisation.id != (org.id or 0))).all())
        if taken:
            domain, owner = next(iter(taken.items()))
            raise ServiceError(
                gettext('%(domain)s already belongs to %(owner)s.', domain=domain, owner=owner), field="domains")
        kept = {d.domain for d in org.domains}
        new_domains = [d for d in wanted if d not in kept]
        org.domains = [d for d in org.domains if d.domain in wanted] + [
            OrganisationDomain(domain=d) for d in new_domains]
    if shared_tickets is not None:
        org.shared_tickets = bool(shared_tickets)
    if notes is not None:
        if len(notes) > 20_000:
            raise ServiceError(gettext('Notes are limited to 20,000 characters.'), field="notes")
        org.notes = notes.strip()
    if account_owner_id != "":
        owner = db.session.get(User, account_owner_id) if account_owner_id is not None else None
        if account_owner_id is not None and (owner is None or not owner.is_staff or not owner.is_active):
            raise ServiceError(gettext('The account owner must be an active agent or admin.'), field="account_owner")
        org.account_owner_id = owner.id if owner is not None else None
    if custom_fields is not None:
        org.custom_fields = clean_values("organisation", custom_fields, org.custom_fields)
    db.session.add(org)
    db.session.flush()
    if org in db.session and "account_owner" in org.__dict__:
        db.session.expire(org, ["account_owner"])  # read-only relationship: reload it from the id
    if new_domains:
        _adopt_customers(org, new_domains)
    audit_target = lazy_gettext("organisation %(name)s (#%(id)s)", name=org.name, id=org.id)
    admin_audit.record_change("organisation", audit_target, before, _snapshot(org),
                              actor=actor)
    db.session.commit()
    return org


def _adopt_customers(org: Organisation, domains: list[str]) -> None:
    """Customers of these domains (or their subdomains) without an organisation join ``org``."""
    matches = [User.email.like(f"%@{d}") for d in domains] + [User.email.like(f"%.{d}") for d in domains]
    db.session.execute(update(User).where(User.role == "customer", User.organisation_id.is_(None),
                                          or_(*matches)).values(organisation_id=org.id)
                       .execution_options(synchronize_session=False))


def delete_organisation(actor: User, org: Organisation) -> None:
    """Members stay customers, without an organisation."""
    if not actor.is_admin:
        raise PermissionDenied(gettext('Only admins delete organisations.'))
    before = _snapshot(org)
    db.session.execute(update(User).where(User.organisation_id == org.id).values(organisation_id=None)
                       .execution_options(synchronize_session=False))
    audit_target = lazy_gettext("organisation %(name)s (#%(id)s)", name=org.name, id=org.id)
    admin_audit.record_change("organisation", audit_target, before, None, actor=actor)
    db.session.delete(org)
    db.session.commit()


def set_customer_organisation(customer: User, organisation: Organisation | None, actor: User) -> None:
    """An agent's choice of a customer's organisation (or none)."""
    if not actor.is_staff:
        raise PermissionDenied(gettext("Only agents can change a customer's organisation."))
    if customer.role != "customer":
        raise ServiceError(gettext('Only customers belong to organisations.'))
    customer.organisation = organisation
    db.session.commit()
