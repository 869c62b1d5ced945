"""The plugin's settings (declared for Admin → Plugins → complaints) and typed readers."""
from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from helpdesk.plugin_api import Setting, get_setting, lazy_gettext, site_timezone
from helpdesk_complaints.detection import DEFAULT_PHRASES, parse_phrases

PLUGIN = "complaints"
# The priorities' names as the core shows them (same words: the core's catalogue has them).
PRIORITY_LABELS = (lazy_gettext("normal"), lazy_gettext("high"), lazy_gettext("urgent"))
TAG = "complaint"  # the tag complaint tickets carry (SLA policies and other plugins rely on it)

DEFAULT_NEXT_STEPS = ("A member of our team will look into it personally and write to you within one "
                      "business day. You do not need to do anything in the meantime.")

SETTINGS = [
    Setting("sentiment_threshold", "int", default=-50, min=-100, max=100,
            label=lazy_gettext("Sentiment threshold (VADER compound × 100)"),
            help=lazy_gettext("A message whose sentiment is below this lists it among its signals (-50 = -0.5). The "
                              "detector's model weighs sentiment itself; the sensitivity is on the Complaint detector "
                              "page.")),
    Setting("phrases", "lines", default="\n".join(DEFAULT_PHRASES), label=lazy_gettext("Complaint phrases"),
            help=lazy_gettext("Words or phrases that mark a complaint on their own, in any language; one per line or "
                              "separated by ';'. Matched case-insensitively on word boundaries.")),
    Setting("repeat_days", "int", default=7, min=0, max=365, label=lazy_gettext("Repeat contact within (days)"),
            help=lazy_gettext("A customer who opened another ticket within this many days: counts towards a "
                              "complaint. 0 turns the signal off.")),
    Setting("vip_tag", "text", default="vip", label=lazy_gettext("VIP customer tag"),
            help=lazy_gettext("Customers carrying this tag count as VIPs: their complaints get the VIP priority.")),
    Setting("complaint_priority", "choice", default="high", choices=("normal", "high", "urgent"),
            choice_labels=PRIORITY_LABELS,
            label=lazy_gettext("Priority of complaints"),
            help=lazy_gettext("Complaints are raised to at least this priority.")),
    Setting("vip_priority", "choice", default="urgent", choices=("normal", "high", "urgent"),
            choice_labels=PRIORITY_LABELS,
            label=lazy_gettext("Priority of VIP complaints")),
    Setting("acknowledge", "bool", default=True, label=lazy_gettext("Acknowledge complaints at once"),
            help=lazy_gettext("Send the customer a personal acknowledgement through the ticket's channel (once per "
                              "ticket).")),
    Setting("apology", "bool", default=True, label=lazy_gettext("Apologise in the acknowledgement")),
    Setting("next_steps", "text", default=DEFAULT_NEXT_STEPS,
            label=lazy_gettext("What happens next (acknowledgement)")),
    Setting("followup_days", "int", default=3, min=0, max=60, label=lazy_gettext("Follow up after (days)"),
            help=lazy_gettext("Days after a complaint is resolved to ask the customer whether we resolved their "
                              "concern. 0 turns follow-ups off.")),
    Setting("followup_link_days", "int", default=30, min=1, max=365,
            label=lazy_gettext("Follow-up links valid for (days)")),
    Setting("timezone", "text", default="", label=lazy_gettext("Time zone of the time-of-day conditions"),
            help=lazy_gettext("An IANA name such as Europe/Berlin; empty: the site's time zone (Admin → Settings).")),
    Setting("escalate_to", "choice", default="lead", choices=("lead", "least_loaded"),
            choice_labels=(lazy_gettext("The team lead"), lazy_gettext("The least-loaded agent")),
            label=lazy_gettext("On a missed complaint clock, reassign to"),
            help=lazy_gettext("lead: the team lead when available, else the least-loaded available agent of the "
                              "team.")),
    Setting("supervisor", "agent", label=lazy_gettext("Supervisor (teams without a lead)"),
            help=lazy_gettext("Notified of escalations and rules' notices when the ticket's team has no lead.")),
]


def setting(name: str):
    return get_setting(PLUGIN, name)


def threshold() -> float:
    return (setting("sentiment_threshold") or 0) / 100


def phrases() -> list[str]:
    return parse_phrases(setting("phrases"))


def site_zone() -> ZoneInfo:
    own = (setting("timezone") or "").strip()
    if not own:
        return site_timezone()
    try:
        return ZoneInfo(own)
    except (ZoneInfoNotFoundError, ValueError):
        return site_timezone()


def local_time(utc_naive: datetime) -> datetime:
    """A naive UTC time from the database, in the configured time zone."""
    return utc_naive.replace(tzinfo=UTC).astimezone(site_zone())
