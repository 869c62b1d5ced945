"""CSV for exports that people open in a spreadsheet. A leaf module (no core imports).

A cell starting like a formula (``=``, ``+``, ``-``, ``@``, a tab or a carriage return) would
run in Excel or LibreOffice ("CSV injection"): it is written as text, with a leading ``'``.
Plugins use these through ``helpdesk.plugin_api``.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> str:
    """Text for a CSV cell that a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def csv_lines(rows: Iterable[Iterable[Any]]) -> Iterator[str]:
    """Each row as one CSV line, every cell made safe: stream them with ``stream_with_context``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([csv_cell(cell) for cell in row])
        yield buffer.getvalue()
