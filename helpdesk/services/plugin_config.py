"""Switching plugins on and off and saving their settings, with an admin audit entry.

The plugin manager alone knows what enabled means; these wrap it so that every way in
(Admin → Plugins, the command line) leaves the same trace.
"""
from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext

import helpdesk.services.admin_audit as admin_audit
from helpdesk.plugin_manager import manager


def set_plugin_enabled(name: str, enabled: bool) -> bool:
    """Enable or disable an installed plugin; returns whether the state changed."""
    plugins = manager()
    was = plugins.is_enabled(name)
    if was != enabled:
        # Added before set_enabled's commit, so the switch and its entry are written together.
        admin_audit.record("plugin", "enabled" if enabled else "disabled", lazy_gettext("plugin %(name)s", name=name),
                           {"enabled": was}, {"enabled": enabled})
    plugins.set_enabled(name, enabled)
    return was != enabled


def save_plugin_settings(name: str, values: dict[str, Any]) -> None:
    """Store a plugin's validated settings; secrets are masked in the log."""
    plugins = manager()
    specs = plugins.setting_specs(name)
    secrets = {n for n, spec in specs.items() if spec.type == "secret"}
    stored = plugins.stored_settings(name)
    before = {n: stored.get(n, specs[n].default) for n in values}
    # An empty secret keeps the stored one (see ``save_settings``): not a change.
    after = {n: (before[n] if n in secrets and v in (None, "") else v) for n, v in values.items()}
    for n in secrets & set(values):
        if values[n] not in (None, ""):
            before[n], after[n] = ("set" if before[n] else ""), "new value"
    audit_target = lazy_gettext("settings of %(name)s", name=name)
    admin_audit.record("plugin_settings", "changed", audit_target, before, after, secrets=secrets)
    plugins.save_settings(name, values)
