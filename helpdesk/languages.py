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
