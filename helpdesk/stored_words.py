"""Sentences the product writes down once and people read later, each in their own language.

An audit reason, a lead's alert or an escalation summary is stored twice: in English (search,
exports, the API and older rows read that) and as *words*, the message id with its parameters,
so that every reader sees the sentence in their own language, whoever caused it. Build such a
sentence with ``lazy_gettext("...", name=value)``; a parameter may itself be a lazy text (it is
stored nested and translated too), and ``joined(parts)`` lists several texts ("a; b; c").

    words = words_of(text)      # JSON for a column, None when the text is a plain string
    english_text(text)          # the English to store next to it
    words_text(words, english)  # later, in the reader's language
    stored_text(words, english) # or as a lazy text again, to nest in a new sentence
"""
from __future__ import annotations

from typing import Any, TypeAlias

from flask_babel import force_locale, gettext, pgettext
from flask_babel.speaklater import LazyString

Text: TypeAlias = str | LazyString  # as helpdesk.contract.Text; this module imports nothing of ours (models read it)


PARAMETER_LIMIT = 200  # characters kept of a plain parameter (a name, a reference)


def _join(separator: str, *parts: Text) -> str:
    return separator.join(str(part) for part in parts)


def joined(parts: list[Text], separator: str = "; ") -> LazyString:
    """Several texts as one, each read in the reader's language (``"a; b"``)."""
    return LazyString(_join, separator, *parts)


def _plain(value: Any) -> str:
    # NUL cannot be stored in PostgreSQL text or JSON (mail headers sometimes carry one)
    return str(value)[:PARAMETER_LIMIT].replace("\x00", "")


def _param_words(value: Any) -> Any:
    if isinstance(value, LazyString):
        return words_of(value) or _plain(value)
    return _plain(value)


def words_of(text: Text | None) -> dict[str, Any] | None:
    """A text made with ``lazy_gettext``/``lazy_pgettext``/``joined`` as storable data (JSON);
    ``None`` for a plain string, which is kept as written."""
    if not isinstance(text, LazyString):
        return None
    func, args, params = text._func, text._args, text._kwargs
    if func is _join and args:
        return {"join": _plain(args[0]), "parts": [_param_words(part) for part in args[1:]]}
    if func is gettext and len(args) == 1 and isinstance(args[0], str):
        words: dict[str, Any] = {"msgid": args[0]}
    elif func is pgettext and len(args) == 2 and all(isinstance(a, str) for a in args):
        words = {"context": args[0], "msgid": args[1]}
    elif func is _say and len(args) == 2 and isinstance(args[1], str):  # stored words rebuilt
        words = {"msgid": args[1]} if args[0] is None else {"context": args[0], "msgid": args[1]}
    else:
        return None  # lazy_ngettext or a home-made lazy text: kept in English only
    words["params"] = {key: _param_words(value) for key, value in params.items()}
    return words


def english_text(text: Text | None) -> str | None:
    """``text`` as English, the form stored for search, exports and the API."""
    if text is None or not isinstance(text, LazyString):
        return text
    with force_locale("en"):
        return str(text)


def _say(context: str | None, msgid: str, **params: Any) -> str:
    # gettext formats only when given parameters; a stored sentence whose parameter went missing
    # must fail (KeyError), so that its reader gets the stored English instead of "%(name)s".
    translated = pgettext(context, msgid) if context is not None else gettext(msgid)
    return translated % params if "%(" in translated else translated


def words_text(words: Any, fallback: str | None) -> str | None:
    """Stored ``words`` in the current language; ``fallback`` (the stored English) when there
    are none or they no longer fit the catalogue (a parameter missing, a broken translation)."""
    if not words:
        return fallback
    try:
        return str(_lazy(words))
    except (KeyError, ValueError, TypeError):
        return fallback


def stored_text(words: Any, fallback: str | None) -> Text:
    """Stored ``words`` as a lazy text again, to be a part of a new sentence ("from quarantined
    mail #3 (<its reason>)") that is itself stored with its words; ``fallback`` (the stored
    English) when there are none or they cannot be rebuilt."""
    try:
        return _lazy(words) if words else (fallback or "")
    except (KeyError, TypeError, ValueError):
        return fallback or ""


def _lazy(words: Any) -> Text:
    if isinstance(words, str):
        return words
    if not isinstance(words, dict):
        raise ValueError("not stored words")
    if "join" in words:
        return joined([_lazy(part) for part in words.get("parts") or []], str(words["join"]))
    msgid = words.get("msgid")
    if not isinstance(msgid, str):
        raise ValueError("no message id")
    params = {str(key): _lazy(value) for key, value in (words.get("params") or {}).items()}
    context = words.get("context")
    return LazyString(_say, context if isinstance(context, str) else None, msgid, **params)
