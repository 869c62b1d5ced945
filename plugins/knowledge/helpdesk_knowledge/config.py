"""Settings, and who may write articles."""
from __future__ import annotations

from typing import Any

from helpdesk.plugin_api import Setting, get_setting, lazy_gettext

PLUGIN = "knowledge"
BACKOFFICE_ROLES = ("admin", "agent", "light_agent")
MAX_TITLE = 200
MAX_BODY = 100_000
MAX_COMMENT = 2000

SETTINGS = [
    Setting("public", "bool", default=True, label=lazy_gettext("Public help centre"),
            help=lazy_gettext("Anyone may read published articles without signing in. Switch off to make the help "
                              "centre private: visitors are asked to sign in first.")),
    Setting("editor_roles", "text", default="agent, admin", label=lazy_gettext("Who may write articles"),
            help=lazy_gettext("Comma-separated roles whose members write, review and publish articles: any of admin, "
                              "agent, light_agent. Every agent reads internal articles.")),
    Setting("suggestions", "int", default=3, label=lazy_gettext("Suggestions shown"),
            help=lazy_gettext("How many articles to suggest while a customer writes a ticket, and on a ticket for "
                              "agents (1 to 10).")),
]


def editor_roles() -> set[str]:
    raw = str(get_setting(PLUGIN, "editor_roles") or "")
    return {r.strip() for r in raw.split(",") if r.strip() in BACKOFFICE_ROLES}


def is_editor(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_backoffice and user.role in editor_roles())


def is_public() -> bool:
    return bool(get_setting(PLUGIN, "public"))


def suggestion_count() -> int:
    try:
        return max(1, min(10, int(get_setting(PLUGIN, "suggestions"))))
    except (TypeError, ValueError):
        return 3
