"""Numbers from URLs and forms, read strictly: the core's parsers (``plugin_api``).

Kept as a module so the plugin's imports stay short; the rules live in ``helpdesk.numbers``.
"""
from __future__ import annotations

from typing import Any

from helpdesk.plugin_api import MAX_ID, get_by_id, parse_id, parse_int

__all__ = ["MAX_ID", "get_by_id", "parse_id", "parse_small"]


def parse_small(raw: Any, default: int, most: int) -> int:
    """A small number from the query string (how many periods back): ``default`` when not one."""
    value = parse_int(raw, 0)
    return default if value is None else min(value, most)
