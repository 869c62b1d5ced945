"""Scorecards, reviews, replies and focus: the writes, with their validation."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from helpdesk.plugin_api import Message, Ticket, User, db_session, notify_agents, record_config_change, utcnow
from helpdesk_coaching.config import DEFAULT_ITEMS, MAX_COMMENT, MAX_LABEL, SCORES
from helpdesk_coaching.models import Focus, Review, ReviewReply, ReviewScore, ScorecardItem


class Invalid(Exception):
    """Refused input: ``errors`` maps a form field to what to do instead."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


# ------------------------------------------------------------------ scorecard


def ensure_defaults() -> None:
    """The default scorecard, the first time anyone needs one (an admin may change it after)."""
    if db_session().scalar(select(func.count()).select_from(ScorecardItem)):
        return
    for position, (key, label, description) in enumerate(DEFAULT_ITEMS):
        db_session().add(ScorecardItem(key=key, label=label, description=description, position=position))
    try:
        db_session().commit()
    except IntegrityError:  # another request wrote them first
        db_session().rollback()


def active_items() -> list[ScorecardItem]:
    ensure_defaults()
    return list(db_session().scalars(select(ScorecardItem).where(ScorecardItem.active.is_(True))
                                     .order_by(ScorecardItem.position, ScorecardItem.id)))


def all_items() -> list[ScorecardItem]:
    ensure_defaults()
    return list(db_session().scalars(select(ScorecardItem).order_by(
        ScorecardItem.active.desc(), ScorecardItem.position, ScorecardItem.id)))


def _clean_item(label: str, description: str) -> tuple[str, str]:
    label, description = " ".join((label or "").split()), " ".join((description or "").split())
    errors = {}
    if not label:
        errors["label"] = "Give the item a name, e.g. “Clear language”."
    elif len(label) > MAX_LABEL:
        errors["label"] = f"Keep the name under {MAX_LABEL} characters."
    if len(description) > 500:
        errors["description"] = "Keep the description under 500 characters."
    if errors:
        raise Invalid(errors)
    return label, description


def add_item(label: str, description: str) -> ScorecardItem:
    label, description = _clean_item(label, description)
    base = re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")[:30] or "item"
    key, n = base, 1
    while db_session().scalar(select(ScorecardItem.id).where(ScorecardItem.key == key)):
        n += 1
        key = f"{base}_{n}"
    position = (db_session().scalar(select(func.max(ScorecardItem.position))) or 0) + 1
    item = ScorecardItem(key=key, label=label, description=description, position=position)
    db_session().add(item)
    record_config_change("coaching.scorecard", "created", label, None, {"label": label, "description": description})
    db_session().commit()
    return item


def edit_item(item: ScorecardItem, label: str, description: str, active: bool) -> None:
    label, description = _clean_item(label, description)
    if not active and item.active and len(active_items()) <= 1:
        raise Invalid({"active": "A scorecard needs at least one item: add another before archiving this one."})
    before = {"label": item.label, "description": item.description, "active": item.active}
    item.label, item.description, item.active = label, description, active
    record_config_change("coaching.scorecard", "changed", label, before,
                         {"label": label, "description": description, "active": active})
    db_session().commit()


def move_item(item: ScorecardItem, direction: int) -> None:
    items = active_items() if item.active else all_items()
    index = next(i for i, x in enumerate(items) if x.id == item.id)
    other = index + direction
    if 0 <= other < len(items):
        for position, x in enumerate(items):
            x.position = position
        items[index].position, items[other].position = other, index
        db_session().commit()


# ------------------------------------------------------------------ reviews


@dataclass
class ItemInput:
    item_id: int
    score: str = ""  # "2", "1", "0" or "" (not applicable)
    comment: str = ""
    message_id: str = ""


@dataclass
class ReviewInput:
    items: list[ItemInput] = field(default_factory=list)
    overall: str = ""
    suggestion: str = ""


def current_focus(agent_id: int) -> Focus | None:
    return db_session().scalar(select(Focus).where(Focus.agent_id == agent_id, Focus.closed_at.is_(None))
                               .order_by(Focus.id.desc()).limit(1))


