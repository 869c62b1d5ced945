"""Sentences this plugin stores for people to read later, in each reader's language.

A quarantine reason, a note on a message or the reason of an unverified agent mail is built
with ``lazy_gettext("...", name=value)`` and stored twice (``plugin_api.english_text`` and
``plugin_api.words_of``); pages read it back with ``plugin_api.words_text``. This module reads
the notes under a message.
"""
from __future__ import annotations

from typing import Any

from helpdesk.plugin_api import words_text


def note_texts(notes: list[str], words: list[Any] | None) -> list[str]:
    """Notes kept on a message (English, and maybe their words), each in the reader's language."""
    words = words or []
    return [words_text(words[index] if index < len(words) else None, note) or "" for index, note in enumerate(notes)]
