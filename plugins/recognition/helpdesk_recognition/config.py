"""Settings, the value tags, thank-you phrases and the milestone badges."""
from __future__ import annotations

from dataclasses import dataclass

from helpdesk.plugin_api import Setting, get_setting, lazy_gettext

PLUGIN = "recognition"
MAX_MESSAGE = 500
# A small fixed set: reactions are a nod, not a conversation.
REACTIONS = {"thumbs": "👍", "heart": "❤️", "party": "🎉", "clap": "👏"}

DEFAULT_VALUES = "empathy, fast fix, went the extra mile, teamwork, clear writing"
# Conservative on purpose: a phrase must be unmistakable thanks, and a sentence that also holds
# one of the exclusions ("thanks in advance", "thanks, but ...") is not praise.
DEFAULT_PHRASES = ("thank you so much, thank you very much, thanks so much, thanks a lot, thanks a million, "
                   "many thanks, thank you for your help, thanks for your help, thank you for fixing, "
                   "much appreciated, you saved my day, you're a star, great help, "
                   "merci beaucoup, merci pour votre aide, vielen dank, danke schön, danke für ihre hilfe, "
                   "muchas gracias, mil gracias, grazie mille, muito obrigado, muito obrigada, hartelijk dank, "
                   "tack så mycket")
DEFAULT_EXCLUSIONS = ("in advance, thanks for nothing, no thanks, but, however, still not, still broken, "
                      "aber, mais, pero, ma non, maar")

SETTINGS = [
    Setting("values", "text", default=DEFAULT_VALUES, label=lazy_gettext("Value tags"),
            help=lazy_gettext("Comma-separated tags a colleague may attach to kudos (e.g. empathy, fast fix).")),
    Setting("thanks_phrases", "text", default=DEFAULT_PHRASES, label=lazy_gettext("Thank-you phrases"),
            help=lazy_gettext("Comma-separated phrases that make a customer's sentence a thank-you (any language, "
                              "matched as whole words, case-insensitive). Keep them unmistakable.")),
    Setting("thanks_exclusions", "text", default=DEFAULT_EXCLUSIONS, label=lazy_gettext("Not a thank-you when"),
            help=lazy_gettext("Comma-separated words or phrases that cancel a thank-you in the same sentence.")),
    Setting("leaderboard_enabled", "bool", default=True, label=lazy_gettext("Leaderboard"),
            help=lazy_gettext("Show the leaderboard to agents. Switch it off and the page says so to everyone.")),
    Setting("default_public", "bool", default=True, label=lazy_gettext("Public by default"),
            help=lazy_gettext("Recognition of an agent who has not chosen yet is public (feed, leaderboard).")),
]


def value_tags() -> list[str]:
    return _split(get_setting(PLUGIN, "values"))


def thanks_phrases() -> list[str]:
    return _split(get_setting(PLUGIN, "thanks_phrases"))


def thanks_exclusions() -> list[str]:
    return _split(get_setting(PLUGIN, "thanks_exclusions"))


def _split(raw: str | None) -> list[str]:
    out: list[str] = []
    for part in (raw or "").split(","):
        item = " ".join(part.split()).lower()
        if item and item not in out:
            out.append(item)
    return out


@dataclass(frozen=True)
class Badge:
    key: str
    # Defined in code, so translated lazily: shown on the admin's badge page, the feed and
    # the profile in the reader's language (the Award rows store only the key).
    name: str
    # {n} is the threshold (str.format, after translation; see milestones.describe).
    description: str
    default_threshold: int
    monthly: bool = False


BADGES = {
    b.key: b for b in (
        Badge("five_star", lazy_gettext("Five stars"),
              lazy_gettext("{n} five-star rating(s) from customers (the first one, by default)"), 1),
        Badge("resolved", lazy_gettext("Problem solver"), lazy_gettext("{n} tickets resolved and not reopened"), 100),
        Badge("monthly_kudos", lazy_gettext("Kudos magnet"), lazy_gettext("{n} kudos in one calendar month"), 10,
              monthly=True),
        Badge("complaint_turned", lazy_gettext("Turnaround"),
              lazy_gettext("{n} complaint(s) turned into a five-star rating"), 1),
    )
}
