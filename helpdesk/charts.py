"""Bar charts as SVG, drawn on the server: no JavaScript and no inline ``style`` (the
Content-Security-Policy forbids both), every label escaped. Plugins use them through
``plugin_api`` and style them with their own CSS (``.bar``, ``.grid``, ``.label``, ...).
"""
from __future__ import annotations

import math
from collections.abc import Sequence

from flask_babel import gettext
from markupsafe import Markup, escape

from helpdesk.languages import N_

COLUMN_WIDTH, COLUMN_HEIGHT, PAD_LEFT, PAD_BOTTOM, PAD_TOP = 640, 220, 44, 34, 14
# An axis label's width in the chart's units: about this much per character, plus a gap.
CHAR_WIDTH, LABEL_GAP = 6.6, 8
HEAT_CELL, HEAT_LABEL_WIDTH, HEAT_TOP = 24, 44, 22
BAR_WIDTH, ROW_HEIGHT, LABEL_WIDTH, VALUE_WIDTH, PAD = 520, 26, 150, 70, 6
# The defaults callers get in the reader's language (text a caller passes is shown as given).
EMPTY = N_("Nothing to show")
SHOW_TABLE = N_("Show the numbers as a table")


def _default(text: str, default: str) -> str:
    return gettext(default) if text == default else text


def column_chart(points: list[tuple[str, float | None, str]], *, low: float, high: float, title: str,
                 css_class: str = "", chart_class: str = "chart", empty: str = EMPTY,
                 table: tuple[str, str] | None = None) -> Markup:
    """Vertical bars over time. ``points``: (label, value or None, tooltip), left to right.

    The axis runs from ``low`` to ``high`` (five grid lines); bars grow from zero, so
    negative values (an NPS) hang below it with the class ``bar negative``; None draws no
    bar. Each bar's tooltip (its ``<title>``) shows on hover. Axis labels never overlap:
    only every n-th is written, n chosen from the longest label and the room per bar.
    ``chart_class`` and ``css_class`` go on the ``<svg>``; ``empty`` is shown when there are
    no points. ``table=("Day", "Tickets")`` adds the values beneath as a table (``data_table``).
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
                     f"{escape(_default(empty, EMPTY))}</text>")
    step = plot_w / max(len(points), 1)
    bar_w = max(min(step * 0.7, 48), 2)
    zero = y(max(low, min(0.0, high)))
    label_every = label_step([label for label, _, _ in points], step)
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
    if table and points:
        parts.append(data_table(table, [(label, tip) for label, _, tip in points], caption=title))
    return Markup("".join(parts))


def label_step(labels: Sequence[str], room: float) -> int:
    """Write every n-th axis label so that none overlaps the next: ``room`` is the width
    per point, and a label takes about ``CHAR_WIDTH`` per character plus a gap."""
    if not labels or room <= 0:
        return 1
    widest = max(len(label) for label in labels) * CHAR_WIDTH + LABEL_GAP
    return max(1, math.ceil(widest / room))


def data_table(headers: Sequence[str], rows: Sequence[Sequence[object]], *, caption: str = "",
               summary: str = SHOW_TABLE) -> Markup:
    """The numbers behind a chart as an accessible table, folded in a ``<details>`` (screen
    readers and people who want exact values; copy-pastes into a spreadsheet)."""
    head = "".join(f'<th scope="col">{escape(h)}</th>' for h in headers)
    body = "".join("<tr>" + "".join(f'<th scope="row">{escape(c)}</th>' if i == 0 else f"<td>{escape(c)}</td>"
                                    for i, c in enumerate(row)) + "</tr>" for row in rows)
    cap = f'<caption class="visually-hidden">{escape(caption)}</caption>' if caption else ""
    return Markup(f'<details class="chart-data"><summary>{escape(_default(summary, SHOW_TABLE))}</summary>'
                  f'<table class="table table-sm chart-table">{cap}<thead><tr>{head}</tr></thead>'
                  f"<tbody>{body}</tbody></table></details>")


def heatmap_chart(row_labels: Sequence[str], column_labels: Sequence[str], values: Sequence[Sequence[float]], *,
                  title: str, tip: str = "{row} {column}: {value:g}", css_class: str = "",
                  chart_class: str = "chart") -> Markup:
    """A grid of cells shaded by value (``heat-0`` … ``heat-4``, style them in CSS), e.g.
    weekdays × hours. Each cell's tooltip is ``tip`` formatted with row, column and value."""
    top = max((v for row in values for v in row), default=0) or 1
    width = HEAT_LABEL_WIDTH + HEAT_CELL * len(column_labels) + 4
    height = HEAT_TOP + HEAT_CELL * len(row_labels) + 4
    parts = [f'<svg class="{escape(chart_class)} heatmap {escape(css_class)}" viewBox="0 0 {width} {height}" '
             f'role="img" aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
             f"<title>{escape(title)}</title>"]
    every = label_step(column_labels, HEAT_CELL)
    for c, label in enumerate(column_labels):
        if c % every == 0:
            parts.append(f'<text class="label" x="{HEAT_LABEL_WIDTH + HEAT_CELL * c + HEAT_CELL / 2:.1f}" '
                         f'y="{HEAT_TOP - 8}" text-anchor="middle">{escape(label)}</text>')
    for r, label in enumerate(row_labels):
        y = HEAT_TOP + HEAT_CELL * r
        parts.append(f'<text class="label" x="{HEAT_LABEL_WIDTH - 6}" y="{y + HEAT_CELL / 2 + 4:.1f}" '
                     f'text-anchor="end">{escape(label)}</text>')
        for c, column in enumerate(column_labels):
            value = values[r][c]
            level = 0 if not value else min(4, 1 + int(3.999 * value / top))
            text = tip.format(row=label, column=column, value=value)
            parts.append(f'<rect class="cell heat-{level}" x="{HEAT_LABEL_WIDTH + HEAT_CELL * c}" y="{y}" '
                         f'width="{HEAT_CELL - 2}" height="{HEAT_CELL - 2}"><title>{escape(text)}</title></rect>')
    parts.append("</svg>")
    return Markup("".join(parts))


def bar_chart(rows: list[tuple[str, float | None, str]], *, title: str, css_class: str = "",
              chart_class: str = "chart", empty: str = EMPTY,
              table: tuple[str, str] | None = None) -> Markup:
    """Horizontal bars, one row each. ``rows``: (label, value or None, value as text).

    Bars are scaled to the largest value; labels longer than 22 characters are shortened
    (the full label stays in the bar's tooltip); the value is written after the bar.
    ``table=("Agent", "Kudos")`` adds the values beneath as a table.
    """
    height = max(len(rows), 1) * ROW_HEIGHT + 2 * PAD
    plot = BAR_WIDTH - LABEL_WIDTH - VALUE_WIDTH
    top = max((v for _, v, _ in rows if v), default=0) or 1
    parts = [f'<svg class="{escape(chart_class)} {escape(css_class)}" viewBox="0 0 {BAR_WIDTH} {height}" role="img" '
             f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">', f"<title>{escape(title)}</title>"]
    if not rows:
        parts.append(f'<text class="empty" x="{BAR_WIDTH / 2}" y="{height / 2 + 4}" text-anchor="middle">'
                     f"{escape(_default(empty, EMPTY))}</text>")
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
    if table and rows:
        parts.append(data_table(table, [(label, shown) for label, _, shown in rows], caption=title))
    return Markup("".join(parts))


def _ticks(low: float, high: float) -> list[float]:
    step = (high - low) / 4
    return [low + step * i for i in range(5)]
