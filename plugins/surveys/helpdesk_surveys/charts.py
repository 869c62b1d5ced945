"""The surveys' charts: the core's column chart (``plugin_api.column_chart``), styled by ``.surveys-chart``."""
from __future__ import annotations

from markupsafe import Markup

from helpdesk.plugin_api import column_chart


def bar_chart(points: list[tuple[str, float | None, str]], *, low: float, high: float, title: str,
              css_class: str) -> Markup:
    """``points``: (label, value or None, tooltip). Bars grow from zero; None draws no bar."""
    return column_chart(points, low=low, high=high, title=title, css_class=css_class, chart_class="surveys-chart",
                        empty="No answers in this period")
