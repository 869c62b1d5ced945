"""Bar charts as SVG, drawn on the server: no JavaScript and no inline ``style`` (the
Content-Security-Policy forbids both), every label escaped. Plugins use them through
``plugin_api`` and style them with their own CSS (``.bar``, ``.grid``, ``.label``, ...).
"""
from __future__ import annotations

from markupsafe import Markup, escape

COLUMN_WIDTH, COLUMN_HEIGHT, PAD_LEFT, PAD_BOTTOM, PAD_TOP = 640, 220, 44, 34, 14
BAR_WIDTH, ROW_HEIGHT, LABEL_WIDTH, VALUE_WIDTH, PAD = 520, 26, 150, 70, 6


def column_chart(points: list[tuple[str, float | None, str]], *, low: float, high: float, title: str,
                 css_class: str = "", chart_class: str = "chart", empty: str = "Nothing to show") -> Markup:
    """Vertical bars over time. ``points``: (label, value or None, tooltip), left to right.

    The axis runs from ``low`` to ``high`` (five grid lines); bars grow from zero, so
    negative values (an NPS) hang below it with the class ``bar negative``; None draws no
    bar. At most about twelve labels are written. ``chart_class`` and ``css_class`` go on
    the ``<svg>``; ``empty`` is shown when there are no points.
    """
    plot_w, plot_h = COLUMN_WIDTH - PAD_LEFT - 8, COLUMN_HEIGHT - PAD_TOP - PAD_BOTTOM

    def y(value: float) -> float:
        return PAD_TOP + plot_h * (high - value) / (high - low)

    parts = [f'<svg class="{escape(chart_class)} {escape(css_class)}" viewBox="0 0 {COLUMN_WIDTH} {COLUMN_HEIGHT}" '
             f'role="img" aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
             f"<title>{escape(title)}</title>"]
    for tick in _ticks(low, high):
        parts.append(f'<line class="grid" x1="{PAD_LEFT}" x2="{COLUMN_WIDTH - 8}" y1="{y(tick):.1f}" '
                     f'y2="{y(tick):.1f}"/>')
        parts.append(f'<text class="tick" x="{PAD_LEFT - 6}" y="{y(tick) + 4:.1f}" text-anchor="end">{tick:g}</text>')
    if not points:
        parts.append(f'<text class="empty" x="{COLUMN_WIDTH / 2}" y="{COLUMN_HEIGHT / 2}" text-anchor="middle">'
                     f"{escape(empty)}</text>")
    step = plot_w / max(len(points), 1)
    bar_w = max(min(step * 0.7, 48), 2)
    zero = y(max(low, min(0.0, high)))
    label_every = max(1, round(len(points) / 12))
    for index, (label, value, tip) in enumerate(points):
        x = PAD_LEFT + step * index + (step - bar_w) / 2
        if value is not None:
            top = min(y(value), zero)
            height = max(abs(zero - y(value)), 1.0)
            kind = "bar negative" if value < 0 else "bar"
            parts.append(f'<rect class="{kind}" x="{x:.1f}" y="{top:.1f}" width="{bar_w:.1f}" height="{height:.1f}">'
                         f"<title>{escape(tip)}</title></rect>")
        if index % label_every == 0:
            parts.append(f'<text class="label" x="{x + bar_w / 2:.1f}" y="{COLUMN_HEIGHT - 12}" '
                         f'text-anchor="middle">{escape(label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def bar_chart(rows: list[tuple[str, float | None, str]], *, title: str, css_class: str = "",
              chart_class: str = "chart", empty: str = "Nothing to show") -> Markup:
    """Horizontal bars, one row each. ``rows``: (label, value or None, value as text).

    Bars are scaled to the largest value; labels longer than 22 characters are shortened
    (the full label stays in the bar's tooltip); the value is written after the bar.
    """
    height = max(len(rows), 1) * ROW_HEIGHT + 2 * PAD
    plot = BAR_WIDTH - LABEL_WIDTH - VALUE_WIDTH
    top = max((v for _, v, _ in rows if v), default=0) or 1
    parts = [f'<svg class="{escape(chart_class)} {escape(css_class)}" viewBox="0 0 {BAR_WIDTH} {height}" role="img" '
             f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">', f"<title>{escape(title)}</title>"]
    if not rows:
        parts.append(f'<text class="empty" x="{BAR_WIDTH / 2}" y="{height / 2 + 4}" text-anchor="middle">'
                     f"{escape(empty)}</text>")
    for index, (label, value, shown) in enumerate(rows):
        y = PAD + index * ROW_HEIGHT
        name = label if len(label) <= 22 else label[:21] + "…"
        parts.append(f'<text class="label" x="{LABEL_WIDTH - 8}" y="{y + 17}" text-anchor="end">{escape(name)}</text>')
        width = max(plot * value / top, 2) if value else 0
        if value:
            parts.append(f'<rect class="bar" x="{LABEL_WIDTH}" y="{y + 4}" width="{width:.1f}" '
                         f'height="{ROW_HEIGHT - 8}"><title>{escape(label)}: {escape(shown)}</title></rect>')
        parts.append(f'<text class="value" x="{LABEL_WIDTH + width + 6:.1f}" y="{y + 17}">{escape(shown)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _ticks(low: float, high: float) -> list[float]:
    step = (high - low) / 4
    return [low + step * i for i in range(5)]
