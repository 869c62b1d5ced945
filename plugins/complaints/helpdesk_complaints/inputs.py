"""Numbers from URLs and forms, read strictly: what the database can hold, or nothing.

Database ids are 32-bit integers. A larger number in a URL would reach the database and fail
there (PostgreSQL: "integer out of range"; SQLite: an OverflowError), a server error instead
of "not found". ``str.isdigit`` also accepts digits such as "²" that ``int`` refuses.
"""
from __future__ import annotations

import re
from typing import Any

from helpdesk.plugin_api import MAX_ID, get_by_id, parse_id

__all__ = ["MAX_ID", "MAX_PAGE", "get_by_id", "parse_id", "parse_page"]

MAX_PAGE = 100_000


def parse_page(raw: Any) -> int:
    """A page number from the query string: 1 when missing or not a number, at most MAX_PAGE."""
    text = str(raw or "").strip()
    if not re.fullmatch(r"[0-9]{1,6}", text):
        return 1
    return min(max(int(text), 1), MAX_PAGE)
