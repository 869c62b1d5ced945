"""The one place that knows which plugins exist, which are enabled, and how to call them.

Discovery is by the entry-point group ``helpdesk.plugins`` only (bundled plugins in
``plugins/`` are installed packages too). A plugin that fails to import is recorded and
skipped. Enabled state and settings live in the ``plugin_states`` table, read once per
request (or job), so every process agrees on the next request without a restart.
"""
from __future__ import annotations

import base64
import functools
import hashlib
import importlib
import logging
import os
import traceback
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from types import ModuleType
from typing import TYPE_CHECKING, Any

import click
import pluggy
from flask import Flask, abort, current_app, g, has_app_context, request
from flask.cli import ScriptInfo
from markupsafe import Markup, escape
from sqlalchemy import select

from helpdesk import after_commit, hookspecs, metrics
from helpdesk.config import instance_secret
from helpdesk.extensions import db
from helpdesk.models import PluginError, PluginState
from helpdesk.models.base import utcnow
from helpdesk.plugin_settings import coerce
from helpdesk.versioning import incompatibility

if TYPE_CHECKING:
    from cryptography.fernet import MultiFernet

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "helpdesk.plugins"
CORE = "core"  # the core's own hook implementations; always enabled
# The core's features built on its own hooks, like any plugin, but never switched off.
CORE_MODULES = {
    CORE: "helpdesk.core_hooks",
    "core.sla": "helpdesk.sla.hooks",
    "core.assignment": "helpdesk.assignment",
    "core.availability": "helpdesk.web.availability",
    "core.live": "helpdesk.live",
    "core.live_web": "helpdesk.web.live",
    "core.notifications": "helpdesk.notification_hooks",
    "core.notifications_web": "helpdesk.web.notifications",
    "core.reports": "helpdesk.web.reports",
    "core.macros": "helpdesk.web.macros",
    "core.webhooks": "helpdesk.webhook_hooks",  # the core's events as signed webhooks (the REST API's)
    "core.customers": "helpdesk.web.customers",
    "core.announcements": "helpdesk.web.announcements",
}
SECRET_PREFIX = "fernet:"
SECRETS_KEY_INFO = b"helpdesk secrets v1"  # HKDF context: a key derived for anything else differs


def end_read_transaction() -> None:
    """End a transaction that only read (event hooks' reads after the service's commit).

    Left open, it would stay "idle in transaction" on PostgreSQL (holding its snapshot and
    share locks) in anything that keeps its app context: a worker, a script, the shell. Ended
    without expiring the session's objects, so the caller reads nothing again; a transaction
    with changes is left to its owner.
    """
    if not has_app_context():
        return
    session = db.session()
    if not session.in_transaction() or session.new or session.dirty or session.deleted:
        return
    expire, session.expire_on_commit = session.expire_on_commit, False
    try:
        session.commit()
    finally:
        session.expire_on_commit = expire


def _undo(savepoint: Any) -> None:
    """Roll back to ``savepoint`` unless it is over. A failed flush leaves it inactive but
    still open (``is_active`` is False then), and only its rollback lets the session go on."""
    if savepoint._rollback_can_be_called():
        savepoint.rollback()


@dataclass
class PluginInfo:
    name: str
    module: Any = None
    version: str = ""
    description: str = ""
    distribution: str = ""
    load_error: str = ""
    incompatible: str = ""  # why the plugin's ``requires_api`` rules it out (then ``load_error`` says so too)
    blueprints: list = field(default_factory=list)


