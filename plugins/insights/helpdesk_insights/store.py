"""Texts in, themes out: ingestion from the hooks, assignment, re-clustering and admin edits.

Everything that writes the plugin's tables lives here; views and jobs call these functions.
Core rows are only touched through ``apply_route_decision`` (a pinned theme's tag).
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import defer

from helpdesk.plugin_api import (
    Message,
    ServiceError,
    SlaTarget,
    Team,
    Ticket,
    User,
    apply_route_decision,
    db_session,
    get_by_id,
    gettext,
    utcnow,
)
from helpdesk_insights import engine
from helpdesk_insights.config import setting
from helpdesk_insights.models import InsightsModel, InsightsSignal, InsightsText, InsightsTheme

log = logging.getLogger(__name__)

LOW_SCORES = {"csat": 2, "nps": 6}  # at or below: an unhappy answer
GOOD_SCORES = {"csat": 4, "nps": 9}  # at or above: a happy one
MATCH = 0.3  # re-clustering: a new group keeps an old theme (name, pin, action) at this similarity


# ------------------------------------------------------------------ ingestion


def _is_complaint(ticket: Ticket, message: Message) -> bool:
    """Any plugin's classification label saying ``complaint``, or the ``complaint`` tag."""
    labels = (message.meta or {}).get("labels") or {}
    if any(isinstance(v, dict) and v.get("complaint") for v in labels.values()):
        return True
    return any(tag.name == "complaint" for tag in ticket.tags)


def _is_auto_reply(message: Message) -> bool:
    meta = message.meta or {}
    return bool(meta.get("auto_reply") or (meta.get("email") or {}).get("auto_reply"))


def _add(row: InsightsText | InsightsSignal) -> bool:
    """Insert a row with a unique reference; False when it was already there (a repeated hook)."""
    session = db_session()
    try:
        with session.begin_nested():
            session.add(row)
        session.commit()
        return True
    except IntegrityError:
        session.rollback()
        return False


def add_signal(customer_id: int, kind: str, reference: str, detail: str, *, ticket_id: int | None = None,
               at: datetime | None = None) -> bool:
    return _add(InsightsSignal(customer_id=customer_id, kind=kind, reference=reference[:120], detail=detail[:300],
                               ticket_id=ticket_id, created_at=at or utcnow()))


def ingest_ticket(ticket: Ticket, message: Message) -> int | None:
    """A new ticket's subject and first message become a text (and a complaint a signal)."""
    if message.internal or _is_auto_reply(message) or ticket.customer_id is None:
        return None
    text = engine.clean(f"{ticket.subject}. {message.body}")
    if not text:
        return None
    complaint = _is_complaint(ticket, message)
    row = InsightsText(reference=f"ticket:{ticket.id}", source="complaint" if complaint else "ticket",
                       ticket_id=ticket.id, customer_id=ticket.customer_id, team_id=ticket.team_id,
                       channel=ticket.channel or "web", text=text, sentiment=engine.sentiment(text),
                       complaint=complaint, created_at=ticket.created_at or utcnow())
    if not _add(row):
        return None
    if complaint:
        add_signal(ticket.customer_id, "complaint", f"complaint:{ticket.id}",
                   f"complaint: {ticket.subject}"[:300], ticket_id=ticket.id, at=row.created_at)
    return row.id


def ingest_feedback(ticket: Ticket | None, customer: User, feedback: dict) -> int | None:
    """A survey or portal answer: its comment becomes a text, a low score a signal."""
    kind, score = feedback.get("kind"), feedback.get("score")
    source = "survey" if feedback.get("source") == "survey" else "portal"
    ref = feedback.get("reference") or f"{kind}:{customer.id}:{utcnow().isoformat()}"
    now = utcnow()
    where = f" on {ticket.reference}" if ticket is not None else ""
    if kind in LOW_SCORES and score is not None and int(score) <= LOW_SCORES[kind]:
        add_signal(customer.id, "low_score", f"score:{ref}", f"{kind.upper()} {score}{where}",
                   ticket_id=ticket.id if ticket else None, at=now)
    elif kind in GOOD_SCORES and score is not None and int(score) >= GOOD_SCORES[kind]:
        add_signal(customer.id, "good_score", f"score:{ref}", f"{kind.upper()} {score}{where}",
                   ticket_id=ticket.id if ticket else None, at=now)
    comment = engine.clean(feedback.get("comment") or "")
    if not comment:
        return None
    reference = f"feedback:{ref}"[:120]
    existing = db_session().scalar(select(InsightsText).where(InsightsText.reference == reference))
    if existing is not None:  # the customer changed their answer: one text, the newest words
        existing.text, existing.score, existing.sentiment = comment, score, engine.sentiment(comment)
        db_session().commit()
        return existing.id
    row = InsightsText(reference=reference, source=source, ticket_id=ticket.id if ticket else None,
                       customer_id=customer.id, team_id=ticket.team_id if ticket else None,
                       channel=ticket.channel if ticket else "web", text=comment, score=score,
                       sentiment=engine.sentiment(comment), created_at=now)
    return row.id if _add(row) else None


