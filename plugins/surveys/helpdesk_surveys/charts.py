"""Bar charts as SVG, rendered on the server (no JavaScript, no inline styles: CSP-safe)."""
from __future__ import annotations

from markupsafe import Markup, escape

WIDTH, HEIGHT, PAD_LEFT, PAD_BOTTOM, PAD_TOP = 640, 220, 44, 34, 14


def bar_chart(points: list[tuple[str, float | None, str]], *, low: float, high: float, title: str,
              css_class: str) -> Markup:
    """``points``: (label, value or None, tooltip). Bars grow from zero; None draws no bar."""
    plot_w, plot_h = WIDTH - PAD_LEFT - 8, HEIGHT - PAD_TOP - PAD_BOTTOM

    def y(value: float) -> float:
        return PAD_TOP + plot_h * (high - value) / (high - low)

    parts = [f'<svg class="surveys-chart {escape(css_class)}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
             f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">', f"<title>{escape(title)}</title>"]
    for tick in _ticks(low, high):
        parts.append(f'<line class="grid" x1="{PAD_LEFT}" x2="{WIDTH - 8}" y1="{y(tick):.1f}" y2="{y(tick):.1f}"/>')
        parts.append(f'<text class="tick" x="{PAD_LEFT - 6}" y="{y(tick) + 4:.1f}" text-anchor="end">{tick:g}</text>')
    if not points:
        parts.append(f'<text class="empty" x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle">No answers in this '
                     "period</text>")
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
            parts.append(f'<text class="label" x="{x + bar_w / 2:.1f}" y="{HEIGHT - 12}" text-anchor="middle">'
                         f"{escape(label)}</text>")
    parts.append("</svg>")
    return Markup("".join(parts))


def _ticks(low: float, high: float) -> list[float]:
    step = (high - low) / 4
    return [low + step * i for i in range(5)]
