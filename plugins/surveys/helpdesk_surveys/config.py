"""The plugin's settings (edited in Admin → Plugins → surveys) and the survey types' defaults."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from helpdesk.plugin_api import Setting, db_session, get_setting, lazy_gettext
from helpdesk_surveys.models import KINDS, SurveyType

# A survey type's subject and text in other languages live in the core's table of texts
# (plugin_api.save_translations), whose rows belong to an item by number: one per type.
TEXTS_KIND = "surveys.type"
TYPE_NUMBERS = {"csat": 1, "nps": 2}

PLUGIN = "surveys"

SETTINGS = [
    Setting("throttle_days", "int", default=30, min=0, max=365, label=lazy_gettext("Throttle (days)"),
            help=lazy_gettext("No customer is surveyed more than once in this many days (0: no limit). Re-surveys "
                              "after a follow-up case are exempt.")),
    Setting("sampling_percent", "int", default=100, min=0, max=100, label=lazy_gettext("Sampling (%)"),
            help=lazy_gettext("Share of eligible tickets that get a survey, chosen by ticket number (deterministic).")),
    Setting("validity_days", "int", default=14, min=1, max=365, label=lazy_gettext("Validity (days)"),
            help=lazy_gettext("How long a survey link accepts and changes answers after it was sent.")),
    Setting("quiet_hours_start", "int", default=21, min=0, max=23, label=lazy_gettext("Quiet hours start (hour)"),
            help=lazy_gettext("No invitation is sent from this hour ...")),
    Setting("quiet_hours_end", "int", default=8, min=0, max=23, label=lazy_gettext("Quiet hours end (hour)"),
            help=lazy_gettext("... until this hour, in the customer's time zone when known, else the time zone below. "
                              "Equal hours: no quiet hours.")),
    Setting("timezone", "text", default="UTC", label=lazy_gettext("Default time zone"),
            help=lazy_gettext("An IANA name such as Europe/Berlin, for customers whose time zone is unknown.")),
    Setting("excluded_tags", "text", default="spam", label=lazy_gettext("Excluded tags"),
            help=lazy_gettext("Tickets with any of these tags (comma-separated) are never surveyed.")),
    Setting("blocklist", "text", default="", label=lazy_gettext("Blocklist"),
            help=lazy_gettext("Addresses or domains (comma- or line-separated, e.g. ceo@acme.test, partner.example) "
                              "that never get a survey.")),
    Setting("followup_due_hours", "int", default=48, min=1, max=720, label=lazy_gettext("Follow-up due (hours)"),
            help=lazy_gettext("A low score's follow-up case is due this many hours after the answer.")),
    Setting("followup_owner", "agent", label=lazy_gettext("Fallback case owner"),
            help=lazy_gettext("Owns follow-up cases when the ticket's team has no lead and the ticket no agent (else "
                              "the first admin).")),
    Setting("resurvey_delay_hours", "int", default=24, min=0, max=720, label=lazy_gettext("Re-survey delay (hours)"),
            help=lazy_gettext("After a follow-up case is closed, the customer is asked again this much later.")),
]

CSAT_LABELS = {1: lazy_gettext("Very unsatisfied"), 2: lazy_gettext("Unsatisfied"), 3: lazy_gettext("Neutral"),
               4: lazy_gettext("Satisfied"), 5: lazy_gettext("Very satisfied")}


@dataclass
class TypeDefaults:
    kind: str
    trigger: str
    question: str
    subject: str
    body: str
    delay_minutes: int = 60
    interval_days: int = 90
    active_days: int = 90
    enabled: bool = True
    team_ids: list = field(default_factory=list)
    channels: list = field(default_factory=list)


DEFAULT_TYPES = {
    "csat": TypeDefaults(
        kind="csat", trigger="resolution", question="How did we do?",
        subject="How did we do on {{ ticket.reference }}?",
        body=("Hi {{ customer.first_name }},\n\n"
              "your request {{ ticket.reference }} (\"{{ ticket.subject }}\") was resolved"
              "{% if agent.first_name %} by {{ agent.first_name }}{% endif %}. "
              "One click tells us how we did.")),
    "nps": TypeDefaults(
        kind="nps", trigger="relationship", delay_minutes=0,
        question="How likely are you to recommend us to a friend or colleague?",
        subject="A quick question from {{ helpdesk.name }}",
        body=("Hi {{ customer.first_name }},\n\n"
              "thank you for being our customer. One click tells us how we are doing.")),
}


def setting(name: str) -> Any:
    return get_setting(PLUGIN, name)


def survey_type(kind: str) -> SurveyType:
    """The configured survey type, or an unsaved one holding the defaults."""
    row = db_session().get(SurveyType, kind)
    if row is not None:
        return row
    d = DEFAULT_TYPES[kind]
    return SurveyType(kind=kind, enabled=d.enabled, trigger=d.trigger, delay_minutes=d.delay_minutes,
                      interval_days=d.interval_days, active_days=d.active_days, team_ids=list(d.team_ids),
                      channels=list(d.channels), question=d.question, subject=d.subject, body=d.body)


def survey_types() -> list[SurveyType]:
    return [survey_type(kind) for kind in KINDS]


def split_list(text: str | None) -> list[str]:
    """``"a, b\\nc"`` → ``["a", "b", "c"]`` (lower case, blanks dropped)."""
    return [part.strip().lower() for part in re.split(r"[,\n;]", text or "") if part.strip()]


def zone(name: str | None) -> ZoneInfo | None:
    if not name or name not in _zone_names():
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


_ZONES: set[str] = set()


def _zone_names() -> set[str]:
    if not _ZONES:
        _ZONES.update(available_timezones())
    return _ZONES


def site_zone() -> ZoneInfo:
    return zone(setting("timezone")) or ZoneInfo("UTC")
