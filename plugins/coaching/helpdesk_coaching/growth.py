"""One agent's growth: scorecard trends, CSAT and reviews side by side."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from helpdesk.plugin_api import bar_chart, column_chart, db_session, user_zone, utcnow
from helpdesk_coaching.models import Rating, Review, ReviewScore

MONTHS = 6


@dataclass
class Growth:
    reviews: list[Review]
    trend: Markup
    items: Markup
    csat_average: float | None
    csat_count: int
    csat_trend: Markup


def _month_labels(now: datetime) -> list[tuple[int, int]]:
    year, month = now.year, now.month
    out = []
    for _ in range(MONTHS):
        out.append((year, month))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return list(reversed(out))


def _local_month(when: datetime, zone) -> tuple[int, int]:
    from datetime import UTC

    local = when.replace(tzinfo=UTC).astimezone(zone)
    return local.year, local.month


def growth(agent_id: int, viewer) -> Growth:
    zone = user_zone(viewer)
    reviews = list(db_session().scalars(
        select(Review).where(Review.agent_id == agent_id).order_by(Review.created_at.desc(), Review.id.desc())
        .options(selectinload(Review.scores).selectinload(ReviewScore.item), selectinload(Review.reviewer),
                 selectinload(Review.ticket), selectinload(Review.replies))))
    months = _month_labels(_local_now(zone))
    by_month: dict[tuple[int, int], list[int]] = {m: [] for m in months}
    per_item: dict[str, list[int]] = {}
    for review in reviews:
        key = _local_month(review.created_at, zone)
        if key in by_month and review.percent is not None:
            by_month[key].append(review.percent)
        for score in review.scores:
            if score.score is not None:
                per_item.setdefault(score.item.label, []).append(score.score)
    points = [(f"{y}-{m:02d}", (sum(v) / len(v)) if v else None,
               f"{y}-{m:02d}: " + (f"{round(sum(v) / len(v))}% over {len(v)} review(s)" if v else "no reviews"))
              for (y, m), v in by_month.items()]
    trend = column_chart(points if any(p[1] is not None for p in points) else [], low=0, high=100,
                         title="Scorecard result by month (%)", css_class="coaching-trend",
                         empty="No reviews in the last six months yet.", table=("Month", "Score %"))
    rows: list[tuple[str, float | None, str]] = []
    for label, values in sorted(per_item.items()):
        met = round(100 * sum(values) / (2 * len(values)))
        rows.append((label, met, f"{met}% ({len(values)})"))
    items = bar_chart(rows, title="Scorecard items (% met, over all reviews)", css_class="coaching-items",
                      empty="No rated items yet.", table=("Item", "Met %"))
    ratings = list(db_session().execute(select(Rating.score, Rating.created_at).where(Rating.agent_id == agent_id)))
    count = len(ratings)
    average = sum(r.score for r in ratings) / count if count else None
    csat_month: dict[tuple[int, int], list[int]] = {m: [] for m in months}
    for r in ratings:
        key = _local_month(r.created_at, zone)
        if key in csat_month:
            csat_month[key].append(r.score)
    csat_points = [(f"{y}-{m:02d}", (sum(v) / len(v)) if v else None,
                    f"{y}-{m:02d}: " + (f"{sum(v) / len(v):.1f} from {len(v)} rating(s)" if v else "no ratings"))
                   for (y, m), v in csat_month.items()]
    csat_trend = column_chart(csat_points if any(p[1] is not None for p in csat_points) else [], low=0, high=5,
                              title="CSAT by month (1–5)", css_class="coaching-csat",
                              empty="No CSAT ratings in the last six months.", table=("Month", "CSAT"))
    return Growth(reviews=reviews, trend=trend, items=items, csat_average=average, csat_count=count,
                  csat_trend=csat_trend)


def _local_now(zone) -> datetime:
    from datetime import UTC

    return utcnow().replace(tzinfo=UTC).astimezone(zone)


def unread_count(agent_id: int) -> int:
    return int(db_session().scalar(select(func.count(Review.id)).where(
        Review.agent_id == agent_id, Review.read_at.is_(None))) or 0)
