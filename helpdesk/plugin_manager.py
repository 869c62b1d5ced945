"""The one place that knows which plugins exist, which are enabled, and how to call them.

Discovery is by the entry-point group ``helpdesk.plugins`` only (bundled plugins in
``plugins/`` are installed packages too). A plugin that fails to import is recorded and
skipped. Enabled state and settings live in the ``plugin_states`` table, read once per
request (or job), so every process agrees on the next request without a restart.
"""
from __future__ import annotations

import importlib
import logging
import os
import traceback
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from types import ModuleType
from typing import Any

import pluggy
from cryptography.fernet import Fernet, InvalidToken
from flask import Flask, abort, current_app, g, has_app_context, request
from markupsafe import Markup, escape
from sqlalchemy import select

from helpdesk import hookspecs
from helpdesk.config import instance_secret
from helpdesk.extensions import db
from helpdesk.models import PluginError, PluginState
from helpdesk.models.base import utcnow

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "helpdesk.plugins"
CORE = "core"  # the core's own hook implementations; always enabled
# The core's features built on its own hooks, like any plugin, but never switched off.
CORE_MODULES = {
    CORE: "helpdesk.core_hooks",
    "core.sla": "helpdesk.sla.hooks",
    "core.assignment": "helpdesk.assignment",
}
SECRET_PREFIX = "fernet:"


@dataclass
class PluginInfo:
    name: str
    module: Any = None
    version: str = ""
    description: str = ""
    distribution: str = ""
    load_error: str = ""
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
            dist = ep.dist
            info = PluginInfo(
                name=ep.name,
                version=dist.version if dist else "",
                distribution=dist.name if dist else "",
                description=(dist.metadata.get("Summary") or "") if dist else "",
            )
            try:
                module = ep.load()
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
        for plugin, impl in self._impls(hook_name):
            try:
                self._invoke(impl, kwargs)
            except Exception as exc:
                db.session.rollback()
                self.record_error(plugin, hook_name, exc)
        self.flush_errors()

    # -------------------------------------------------------------- errors

    def record_error(self, plugin: str, hook: str, exc: BaseException) -> None:
        """Log an error and keep it for the admin page.

        Decision hooks run inside a service's transaction, which may still roll back, so
        errors are written by ``flush_errors`` in a transaction of their own.
        """
        log.error("plugin %s raised in %s", plugin, hook, exc_info=exc)
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
                    declared = impl.function() or []
                except Exception as exc:
                    self.record_error(impl.plugin_name, "helpdesk_settings", exc)
                    declared = []
                specs[impl.plugin_name] = {s.name: s for s in declared}
            self._setting_specs = specs
        return self._setting_specs.get(name, {})

    def _fernet(self) -> Fernet:
        key = os.environ.get("HELPDESK_SECRETS_KEY") or instance_secret(
            current_app.instance_path, "secrets.key", 32)
        import base64
        import hashlib

        return Fernet(base64.urlsafe_b64encode(hashlib.sha256(key.encode()).digest()))

    def get_setting(self, plugin: str, name: str) -> Any:
        spec = self.setting_specs(plugin).get(name)
        if spec is None:
            raise KeyError(f"plugin {plugin!r} declares no setting {name!r}")
        env = os.environ.get(f"HELPDESK_PLUGIN_{plugin}_{name}".upper())
        if env is not None:
            from helpdesk.plugin_settings import coerce

            return coerce(spec, env)
        stored = self._stored_settings(plugin).get(name)
        if stored is None:
            return spec.default
        if spec.type == "secret" and isinstance(stored, str) and stored.startswith(SECRET_PREFIX):
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
        for name, value in values.items():
            spec = specs[name]
            if spec.type == "secret":
                if value in (None, ""):
                    continue
                value = SECRET_PREFIX + self._fernet().encrypt(str(value).encode()).decode()
            settings[name] = value
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
        for plugin, impl in self._setup_impls("helpdesk_cli"):
            try:
                self._invoke(impl, {"cli": app.cli})
            except Exception:
                log.exception("plugin %s failed in helpdesk_cli", plugin)

    def migration_folders(self) -> list[str]:
        folders = []
        for plugin, impl in self._setup_impls("helpdesk_migrations"):
            try:
                folder = impl.function()
            except Exception:
                log.exception("plugin %s failed in helpdesk_migrations", plugin)
                continue
            if folder:
                folders.append(str(folder))
        return folders

    def _setup_impls(self, hook_name: str) -> list[tuple[str, Any]]:
        """Setup hooks run for every installed plugin: disabling must not need a restart."""
        hook = getattr(self.pm.hook, hook_name)
        return [(impl.plugin_name, impl) for impl in reversed(hook.get_hookimpls())
                if not (impl.plugin_name in self.plugins and self.plugins[impl.plugin_name].load_error)]

    def channels(self) -> dict[str, Any]:
        """Channel name → channel object, enabled plugins only (the core's ``web`` included)."""
        out = {}
        for plugin, result in self.call_collect("helpdesk_channels"):
            for channel in result:
                channel.plugin = plugin
                out.setdefault(channel.name, channel)
        return out

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


def manager(app: Flask | None = None) -> PluginManager:
    return (app or current_app).extensions["helpdesk_plugins"]

