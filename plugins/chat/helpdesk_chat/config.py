"""The chat plugin's settings, and reading them (origins, business hours)."""
from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from helpdesk.plugin_api import Setting, get_setting, lazy_gettext, site_timezone

PLUGIN = "chat"

SETTINGS = [
    Setting("allowed_origins", "lines", default="", label=lazy_gettext("Allowed websites"),
            help=lazy_gettext("Origins that may embed the widget, one per line (https://www.example.com). The widget "
                              "answers nobody else.")),
    Setting("identity_secret", "secret", default="", label=lazy_gettext("Identity secret"),
            help=lazy_gettext("Shared with your website: it passes data-user-id and data-user-hash = "
                              "HMAC-SHA256(secret, user id) (hex) to join a chat to that signed-in user.")),
    Setting("color", "text", default="#0d6efd", label=lazy_gettext("Colour"),
            help=lazy_gettext("The widget's colour (#rrggbb).")),
    Setting("greeting", "text", default="Hi! How can we help?", label=lazy_gettext("Greeting")),
    Setting("team", "team", label=lazy_gettext("Team"),
            help=lazy_gettext("Team for chats whose page does not name one (data-team).")),
    Setting("business_hours", "text", default="", label=lazy_gettext("Business hours"),
            help=lazy_gettext("For example \"Mon-Fri 09:00-17:00\" in the site's time zone; empty: always open.")),
    Setting("offline_message", "text", label=lazy_gettext("Outside business hours"),
            default="We're away right now. Leave a message and your email address and we'll answer by email."),
    Setting("prechat", "choice", default="optional", choices=("off", "optional", "required"),
            choice_labels=(lazy_gettext("Off"), lazy_gettext("Optional"), lazy_gettext("Required")),
            label=lazy_gettext("Pre-chat form"),
            help=lazy_gettext("Ask name and email before the first message: not at all, optionally, or as required "
                              "fields.")),
    Setting("away_seconds", "int", default=60, min=10, max=86400, label=lazy_gettext("Visitor away after (seconds)"),
            help=lazy_gettext("A reply to a visitor not seen for this long also goes by email, if they gave one.")),
    Setting("max_chars", "int", default=2000, min=100, max=20000,
            label=lazy_gettext("Longest chat message (characters)")),
    Setting("per_minute", "int", default=20, min=1, max=600, label=lazy_gettext("Messages per visitor per minute")),
    Setting("answer_bot", "bool", default=True, label=lazy_gettext("Answer bot"),
            help=lazy_gettext("Before a visitor's first message opens a chat, offer help-centre articles that match "
                              "it well (needs a knowledge base plugin). The visitor can always talk to a person at "
                              "once.")),
    Setting("suggestions", "bool", default=True, label=lazy_gettext("Suggest articles while typing"),
            help=lazy_gettext("While a visitor types the first message, list matching help-centre articles; \"This "
                              "solved it\" ends there without a chat.")),
]

COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
HOURS = re.compile(r"^\s*(mon|tue|wed|thu|fri|sat|sun)(?:\s*-\s*(mon|tue|wed|thu|fri|sat|sun))?\s+"
                   r"(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$", re.IGNORECASE)


def setting(name: str):  # noqa: ANN201 - the setting's own type
    return get_setting(PLUGIN, name)


def allowed_origins() -> set[str]:
    return {line.strip().rstrip("/").lower() for line in (setting("allowed_origins") or "").splitlines()
            if line.strip()}


def color() -> str:
    value = (setting("color") or "").strip()
    return value if COLOR.match(value) else "#0d6efd"


def parse_hours(text: str) -> list[tuple[set[int], int, int]] | None:
    """``"Mon-Fri 09:00-17:00; Sat 10:00-12:00"`` → [(weekdays, start minute, end minute)]; None: always."""
    rules = []
    for part in (text or "").split(";"):
        if not part.strip():
            continue
        match = HOURS.match(part)
        if not match:
            raise ValueError(f"business hours {part.strip()!r}: write e.g. Mon-Fri 09:00-17:00")
        first, last, h1, m1, h2, m2 = match.groups()
        a, b = DAYS.index(first.lower()), DAYS.index((last or first).lower())
        days = set(range(a, b + 1)) if a <= b else set(range(a, 7)) | set(range(0, b + 1))
        rules.append((days, int(h1) * 60 + int(m1), int(h2) * 60 + int(m2)))
    return rules or None


def is_open(now_utc: datetime) -> bool:
    try:
        rules = parse_hours(setting("business_hours") or "")
    except ValueError:
        return True  # a typo must not close the chat
    if rules is None:
        return True
    local = now_utc.replace(tzinfo=ZoneInfo("UTC")).astimezone(site_timezone())
    minute = local.hour * 60 + local.minute
    return any(local.weekday() in days and start <= minute < end for days, start, end in rules)
