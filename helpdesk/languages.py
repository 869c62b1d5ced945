"""The languages the product speaks to customers (a leaf module: it imports nothing of the core).

English is the source; every other language here has a catalogue under
``helpdesk/translations/<code>/LC_MESSAGES/messages.po`` (``make translations``).
"""
from __future__ import annotations

LANGUAGES = {"en": "English", "de": "Deutsch"}
DEFAULT_LANGUAGE = "en"


def supported(code: str | None) -> str | None:
    """``de-AT`` → ``de``; ``None`` for a language without a catalogue."""
    base = (code or "").strip().replace("_", "-").split("-")[0].lower()
    return base if base in LANGUAGES else None


def N_(text: str) -> str:
    """Marks ``text`` for the catalogue (pybabel's default keyword) without translating it, for
    labels kept in English where they are stored or exported and translated where a page shows
    them. Here, in the leaf module, so that the services can mark text without importing
    ``helpdesk.i18n`` (which imports the services' settings)."""
    return text
