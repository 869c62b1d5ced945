"""Numbers for the complaints dashboard, and its weekly chart as server-rendered SVG."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import median

from markupsafe import Markup, escape
from sqlalchemy import Select, func, select

from helpdesk.plugin_api import Ticket, db_session, local_day_start, local_to_utc, utcnow
from helpdesk_complaints import core_tables
from helpdesk_complaints.config import TAG
from helpdesk_complaints.models import ComplaintEscalation, ComplaintFlag

OPEN = ("new", "open", "pending")


@dataclass
class Week:
    start: datetime
    flagged: int
    cleared: int
    by_agents: int

    @property
    def kept(self) -> int:
        return self.flagged - self.cleared

    @property
    def precision(self) -> float | None:
        """Share of automatic flags (not the ones agents added by hand) that were not cleared."""
        automatic = self.flagged - self.by_agents
        return (automatic - self.cleared) / automatic if automatic else None

    @property
    def label(self) -> str:
        return f"{self.start:%d %b}"

    @property
    def long_label(self) -> str:
        return f"{self.start:%d %b %Y}"


def week_start(moment: datetime) -> datetime:
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return day - timedelta(days=day.weekday())


def weekly(visible: Select, weeks: int = 12, now: datetime | None = None, viewer: object = None) -> list[Week]:
    """Flags per ISO week (oldest first): how many, how many cleared, how many added by agents.

    Weeks are the viewer's (Monday midnight in their time zone, else the site's), so a lead
    far from UTC sees a Sunday-evening complaint in the week they lived it."""
    now = now or utcnow()
    first = week_start(local_day_start(now, viewer)) - timedelta(weeks=weeks - 1)
    rows = db_session().execute(select(ComplaintFlag.flagged_at, ComplaintFlag.cleared_at, ComplaintFlag.source)
                              .where(ComplaintFlag.flagged_at >= local_to_utc(first, viewer),
                                     ComplaintFlag.ticket_id.in_(visible))).all()
    out = {first + timedelta(weeks=i): Week(first + timedelta(weeks=i), 0, 0, 0) for i in range(weeks)}
    for flagged_at, cleared_at, source in rows:
        week = out.get(week_start(local_day_start(flagged_at, viewer)))
        if week is None:
            continue
        week.flagged += 1
        week.cleared += cleared_at is not None
        week.by_agents += source == "agent"
    return list(out.values())


@dataclass
class Summary:
    open_complaints: int
    median_first_response: timedelta | None
    answered: int
    breaches: int
    escalations: int
    flagged: int
    cleared: int
    by_agents: int
    top_causes: list[tuple[str, int]]

    @property
    def precision(self) -> float | None:
        automatic = self.flagged - self.by_agents
        return (automatic - self.cleared) / automatic if automatic else None


def summary(visible: Select, days: int = 90, now: datetime | None = None) -> Summary:
    now = now or utcnow()
    since = now - timedelta(days=days)
    flagged_ids = (select(ComplaintFlag.ticket_id).where(ComplaintFlag.ticket_id.in_(visible)))
    active_ids = flagged_ids.where(ComplaintFlag.cleared_at.is_(None))
    open_count = db_session().scalar(select(func.count()).select_from(Ticket).where(
        Ticket.id.in_(active_ids), Ticket.status.in_(OPEN))) or 0
    responses = db_session().execute(select(Ticket.created_at, Ticket.first_response_at).where(
        Ticket.id.in_(active_ids), Ticket.created_at >= since, Ticket.first_response_at.is_not(None))).all()
    waits = [answered - created for created, answered in responses if answered >= created]
    targets = core_tables.sla_targets().c
    breaches = db_session().scalar(select(func.count()).select_from(core_tables.sla_targets()).where(
        targets.ticket_id.in_(active_ids), targets.breached_at.is_not(None), targets.breached_at >= since)) or 0
    escalations = db_session().scalar(select(func.count()).select_from(ComplaintEscalation).where(
        ComplaintEscalation.ticket_id.in_(visible), ComplaintEscalation.created_at >= since)) or 0
    flags = db_session().execute(select(ComplaintFlag.cleared_at, ComplaintFlag.source).where(
        ComplaintFlag.ticket_id.in_(visible), ComplaintFlag.flagged_at >= since)).all()
    recent = active_ids.where(ComplaintFlag.flagged_at >= since)
    causes: Counter[str] = Counter()
    for ticket in db_session().scalars(select(Ticket).where(Ticket.id.in_(recent)).limit(5000)):
        causes.update(t.name for t in ticket.tags if t.name != TAG)
    return Summary(open_complaints=open_count, median_first_response=median(waits) if waits else None,  # type: ignore[type-var]  # timedeltas sort
                   answered=len(waits), breaches=breaches, escalations=escalations, flagged=len(flags),
                   cleared=sum(1 for cleared, _ in flags if cleared is not None),
                   by_agents=sum(1 for _, source in flags if source == "agent"),
                   top_causes=causes.most_common(8))


def duration(value: timedelta | None) -> str:
    if value is None:
        return "—"
    minutes = int(value.total_seconds() // 60)
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    return f"{hours}h {mins}m" if hours else f"{mins}m"


TICK = 'class="tick" font-size="11" fill="#6c757d"'  # presentation attributes: the CSP forbids style=


def trend_svg(weeks: list[Week], width: int = 640, height: int = 200) -> Markup:
    """Bars of flags kept (dark) and cleared (light) per week, drawn on the server (no JS)."""
    pad_left, pad_bottom, pad_top = 32, 28, 12
    top = max([w.flagged for w in weeks] + [1])
    plot_h = height - pad_bottom - pad_top
    slot = (width - pad_left) / max(len(weeks), 1)
    bar = max(slot * 0.6, 2)
    described = ", ".join(f"week of {w.label}: {w.flagged} flagged, {w.cleared} cleared" for w in weeks)
    base = height - pad_bottom
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
             'class="complaints-chart w-100 h-auto" role="img" aria-labelledby="trend-title trend-desc" '
             'id="trend-chart">',
             '<title id="trend-title">Complaints per week</title>',
             f'<desc id="trend-desc">{escape(described)}</desc>',
             f'<line x1="{pad_left}" y1="{base}" x2="{width}" y2="{base}" class="axis" stroke="#adb5bd"/>',
             f'<text x="{pad_left - 6}" y="{pad_top + 4}" text-anchor="end" {TICK}>{top}</text>',
             f'<text x="{pad_left - 6}" y="{height - pad_bottom}" text-anchor="end" {TICK}>0</text>']
    for i, week in enumerate(weeks):
        x = pad_left + i * slot + (slot - bar) / 2
        kept_h = plot_h * week.kept / top
        cleared_h = plot_h * week.cleared / top
        y_kept = height - pad_bottom - kept_h
        parts.append(f'<g class="week" data-week="{week.start:%Y-%m-%d}" data-flagged="{week.flagged}" '
                     f'data-cleared="{week.cleared}">')
        parts.append(f'<title>Week of {escape(week.label)}: {week.flagged} flagged, {week.cleared} cleared</title>')
        if kept_h:
            parts.append(f'<rect x="{x:.1f}" y="{y_kept:.1f}" width="{bar:.1f}" height="{kept_h:.1f}" '
                         'class="kept" fill="#dc3545"/>')
        if cleared_h:
            parts.append(f'<rect x="{x:.1f}" y="{y_kept - cleared_h:.1f}" width="{bar:.1f}" height="{cleared_h:.1f}" '
                         'class="cleared" fill="#f1aeb5"/>')
        parts.append(f'<text x="{x + bar / 2:.1f}" y="{height - 8}" text-anchor="middle" {TICK}>'
                     f'{escape(week.label)}</text></g>')
    parts.append("</svg>")
    return Markup("".join(parts))