class PluginManager:
    def __init__(self) -> None:
        self.pm = pluggy.PluginManager("helpdesk")
        self.pm.add_hookspecs(hookspecs)
        self.plugins: dict[str, PluginInfo] = {}
        self._setting_specs: dict[str, dict] | None = None
        self.blueprint_owners: dict[str, str] = {}

    # ------------------------------------------------------------ discovery

    def load(self, app: Flask) -> None:
        """Register the core's hooks, then every installed plugin that imports cleanly."""
        for name, module_path in CORE_MODULES.items():
            self.pm.register(importlib.import_module(module_path), name=name)
        if app.config.get("SAFE_MODE"):
            log.warning("HELPDESK_SAFE_MODE is on: no plugin is loaded")
            return
        skipped = {n.strip() for n in app.config.get("DISABLED_PLUGINS", "").split(",") if n.strip()}
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            if ep.name in skipped or ep.name in self.plugins:
                continue
            # One read of the package's METADATA (dist.version and dist.name would each read it again)
            meta = ep.dist.metadata if ep.dist else None
            info = PluginInfo(
                name=ep.name,
                version=(meta.get("Version") or "") if meta else "",  # type: ignore[attr-defined]
                distribution=(meta.get("Name") or "") if meta else "",  # type: ignore[attr-defined]
                description=(meta.get("Summary") or "") if meta else "",  # type: ignore[attr-defined]
            )
            try:
                module = ep.load()
                problem = incompatibility(ep.name, getattr(module, "requires_api", None))
                if problem:
                    info.incompatible = info.load_error = problem
                    self.plugins[ep.name] = info
                    log.error("plugin %s is skipped: %s", ep.name, problem)
                    continue
                self.register(module, ep.name, info)
            except Exception:  # one broken plugin must not stop the helpdesk
                info.load_error = traceback.format_exc()
                self.plugins[ep.name] = info
                log.exception("plugin %s failed to load and is skipped", ep.name)

    def register(self, module: ModuleType | object, name: str, info: PluginInfo | None = None) -> None:
        """Register a plugin object under ``name`` (also used by tests for throwaway plugins)."""
        info = info or PluginInfo(name=name)
        info.module = module
        if not info.description:
            info.description = ((getattr(module, "__doc__", None) or "").strip().splitlines() or [""])[0]
        if not info.version:
            info.version = str(getattr(module, "__version__", ""))
        self.pm.register(module, name=name)
        try:
            self.pm.check_pending()
        except Exception:  # a misspelt hook: the plugin must not half-load
            self.pm.unregister(name=name)
            raise
        self.plugins[name] = info
        self._setting_specs = None

    def unregister(self, name: str) -> None:
        self.pm.unregister(name=name)
        self.plugins.pop(name, None)
        self._setting_specs = None

    # -------------------------------------------------------- enable/disable

    def states(self) -> dict[str, bool]:
        """name → enabled, read once per app context (a request or a job)."""
        if has_app_context() and "_helpdesk_plugin_states" in g:
            return g._helpdesk_plugin_states
        if has_app_context():  # from the configuration snapshot: no query unless it changed
            from helpdesk.config_cache import snapshot

            snap = snapshot()
            g._helpdesk_plugin_states = snap.plugin_enabled
            g._helpdesk_plugin_settings = snap.plugin_settings
            return snap.plugin_enabled
        rows = db.session.execute(select(PluginState.name, PluginState.enabled, PluginState.settings)).all()
        states = {name: enabled for name, enabled, _settings in rows}
        if has_app_context():
            g._helpdesk_plugin_states = states
            g._helpdesk_plugin_settings = {name: settings or {} for name, _enabled, settings in rows}
        return states

    def _stored_settings(self, plugin: str) -> dict[str, Any]:
        """A plugin's saved settings, from the same once-per-request read as ``states``."""
        if "_helpdesk_plugin_states" not in g or "_helpdesk_plugin_settings" not in g:
            g.pop("_helpdesk_plugin_states", None)
            self.states()
        return g._helpdesk_plugin_settings.get(plugin, {})

    def stored_settings(self, plugin: str) -> dict[str, Any]:
        """A plugin's saved settings as stored (secrets still encrypted; no defaults, no environment)."""
        return dict(self._stored_settings(plugin))

    def is_enabled(self, name: str) -> bool:
        if name in CORE_MODULES:
            return True
        info = self.plugins.get(name)
        if info is None or info.load_error:
            return False
        # A plugin never switched off is enabled: installing it is the admin's choice.
        return self.states().get(name, True)

    def set_enabled(self, name: str, enabled: bool) -> None:
        if name not in self.plugins:
            raise KeyError(name)
        state = db.session.get(PluginState, name) or PluginState(name=name, settings={})
        state.enabled = enabled
        state.updated_at = utcnow()
        db.session.add(state)
        db.session.commit()
        g.pop("_helpdesk_plugin_states", None)

    # ------------------------------------------------------------- calling

    def _impls(self, hook_name: str) -> list[tuple[str, Any]]:
        """(plugin name, impl) in pluggy's call order, enabled plugins only."""
        hook = getattr(self.pm.hook, hook_name)
        states = self.states()  # once per call, not per implementation: g is a context-local proxy
        out = []
        for impl in reversed(hook.get_hookimpls()):
            name = impl.plugin_name
            if name in CORE_MODULES:
                out.append((name, impl))
                continue
            info = self.plugins.get(name)
            if info is not None and not info.load_error and states.get(name, True):
                out.append((name, impl))
        return out

    def implementers(self, hook_name: str) -> list[str]:
        """Names of the enabled plugins (and core modules) implementing ``hook_name``, in call order."""
        return [name for name, _impl in self._impls(hook_name)]

    @staticmethod
    def _invoke(impl: Any, kwargs: dict[str, Any]) -> Any:
        return impl.function(*[kwargs[name] for name in impl.argnames])

    def call_collect(self, hook_name: str, **kwargs: Any) -> list[tuple[str, Any]]:
        """Call every enabled implementation; return ``(plugin, result)`` for non-None results.

        An implementation that raises is recorded and skipped.
        """
        results = []
        for plugin, impl in self._impls(hook_name):
            try:
                result = self._invoke(impl, kwargs)
            except Exception as exc:
                self.record_error(plugin, hook_name, exc)
                continue
            if result is not None:
                results.append((plugin, result))
        return results

    def call_first(self, hook_name: str, **kwargs: Any) -> tuple[str, Any] | None:
        """Return ``(plugin, result)`` of the first implementation answering non-None."""
        for plugin, impl in self._impls(hook_name):
            try:
                result = self._invoke(impl, kwargs)
            except Exception as exc:
                self.record_error(plugin, hook_name, exc)
                continue
            if result is not None:
                return plugin, result
        return None

    def call_event(self, hook_name: str, **kwargs: Any) -> None:
        """Fire an event hook after commit and store any errors right away.

        The core's work is committed, so a plugin that fails half-way through its own
        writes is rolled back and the next plugin starts from a clean session.
        """
        # The objects were just committed by the service and each implementation commits its own
        # rows through the same session: a commit need not expire them (which made every next
        # implementation read the ticket and its message again: ~10 statements per new ticket).
        session = db.session() if has_app_context() else None
        expire = session.expire_on_commit if session is not None else True
        if session is not None:
            session.expire_on_commit = False
        try:
            for plugin, impl in self._impls(hook_name):
                try:
                    self._invoke(impl, kwargs)
                except Exception as exc:
                    db.session.rollback()
                    self.record_error(plugin, hook_name, exc)
        finally:
            if session is not None:
                session.expire_on_commit = expire
        self.flush_errors()
        end_read_transaction()

    def call_event_in_transaction(self, hook_name: str, **kwargs: Any) -> None:
        """Fire an event hook inside the caller's transaction, then commit it all at once.

        Each implementation runs inside a SAVEPOINT of its own: one that raises is rolled back
        alone (its rows, nothing else), recorded and skipped, and the next one goes on. Inside
        an implementation ``session.commit()`` only flushes (its rows are committed with the
        caller's, by the one commit at the end) and ``session.rollback()`` undoes its own work
        (back to its savepoint). Jobs it queues and live events it publishes are sent after the
        commit (``helpdesk.after_commit``). One commit for the service and every plugin, where
        ``call_event`` after the service's commit cost one commit per writing plugin (issue 19).

        If the final commit fails, the caller's work is not saved either and the error
        propagates, as the service's own commit would have.
        """
        session = db.session()
        with after_commit.deferring() as pending:
            for plugin, impl in self._impls(hook_name):
                self._invoke_in_savepoint(session, plugin, hook_name, impl, kwargs)
        # The objects stay loaded (the service and the view read them next); nothing else
        # changed them behind the session's back. So for the deferred work's own commits (jobs
        # run at once, in this session, when ``JOBS_IMMEDIATE`` is on, as in tests).
        expire, session.expire_on_commit = session.expire_on_commit, False
        try:
            try:
                session.commit()
            except BaseException:
                session.rollback()
                raise
            self.flush_errors()
            after_commit.run(pending)
        finally:
            session.expire_on_commit = expire
        end_read_transaction()

    def _invoke_in_savepoint(self, session: Any, plugin: str, hook_name: str, impl: Any,
                             kwargs: dict[str, Any]) -> None:
        savepoint = [session.begin_nested()]

        def commit() -> None:  # the plugin's rows are committed with the caller's
            session.flush()

        def rollback() -> None:  # undo this plugin's work only, and let it go on
            _undo(savepoint[0])
            savepoint[0] = session.begin_nested()

        # Instance attributes shadow the methods for ``db.session`` and ``db_session()`` alike.
        session.commit, session.rollback = commit, rollback
        try:
            self._invoke(impl, kwargs)
            session.flush()  # a failing write is this plugin's, not the next one's
            savepoint[0].commit()  # RELEASE: kept, committed with the rest
        except Exception as exc:
            _undo(savepoint[0])
            self.record_error(plugin, hook_name, exc)
        finally:
            del session.commit, session.rollback

    # -------------------------------------------------------------- errors

    def record_error(self, plugin: str, hook: str, exc: BaseException) -> None:
        """Log an error and keep it for the admin page.

        Decision hooks run inside a service's transaction, which may still roll back, so
        errors are written by ``flush_errors`` in a transaction of their own.
        """
        log.error("plugin %s raised in %s", plugin, hook, exc_info=exc)
        metrics.plugin_error(plugin, hook)
        tb = "".join(traceback.format_exception(exc))
        pending = g.setdefault("_helpdesk_plugin_errors", []) if has_app_context() else []
        pending.append({"plugin": plugin, "hook": hook, "message": f"{type(exc).__name__}: {exc}"[:1000],
                        "traceback": tb, "created_at": utcnow()})

    def flush_errors(self) -> None:
        if not has_app_context():
            return
        pending = g.pop("_helpdesk_plugin_errors", None)
        if not pending:
            return
        try:
            with db.engine.begin() as conn:
                conn.execute(PluginError.__table__.insert(), pending)
        except Exception:  # never let error bookkeeping break the request
            log.exception("could not store %d plugin error(s)", len(pending))

    def recent_errors(self, name: str, hours: int = 24, limit: int = 20) -> list[PluginError]:
        from datetime import timedelta

        since = utcnow() - timedelta(hours=hours)
        return list(db.session.scalars(
            select(PluginError).where(PluginError.plugin == name, PluginError.created_at >= since)
            .order_by(PluginError.id.desc()).limit(limit)))

    # ------------------------------------------------------------- settings

    def setting_specs(self, name: str) -> dict[str, Any]:
        """The settings a plugin declares, by setting name (disabled plugins included)."""
        if self._setting_specs is None:
            specs: dict[str, dict] = {}
            for impl in self.pm.hook.helpdesk_settings.get_hookimpls():
                try:
                    declared: Any = impl.function() or []
                except Exception as exc:
                    self.record_error(impl.plugin_name, "helpdesk_settings", exc)
                    declared = []
                specs[impl.plugin_name] = {s.name: s for s in declared}
            self._setting_specs = specs
        return self._setting_specs.get(name, {})

    def _fernet(self) -> MultiFernet:
        """The Fernet keys for secrets: derived from the secrets key with HKDF (SHA-256).

        Tokens made before (the key was a plain SHA-256 of the secrets key) still decrypt with
        the second key; ``rotate`` re-encrypts them with the first, which encrypts new ones.
        """
        # cryptography (5-7 MiB a process) is imported by the processes that touch a secret
        from cryptography.fernet import Fernet, MultiFernet
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.kdf.hkdf import HKDF

        secret = (os.environ.get("HELPDESK_SECRETS_KEY") or instance_secret(
            current_app.instance_path, "secrets.key", 32)).encode()
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=SECRETS_KEY_INFO).derive(secret)
        legacy = hashlib.sha256(secret).digest()
        return MultiFernet([Fernet(base64.urlsafe_b64encode(derived)), Fernet(base64.urlsafe_b64encode(legacy))])

    def get_setting(self, plugin: str, name: str) -> Any:
        spec = self.setting_specs(plugin).get(name)
        if spec is None:
            raise KeyError(f"plugin {plugin!r} declares no setting {name!r}")
        env = os.environ.get(f"HELPDESK_PLUGIN_{plugin}_{name}".upper())
        if env is not None:
            return coerce(spec, env)
        stored = self._stored_settings(plugin).get(name)
        if stored is None:
            return spec.default
        if spec.type == "secret" and isinstance(stored, str) and stored.startswith(SECRET_PREFIX):
            from cryptography.fernet import InvalidToken

            try:
                return self._fernet().decrypt(stored[len(SECRET_PREFIX):].encode()).decode()
            except InvalidToken:
                log.error("secret setting %s.%s cannot be decrypted with this key", plugin, name)
                return spec.default
        return stored

    def save_settings(self, plugin: str, values: dict[str, Any]) -> None:
        """Store validated values; secrets are encrypted; an empty secret keeps the old one."""
        specs = self.setting_specs(plugin)
        state = db.session.get(PluginState, plugin) or PluginState(name=plugin, enabled=True, settings={})
        settings = dict(state.settings or {})
        from cryptography.fernet import InvalidToken

        fernet = self._fernet()
        for name, value in values.items():
            spec = specs[name]
            if spec.type == "secret":
                if value in (None, ""):
                    continue
                value = SECRET_PREFIX + fernet.encrypt(str(value).encode()).decode()
            settings[name] = value
        for name, stored in list(settings.items()):  # secrets kept as they were: re-encrypted with today's key
            spec = specs.get(name)
            if spec is None or spec.type != "secret" or values.get(name) not in (None, ""):
                continue
            if isinstance(stored, str) and stored.startswith(SECRET_PREFIX):
                try:
                    settings[name] = SECRET_PREFIX + fernet.rotate(stored[len(SECRET_PREFIX):].encode()).decode()
                except InvalidToken:  # another key entirely: left for the admin to enter again
                    pass
        state.settings = settings
        state.updated_at = utcnow()
        db.session.add(state)
        db.session.commit()
        g.pop("_helpdesk_plugin_states", None)

    # ------------------------------------------------------------- web glue

    def register_blueprints(self, app: Flask) -> None:
        for plugin, impl in self._setup_impls("helpdesk_blueprints"):
            try:
                blueprints = impl.function() or []
            except Exception:
                log.exception("plugin %s failed in helpdesk_blueprints", plugin)
                continue
            for bp in blueprints:
                if app.blueprints.get(bp.name) is bp:
                    continue  # already registered (register_blueprints is idempotent)
                app.register_blueprint(bp)
                if plugin in self.plugins:  # the core's own modules are not listed as plugins
                    self.plugins[plugin].blueprints.append(bp.name)
                self.blueprint_owners[bp.name] = plugin

    def guard_blueprints(self) -> None:
        """``before_request``: a disabled plugin's pages answer 404.

        One app-level check rather than one per blueprint: a plugin's blueprint object is
        shared by every app the process creates, and Flask freezes it once registered.
        """
        for name in request.blueprints:
            plugin = self.blueprint_owners.get(name)
            if plugin is not None and not self.is_enabled(plugin):
                abort(404)

    def register_cli(self, app: Flask) -> None:
        """Add plugins' commands; a disabled plugin's commands refuse to run (checked here, once)."""
        for plugin, impl in self._setup_impls("helpdesk_cli"):
            before = dict(app.cli.commands)
            try:
                self._invoke(impl, {"cli": app.cli})
            except Exception:
                log.exception("plugin %s failed in helpdesk_cli", plugin)
            if plugin in self.plugins:
                for name, command in app.cli.commands.items():
                    if before.get(name) is not command:
                        _gate_command(command, plugin)

    def migration_folders_by_plugin(self) -> dict[str, str]:
        """Plugin name → the folder of its Alembic branch (plugins with a ``helpdesk_migrations`` hook)."""
        folders = {}
        for plugin, impl in self._setup_impls("helpdesk_migrations"):
            try:
                folder = impl.function()
            except Exception:
                log.exception("plugin %s failed in helpdesk_migrations", plugin)
                continue
            if folder:
                folders[plugin] = str(folder)
        return folders

    def migration_folders(self) -> list[str]:
        return list(self.migration_folders_by_plugin().values())

    def _setup_impls(self, hook_name: str) -> list[tuple[str, Any]]:
        """Setup hooks run for every installed plugin: disabling must not need a restart."""
        hook = getattr(self.pm.hook, hook_name)
        return [(impl.plugin_name, impl) for impl in reversed(hook.get_hookimpls())
                if not (impl.plugin_name in self.plugins and self.plugins[impl.plugin_name].load_error)]

    def channels(self) -> dict[str, Any]:
        """Channel name → channel object, enabled plugins only (the core's ``web`` included)."""
        out: dict[str, Any] = {}
        for plugin, result in self.call_collect("helpdesk_channels"):
            for channel in result:
                channel.plugin = plugin
                out.setdefault(channel.name, channel)
        return out

    # ---------------------------------------------------------- page data

    def begin_page(self, page: str, ticket_ids: list[int], queries: dict[str, Any] | None = None) -> None:
        """The view says which page and tickets it renders: plugins' ``page_data`` loads for them.

        ``queries`` are the view's own ``select(Model)`` reads, run in the page's one batch
        with every ``helpdesk_page_queries`` (read back with ``page_rows(CORE, name)``).
        """
        g._helpdesk_page = (page, list(ticket_ids))
        g._helpdesk_page_data = {}
        g._helpdesk_page_queries = dict(queries or {})
        g.pop("_helpdesk_page_rows", None)

    def page_rows(self, plugin: str, name: str, ticket_id: int | None = None) -> list[Any] | None:
        """Rows of a query ``plugin`` declared with ``helpdesk_page_queries`` (or the view's own).

        Every declared query of the page (and the navigation counts, if not read yet) runs in
        one statement the first time any is asked for. ``None`` outside a page (or a page
        without ``ticket_id`` when one is given), for a query
        that was not declared, or when the plugin's query failed: read it yourself then.
        """
        if not has_app_context() or "_helpdesk_page" not in g:
            return None
        if ticket_id is not None and ticket_id not in g._helpdesk_page[1]:
            return None
        if "_helpdesk_page_rows" not in g:
            g._helpdesk_page_rows = self._page_rows()
        return g._helpdesk_page_rows.get((plugin, name))

    def _page_rows(self) -> dict[tuple[str, str], list[Any]]:
        from flask_login import current_user

        from helpdesk.page_batch import entity_of, run_together

        page, ticket_ids = g._helpdesk_page
        user = current_user._get_current_object() if current_user else None
        queries: dict[tuple[str, str], Any] = {(CORE, name): q for name, q in g._helpdesk_page_queries.items()}
        if user is not None and getattr(user, "is_authenticated", False):
            for plugin, result in self.call_collect("helpdesk_page_queries", page=page, ticket_ids=ticket_ids,
                                                    user=user):
                try:
                    for name, query in dict(result).items():
                        entity_of(query)
                        queries[(plugin, str(name))] = query
                except Exception as exc:
                    self.record_error(plugin, "helpdesk_page_queries", exc)
        nav: list[tuple[str, str, Any]] = []
        if "_helpdesk_nav_counts" not in g:  # the navigation's counts ride along: one statement less
            nav = self._nav_declared(user)
        scalars = {("nav", i): q for i, (_p, _n, q) in enumerate(nav)}
        try:
            out = run_together(queries, scalars)
        except Exception:  # one plugin's bad SQL: run each on its own, record the culprit
            db.session.rollback()
            out = {}
            for key, query in queries.items():
                try:
                    out.update(run_together({key: query}))
                except Exception as exc:
                    db.session.rollback()
                    self.record_error(key[0], "helpdesk_page_queries", exc)
            nav = []
        if nav:
            g._helpdesk_nav_counts = {(p, n): out.pop(("nav", i)) or 0 for i, (p, n, _q) in enumerate(nav)}
        return out

    def page_data(self, plugin: str) -> Any:
        """``plugin``'s ``helpdesk_page_data`` for this request's page (called once, lazily), or None."""
        if not has_app_context() or "_helpdesk_page" not in g:
            return None
        loaded = g._helpdesk_page_data
        if plugin in loaded:
            return loaded[plugin]
        page, ticket_ids = g._helpdesk_page
        result = None
        for name, impl in self._impls("helpdesk_page_data"):
            if name != plugin:
                continue
            from flask_login import current_user

            try:
                result = self._invoke(impl, {"page": page, "ticket_ids": ticket_ids,
                                             "user": current_user._get_current_object()})
            except Exception as exc:
                self.record_error(plugin, "helpdesk_page_data", exc)
                result = None
        loaded[plugin] = result
        return result

    def nav_count(self, plugin: str, name: str) -> int:
        """A count declared with ``helpdesk_nav_counts``; all of a request's counts run as one statement."""
        if not has_app_context():
            return 0
        if "_helpdesk_nav_counts" not in g and "_helpdesk_page" in g and "_helpdesk_page_rows" not in g:
            g._helpdesk_page_rows = self._page_rows()  # a page's batch carries the counts too
        if "_helpdesk_nav_counts" not in g:
            g._helpdesk_nav_counts = self._nav_counts()
        return int(g._helpdesk_nav_counts.get((plugin, name)) or 0)

    def _nav_declared(self, user: Any) -> list[tuple[str, str, Any]]:
        if user is None or not getattr(user, "is_authenticated", False):
            return []
        declared: list[tuple[str, str, Any]] = []
        for plugin, result in self.call_collect("helpdesk_nav_counts", user=user):
            declared.extend((plugin, str(name), query) for name, query in dict(result).items())
        return declared

    def _nav_counts(self) -> dict[tuple[str, str], int]:
        from flask_login import current_user

        user = current_user._get_current_object() if current_user else None
        declared = self._nav_declared(user)
        if not declared:
            return {}
        try:
            row = db.session.execute(select(*[q.scalar_subquery().label(f"c{i}")
                                              for i, (_p, _n, q) in enumerate(declared)])).one()
            return {(p, n): value for (p, n, _q), value in zip(declared, row, strict=True)}
        except Exception:  # one plugin's bad SQL: count each on its own, record the culprit
            db.session.rollback()
        counts: dict[tuple[str, str], int] = {}
        for plugin, name, query in declared:
            try:
                counts[(plugin, name)] = db.session.scalar(query) or 0
            except Exception as exc:
                db.session.rollback()
                self.record_error(plugin, "helpdesk_nav_counts", exc)
        return counts

    def render_slot(self, slot: str, context: dict[str, Any]) -> Markup:
        parts = []
        impls = sorted(self._impls("helpdesk_template_slot"), key=lambda pi: pi[0])
        for plugin, impl in impls:
            try:
                result = self._invoke(impl, {"slot": slot, "context": context})
            except Exception as exc:
                self.record_error(plugin, f"helpdesk_template_slot:{slot}", exc)
                continue
            if result:
                parts.append(Markup(f'<div class="plugin-slot" data-plugin="{escape(plugin)}">')
                             + escape(result) + Markup("</div>"))
        return Markup("").join(parts)


def _gate_command(command: click.Command, plugin: str) -> None:
    """Make ``command`` (a plugin's command or group) stop with a clear message while ``plugin`` is off."""
    original = command.callback
    if getattr(original, "helpdesk_plugin", None) == plugin:
        return  # the same command object, registered again by another app of this process

    def gated(*args: Any, **kwargs: Any) -> Any:
        ctx = click.get_current_context()
        if not has_app_context():
            ctx.with_resource(ctx.ensure_object(ScriptInfo).load_app().app_context())
        if not manager().is_enabled(plugin):
            raise click.ClickException(
                f"The {plugin} plugin is disabled, so `{ctx.command_path}` does not run. Enable it first: "
                f"`helpdesk plugins enable {plugin}` (or in Admin → Plugins).")
        return original(*args, **kwargs) if original is not None else None

    if original is not None:
        functools.update_wrapper(gated, original)
    gated.helpdesk_plugin = plugin  # type: ignore[attr-defined]
    command.callback = gated


def manager(app: Flask | None = None) -> PluginManager:
    return (app or current_app).extensions["helpdesk_plugins"]

