"""The reports page's tables, as rows of cells: for the page (durations such as ``2h 10m``,
percentages) and for CSV (plain numbers: minutes and percent with one decimal)."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from helpdesk.i18n import N_, gettext, priority_name
from helpdesk.reports.metrics import DIMENSIONS, NONE_LABELS, WEEKDAYS, Report, Stats
from helpdesk.sla.clock import format_duration

METRIC_HEADERS = (N_("Created"), N_("Solved"), N_("First response (median)"), N_("First response (90th percentile)"),
                  N_("Resolution (median)"), N_("Resolution (90th percentile)"), N_("SLA attainment"),
                  N_("Reopen rate"), N_("One-touch resolution"))
TABLES = ("volume", "summary", *DIMENSIONS, "hours")


def duration(minutes: float | None, csv: bool = False) -> str:
    if minutes is None:
        return "" if csv else "—"
    return f"{minutes:.1f}" if csv else format_duration(timedelta(minutes=minutes))


def percent(value: float | None, csv: bool = False) -> str:
    if value is None:
        return "" if csv else "—"
    return f"{100 * value:.1f}" if csv else f"{100 * value:.1f}".removesuffix(".0") + "%"


def metric_cells(stats: Stats, csv: bool = False) -> list[Any]:
    return [stats.created, stats.solved, duration(stats.frt_median, csv), duration(stats.frt_p90, csv),
            duration(stats.resolution_median, csv), duration(stats.resolution_p90, csv),
            percent(stats.sla_attainment, csv), percent(stats.reopen_rate, csv), percent(stats.one_touch_rate, csv)]


def headers(name: str, csv: bool = False) -> list[str]:
    """Column headings of table ``name`` (CSV headings name their units and stay English, for the
    programs that read them; the page's are in the reader's language)."""
    said = (lambda text: text) if csv else gettext
    if name == "volume":
        return [said(h) for h in (N_("Period starting"), N_("Created"), N_("Solved"), N_("Backlog at the end"))]
    if name == "hours":
        return [said(N_("Weekday")), *[f"{hour:02d}:00" for hour in range(24)]]
    metrics = list(METRIC_HEADERS)
    if csv:
        metrics = [h + (" minutes" if 2 <= i <= 5 else " %" if i >= 6 else "") for i, h in enumerate(metrics)]
    first = N_("Period") if name == "summary" else DIMENSIONS[name]
    return [said(first), *[said(h) for h in metrics]]


def rows(report: Report, name: str, csv: bool = False) -> list[list[Any]]:
    """The rows of table ``name`` (one of ``TABLES``)."""
    if name == "volume":
        return [[b.start.isoformat(), b.created, b.solved, b.backlog] for b in report.series]
    if name == "hours":
        return [[WEEKDAYS[day] if csv else gettext(WEEKDAYS[day]), *report.heatmap[day]] for day in range(7)]
    if name == "summary":
        f = report.filters
        period = f"{f.start.isoformat()} to {f.end.isoformat()}" if csv else \
            gettext("%(start)s to %(end)s", start=f.start.isoformat(), end=f.end.isoformat())
        return [[period, *metric_cells(report.total, csv)]]
    return [[label if csv else _shown(name, label), *metric_cells(stats, csv)] for label, stats in report.by[name]]


def _shown(dimension: str, label: str) -> str:
    """A row's label on the page: our "(no team)" rows and the priorities (stored keys) by
    name in the reader's language; teams, agents and tags are names people gave."""
    if label == NONE_LABELS[dimension]:
        return gettext(label)
    return priority_name(label) if dimension == "priority" else label
