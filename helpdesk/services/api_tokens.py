"""Personal API tokens: made, shown once, stored hashed, checked in constant time, revoked.

A token reads ``hdk_<prefix>_<secret>``. The prefix (8 hex characters, public, shown in
the list of tokens) finds the row; the SHA-256 of the whole token is compared with
``hmac.compare_digest``. Making and revoking a token goes to the admin audit log.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from flask_babel import gettext, lazy_gettext
from sqlalchemy import or_, select, update
from sqlalchemy.orm.attributes import set_committed_value

import helpdesk.services.admin_audit as admin_audit
from helpdesk.extensions import db
from helpdesk.models import ApiToken, User
from helpdesk.models.api import API_SCOPES
from helpdesk.models.base import utcnow
from helpdesk.services.errors import PermissionDenied, ServiceError

TOKEN_PREFIX = "hdk_"
EXPIRY_DAYS = (7, 30, 90, 365)
MAX_ACTIVE_TOKENS = 20
# last_used_at is written at most this often per token (not one write per API request).
LAST_USED_RESOLUTION = timedelta(minutes=1)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def scopes_for(user: User) -> tuple[str, ...]:
    """The scopes ``user`` may give a token: admin only for admins."""
    return API_SCOPES if user.is_admin else API_SCOPES[:2]


def create_token(user: User, name: str, scope: str, expires_in_days: int) -> tuple[ApiToken, str]:
    """Make a token for ``user``; returns the row and the token itself (shown once, never stored)."""
    name = (name or "").strip()
    if not name:
        raise ServiceError(gettext('Give the token a name, so you know later what uses it.'), field="name")
    if len(name) > 100:
        raise ServiceError(gettext('The name is too long (100 characters at most).'), field="name")
    if scope not in API_SCOPES:
        raise ServiceError(
            gettext('Unknown scope %(scope)s: choose read, write or admin.', scope=repr(scope)), field="scope")
    if scope not in scopes_for(user):
        raise PermissionDenied(gettext('Only admins can make tokens with the admin scope.'))
    if expires_in_days not in EXPIRY_DAYS:
        raise ServiceError(gettext('Choose when the token expires: 7, 30, 90 or 365 days.'), field="expires_in_days")
    active = db.session.scalar(select(db.func.count(ApiToken.id)).where(
        ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None),
        or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > utcnow())))
    if active >= MAX_ACTIVE_TOKENS:
        raise ServiceError(
            gettext('You have %(max_active_tokens)s active tokens: revoke one you no longer use first.',
                    max_active_tokens=MAX_ACTIVE_TOKENS))
    prefix = secrets.token_hex(4)
    token = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    row = ApiToken(user_id=user.id, name=name, prefix=prefix, token_hash=_hash(token), scope=scope,
                   created_at=utcnow(), expires_at=utcnow() + timedelta(days=expires_in_days))
    db.session.add(row)
    db.session.flush()
    audit_target = lazy_gettext("API token %(name)s (%(prefix)s) of %(user)s (#%(id)s)", name=name, prefix=prefix,
                                user=user.name, id=user.id)
    admin_audit.record("api_token", "created", audit_target,
                       None, {"name": name, "scope": scope, "expires_at": row.expires_at.isoformat()},
                       actor=user)
    db.session.commit()
    return row, token


def revoke_token(token: ApiToken, actor: User) -> None:
    """Revoke a token (its owner, or an admin); a revoked token opens nothing from now on."""
    if token.user_id != actor.id and not actor.is_admin:
        raise PermissionDenied(gettext('You can revoke only your own tokens.'))
    if token.revoked_at is not None:
        return
    token.revoked_at = utcnow()
    audit_target = lazy_gettext("API token %(name)s (%(prefix)s) of user #%(id)s", name=token.name,
                                prefix=token.prefix, id=token.user_id)
    admin_audit.record("api_token", "revoked", audit_target,
                       actor=actor)
    db.session.commit()


def tokens_of(user: User) -> list[ApiToken]:
    return list(db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)
                                   .order_by(ApiToken.revoked_at.is_not(None), ApiToken.id.desc())))


def authenticate(raw: str) -> tuple[ApiToken | None, str]:
    """The token for ``raw`` and "" if it may be used, else (None, why not) with a clear reason."""
    raw = (raw or "").strip()
    parts = raw.split("_", 2)
    if not raw.startswith(TOKEN_PREFIX) or len(parts) != 3 or len(parts[1]) != 8:
        return None, "The API token is malformed: send the whole token as 'Authorization: Bearer hdk_…'."
    row = db.session.scalar(select(ApiToken).where(ApiToken.prefix == parts[1]))
    # Compared in constant time; an unknown prefix is compared against a dummy hash all the same.
    expected = row.token_hash if row is not None else _hash("dummy")
    if not hmac.compare_digest(expected, _hash(raw)) or row is None:
        return None, "The API token is not valid."
    state = row.state()
    if state != "active":
        return None, f"The API token was {state}. Make a new one on your profile page."
    user = row.user
    if user is None or not user.is_active:
        return None, "The API token's account is disabled."
    now = utcnow()
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_RESOLUTION:
        db.session.execute(update(ApiToken).where(ApiToken.id == row.id).values(last_used_at=now)
                           .execution_options(synchronize_session=False))
        db.session.commit()
        set_committed_value(row, "last_used_at", now)  # not a pending change: nothing to flush later
    return row, ""
