"""Merging duplicate tickets and splitting a message out into a new, linked ticket.

Both keep every message and attachment: messages change ticket, attachments follow their
message, nothing is copied or deleted. Only staff may do either, and only within one
customer's tickets, so no customer ever gains another customer's conversation.
"""
from __future__ import annotations

from flask_babel import gettext, lazy_gettext
from sqlalchemy import func, select, update

from helpdesk import search
from helpdesk.extensions import db
from helpdesk.models import Message, Ticket, User
from helpdesk.models.base import utcnow
from helpdesk.plugin_manager import manager
from helpdesk.services.errors import PermissionDenied, ServiceError
from helpdesk.services.tickets import MAX_SUBJECT, _clean_text, add_message, audit

SPLITTABLE_STATUSES = ("new", "open", "pending", "resolved")


def _lock(*tickets: Ticket) -> None:
    """Re-read the tickets under a row lock (PostgreSQL; SQLite serialises writers anyway).

    Two agents merging the same duplicate at once must not both succeed; locking in id
    order keeps two opposite merges from deadlocking.
    """
    ids = sorted({t.id for t in tickets})
    list(db.session.scalars(select(Ticket).where(Ticket.id.in_(ids)).order_by(Ticket.id)
                            .with_for_update().execution_options(populate_existing=True)))


def _count_messages(ticket_id: int) -> int:
    return db.session.scalar(select(func.count(Message.id)).where(Message.ticket_id == ticket_id)) or 0


def merge_tickets(source: Ticket, target: Ticket, actor: User) -> Ticket:
    """Fold the duplicate ``source`` into ``target``; returns ``target``.

    Every message (with its attachments) moves to ``target`` keeping its time; the tags
    are added to ``target``; ``source`` is closed and remembers where it went
    (``merged_into_id``), so its reference still leads to the conversation. Both tickets'
    histories record the merge, an internal note on ``target`` says what was merged, and
    the customer is told (a public reply on ``target``, delivered through its channel).
    """
    if not actor.is_staff:
        raise PermissionDenied(gettext('Only agents can merge tickets.'))
    if source.id == target.id:
        raise ServiceError(
            gettext('A ticket cannot be merged into itself (%(reference)s).',
                    reference=source.reference), field="target")
    _lock(source, target)
    if source.merged_into_id:
        raise ServiceError(
            gettext('%(reference)s was already merged into %(reference2)s.',
                    reference=source.reference, reference2=db.session.get(Ticket, source.merged_into_id).reference), field="target")  # noqa: E501 - one msgid
    if target.merged_into_id:
        final = db.session.get(Ticket, target.merged_into_id)
        raise ServiceError(
            gettext('%(reference)s was itself merged into %(reference2)s; merge into %(reference2)s instead.',
                    reference=target.reference, reference2=final.reference), field="target")
    if source.customer_id != target.customer_id:
        raise ServiceError(
            gettext("%(reference)s and %(reference2)s belong to different customers; only one customer's tickets can be merged.", reference=source.reference, reference2=target.reference), field="target")  # noqa: E501 - one msgid
    if target.status == "closed":
        raise ServiceError(
            gettext('%(reference)s is closed; merge into a ticket that is still open.', reference=target.reference),
                           field="target")

    now = utcnow()
    reason = f"{source.reference} merged into {target.reference}"
    moved = _count_messages(source.id)
    # Bulk moves: the messages keep their ids and times (the conversation stays in order),
    # attachments stay on their messages, so download tokens keep working.
    db.session.execute(update(Message).where(Message.ticket_id == source.id).values(ticket_id=target.id))
    # Tickets merged into the source earlier now lead straight to the target.
    db.session.execute(update(Ticket).where(Ticket.merged_into_id == source.id).values(merged_into_id=target.id))
    db.session.expire(source, ["messages"])
    db.session.expire(target, ["messages"])

    old_tags = sorted(t.name for t in target.tags)
    for tag in source.tags:
        if tag not in target.tags:
            target.tags.append(tag)
    new_tags = sorted(t.name for t in target.tags)

    changes: dict[str, tuple] = {"merged_into_id": (None, target.id)}
    old_status = source.status
    source.merged_into_id = target.id
    if old_status != "closed":
        source.status = "closed"
        source.closed_at = now
        changes["status"] = (old_status, "closed")
        audit(source, actor, "changed", "status", old_status, "closed", reason=reason)
    source.message_count = 0
    source.updated_at = now
    source.version += 1
    target.version += 1
    audit(source, actor, "merged", "merged_into_id", None, target.reference, reason=reason)
    audit(target, actor, "merged", None, reason=f"{reason} ({moved} messages moved)")
    if new_tags != old_tags:
        audit(target, actor, "changed", "tags", ", ".join(old_tags), ", ".join(new_tags), reason=reason)

    db.session.add(Message(ticket_id=target.id, author_id=None, internal=True, channel="web", created_at=now,
                           body=f"Merged from {source.reference}: {source.subject}", meta={"system": "merge"}))
    db.session.flush()
    target.message_count = _count_messages(target.id)
    target.updated_at = now
    # Source first: its index rows still hold the moved messages, which the target takes over.
    search.reindex_ticket(source.id)
    search.reindex_ticket(target.id)
    db.session.commit()
    manager().flush_errors()

    # The customer learns where the conversation continues, through the ticket's channel.
    add_message(target, actor, f"Your request {source.reference} ({source.subject}) was merged into "
                               f"{target.reference}; we continue here.")
    manager().call_event("helpdesk_ticket_changed", ticket=source, changes=changes, actor=actor)
    if new_tags != old_tags:
        manager().call_event("helpdesk_ticket_changed", ticket=target,
                             changes={"tags": (", ".join(old_tags), ", ".join(new_tags))}, actor=actor)
    return target


