"""The plugin's settings (Admin → Plugins → insights)."""
from __future__ import annotations

from typing import Any

from helpdesk.plugin_api import Setting, get_setting, lazy_gettext

PLUGIN = "insights"

SETTINGS = [
    Setting("assign_threshold", "int", default=12, min=0, max=100, label=lazy_gettext("Theme similarity threshold (%)"),
            help=lazy_gettext("A new text joins the closest theme when its cosine similarity reaches this; below it, "
                              "no theme.")),
    Setting("max_themes", "int", default=40, min=2, max=200, label=lazy_gettext("Most themes"),
            help=lazy_gettext("Re-clustering keeps at most this many themes (the largest).")),
    Setting("min_theme_size", "int", default=3, min=2, max=1000, label=lazy_gettext("Smallest theme"),
            help=lazy_gettext("Groups with fewer texts than this are not made into themes.")),
    Setting("rising_percent", "int", default=200, min=110, max=5000,
            label=lazy_gettext("Rising: percent of the baseline"),
            help=lazy_gettext("A theme is rising when its last 7 days hold at least this share of its weekly average "
                              "of the 4 weeks before (200: twice as many).")),
    Setting("rising_min_count", "int", default=5, min=1, max=10000, label=lazy_gettext("Rising: least texts in a week"),
            help=lazy_gettext("Fewer texts than this in the last 7 days never count as rising (small numbers jump "
                              "about).")),
    Setting("rising_notify", "agent", label=lazy_gettext("Tell this lead about rising themes"),
            help=lazy_gettext("Gets a notification (bell, and email by their preference) when a theme starts rising. "
                              "Empty: every admin.")),
    Setting("risk_days", "int", default=30, min=1, max=365, label=lazy_gettext("At risk: window (days)"),
            help=lazy_gettext("Negative signals (complaints, low scores, reopened tickets) counted over this many "
                              "days.")),
    Setting("risk_min_signals", "int", default=3, min=1, max=100, label=lazy_gettext("At risk: signals"),
            help=lazy_gettext("A customer with at least this many negative signals in the window is at risk.")),
]


def setting(name: str) -> Any:
    return get_setting(PLUGIN, name)
