"""Horizontal bar charts as SVG, rendered on the server (no JavaScript, no inline style: CSP-safe)."""
from __future__ import annotations

from markupsafe import Markup, escape

WIDTH, ROW_HEIGHT, LABEL_WIDTH, VALUE_WIDTH, PAD = 520, 26, 150, 70, 6


def bar_chart(rows: list[tuple[str, float | None, str]], *, title: str, css_class: str = "") -> Markup:
    """``rows``: (label, value or None, value as text). Bars are scaled to the largest value."""
    height = max(len(rows), 1) * ROW_HEIGHT + 2 * PAD
    plot = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    top = max((v for _, v, _ in rows if v), default=0) or 1
    parts = [f'<svg class="recognition-chart {escape(css_class)}" viewBox="0 0 {WIDTH} {height}" role="img" '
             f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">', f"<title>{escape(title)}</title>"]
    if not rows:
        parts.append(f'<text class="empty" x="{WIDTH / 2}" y="{height / 2 + 4}" text-anchor="middle">Nobody to show'
                     "</text>")
    for index, (label, value, shown) in enumerate(rows):
        y = PAD + index * ROW_HEIGHT
        name = label if len(label) <= 22 else label[:21] + "…"
        parts.append(f'<text class="label" x="{LABEL_WIDTH - 8}" y="{y + 17}" text-anchor="end">{escape(name)}</text>')
        if value:
            width = max(plot * value / top, 2)
            parts.append(f'<rect class="bar" x="{LABEL_WIDTH}" y="{y + 4}" width="{width:.1f}" '
                         f'height="{ROW_HEIGHT - 8}"><title>{escape(label)}: {escape(shown)}</title></rect>')
        else:
            width = 0
        parts.append(f'<text class="value" x="{LABEL_WIDTH + width + 6:.1f}" y="{y + 17}">{escape(shown)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