def sla_breached(ticket: Ticket, target: SlaTarget) -> None:
    kind = (target.kind or "service level").replace("_", " ")
    add_signal(ticket.customer_id, "sla_breach", f"sla:{target.id}:{target.cycle}",
               f"{kind} target missed on {ticket.reference}", ticket_id=ticket.id)


def ticket_reopened(ticket: Ticket) -> None:
    add_signal(ticket.customer_id, "reopened", f"reopened:{ticket.id}:{utcnow().isoformat()}",
               f"{ticket.reference} reopened", ticket_id=ticket.id)


# ------------------------------------------------------------------ assignment


_CACHE: dict[str, object] = {}


def current_model() -> InsightsModel | None:
    """The newest model, its vocabulary left unread until asked for."""
    return db_session().scalar(select(InsightsModel).options(defer(InsightsModel.idf))
                               .order_by(InsightsModel.id.desc()).limit(1))


def _idf(model_id: int) -> dict[str, float]:
    """The model's vocabulary, read once per process and model (it never changes)."""
    if _CACHE.get("model_id") != model_id:
        idf = db_session().scalar(select(InsightsModel.idf).where(InsightsModel.id == model_id))
        _CACHE.update(model_id=model_id, idf=idf or {})
    return _CACHE["idf"]  # type: ignore[return-value]


def live_centroids() -> list[tuple[int, dict[str, float]]]:
    """Themes a new text may join: not merged away (hidden ones still collect, out of sight)."""
    rows = db_session().execute(select(InsightsTheme.id, InsightsTheme.centroid)
                                .where(InsightsTheme.merged_into_id.is_(None))).all()
    return [(ident, centroid or {}) for ident, centroid in rows]


def threshold() -> float:
    return (setting("assign_threshold") or 0) / 100


def assign(text_id: int) -> InsightsTheme | None:
    """Put one text in the closest theme; a pinned theme's tag goes on the text's ticket."""
    row = db_session().get(InsightsText, text_id)
    model_id = db_session().scalar(select(InsightsModel.id).order_by(InsightsModel.id.desc()).limit(1))
    if row is None or model_id is None:
        return None
    vector = engine.vectorize(row.text, _idf(model_id))
    theme_id, sim = engine.nearest(vector, live_centroids(), threshold())
    row.theme_id, row.similarity = theme_id, round(sim, 4)
    theme = db_session().get(InsightsTheme, theme_id) if theme_id is not None else None
    if theme is not None and theme.pinned_tag and row.ticket_id is not None:
        ticket = db_session().get(Ticket, row.ticket_id)
        if ticket is not None:
            apply_route_decision(ticket, reason=f"theme “{theme.name}” is pinned to this tag",
                                 tags=[theme.pinned_tag])
    db_session().commit()
    return theme


# ------------------------------------------------------------------ re-clustering


def recompute(progress: Callable[[str, int], None] | None = None, now: datetime | None = None) -> InsightsModel:
    """Group every text again; old themes that match a new group keep their id, name, pin, action."""
    session = db_session()
    rows = session.execute(select(InsightsText.id, InsightsText.text).order_by(InsightsText.id)).all()
    ids = [r[0] for r in rows]
    result = engine.fit([r[1] for r in rows], max_themes=setting("max_themes") or 40, threshold=threshold(),
                        min_size=setting("min_theme_size") or 3, progress=progress)
    now = now or utcnow()
    old = list(session.scalars(select(InsightsTheme)))
    by_id = {t.id: t for t in old}
    # Each new group takes the most similar old theme not taken yet (greedy, best pairs first).
    pairs = sorted(((engine.cosine(c, t.centroid or {}), i, t.id) for i, c in enumerate(result.centroids)
                    for t in old if t.centroid), reverse=True)
    taken_groups: dict[int, InsightsTheme] = {}
    taken_themes: set[int] = set()
    for sim, group, theme_id in pairs:
        if sim < MATCH:
            break
        if group in taken_groups or theme_id in taken_themes:
            continue
        theme = by_id[theme_id]
        target = theme
        while target.merged_into_id is not None and target.merged_into_id in by_id:  # merged: its target
            target = by_id[target.merged_into_id]
        taken_groups[group] = target
        taken_themes.add(theme_id)
    themes: list[InsightsTheme] = []
    for group, centroid in enumerate(result.centroids):
        phrases = engine.key_phrases(centroid)
        theme = taken_groups.get(group)
        if theme is None:
            theme = InsightsTheme(name=engine.theme_name(phrases), created_at=now)
            session.add(theme)
        if theme.merged_into_id is None and theme not in themes:
            theme.centroid = centroid
        theme.key_phrases = phrases
        if not theme.named_by_hand:
            theme.name = engine.theme_name(phrases)
        theme.updated_at = now
        themes.append(theme)
    session.flush()
    if progress is not None:
        progress("saving", 95)
    session.execute(update(InsightsText).values(theme_id=None, similarity=None))
    updates = [{"id": ident, "theme_id": themes[label].id, "similarity": sim}
               for ident, label, sim in zip(ids, result.labels, result.similarities, strict=True) if label >= 0]
    for start in range(0, len(updates), 5000):
        session.execute(update(InsightsText), updates[start:start + 5000])
    model = InsightsModel(idf=result.idf, threshold=threshold(), texts=len(ids),
                          themes=len({t.id for t in themes}), created_at=now)
    session.add(model)
    session.commit()
    return model


