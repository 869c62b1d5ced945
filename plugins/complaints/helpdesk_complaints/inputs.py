"""Numbers from URLs and forms, read strictly: what the database can hold, or nothing.

Database ids are 32-bit integers. A larger number in a URL would reach the database and fail
there (PostgreSQL: "integer out of range"; SQLite: an OverflowError), a server error instead
of "not found". ``str.isdigit`` also accepts digits such as "²" that ``int`` refuses.
"""
from __future__ import annotations

import re
from typing import Any

from helpdesk.plugin_api import db

MAX_ID = 2**31 - 1
MAX_PAGE = 100_000
_DIGITS = re.compile(r"[0-9]{1,10}")


def parse_id(raw: Any) -> int | None:
    """An id from text ("42") or an int, or None when it cannot be one."""
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw if 0 < raw <= MAX_ID else None
    text = str(raw or "").strip()
    if not _DIGITS.fullmatch(text):
        return None
    value = int(text)
    return value if 0 < value <= MAX_ID else None


def get_by_id(model: type, raw: Any) -> Any | None:
    """``db.session.get`` for an id from a URL; None for ids no row can have."""
    ident = parse_id(raw)
    return db.session.get(model, ident) if ident is not None else None


def parse_page(raw: Any) -> int:
    """A page number from the query string: 1 when missing or not a number, at most MAX_PAGE."""
    text = str(raw or "").strip()
    if not re.fullmatch(r"[0-9]{1,6}", text):
        return 1
    return min(max(int(text), 1), MAX_PAGE)