def split_message(message: Message, actor: User, subject: str | None = None) -> Ticket:
    """Move one public customer message (with its attachments) into a new, linked ticket.

    The new ticket belongs to the same customer, keeps the channel, team and priority,
    and points back with ``linked_ticket_id``. Returns the new ticket. ``helpdesk_ticket_created``
    fires inside the split's transaction, as for a ticket opened any other way.
    """
    if not actor.is_staff:
        raise PermissionDenied(gettext('Only agents can split tickets.'))
    original = message.ticket
    _lock(original)
    if original.merged_into_id:
        raise ServiceError(
            gettext('%(reference)s was merged; split messages on the ticket it was merged into.',
                    reference=original.reference))
    if original.status not in SPLITTABLE_STATUSES:
        raise ServiceError(
            gettext('%(reference)s is %(status)s; only open or resolved tickets can be split.',
                    reference=original.reference, status=original.status))
    if message.internal or message.author is None or message.author.is_staff:
        raise ServiceError(gettext("Only a customer's public message can be split into a new ticket."))
    if _count_messages(original.id) < 2:
        raise ServiceError(
            gettext('This is the only message on %(reference)s; there is nothing to split from.',
                    reference=original.reference))
    if subject and subject.strip():
        subject = _clean_text(subject, "Subject", MAX_SUBJECT)
    else:
        subject = f"{original.subject} (split from {original.reference})"[:MAX_SUBJECT]

    now = utcnow()
    new = Ticket(subject=subject, status="new", priority=original.priority, channel=original.channel,
                 customer_id=original.customer_id, team_id=original.team_id, linked_ticket_id=original.id,
                 created_at=now, updated_at=now, message_count=1)
    db.session.add(new)
    db.session.flush()
    db.session.execute(update(Message).where(Message.id == message.id).values(ticket_id=new.id))
    db.session.expire(message)
    db.session.expire(original, ["messages"])
    original.message_count = _count_messages(original.id)
    original.updated_at = now
    audit(new, actor, "created", reason=lazy_gettext("split from %(reference)s", reference=original.reference))
    audit(original, actor, "split", reason=lazy_gettext("message split into %(reference)s",
                                                          reference=new.reference))
    db.session.flush()
    search.reindex_ticket(original.id)
    search.reindex_ticket(new.id)
    # As for ``create_ticket``: the plugins' reactions to the new ticket are written in the
    # split's transaction, each in a savepoint (one that raises is undone alone and recorded),
    # and committed with it by one commit (Plugin API 1.4).
    manager().call_event_in_transaction("helpdesk_ticket_created", ticket=new, message=message)
    return new
