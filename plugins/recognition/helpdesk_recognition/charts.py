"""The recognition charts: the core's bar chart (``plugin_api.bar_chart``), styled by ``.recognition-chart``."""
from __future__ import annotations

from markupsafe import Markup

from helpdesk import plugin_api


def bar_chart(rows: list[tuple[str, float | None, str]], *, title: str, css_class: str = "") -> Markup:
    """``rows``: (label, value or None, value as text). Bars are scaled to the largest value."""
    return plugin_api.bar_chart(rows, title=title, css_class=css_class, chart_class="recognition-chart",
                                empty="Nobody to show")
