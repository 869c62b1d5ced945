"""Complaint flags: detection on each customer message, low ratings, agents' corrections."""
from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from helpdesk.plugin_api import Message, Ticket, User, audit, db_session, lazy_gettext, services, utcnow
from helpdesk_complaints.config import TAG, phrases, setting, threshold
from helpdesk_complaints.detection import Detection, detect
from helpdesk_complaints.learning import active_model, record_label, state
from helpdesk_complaints.models import ComplaintFlag

log = logging.getLogger(__name__)

LOW_SCORES = {"csat": 2, "nps": 6}  # at or below: an unhappy customer


def is_auto_reply(message: Message | None) -> bool:
    """Automated mail (out-of-office, bounces): never flagged, acknowledged or followed up."""
    if message is None:
        return False
    meta = message.meta or {}
    return bool(meta.get("auto_reply") or (meta.get("email") or {}).get("auto_reply"))


def first_message(ticket: Ticket) -> Message | None:
    return db_session().scalar(select(Message).where(Message.ticket_id == ticket.id).order_by(Message.id).limit(1))


def flag_of(ticket_id: int) -> ComplaintFlag | None:
    return db_session().scalar(select(ComplaintFlag).where(ComplaintFlag.ticket_id == ticket_id))


def is_vip(customer: User | None) -> bool:
    from helpdesk_complaints.rules import split_tags

    tag = (setting("vip_tag") or "").strip().lower()
    return bool(tag and customer is not None and tag in split_tags(customer.tags))


def _repeat_contact(ticket: Ticket) -> str | None:
    days = setting("repeat_days") or 0
    if days <= 0 or ticket.customer_id is None:
        return None
    since = (ticket.created_at or utcnow()) - timedelta(days=days)
    other = db_session().scalar(
        select(Ticket).where(Ticket.customer_id == ticket.customer_id, Ticket.id != ticket.id,
                             Ticket.created_at >= since).order_by(Ticket.created_at.desc()).limit(1))
    if other is None:
        return None
    days_before = max((ticket.created_at or utcnow()) - other.created_at, timedelta()).days
    return f"repeat contact: {other.reference} opened {days_before} day(s) before"


def _unanswered_follow_up(ticket: Ticket, message: Message) -> bool:
    """The customer writes again while their previous public message is still unanswered."""
    previous = db_session().scalar(
        select(Message).where(Message.ticket_id == ticket.id, Message.id < message.id, Message.internal.is_(False))
        .order_by(Message.id.desc()).limit(1)) if message.id else None
    return previous is not None and previous.author_id == ticket.customer_id


def classify(ticket: Ticket, message: Message) -> dict | None:
    """The ``classify_ticket`` answer for a new ticket or a new customer message."""
    if is_auto_reply(message) or message.internal or message.needs_review:
        return None
    is_first = message.id is None or db_session().scalar(
        select(func.min(Message.id)).where(Message.ticket_id == ticket.id)) in (None, message.id)
    extra: list[tuple[str, float]] = []
    if is_first:
        repeat = _repeat_contact(ticket)
        if repeat:
            extra.append((repeat, 0.5))
    elif _unanswered_follow_up(ticket, message):
        extra.append(("wrote again before an answer", 0.5))
    vip = is_vip(ticket.customer)
    if vip:
        extra.append(("VIP customer", 0.3))
    text = f"{ticket.subject}\n{message.body}" if is_first else message.body
    current = state()
    learned, record = active_model(current)
    name = f"learned #{record.id}" if record is not None else "built-in"
    detection: Detection = detect(text, phrases=phrases(), threshold=threshold(), extra=extra, model=learned,
                                  sensitivity=current.sensitivity, detector=name)
    labels = detection.labels()
    flag = flag_of(ticket.id) if ticket.id else None
    if flag is not None and not flag.active:
        labels["complaint"] = False  # an agent said this ticket is not a complaint: respect it
        labels["cleared"] = True
        return {"labels": labels}
    if not detection.complaint:
        return {"labels": labels}
    priority = setting("vip_priority") if vip else setting("complaint_priority")
    return {"tags": [TAG], "priority": priority, "labels": labels}


