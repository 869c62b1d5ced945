"""Numbers from URLs and forms, read strictly: the core's parsers (``plugin_api``).

Kept as a module so the plugin's imports stay short; the rules live in ``helpdesk.numbers``.
"""
from __future__ import annotations

from helpdesk.plugin_api import MAX_ID, MAX_PAGE, get_by_id, parse_id, parse_page

__all__ = ["MAX_ID", "MAX_PAGE", "get_by_id", "parse_id", "parse_page"]
