"""Numbers from URLs, forms and settings, read strictly. A leaf module (no core imports).

Digits mean ASCII digits: ``str.isdigit`` accepts "²" (which ``int`` refuses: a 500) and
``int`` accepts "١٢" and "1_000"; neither belongs in a page number or an id. Database ids
are 32-bit integers: a larger number would fail in the database ("integer out of range")
rather than answer "not found". Plugins use these through ``helpdesk.plugin_api``.
"""
from __future__ import annotations

import re
from typing import Any

MAX_ID = 2**31 - 1  # what an id column holds (PostgreSQL's integer)
MAX_PAGE = 100_000  # far beyond any list a person pages through; keeps OFFSET sane
_INTEGER = re.compile(r"[+-]?[0-9]{1,18}")


def parse_int(raw: Any, low: int | None = None, high: int | None = None) -> int | None:
    """A whole number written in ASCII digits (an optional sign), within ``low``..``high``; else None."""
    if isinstance(raw, int) and not isinstance(raw, bool):
        value = raw
    else:
        text = str(raw if raw is not None else "").strip()
        if not _INTEGER.fullmatch(text):
            return None
        value = int(text)
    if (low is not None and value < low) or (high is not None and value > high):
        return None
    return value


def parse_id(raw: Any) -> int | None:
    """An id from a form or query string ("42") or an int; None when no row can have it.

    Strict: "²" passes ``str.isdigit`` but not here, and numbers beyond ``MAX_ID`` would be
    a database error rather than "not found". (``<int:...>`` in URLs is bounded already.)
    """
    if isinstance(raw, str) and raw.strip()[:1] in ("+", "-"):
        return None
    return parse_int(raw, 1, MAX_ID)


def parse_page(raw: Any, most: int = MAX_PAGE) -> int:
    """A page number from the query string: 1 when missing or not a number, at most ``most``.

        page = parse_page(request.args.get("page"))
    """
    text = str(raw if raw is not None else "").strip()
    if not text.isascii() or not text.isdigit() or len(text) > 18:
        return 1
    return min(max(int(text), 1), most)
