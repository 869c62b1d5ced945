"""Registering the REST API on an app (see ``helpdesk.api``).

``base`` has the machinery (authentication, scopes, rate limits, the error shape),
``tickets``, ``people`` and ``organisations`` the core's resources, ``docs`` the browsable reference; plugins
add endpoints with the ``helpdesk_api_blueprints`` hook. Integrators' guide: docs/api_rest.md.
"""
from __future__ import annotations

from flask import Flask

from helpdesk.api import docs, organisations, people, tickets
from helpdesk.api.base import PREFIX, HelpdeskApi, authenticate_request
from helpdesk.extensions import csrf
from helpdesk.plugin_manager import manager
from helpdesk.web import DatabaseIntConverter
from helpdesk.web import api_tokens as api_tokens_web
from helpdesk.web import webhooks as webhooks_web

# ------------------------------------------------------------------ registration


def register_api(app: Flask) -> None:
    """The API on ``app``: the spec, the docs page, the core's resources and plugins' endpoints."""
    app.config.setdefault("API_TITLE", "Helpdesk API")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("OPENAPI_URL_PREFIX", PREFIX)
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    app.config.setdefault("API_SPEC_OPTIONS", {
        "info": {"description": "The helpdesk's REST API. Authenticate with a personal API token: "
                                "`Authorization: Bearer hdk_…` (Profile → API tokens). "
                                "Errors: `{\"error\": {\"code\", \"message\", \"fields\"}}`."},
        "components": {"securitySchemes": {"token": {"type": "http", "scheme": "bearer"}}},
        "security": [{"token": []}],
    })
    api = HelpdeskApi(app)
    api.register_converter(DatabaseIntConverter, lambda converter: {"type": "integer", "minimum": 0})
    app.extensions["helpdesk_api"] = api
    for blueprint in (*tickets.BLUEPRINTS, *people.BLUEPRINTS, *organisations.BLUEPRINTS):
        api.register_blueprint(blueprint, url_prefix=PREFIX + (blueprint.url_prefix or ""))
        csrf.exempt(blueprint)  # CSRF is checked in base.authenticate_request, for browser sessions only
    register_plugin_endpoints(app)
    app.register_blueprint(docs.bp)
    app.register_blueprint(api_tokens_web.bp)
    app.register_blueprint(webhooks_web.bp)
    app.before_request(authenticate_request)


def register_plugin_endpoints(app: Flask) -> None:
    """Plugins' API blueprints (``helpdesk_api_blueprints``) on ``app``'s API and spec; idempotent.
    A disabled plugin's endpoints answer 404 (the plugin manager's blueprint guard)."""
    api = app.extensions["helpdesk_api"]
    plugins = manager(app)
    for plugin, impl in plugins._setup_impls("helpdesk_api_blueprints"):
        try:
            blueprints = impl.function() or []
        except Exception:
            app.logger.exception("plugin %s failed in helpdesk_api_blueprints", plugin)
            continue
        for blueprint in blueprints:
            if app.blueprints.get(blueprint.name) is blueprint:
                continue
            api.register_blueprint(blueprint, url_prefix=PREFIX + (blueprint.url_prefix or ""))
            csrf.exempt(blueprint)  # CSRF: base.authenticate_request, for browser sessions only
            plugins.blueprint_owners[blueprint.name] = plugin
            if plugin in plugins.plugins:
                plugins.plugins[plugin].blueprints.append(blueprint.name)
