"""Helpers shared by the knowledge plugin's tests."""
from __future__ import annotations


def set_settings(app, **values) -> None:
    """Save the knowledge plugin's settings as the admin page would (and forget cached ones)."""
    from flask import g

    from helpdesk.plugin_manager import manager

    manager(app).save_settings("knowledge", values)
    g.pop("_helpdesk_plugin_states", None)
    g.pop("_helpdesk_plugin_settings", None)
