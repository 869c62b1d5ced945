"""The web layer: blueprints, security headers, error pages and template helpers."""
from __future__ import annotations

from flask import Flask, current_app, g, render_template, request
from flask.globals import request_ctx
from flask_login import current_user
from jinja2 import ChoiceLoader, FileSystemLoader
from markupsafe import Markup
from werkzeug.routing import IntegerConverter

from helpdesk import sessions
from helpdesk.api.base import http_error_json, is_api_request
from helpdesk.extensions import db, login_manager
from helpdesk.i18n import lazy_gettext
from helpdesk.plugin_manager import manager
from helpdesk.services.settings import site_setting
from helpdesk.web import admin, agent, auth, ops, portal, profile, queue_tools, reply_checks
from helpdesk.web.announcements import status_banner
from helpdesk.web.js_texts import js_texts
from helpdesk.web.links import _ago, register_filters
from helpdesk.web.uploads import recover_oversized_form, upload_limits

CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
       "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")


class DatabaseIntConverter(IntegerConverter):
    """``<int:id>`` that only matches what an id column can hold: a larger number is "not
    found" (404), not a database error (PostgreSQL's "integer out of range", a 500)."""

    def __init__(self, map, *args, **kwargs) -> None:  # noqa: A002 - werkzeug's signature
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


def register_web(app: Flask) -> None:
    # Before any blueprint (core or plugin) adds a rule, so every <int:...> is bounded.
    app.url_map.converters["int"] = DatabaseIntConverter
    ops.register(app)  # request ids, metrics, /healthz, /readyz, /metrics

    # instance/templates/ may override any core or plugin template.
    app.jinja_loader = ChoiceLoader([
        FileSystemLoader(f"{app.instance_path}/templates"), app.jinja_loader])
    for module in (auth, portal, agent, admin, profile, reply_checks, queue_tools):
        app.register_blueprint(module.bp)

    login_manager.login_view = "auth.login"
    login_manager.login_message = lazy_gettext("Please sign in to continue.")
    login_manager.localize_callback = str  # the lazy text in the reader's language, at flash time
    login_manager.login_message_category = "info"
    login_manager.user_loader(sessions.load_user)  # server-side sessions

    app.before_request(_fresh_request_caches)
    app.after_request(_security_headers)
    for code in (400, 403, 404, 405, 413, 429, 500):
        app.register_error_handler(code, _error_page)
    app.register_error_handler(413, _too_large)
    app.jinja_env.globals.update(slot=_slot, nav_links=_nav_links, site_name=_site_name)
    app.jinja_env.globals.update(upload_limits=upload_limits)
    app.jinja_env.globals.update(status_banner=status_banner)
    app.jinja_env.globals.update(js_texts=js_texts)  # the scripts' words (web/js_texts.py)
    app.jinja_env.filters["ago"] = _ago
    register_filters(app)


def _fresh_request_caches() -> None:
    """Per-request caches live on ``g``; drop them if an app context outlives a request."""
    for key in ("_helpdesk_plugin_states", "_helpdesk_config_checked", "_helpdesk_config_prefetched",
                "_helpdesk_page", "_helpdesk_page_data", "_helpdesk_page_queries", "_helpdesk_page_rows",
                "_helpdesk_nav_counts", "_unread_notifications",
                "_helpdesk_reader_zone",
                "_site_settings", "_nav_links", "_login_user", "oversized_uploads",
                "_flask_babel",  # the language chosen for the previous request
                current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")):  # Flask-WTF's token
        g.pop(key, None)


def _security_headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    endpoint = request.endpoint or ""
    if endpoint in ops.OPS_ENDPOINTS:  # no session lookup (no database, no cookie) for probes
        return response
    if (current_user and getattr(current_user, "is_authenticated", False)
            and endpoint != "static" and not endpoint.endswith(".static")):
        # Private pages and downloads (send_file says "no-cache") must not stay in a shared cache.
        headers["Cache-Control"] = "no-store"
    return response


ERROR_TEXT = {
    400: (lazy_gettext("Bad request"),
          lazy_gettext("The form was incomplete or expired. Go back, reload the page and try again.")),
    403: (lazy_gettext("Not allowed"), lazy_gettext("Your account cannot open this page.")),
    404: (lazy_gettext("Not found"),
          lazy_gettext("There is nothing here, or you cannot see it. Check the address or go back.")),
    405: (lazy_gettext("Not allowed"), lazy_gettext("This page does not accept that kind of request.")),
    413: (lazy_gettext("Too large"), lazy_gettext("What you sent is larger than we accept. Try a smaller attachment.")),
    429: (lazy_gettext("Slow down"), lazy_gettext("Too many attempts. Wait a minute and try again.")),
    500: (lazy_gettext("Something went wrong"), lazy_gettext("The error was logged. Try again in a moment.")),
}


def _error_page(error):
    code = getattr(error, "code", 500) or 500
    title, text = (str(s) for s in ERROR_TEXT.get(code, ERROR_TEXT[500]))
    description = getattr(error, "description", "") if code in (400, 403, 429) else ""
    if code == 500:
        db.session.rollback()
    if is_api_request():  # the REST API's errors are JSON of its own shape
        return http_error_json(error)
    if request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json":
        return {"error": title, "message": text}, code
    if request_ctx.url_adapter is None:
        # No URL can be built (an untrusted Host header): a plain answer rather than a crash.
        return f"{title}\n\n{text}\n", code, {"Content-Type": "text/plain; charset=utf-8"}
    headers = {}
    if getattr(error, "retry_after", None) is not None:
        headers["Retry-After"] = str(error.retry_after)
    return render_template("error.html", code=code, title=title, text=text,
                           description=description), code, headers


def _too_large(error):
    """An upload over MAX_CONTENT_LENGTH to a ticket form: the form again, with what was typed
    and which file was too large (``uploads.recover_oversized_form``); else the 413 page."""
    if recover_oversized_form():
        view = current_app.view_functions[request.endpoint or ""]
        return current_app.ensure_sync(view)(**(request.view_args or {}))
    return _error_page(error)


def _slot(name: str, **context) -> Markup:
    context.setdefault("user", current_user)
    return manager().render_slot(name, context)


def _nav_links() -> list[tuple[str, str]]:
    if not current_user.is_authenticated:
        return []
    if "_nav_links" not in g:
        links: list[tuple[str, str]] = []
        for _plugin, result in manager().call_collect("helpdesk_nav_links", user=current_user):
            links.extend((str(label), str(url)) for label, url in result)
        g._nav_links = links
    return g._nav_links


def _site_name() -> str:
    return site_setting("helpdesk_name")