def record_flag(ticket: Ticket, message: Message, *, new_ticket: bool = False) -> ComplaintFlag | None:
    """Keep the flag of a message detected as a complaint (once per ticket).

    ``new_ticket``: the ticket is being created in this transaction, so it has no flag yet
    (nobody else can see it): no read first; the unique ticket id still guards.
    """
    from helpdesk_complaints.rules import complaint_label

    label = complaint_label(message)
    if not label.get("complaint") or is_auto_reply(message):
        return None
    existing = None if new_ticket else flag_of(ticket.id)
    if existing is not None:
        return existing
    flag = ComplaintFlag(ticket_id=ticket.id, score=float(label.get("score") or 0.0),
                         signals=list(label.get("signals") or []), source="detection", flagged_at=utcnow())
    db_session().add(flag)
    try:
        db_session().commit()
    except IntegrityError:  # another process flagged it a moment ago
        db_session().rollback()
        return flag_of(ticket.id)
    return flag


def flag_by_hand(ticket: Ticket, agent: User, reason: str) -> ComplaintFlag:
    """An agent marks a ticket detection missed (counted as a miss in the reports)."""
    flag = flag_of(ticket.id)
    if flag is None:
        flag = ComplaintFlag(ticket_id=ticket.id, score=0.0, signals=[f"flagged by {agent.name}: {reason}"[:300]],
                             source="agent", flagged_at=utcnow())
        db_session().add(flag)
    else:  # a cleared flag put back
        flag.cleared_at = flag.cleared_by_id = flag.clear_reason = None
        flag.signals = [*flag.signals, f"flagged again by {agent.name}: {reason}"[:300]]
    audit(ticket, agent, "complaint_flagged", None, None, "complaint", reason=reason[:500])
    record_label(ticket, agent, True)
    db_session().commit()
    if TAG not in {t.name for t in ticket.tags}:
        services.update_ticket(ticket, agent, tags=[*(t.name for t in ticket.tags), TAG])
    return flag


def clear_flag(ticket: Ticket, agent: User, reason: str) -> ComplaintFlag | None:
    """An agent says this was not a complaint: kept (for precision), tag removed."""
    flag = flag_of(ticket.id)
    if flag is None or not flag.active:
        return flag
    flag.cleared_at = utcnow()
    flag.cleared_by_id = agent.id
    flag.clear_reason = reason[:500]
    audit(ticket, agent, "complaint_cleared", None, "complaint", None, reason=reason[:500])
    record_label(ticket, agent, False)
    db_session().commit()
    if TAG in {t.name for t in ticket.tags}:
        services.update_ticket(ticket, agent, tags=[t.name for t in ticket.tags if t.name != TAG])
    return flag


def low_rating(ticket: Ticket | None, customer: User, feedback: dict) -> ComplaintFlag | None:
    """``feedback_received``: csat ≤ 2 or nps ≤ 6 flags the ticket (or the customer's latest)."""
    kind, score = feedback.get("kind"), feedback.get("score")
    if kind not in LOW_SCORES or score is None or int(score) > LOW_SCORES[kind]:
        return None
    if feedback.get("source") == "complaint_followup":
        return None  # our own follow-up question: handled where it is answered
    if ticket is None:
        ticket = db_session().scalar(select(Ticket).where(Ticket.customer_id == customer.id)
                                   .order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(1))
    if ticket is None:
        return None
    signal = f"low survey rating: {kind} {score}" + (f" ({feedback.get('source')})" if feedback.get("source") else "")
    flag = flag_of(ticket.id)
    if flag is not None:
        if signal not in flag.signals:
            flag.signals = [*flag.signals, signal]
            db_session().commit()
        return flag
    flag = ComplaintFlag(ticket_id=ticket.id, score=0.0, signals=[signal], source="survey", flagged_at=utcnow())
    db_session().add(flag)
    source = feedback.get("source")
    reason = (lazy_gettext("low survey rating: %(kind)s %(score)s (%(source)s)", kind=kind, score=score, source=source)
              if source else lazy_gettext("low survey rating: %(kind)s %(score)s", kind=kind, score=score))
    audit(ticket, None, "complaint_flagged", None, None, "complaint", reason=reason)  # the signal, in words
    try:
        db_session().commit()
    except IntegrityError:
        db_session().rollback()
        return flag_of(ticket.id)
    if TAG not in {t.name for t in ticket.tags}:
        services.update_ticket(ticket, None, tags=[*(t.name for t in ticket.tags), TAG])
    return flag