def create_review(reviewer: User, ticket: Ticket, data: ReviewInput) -> Review:
    items = {item.id: item for item in active_items()}
    message_ids = set(db_session().scalars(select(Message.id).where(Message.ticket_id == ticket.id)))
    errors: dict[str, str] = {}
    scores: list[ReviewScore] = []
    for entry in data.items:
        if entry.item_id not in items:
            continue
        score: int | None = None
        if entry.score not in ("", None):
            if entry.score not in ("0", "1", "2"):
                errors[f"score_{entry.item_id}"] = "Choose met, partly, missed or not applicable."
                continue
            score = int(entry.score)
        comment = (entry.comment or "").strip()
        if len(comment) > MAX_COMMENT:
            errors[f"comment_{entry.item_id}"] = f"Keep the comment under {MAX_COMMENT} characters."
        message_id = None
        if entry.message_id:
            if not entry.message_id.isdigit() or int(entry.message_id) not in message_ids:
                errors[f"message_{entry.item_id}"] = "Point at a message of this ticket."
            else:
                message_id = int(entry.message_id)
        scores.append(ReviewScore(item_id=entry.item_id, score=score, comment=comment, message_id=message_id))
    if not any(s.score is not None for s in scores) and not errors:
        errors["items"] = "Rate at least one item of the scorecard."
    overall, suggestion = (data.overall or "").strip(), (data.suggestion or "").strip()
    if not overall:
        errors["overall"] = "Write an overall comment: what went well, what to keep."
    elif len(overall) > MAX_COMMENT:
        errors["overall"] = f"Keep the overall comment under {MAX_COMMENT} characters."
    if not suggestion:
        errors["suggestion"] = "Give one suggestion for next time."
    elif len(suggestion) > MAX_COMMENT:
        errors["suggestion"] = f"Keep the suggestion under {MAX_COMMENT} characters."
    if errors:
        raise Invalid(errors)
    assert ticket.assignee_id is not None
    if db_session().scalar(select(Review.id).where(Review.ticket_id == ticket.id, Review.reviewer_id == reviewer.id,
                                                   Review.agent_id == ticket.assignee_id)):
        raise Invalid({"items": "You have already reviewed this ticket."})
    focus = current_focus(ticket.assignee_id)
    review = Review(ticket_id=ticket.id, agent_id=ticket.assignee_id, reviewer_id=reviewer.id, overall=overall,
                    suggestion=suggestion, focus_text=focus.text[:700] if focus else "", scores=scores)
    db_session().add(review)
    try:
        db_session().commit()
    except IntegrityError:  # the same review sent twice at once
        db_session().rollback()
        raise Invalid({"items": "You have already reviewed this ticket."}) from None
    notify_agents("coaching.review", [db_session().get(User, review.agent_id)], ticket=ticket, actor=reviewer,
                  text=f"{reviewer.name} reviewed your work on {ticket.reference}. Open Coaching to read it.")
    return review


def add_reply(review: Review, author: User, body: str, dispute: bool) -> ReviewReply:
    body = (body or "").strip()
    if not body:
        raise Invalid({"body": "Write your reply first."})
    if len(body) > MAX_COMMENT:
        raise Invalid({"body": f"Keep the reply under {MAX_COMMENT} characters."})
    dispute = dispute and author.id == review.agent_id  # only the reviewed agent disputes
    reply = ReviewReply(review_id=review.id, author_id=author.id, body=body, dispute=dispute)
    db_session().add(reply)
    if dispute:
        review.disputed = True
    if author.id == review.agent_id and review.read_at is None:
        review.read_at = utcnow()
    db_session().commit()
    others = {review.agent_id, review.reviewer_id, *(r.author_id for r in review.replies)} - {author.id, None}
    people = [db_session().get(User, uid) for uid in sorted(others)]
    what = "disputes" if dispute else "replied to"
    notify_agents("coaching.reply", people, ticket=review.ticket, actor=author,
                  text=f"{author.name} {what} the review of {review.ticket.reference}.")
    return reply


def mark_read(review: Review, user: User) -> bool:
    if user.id != review.agent_id or review.read_at is not None:
        return False
    review.read_at = utcnow()
    db_session().commit()
    return True


def set_focus(lead: User, agent: User, item_id: str, note: str, checkin: str) -> Focus:
    errors = {}
    items = {str(i.id): i for i in active_items()}
    if item_id and item_id not in items:
        errors["focus_item"] = "Choose an item of the scorecard."
    note = " ".join((note or "").split())
    if not item_id and not note:
        errors["focus_note"] = "Choose an item or describe the focus in a few words."
    if len(note) > 500:
        errors["focus_note"] = "Keep the note under 500 characters."
    checkin_on = None
    if checkin:
        try:
            checkin_on = date.fromisoformat(checkin)
        except ValueError:
            errors["focus_checkin"] = "Give the check-in date as YYYY-MM-DD."
    if errors:
        raise Invalid(errors)
    now = utcnow()
    for old in db_session().scalars(select(Focus).where(Focus.agent_id == agent.id, Focus.closed_at.is_(None))):
        old.closed_at = now
    focus = Focus(agent_id=agent.id, lead_id=lead.id, item_id=int(item_id) if item_id else None, note=note,
                  checkin_on=checkin_on)
    db_session().add(focus)
    db_session().commit()
    return focus


SCORE_LABELS = SCORES
