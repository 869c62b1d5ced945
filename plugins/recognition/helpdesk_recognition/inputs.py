"""Numbers from URLs and forms, read strictly: what the database can hold, or nothing.

Database ids are 32-bit integers. A larger number would reach the database and fail there
(PostgreSQL: "integer out of range"; SQLite: an OverflowError), a server error instead of
"not found". ``str.isdigit`` also accepts digits such as "²" that ``int`` refuses.
"""
from __future__ import annotations

import re
from typing import Any

from helpdesk.plugin_api import MAX_ID, get_by_id, parse_id

__all__ = ["MAX_ID", "get_by_id", "parse_id", "parse_small"]


def parse_small(raw: Any, default: int, most: int) -> int:
    """A small number from the query string (a page, how many periods back): ``default`` when not one."""
    text = str(raw if raw is not None else "").strip()
    if not re.fullmatch(r"[0-9]{1,6}", text):
        return default
    return min(int(text), most)
