"""The REST API's machinery (see ``helpdesk.api``): errors, who is asking, scopes, limits.

The REST API under ``/api/v1`` (flask-smorest + marshmallow), its spec and its docs page.

Who is asking: a personal API token (``Authorization: Bearer hdk_…``; such requests are
exempt from CSRF, since no browser sends the header by itself), else the signed-in browser
session (then every write needs the CSRF token, as a form would). The user's role and the
one scoping function (``helpdesk.access``) decide what they see, exactly as on the pages:
another's object answers 404. A token's scope caps what it may do (read < write < admin).

Every error is JSON of one shape: ``{"error": {"code", "message", "fields"}}``.
Requests are rate-limited per token (or per signed-in user) in the rate limiter's storage,
shared by every process; over the limit: 429 with ``Retry-After``.
"""
from __future__ import annotations

import time
from typing import Any

from flask import current_app, g, request
from flask_login import current_user
from flask_smorest import Api
from flask_wtf.csrf import CSRFError
from limits import parse as parse_limit
from werkzeug.exceptions import HTTPException

from helpdesk.extensions import csrf, db, limiter
from helpdesk.models import ApiToken, User
from helpdesk.services import api_tokens
from helpdesk.services.errors import PermissionDenied, ServiceError, StaleTicket

PREFIX = "/api/v1"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
# Asking for these in the query string is refused: a token in a URL ends up in logs and histories.
TOKEN_PARAMS = ("token", "access_token", "api_key", "api_token", "apikey", "key")
PUBLIC_ENDPOINTS = {"api-docs.openapi_json", "api_docs.docs"}

CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
         405: "method_not_allowed", 409: "conflict", 413: "too_large", 415: "unsupported_media_type",
         422: "invalid", 429: "rate_limited", 500: "server_error"}


