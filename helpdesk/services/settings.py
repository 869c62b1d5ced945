"""The core's admin-editable settings, stored in ``site_settings`` with config defaults."""
from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app, g
from flask_babel import lazy_gettext

import helpdesk.services.admin_audit as admin_audit
from helpdesk.extensions import db
from helpdesk.models import SiteSetting

# setting key → config key holding its default
SITE_SETTINGS = {
    "helpdesk_name": "HELPDESK_NAME",
    "mail_from": "MAIL_FROM",
    "reopen_window_days": "REOPEN_WINDOW_DAYS",
    "closed_means_closed": "CLOSED_MEANS_CLOSED",
    "timezone": "TIMEZONE",
    "notices_per_recipient_per_hour": "NOTICES_PER_RECIPIENT_PER_HOUR",
    "reply_checks": "REPLY_CHECKS",  # {check key: "off" | "advise" | "block"} (services/reply_review.py)
    "webhooks_allow_private": "WEBHOOKS_ALLOW_PRIVATE",  # Admin → Webhooks (services/webhooks.py)
}


def site_setting(key: str) -> Any:
    """A site setting as saved, else its config default (from the configuration snapshot)."""
    from helpdesk.config_cache import snapshot

    settings = snapshot().settings
    if key in settings:
        return settings[key]
    return current_app.config[SITE_SETTINGS[key]]


def site_timezone() -> ZoneInfo:
    """The site's time zone (Admin → Settings), for anything people read as local time."""
    try:
        return ZoneInfo(site_setting("timezone") or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def save_site_settings(values: dict[str, Any]) -> None:
    """Store site settings (Admin → Settings); what changed goes to the admin audit log."""
    for key in values:
        if key not in SITE_SETTINGS:
            raise KeyError(key)
    before = {key: site_setting(key) for key in values}
    admin_audit.record("site_settings", "changed", lazy_gettext("site settings"), before, dict(values))
    for key, value in values.items():
        row = db.session.get(SiteSetting, key) or SiteSetting(key=key)
        row.value = value
        db.session.add(row)
    db.session.commit()
    g.pop("_site_settings", None)
