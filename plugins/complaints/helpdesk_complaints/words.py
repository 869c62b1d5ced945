"""Texts written twice: stored in English (audit reasons, routing reasons) and shown translated.

A function that builds such a text takes the ``Words`` to use: ``ENGLISH`` when the result is
stored (whoever reads the ticket's history later may read another language, and the core shows
a plugin's audit reason as it was stored), ``LOCAL`` (gettext, in the reader's language) when
it is shown on a page. Callers write ``words.gettext(...)`` so that pybabel extracts the msgids.
"""
from __future__ import annotations

import re

from helpdesk.plugin_api import gettext


def N_(text: str) -> str:
    """Mark a msgid for pybabel without translating it (the text is stored in English)."""
    return text


class Words:
    english = False

    def gettext(self, text: str, **params: object) -> str:
        return gettext(text, **params)


class _English(Words):
    english = True

    def gettext(self, text: str, **params: object) -> str:
        return text % params if params else text


ENGLISH, LOCAL = _English(), Words()


def stored(msgid: str, **params: str) -> str:
    """The English text to store for ``msgid`` (a ``N_``-marked sentence with ``%(name)s`` parts)."""
    return msgid % params if params else msgid


def _pattern(msgid: str) -> re.Pattern[str]:
    # Each %(name)s becomes a named group; the rest must match literally.
    parts = re.split(r"%\((\w+)\)s", msgid)
    out = []
    for i, part in enumerate(parts):
        out.append(f"(?P<{part}>.+?)" if i % 2 else re.escape(part))
    return re.compile("".join(out), re.S)


def shown(text: str, msgids: tuple[str, ...]) -> str:
    """A stored English ``text`` in the reader's language when it was written from one of
    ``msgids`` (the variable parts are kept as stored); any other text as it is."""
    for msgid in msgids:
        match = _pattern(msgid).fullmatch(text or "")
        if match is not None:
            return gettext(msgid, **match.groupdict())
    return text
