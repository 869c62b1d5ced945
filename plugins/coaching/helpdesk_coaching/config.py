"""Settings, the default scorecard and the writing checks' word lists."""
from __future__ import annotations

from helpdesk.plugin_api import Setting, get_setting, lazy_gettext

PLUGIN = "coaching"
MAX_COMMENT = 2000
MAX_LABEL = 120
# A rating of one scorecard item: met, partly, missed; "not applicable" is no rating at all.
SCORES = {2: "Met", 1: "Partly", 0: "Missed"}

# (key, label, what the reviewer looks for)
DEFAULT_ITEMS = (
    ("greeting", "Greeting and personalisation", "Greets the customer by name and writes to them, not to a case."),
    ("understood", "Understood the need", "Answers what the customer really asked, including the unsaid part."),
    ("clarity", "Clear language", "Short sentences, no jargon, steps the customer can follow."),
    ("empathy", "Empathy and apology where due", "Acknowledges the trouble; apologises when we got it wrong."),
    ("solution", "Correct solution", "The answer is right, complete and within policy."),
    ("follow_up", "Follow-up offered", "Says what happens next and how to come back if it is not solved."),
)

DEFAULT_JARGON = "\n".join((
    "ASAP", "FYI", "as per", "kindly revert", "hereby", "aforementioned", "please be advised", "PEBKAC",
    "RTFM", "escalation matrix", "ticket workflow", "backend", "TTL", "DNS propagation", "cache invalidation",
))
DEFAULT_APOLOGY = "\n".join((
    "sorry", "apologise", "apologize", "apologies", "regret", "my fault", "our fault", "our mistake",
    "I understand how", "that must be", "frustrating",
))
DEFAULT_BLAME = "\n".join((
    "you should have", "you failed to", "your fault", "you didn't read", "as I already said",
    "as previously stated", "as stated before", "obviously", "user error", "you were supposed to",
    "it is not our problem", "not our fault",
))

SETTINGS = [
    Setting("peer_reviews", "bool", default=False, label=lazy_gettext("Peer reviews"),
            help=lazy_gettext("Agents may review colleagues' solved tickets (by default only team leads and admins "
                              "review).")),
    Setting("window_days", "int", default=30, min=1, max=365, label=lazy_gettext("Suggestions look back (days)"),
            help=lazy_gettext("The review queue suggests tickets solved in this many days.")),
    Setting("low_csat", "int", default=2, min=1, max=5, label=lazy_gettext("Low CSAT"),
            help=lazy_gettext("A CSAT rating (1–5) at or below this suggests the ticket for review.")),
    Setting("long_resolution_hours", "int", default=72, min=1, max=10000, label=lazy_gettext("Long resolution (hours)"),
            help=lazy_gettext("A ticket that took longer than this from creation to solved is suggested for review.")),
    Setting("complaint_tag", "text", default="complaint", label=lazy_gettext("Complaint tag"),
            help=lazy_gettext("Tickets with this tag are complaints (the complaints plugin's tag).")),
    Setting("check_long_sentences", "bool", default=True, label=lazy_gettext("Writing help: long sentences"),
            help=lazy_gettext("Advise when a reply has a sentence longer than the limit below.")),
    Setting("max_sentence_words", "int", default=30, min=8, max=200, label=lazy_gettext("Longest sentence (words)")),
    Setting("check_jargon", "bool", default=True, label=lazy_gettext("Writing help: jargon"),
            help=lazy_gettext("Advise when a reply uses a word or phrase from the jargon list.")),
    Setting("jargon", "lines", default=DEFAULT_JARGON, label=lazy_gettext("Jargon"),
            help=lazy_gettext("One word or phrase per line (matched as whole words, any case).")),
    Setting("check_apology", "bool", default=True, label=lazy_gettext("Writing help: apology on complaints"),
            help=lazy_gettext("Advise when a reply to a complaint neither acknowledges nor apologises.")),
    Setting("apology_phrases", "lines", default=DEFAULT_APOLOGY,
            label=lazy_gettext("Acknowledgement and apology phrases")),
    Setting("check_blame", "bool", default=True, label=lazy_gettext("Writing help: blaming language"),
            help=lazy_gettext("Advise when a reply blames the customer.")),
    Setting("blame_phrases", "lines", default=DEFAULT_BLAME, label=lazy_gettext("Blaming phrases")),
    Setting("check_open_question", "bool", default=True, label=lazy_gettext("Writing help: open question when unclear"),
            help=lazy_gettext("Advise asking an open question when the customer's last message is very short and the "
                              "reply asks nothing.")),
    Setting("unclear_words", "int", default=6, min=1, max=50, label=lazy_gettext("A request is unclear under (words)"),
            help=lazy_gettext("A customer message with fewer words than this counts as possibly unclear.")),
    Setting("check_readability", "bool", default=True, label=lazy_gettext("Writing help: readability score"),
            help=lazy_gettext("Advise when a reply scores below the threshold below on the Flesch reading ease scale "
                              "(0–100, higher is easier; plain English is 60–70). English replies only: a customer "
                              "whose language (or else the site's) is not English gets no score.")),
    Setting("min_reading_ease", "int", default=50, min=0, max=100, label=lazy_gettext("Lowest reading ease")),
    Setting("readability_min_words", "int", default=40, min=10, max=1000,
            label=lazy_gettext("Score replies from (words)"),
            help=lazy_gettext("Shorter replies are not scored: a few words give no meaningful score.")),
]


def lines(name: str) -> list[str]:
    out: list[str] = []
    for line in str(get_setting(PLUGIN, name) or "").splitlines():
        item = " ".join(line.split())
        if item and item.lower() not in (o.lower() for o in out):
            out.append(item)
    return out