class ApiError(HTTPException):
    """A refusal in a REST API view: ``raise ApiError(404, "No such greeting.")``, optionally
    with ``code`` and ``fields`` (field → messages); answered as ``{"error": {"code", "message", "fields"}}``."""

    def __init__(self, status: int, message: str, code: str | None = None,
                 fields: dict[str, Any] | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.code = status
        self.error_code = code or CODES.get(status, "error")
        self.message = message
        self.fields = fields or {}
        self.extra_headers = headers or {}


def error_response(status: int, message: str, code: str | None = None,
                   fields: dict[str, Any] | None = None, headers: dict[str, str] | None = None):
    body = {"error": {"code": code or CODES.get(status, "error"), "message": message, "fields": fields or {}}}
    return body, status, headers or {}


def is_api_request() -> bool:
    return request.path == PREFIX or request.path.startswith(PREFIX + "/")


class HelpdeskApi(Api):
    """flask-smorest's Api whose error handler answers only for ``/api/`` paths, in our shape;
    the pages keep their own error pages."""

    def _register_error_handlers(self) -> None:
        self._app.register_error_handler(HTTPException, self.handle_http_exception)

    def handle_http_exception(self, error: HTTPException):
        if not is_api_request():
            return error  # the pages' handlers (or Flask's) as before
        return http_error_json(error)


def http_error_json(error: HTTPException):
    if isinstance(error, ApiError):
        return error_response(error.code, error.message, error.error_code, error.fields, error.extra_headers)
    status = error.code or 500
    if status >= 500:
        db.session.rollback()
    data = getattr(error, "data", None) or {}
    fields: dict[str, Any] = {}
    message = {400: "The request could not be read.", 404: "Not found (or you cannot see it).",
               405: "This address does not accept that method.",
               413: "The request is larger than we accept.", 500: "Something went wrong; the error was logged."
               }.get(status, error.description or error.name)
    if data.get("messages") == {"json": ["Invalid JSON body."]}:  # webargs: the body does not parse
        data = {"message": "The body is not valid JSON."}
    if "messages" in data:  # webargs/marshmallow: {location: {field: [messages]}}
        for _location, errors in data["messages"].items():
            fields.update(_flatten(errors))
        message = "Some fields are not valid: " + ", ".join(sorted(fields)) + "."
    if isinstance(error, CSRFError):
        message = ("A signed-in browser session must send the CSRF token (X-CSRFToken header) with "
                   "every write; programs should use an API token instead.")
    elif status == 400 and error.description and "JSON" in error.description:
        message = "The body is not valid JSON."
    elif "message" in data:
        message = data["message"]
    headers = dict(data.get("headers") or {})
    retry_after = getattr(error, "retry_after", None)
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    code = "csrf_failed" if isinstance(error, CSRFError) else None
    return error_response(status, message, code, fields, headers)


def _flatten(errors: Any, prefix: str = "") -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    if isinstance(errors, dict):
        for key, value in errors.items():
            out.update(_flatten(value, f"{prefix}{key}" if not prefix else f"{prefix}.{key}"))
    elif isinstance(errors, list) and all(isinstance(e, str) for e in errors):
        out[prefix or "_body"] = errors
    else:
        out[prefix or "_body"] = [str(errors)]
    return out


# ------------------------------------------------------------------ who is asking


def api_user() -> User:
    """Who is asking, inside a REST API view: the API token's owner, or the signed-in user."""
    return g.api_user


def api_token() -> ApiToken | None:
    return g.get("api_token")


def need_staff() -> User:
    """Agents and admins (light agents: read and notes only, they are refused here)."""
    user = api_user()
    if not user.is_staff:
        raise ApiError(403, "Only agents and admins can do this.")
    return user


def need_backoffice() -> User:
    user = api_user()
    if not user.is_backoffice:
        raise ApiError(403, "Only people behind the desk (agents, light agents, admins) can do this.")
    return user


def need_admin() -> User:
    user = api_user()
    token = api_token()
    if not user.is_admin:
        raise ApiError(403, "Only admins can do this.")
    if token is not None and not token.allows("admin"):
        raise ApiError(403, "This needs a token with the admin scope.", code="insufficient_scope")
    return user


def service_error(exc: ServiceError) -> ApiError:
    """A service's refusal as the API says it: permission → 403, stale → 409, else 422."""
    if isinstance(exc, PermissionDenied):
        return ApiError(403, exc.message)
    if isinstance(exc, StaleTicket):
        return ApiError(409, "The ticket changed since the version you sent; read it again and retry.",
                        code="stale")
    field = getattr(exc, "field", None)
    return ApiError(422, exc.message, fields={field: [exc.message]} if field else {})


def authenticate_request() -> Any:
    if not is_api_request() or request.endpoint in PUBLIC_ENDPOINTS or request.endpoint is None:
        return None
    if any(name in request.args for name in TOKEN_PARAMS):
        return error_response(400, "API tokens are refused in URLs (they end up in logs and histories): "
                                   "send 'Authorization: Bearer <token>' instead.", "token_in_url")
    header = request.headers.get("Authorization", "")
    token: ApiToken | None = None
    if header:
        scheme, _, raw = header.partition(" ")
        if scheme.lower() != "bearer" or not raw.strip():
            return error_response(401, "Send the token as 'Authorization: Bearer <token>'.",
                                  headers={"WWW-Authenticate": "Bearer"})
        token, why = api_tokens.authenticate(raw)
        if token is None:
            return error_response(401, why, "invalid_token",
                                  headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
        user = token.user
        g._login_user = user  # Flask-Login's current user for this request: the token's, never a cookie's
        subject = f"token:{token.id}"
    else:
        if not getattr(current_user, "is_authenticated", False):
            return error_response(401, "Sign in, or send an API token as 'Authorization: Bearer <token>'.",
                                  headers={"WWW-Authenticate": "Bearer"})
        user = current_user._get_current_object()
        if request.method not in SAFE_METHODS:
            csrf.protect()  # a browser session writes with the CSRF token, as on the pages
        subject = f"user:{user.id}"
    g.api_user, g.api_token = user, token
    refusal = _rate_limit(subject)
    if refusal is not None:
        return refusal
    needed = "read" if request.method in SAFE_METHODS else "write"
    if token is not None and not token.allows(needed):
        return error_response(403, f"This token's scope is {token.scope}; this request needs {needed}.",
                              "insufficient_scope")
    return None


def _rate_limit(subject: str):
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return None
    item = parse_limit(current_app.config["API_RATE_LIMIT"])
    strategy = limiter.limiter
    if strategy.hit(item, "api", subject):
        return None
    reset, _remaining = strategy.get_window_stats(item, "api", subject)
    wait = max(1, int(reset - time.time()) + 1)
    return error_response(429, f"Too many requests: at most {current_app.config['API_RATE_LIMIT']}. "
                               f"Try again in {wait} seconds.", headers={"Retry-After": str(wait)})
