"""Helpdesk: a small Flask ticketing core whose capabilities ship as pluggy plugins."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask

from helpdesk.markers import hookimpl

__version__ = "0.1.0"

__all__ = ["create_app", "hookimpl"]  # hookimpl marks a hook implementation: ``from helpdesk import hookimpl``

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app: defaults, then ``instance/config.py``, then ``HELPDESK_*``, then ``config``."""
    # Lazy on purpose: ``import helpdesk`` (plugins' ``hookimpl``, the CLI's start-up) must not
    # load Flask extensions, models, the web layer and every plugin.
    from helpdesk import config as cfg
    from helpdesk import config_cache, housekeeping, jobs, limiter_storage  # noqa: F401  (a periodic job; the helpdesk-db:// storage)
    from helpdesk.extensions import bootstrap, csrf, db, limiter, login_manager, migrate
    from helpdesk.plugin_manager import PluginManager
    from helpdesk.web import register_web

    instance_path = (config or {}).get("INSTANCE_PATH") or os.environ.get(
        "HELPDESK_INSTANCE_PATH") or str(PROJECT_ROOT / "instance")
    app = Flask(__name__, instance_path=os.path.abspath(instance_path),
                template_folder=str(PROJECT_ROOT / "templates"), static_folder="static")
    os.makedirs(app.instance_path, exist_ok=True)
    # The instance's own config.py, not the package's helpdesk/config.py (from_pyfile's
    # relative paths are relative to the package).
    sources = cfg.load(app.config, app.instance_path, os.environ, config)
    app.extensions["helpdesk_config_sources"] = sources
    from helpdesk.request_log import configure_logging

    configure_logging(app.config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = cfg.instance_secret(app.instance_path, "secret_key")
        sources["SECRET_KEY"] = os.path.join(app.instance_path, "secret_key")
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        sources["SQLALCHEMY_DATABASE_URI"] = "from DATABASE_URL" if app.config.get("DATABASE_URL") \
            else "default (SQLite in the instance folder)"
        app.config["SQLALCHEMY_DATABASE_URI"] = app.config.get("DATABASE_URL") or (
            "sqlite:///" + os.path.join(app.instance_path, "helpdesk.sqlite3"))
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql://"):
        app.config["SQLALCHEMY_DATABASE_URI"] = app.config["SQLALCHEMY_DATABASE_URI"].replace(
            "postgresql://", "postgresql+psycopg://", 1)
    if app.config.get("SESSION_COOKIE_SECURE") is None:
        secure = app.config["EXTERNAL_URL"].startswith("https://")
        app.config["SESSION_COOKIE_SECURE"] = app.config["REMEMBER_COOKIE_SECURE"] = secure
    if app.config.get("REDIS_URL") and app.config["RATELIMIT_STORAGE_URI"] == cfg.DEFAULTS["RATELIMIT_STORAGE_URI"]:
        app.config["RATELIMIT_STORAGE_URI"] = app.config["REDIS_URL"]

    db.init_app(app)
    _configure_sqlite(app)
    config_cache.install()  # the configuration version moves with every settings/plugins/teams change
    migrate.init_app(app, db, directory=str(Path(__file__).parent / "migrations"))
    if _add_plugin_branches not in migrate.configure_callbacks:
        migrate.configure(_add_plugin_branches)
    login_manager.init_app(app)
    csrf.init_app(app)
    bootstrap.init_app(app)
    limiter.init_app(app)
    jobs.configure(app)

    plugins = PluginManager()
    app.extensions["helpdesk_plugins"] = plugins
    plugins.load(app)
    from helpdesk import i18n

    i18n.init_app(app, [info.module for info in plugins.plugins.values() if info.module is not None])
    register_web(app)
    plugins.register_blueprints(app)
    from helpdesk.api.app import register_api

    register_api(app)  # /api/v1: the core's resources and plugins' endpoints (helpdesk_api_blueprints)
    app.before_request(plugins.guard_blueprints)
    plugins.register_cli(app)
    app.teardown_request(lambda exc: plugins.flush_errors())
    app.teardown_appcontext(lambda exc: plugins.flush_errors())
    return app


def _add_plugin_branches(config):
    """Alembic sees the core's revisions and every installed plugin's folder."""
    from flask import current_app

    core = str(Path(__file__).parent / "migrations" / "versions")
    folders = current_app.extensions["helpdesk_plugins"].migration_folders()
    config.set_main_option("version_locations", os.pathsep.join([core, *folders]))
    return config


def _configure_sqlite(app: Flask) -> None:
    """WAL and a busy timeout, so the web server and the worker share the file calmly."""
    from sqlalchemy import event

    from helpdesk.extensions import db

    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return
    with app.app_context():
        engine = db.engine

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=10000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()
