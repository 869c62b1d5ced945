"""Users and customers: creation, contact identities, and merging duplicates."""
from __future__ import annotations

from collections.abc import Iterable

from flask_babel import gettext, lazy_gettext
from sqlalchemy import select, update

import helpdesk.services.admin_audit as admin_audit
from helpdesk.addresses import normalise_email
from helpdesk.extensions import db
from helpdesk.models import ContactIdentity, Team, Ticket, User
from helpdesk.models.users import ROLES
from helpdesk.services.errors import PermissionDenied, ServiceError
from helpdesk.services.organisations import match_organisation
from helpdesk.services.tickets import audit

# What the admin audit log keeps of a user (never the password hash: "password" marks a change).
USER_AUDIT_FIELDS = ("name", "email", "role", "active", "available", "team_scoped")



def _user_snapshot(user: User) -> dict:
    values = admin_audit.snapshot(user, USER_AUDIT_FIELDS) or {}
    values["teams"] = sorted(t.name for t in user.teams)
    return values


def create_user(name: str, email: str, role: str = "customer", password: str | None = None,
                teams: Iterable[Team] = (), *, actor: User | None = None, available: bool = True,
                team_scoped: bool = False) -> User:
    """Create an account. With ``actor`` (an admin in Admin → Users) it is an audited change."""
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise ServiceError(gettext('Enter a name (200 characters at most).'), field="name")
    if role not in ROLES:
        raise ServiceError(gettext('Unknown role %(role)s.', role=repr(role)), field="role")
    email = normalise_email(email)
    if db.session.scalar(select(User.id).where(User.email == email)) is not None:
        raise ServiceError(gettext('A user with this email address already exists.'), field="email")
    if password is not None and len(password) < 8:
        raise ServiceError(gettext('Passwords need at least 8 characters.'), field="password")
    user = User(name=name, email=email, role=role, available=available, team_scoped=team_scoped)
    if password:
        user.set_password(password)
    user.teams = list(teams)
    if role == "customer":
        user.identities.append(ContactIdentity(kind="email", value=email))
        match_organisation(user)  # by the address's domain
    db.session.add(user)
    if actor is not None:
        db.session.flush()
        admin_audit.record("user", "created", lazy_gettext("user %(name)s (#%(id)s)", name=user.name, id=user.id), None,
                           {**_user_snapshot(user), "password": "set" if password else ""}, actor=actor)
    db.session.commit()
    return user


def update_user(user: User, actor: User, *, name: str, email: str, role: str, active: bool,
                available: bool, team_scoped: bool, teams: Iterable[Team],
                password: str | None = None) -> bool:
    """An admin's edit of an account (Admin → Users); audited. Returns whether anything changed.

    An admin cannot take away their own admin role or disable themselves (someone must be
    left to undo it); a new password or a disabled account signs the user out everywhere.
    """
    if not actor.is_admin:
        raise PermissionDenied(gettext('Only admins can edit accounts.'))
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise ServiceError(gettext('Enter a name (200 characters at most).'), field="name")
    if role not in ROLES:
        raise ServiceError(gettext('Unknown role %(role)s.', role=repr(role)), field="role")
    email = normalise_email(email)
    clash = db.session.scalar(select(User.id).where(User.email == email, User.id != user.id))
    if clash:
        raise ServiceError(gettext('A user with this email address already exists.'), field="email")
    if user.id == actor.id and (role != "admin" or not active):
        raise ServiceError(gettext('You cannot remove your own admin role or disable yourself.'), field="role")
    if password is not None and password != "" and len(password) < 8:
        raise ServiceError(gettext('Passwords need at least 8 characters.'), field="password")
    before = _user_snapshot(user)
    was_active = user.active
    user.name, user.email, user.role = name, email, role
    user.active, user.available, user.team_scoped = bool(active), bool(available), bool(team_scoped)
    user.teams = list(teams)
    if password:
        user.set_password(password)
    elif was_active and not user.active:
        user.session_version += 1  # a disabled account is signed out everywhere
    after = _user_snapshot(user)
    if password:
        before["password"], after["password"] = "", "changed"
    audit_target = lazy_gettext("user %(name)s (#%(id)s)", name=user.name, id=user.id)
    entry = admin_audit.record("user", "changed", audit_target, before, after, actor=actor)
    db.session.commit()
    return entry is not None


def find_customer(kind: str, value: str) -> User | None:
    if kind == "email":
        value = value.strip().lower()
    # One query for the identity and its user (a channel asks this for every message).
    user = db.session.scalar(select(User).join(ContactIdentity, ContactIdentity.user_id == User.id).where(
        ContactIdentity.kind == kind, ContactIdentity.value == value).limit(1))
    if user is not None:
        while user.merged_into_id:  # follow merges to the surviving record
            user = db.session.get(User, user.merged_into_id)
        return user
    if kind == "email":
        return db.session.scalar(select(User).where(User.email == value, User.role == "customer"))
    return None


def find_or_create_customer(kind: str, value: str, name: str | None = None) -> User:
    """The customer behind a contact identity (``email``, ``phone``, ``chat``, ``social:x``)."""
    if kind == "email":
        value = normalise_email(value)
    value = value.strip()
    if not value or len(value) > 320:
        raise ServiceError(gettext('A contact address is required.'), field=kind)
    user = find_customer(kind, value)
    if user is not None:
        return user
    user = User(name=(name or value.split("@")[0])[:200], role="customer",
                email=value if kind == "email" else None)
    user.identities.append(ContactIdentity(kind=kind, value=value))
    match_organisation(user)  # by the address's domain
    db.session.add(user)
    db.session.commit()
    return user


def add_identity(customer: User, kind: str, value: str) -> ContactIdentity:
    if kind == "email":
        value = normalise_email(value)
    if find_customer(kind, value) is not None:
        raise ServiceError(gettext('This contact already belongs to a customer.'), field="value")
    identity = ContactIdentity(user_id=customer.id, kind=kind, value=value.strip())
    db.session.add(identity)
    db.session.commit()
    return identity


def merge_customers(source: User, target: User, actor: User) -> int:
    """Fold the duplicate ``source`` into ``target``: identities and tickets move; returns tickets moved."""
    if not actor.is_staff:
        raise PermissionDenied(gettext('Only agents can merge customers.'))
    if source.id == target.id:
        raise ServiceError(gettext('Choose two different customers.'))
    if source.role != "customer" or target.role != "customer":
        raise ServiceError(gettext('Only customers can be merged.'))
    if source.merged_into_id or target.merged_into_id:
        raise ServiceError(gettext('One of these customers was already merged.'))
    tickets = list(db.session.scalars(select(Ticket).where(Ticket.customer_id == source.id)))
    for ticket in tickets:
        audit(ticket, actor, "changed", "customer_id", source.id, target.id,
              reason=f"customer {source.name} merged into {target.name}")
    db.session.execute(update(Ticket).where(Ticket.customer_id == source.id)
                       .values(customer_id=target.id))
    known = {(i.kind, i.value) for i in source.identities + target.identities}
    for identity in list(source.identities):
        source.identities.remove(identity)
        target.identities.append(identity)
    if source.email and ("email", source.email) not in known:
        target.identities.append(ContactIdentity(kind="email", value=source.email))
    source.email = None
    source.merged_into_id = target.id
    source.active = False
    source.session_version += 1
    db.session.commit()
    return len(tickets)