# ------------------------------------------------------------------ admin edits


def get_theme(raw) -> InsightsTheme | None:
    return get_by_id(InsightsTheme, raw)


def get_team(raw) -> Team | None:
    return get_by_id(Team, raw) if raw else None


def channels() -> list[str]:
    """The channels texts came by (for the themes list's filter)."""
    return sorted(c for c in db_session().scalars(select(InsightsText.channel).distinct()) if c)


def rename(theme: InsightsTheme, name: str) -> None:
    name = " ".join((name or "").split())
    if not name:
        raise ServiceError(gettext('Give the theme a name.'), field="name")
    if len(name) > 120:
        raise ServiceError(gettext("A theme's name is 120 characters at most."), field="name")
    theme.name, theme.named_by_hand, theme.updated_at = name, True, utcnow()
    db_session().commit()


def set_hidden(theme: InsightsTheme, hidden: bool) -> None:
    theme.hidden, theme.updated_at = hidden, utcnow()
    db_session().commit()


def pin(theme: InsightsTheme, tag: str) -> None:
    tag = (tag or "").strip().lower()
    if len(tag) > 50:
        raise ServiceError(gettext('A tag is 50 characters at most.'), field="tag")
    if tag and not all(c.isalnum() or c in "-_" for c in tag):
        raise ServiceError(gettext('A tag has letters, digits, - and _ only.'), field="tag")
    theme.pinned_tag, theme.updated_at = tag or None, utcnow()
    db_session().commit()


def size(theme_id: int) -> int:
    return db_session().scalar(select(func.count()).select_from(InsightsText)
                               .where(InsightsText.theme_id == theme_id)) or 0


def merge(source: InsightsTheme, target: InsightsTheme) -> None:
    """``source``'s texts move to ``target``; new texts like ``source``'s go there too."""
    if source.id == target.id:
        raise ServiceError(gettext('Choose another theme to merge into.'), field="target")
    if target.merged_into_id is not None:
        raise ServiceError(
            gettext('“%(name)s” was itself merged; choose the theme it went into.', name=target.name), field="target")
    a, b = size(source.id), size(target.id)
    target.centroid = engine.blend(source.centroid or {}, max(a, 1), target.centroid or {}, max(b, 1))
    db_session().execute(update(InsightsText).where(InsightsText.theme_id == source.id).values(theme_id=target.id))
    db_session().execute(update(InsightsTheme).where(InsightsTheme.merged_into_id == source.id)
                         .values(merged_into_id=target.id))
    source.merged_into_id, source.hidden = target.id, True
    source.updated_at = target.updated_at = utcnow()
    db_session().commit()


def split(theme: InsightsTheme) -> InsightsTheme:
    """Split a theme in two by what its texts say: the larger part keeps the theme, the other is new."""
    model = current_model()
    rows = list(db_session().execute(select(InsightsText.id, InsightsText.text)
                                     .where(InsightsText.theme_id == theme.id)).all())
    if model is None or len(rows) < 4:
        raise ServiceError(gettext('A theme needs at least 4 texts to be split.'))
    labels, centroids = engine.split([r[1] for r in rows], model.idf)
    big = 0 if labels.count(0) >= labels.count(1) else 1
    other = InsightsTheme(name=engine.theme_name(engine.key_phrases(centroids[1 - big])),
                          key_phrases=engine.key_phrases(centroids[1 - big]), centroid=centroids[1 - big])
    db_session().add(other)
    db_session().flush()
    theme.centroid = centroids[big]
    theme.key_phrases = engine.key_phrases(centroids[big])
    if not theme.named_by_hand:
        theme.name = engine.theme_name(theme.key_phrases)
    theme.updated_at = utcnow()
    moved = [r[0] for r, label in zip(rows, labels, strict=True) if label != big]
    for start in range(0, len(moved), 500):
        db_session().execute(update(InsightsText).where(InsightsText.id.in_(moved[start:start + 500]))
                             .values(theme_id=other.id))
    db_session().commit()
    return other

