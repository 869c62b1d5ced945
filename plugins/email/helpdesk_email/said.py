"""Sentences this plugin stores for people to read later, in each reader's language.

A quarantine reason, a note on a message or the reason of an unverified agent mail is built
with ``lazy_gettext("...", name=value)`` and stored twice (``plugin_api.english_text`` and
``plugin_api.words_of``); pages read it back with ``plugin_api.words_text``. This module holds
the few steps the plugin needs around that: words safe for every database, and a stored
sentence turned back into a lazy text so that it can be a part of a new one (the trail's
"from quarantined mail #3 (bulk: <its reason>)").
"""
from __future__ import annotations

from typing import Any

from helpdesk.plugin_api import Text, joined, lazy_gettext, words_of, words_text


def N_(text: str) -> str:  # noqa: N802 - pybabel's default keyword: marks a message id for the catalogue
    """``text`` unchanged; marks a message id given to ``lazy_gettext`` later, with its parameters."""
    return text


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "")  # PostgreSQL text cannot hold NUL (mail headers sometimes do)
    if isinstance(value, dict):
        return {key: _clean(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_clean(item) for item in value]
    return value


def stored_words(text: Text | None) -> dict[str, Any] | None:
    """``words_of(text)`` without NUL characters in its parameters."""
    return _clean(words_of(text))


def stored_text(words: Any, english: str | None) -> Text:
    """A stored sentence as a lazy text again (read in each reader's language when it is shown
    or nested in another); its English when it has no words or they are not ours to rebuild."""
    try:
        return _lazy(words) if words else (english or "")
    except (KeyError, TypeError, ValueError):
        return english or ""


def _lazy(words: Any) -> Text:
    if isinstance(words, str):
        return words
    if not isinstance(words, dict):
        raise ValueError("not stored words")
    if "join" in words:
        return joined([_lazy(part) for part in words.get("parts") or []], str(words["join"]))
    if "context" in words or not isinstance(words.get("msgid"), str):
        raise ValueError("only plain message ids are rebuilt")  # the caller keeps the English
    params = {str(key): _lazy(value) for key, value in (words.get("params") or {}).items()}
    return lazy_gettext(words["msgid"], **params)


def note_texts(notes: list[str], words: list[Any] | None) -> list[str]:
    """Notes kept on a message (English, and maybe their words), each in the reader's language."""
    words = words or []
    return [words_text(words[index] if index < len(words) else None, note) or "" for index, note in enumerate(notes)]
