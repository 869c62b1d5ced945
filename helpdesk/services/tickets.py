"""Creating tickets, adding messages and changing tickets: the core's write path."""
from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import nh3
from flask import current_app
from flask_babel import gettext, lazy_gettext
from flask_babel.speaklater import LazyString
from sqlalchemy import select, update

from helpdesk import metrics, search
from helpdesk.assignment import choose
from helpdesk.extensions import db
from helpdesk.filenames import safe_filename
from helpdesk.models import Attachment, AuditEvent, Message, Tag, Team, Ticket, User
from helpdesk.models.base import utcnow
from helpdesk.models.tickets import PRIORITIES, STATUSES
from helpdesk.plugin_manager import manager
from helpdesk.services.delivery import deliver_reply, record_delivery
from helpdesk.services.errors import PermissionDenied, ServiceError, StaleTicket
from helpdesk.services.importing import is_importing
from helpdesk.services.reply_review import review_reply
from helpdesk.services.settings import site_setting
from helpdesk.stored_words import english_text, words_of

MAX_SUBJECT = 250
MAX_BODY = 100_000

# Which status may follow which. Closed is final: a customer writing again opens a new ticket.
TRANSITIONS: dict[str, set[str]] = {
    "new": {"open", "pending", "resolved", "closed"},
    "open": {"pending", "resolved", "closed"},
    "pending": {"open", "resolved", "closed"},
    "resolved": {"open", "closed"},
    "closed": set(),
}
# The fields each role may change through update_ticket (mass assignment is refused).
STAFF_FIELDS = {"status", "priority", "assignee_id", "team_id", "tags", "subject"}
CUSTOMER_FIELDS = {"status"}
PRIORITY_RANK = {p: i for i, p in enumerate(PRIORITIES)}


@dataclass(frozen=True)
class NewAttachment:
    filename: str
    content: bytes
    content_type: str = "application/octet-stream"


# ------------------------------------------------------------------ helpers


def _clean_text(value: str | None, label: str, limit: int, required: bool = True) -> str:
    text = (value or "").replace("\r\n", "\n").replace("\x00", "").strip()
    if required and not text:
        raise ServiceError(gettext('%(label)s cannot be empty.', label=label), field=label.lower())
    if len(text) > limit:
        raise ServiceError(
            gettext('%(label)s is too long (%(value)s characters; at most %(limit)s).',
                    label=label, value=format(len(text), ','), limit=format(limit, ',')),
                           field=label.lower())
    return text


def human_size(size: int) -> str:
    """1500 → '1.5 kB', 10_000_000 → '10 MB' (as people say it)."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if size >= scale:
            return f"{size / scale:.1f}".removesuffix(".0") + f" {unit}"
    return f"{size} bytes"


def _check_attachments(attachments: Sequence[NewAttachment]) -> None:
    limit = current_app.config["MAX_ATTACHMENT_BYTES"]
    for attachment in attachments:
        if len(attachment.content) > limit:
            raise ServiceError(
                gettext('Attachment %(filename)s is too large (%(value)s; at most %(value2)s).', filename=repr(attachment.filename), value=human_size(len(attachment.content)), value2=human_size(limit)),  # noqa: E501 - one msgid
                field="attachments")


def attachment_path(token: str) -> Path:
    return Path(current_app.instance_path) / "attachments" / token[:2] / token


def _store_attachments(message: Message, attachments: Sequence[NewAttachment]) -> None:
    for new in attachments:
        token = secrets.token_urlsafe(24)
        path = attachment_path(token)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(new.content)
        name = safe_filename(new.filename)  # Unicode kept; stored under a random token
        message.attachments.append(Attachment(
            token=token, filename=name[:255], content_type=(new.content_type or "")[:120]
            or "application/octet-stream", size=len(new.content),
            sha256=hashlib.sha256(new.content).hexdigest()))


def audit(ticket: Ticket, actor: User | None, action: str, field: str | None = None,
          old: Any = None, new: Any = None, reason: str | LazyString | None = None) -> None:
    """One row of the ticket's trail. A ``reason`` given as ``lazy_gettext("...", x=...)`` is
    stored in English and read in each reader's language; a plain string is shown as stored."""
    def short(value: Any) -> str | None:
        return None if value is None else str(value)[:500]

    db.session.add(AuditEvent(ticket_id=ticket.id, actor_id=actor.id if actor else None,
                              action=action, field=field, old_value=short(old),
                              new_value=short(new), reason=short(english_text(reason)),
                              reason_words=words_of(reason)))


def tags_named(names: Iterable[str]) -> list[Tag]:
    """Tags for ``names`` (trimmed, lower-cased, at most 60 characters, duplicates dropped),
    created in the session when missing; in the order given."""
    wanted: list[str] = []
    for raw in names:
        name = str(raw or "").strip().lower()[:60]
        if name and name not in wanted:
            wanted.append(name)
    if not wanted:
        return []
    existing = {t.name: t for t in db.session.scalars(select(Tag).where(Tag.name.in_(wanted)))}
    for name in wanted:
        if name not in existing:
            existing[name] = Tag(name=name)
            db.session.add(existing[name])
    return [existing[n] for n in wanted]


def apply_route_decision(ticket: Ticket, *, reason: str | LazyString, priority: str | None = None,
                         tags: Iterable[str] = (), tag_action: str = "tagged") -> None:
    """Apply an automatic decision (classification, a routing rule) to ``ticket``, audited
    with ``reason``: the core's rules hold, whoever decided. A priority is only ever raised
    (a lower one is ignored), tags are only added (created when new).

    For decision hooks (``classify_ticket``, ``route_ticket``) and the rules plugins run in
    them, inside ``create_ticket``'s transaction; ``tag_action`` names the audit entry
    ("tagged", or e.g. "sla_policy" when a tag is added to apply an SLA policy).
    Raises ``ServiceError`` for a priority that does not exist.
    """
    if priority is not None and priority not in PRIORITY_RANK:
        raise ServiceError(gettext('Unknown priority %(priority)s.', priority=repr(priority)), field="priority")
    for tag in tags_named(tags):
        if tag not in ticket.tags:
            ticket.tags.append(tag)
            audit(ticket, None, tag_action, "tags", None, tag.name, reason=reason)
    if priority is not None and PRIORITY_RANK[priority] > PRIORITY_RANK[ticket.priority]:
        audit(ticket, None, "changed", "priority", ticket.priority, priority, reason=reason)
        ticket.priority = priority


def _classify(ticket: Ticket, message: Message) -> None:
    """Apply the classify hooks' answers: tags added, priority raised, labels kept."""
    labels = {}
    for plugin, result in manager().call_collect("helpdesk_classify_ticket", ticket=ticket, message=message):
        if not isinstance(result, dict):
            continue
        priority = result.get("priority")
        apply_route_decision(ticket, reason=lazy_gettext("classified by %(plugin)s", plugin=plugin),
                             tags=result.get("tags") or [], priority=priority if priority in PRIORITY_RANK else None)
        if result.get("labels"):
            labels[plugin] = result["labels"]
    if labels:
        message.meta = {**(message.meta or {}), "labels": labels}


def _route(ticket: Ticket, message: Message) -> None:
    answer = manager().call_first("helpdesk_route_ticket", ticket=ticket, message=message)
    if answer is None:
        return
    plugin, route = answer
    reason = route.reason or lazy_gettext("routed by %(plugin)s", plugin=plugin)
    if getattr(route, "priority", None) or getattr(route, "tags", ()):
        try:
            apply_route_decision(ticket, reason=reason, priority=route.priority or None, tags=route.tags)
        except ServiceError as exc:  # a plugin's mistake must not lose the customer's ticket
            manager().record_error(plugin, "helpdesk_route_ticket", exc)
    if route.team_id and db.session.get(Team, route.team_id) and route.team_id != ticket.team_id:
        audit(ticket, None, "routed", "team_id", _display("team_id", ticket.team_id),
              _display("team_id", route.team_id), reason=reason)
        ticket.team_id = route.team_id
    if route.assignee_id and route.assignee_id != ticket.assignee_id:
        agent = db.session.get(User, route.assignee_id)
        if agent is not None and agent.is_staff and agent.is_active:
            audit(ticket, None, "assigned", "assignee_id", _display("assignee_id", ticket.assignee_id),
                  _display("assignee_id", agent.id), reason=reason)
            ticket.assignee_id = agent.id
    if ticket.assignee_id is None and ticket.team_id is not None and plugin != "core.assignment":
        # A plugin chose the team only: the team's own strategy picks the agent.
        team = db.session.get(Team, ticket.team_id)
        follow_up = choose(ticket, team) if team is not None else None
        if follow_up is not None:
            audit(ticket, None, "assigned", "assignee_id", None, _display("assignee_id", follow_up.assignee_id),
                  reason=follow_up.reason)
            ticket.assignee_id = follow_up.assignee_id


def _run_before_commit(callback: Callable[[Ticket, Message], None] | None, ticket: Ticket,
                       message: Message) -> None:
    if callback is None:
        return
    db.session.flush()
    try:
        callback(ticket, message)
        db.session.flush()
    except BaseException:
        db.session.rollback()
        raise


def _lock_ticket(ticket: Ticket, **values: Any) -> None:
    """Take the ticket's row for this transaction and read it as it is now.

    An UPDATE is the first write, so it takes the row lock on PostgreSQL and the write lock
    on SQLite; whatever is checked afterwards (is it closed? which version?) stays true until
    the commit. ``values`` are set in the same statement (``message_count + 1``).
    """
    db.session.execute(update(Ticket).where(Ticket.id == ticket.id)
                       .values(**(values or {"version": Ticket.version}))
                       .execution_options(synchronize_session=False))
    db.session.refresh(ticket)


# ------------------------------------------------------------------ services


def create_ticket(
    customer: User,
    subject: str,
    body: str,
    *,
    channel: str = "web",
    actor: User | None = None,
    attachments: Sequence[NewAttachment] = (),
    priority: str = "normal",
    team_id: int | None = None,
    tags: Iterable[str] = (),
    body_html: str | None = None,
    external_id: str | None = None,
    meta: dict | None = None,
    headers: dict[str, str] | None = None,
    linked_ticket_id: int | None = None,
    before_commit: Callable[[Ticket, Message], None] | None = None,
) -> Ticket:
    """Open a ticket for ``customer`` with its first message.

    ``actor`` is who did it (an agent opening a ticket on the customer's behalf); by
    default the customer. Customer input passes the ``inbound_filter`` hooks first.
    ``linked_ticket_id`` links the new ticket to an earlier one (a follow-up).
    ``before_commit(ticket, message)`` runs inside the transaction once both have ids, so a
    channel's own rows (its dedupe index, the original message) are committed with the
    ticket or not at all; if it raises, nothing is written and the error propagates.
    """
    actor = actor or customer
    if customer.role != "customer":
        raise ServiceError(gettext('Tickets are opened for customers.'), field="customer")
    subject = _clean_text(subject, "Subject", MAX_SUBJECT)
    body = _clean_text(body, "Message", MAX_BODY)
    if priority not in PRIORITIES:
        raise ServiceError(gettext('Unknown priority %(priority)s.', priority=repr(priority)), field="priority")
    _check_attachments(attachments)
    if not actor.is_staff:
        refused = manager().call_first(
            "helpdesk_inbound_filter", channel=channel, sender=customer.email or "",
            subject=subject, body=body, headers=headers or {})
        if refused is not None:
            raise ServiceError(gettext('Your message was not accepted: %(value)s', value=refused[1]))

    now = utcnow()
    ticket = Ticket(subject=subject, status="new", priority=priority, channel=channel,
                    customer_id=customer.id, team_id=team_id, created_at=now, updated_at=now,
                    message_count=1, linked_ticket_id=linked_ticket_id)
    ticket.tags = tags_named(tags)
    message = Message(author_id=actor.id, body=body, channel=channel, created_at=now,
                      body_html=nh3.clean(body_html) if body_html else None,
                      external_id=external_id, meta=meta or {})
    ticket.messages.append(message)
    _store_attachments(message, attachments)
    db.session.add(ticket)
    db.session.flush()
    audit(ticket, actor, "created", reason=lazy_gettext("via %(channel)s", channel=channel))
    _classify(ticket, message)
    _route(ticket, message)
    search.index_message(message, subject=subject)
    _run_before_commit(before_commit, ticket, message)
    # The plugins' reactions (detection's flag, the SLA clocks, notifications...) are written in
    # this transaction, each in a savepoint, and committed with the ticket: one commit (issue 19).
    manager().call_event_in_transaction("helpdesk_ticket_created", ticket=ticket, message=message)
    if channel != "web" and not actor.is_staff:
        metrics.message_received(channel)
    return ticket


def add_message(
    ticket: Ticket,
    author: User,
    body: str,
    *,
    internal: bool = False,
    attachments: Sequence[NewAttachment] = (),
    channel: str | None = None,
    body_html: str | None = None,
    external_id: str | None = None,
    meta: dict | None = None,
    needs_review: bool = False,
    before_commit: Callable[[Ticket, Message], None] | None = None,
) -> Message:
    """Add a public reply or (staff only) an internal note to ``ticket``.

    A message for a merged ticket lands on the ticket it was merged into. A customer's
    reply reopens a resolved ticket within the reopen window. On a closed ticket it is
    refused, or, with the site setting ``closed_means_closed``, it opens a new ticket
    linked to the closed one: the returned message's ``ticket`` is then that new ticket.
    An agent's public reply is delivered through the ticket's channel. ``before_commit`` is
    as for ``create_ticket`` (called with the ticket the message really landed on).
    """
    for _hop in range(20):  # merges are flattened, so one hop is the rule; the bound is a guard
        if not ticket.merged_into_id:
            break
        ticket = db.session.get(Ticket, ticket.merged_into_id)
    # Someone other than the ticket's customer (a colleague in Cc, a forwarded reply) may add a
    # message only flagged for review, and it changes nothing about the ticket.
    stranger = not author.is_backoffice and ticket.customer_id != author.id
    if author.is_light_agent and not internal:
        raise PermissionDenied(gettext('Light agents add internal notes only; they cannot reply to the customer.'))
    if not author.is_backoffice:
        if stranger and not needs_review:
            raise PermissionDenied(gettext('You cannot write on this ticket.'))
        if internal:
            raise PermissionDenied(gettext('Only agents can write internal notes.'))
    body = _clean_text(body, "Message", MAX_BODY, required=not attachments)
    _check_attachments(attachments)

    now = utcnow()
    # The count in SQL (no lost increments under concurrent replies), and the row as it is
    # now: a status changed meanwhile (closed by a colleague) is the one checked below.
    _lock_ticket(ticket, message_count=Ticket.message_count + 1, updated_at=now)
    changes: dict[str, tuple] = {}
    if stranger:
        pass
    elif not author.is_backoffice:
        if ticket.status == "closed":
            db.session.rollback()  # the count went up for a message that lands elsewhere
            if not site_setting("closed_means_closed"):
                raise ServiceError(
                    gettext('%(reference)s is closed. Please open a new ticket.', reference=ticket.reference))
            return _follow_up_ticket(ticket, author, body, attachments=attachments, channel=channel,
                                     body_html=body_html, external_id=external_id, meta=meta,
                                     needs_review=needs_review, before_commit=before_commit)
        if ticket.status == "resolved":
            if not _within_reopen_window(ticket):
                db.session.rollback()
                raise ServiceError(
                    gettext('%(reference)s was resolved more than %(value)s days ago. Please open a new ticket.', reference=ticket.reference, value=_reopen_days()))  # noqa: E501 - one msgid
            changes["status"] = (ticket.status, "open")
        elif ticket.status == "pending":
            changes["status"] = (ticket.status, "open")
    elif not internal:
        if ticket.status == "new":
            changes["status"] = ("new", "open")
        if ticket.first_response_at is None:
            ticket.first_response_at = now

    message = Message(ticket_id=ticket.id, author_id=author.id, body=body, internal=internal,
                      channel=channel or ("web" if author.is_staff else ticket.channel),
                      body_html=nh3.clean(body_html) if body_html else None,
                      external_id=external_id, meta=meta or {}, needs_review=needs_review,
                      created_at=now)
    ticket.messages.append(message)
    _store_attachments(message, attachments)
    for field, (old, new) in changes.items():
        setattr(ticket, field, new)
        audit(ticket, author, "changed", field, old, new,
              reason=lazy_gettext("customer replied") if not author.is_staff else lazy_gettext("agent replied"))
    if changes:
        ticket.version += 1
    if "status" in changes and changes["status"][1] == "open":
        ticket.resolved_at = None
    delivery = None
    if author.is_staff and not internal:
        if not is_importing():  # imported history was delivered long ago
            delivery = record_delivery(message)
    db.session.flush()
    if not author.is_backoffice and not stranger:
        _classify(ticket, message)
    search.index_message(message)
    _run_before_commit(before_commit, ticket, message)
    db.session.commit()
    if message.channel != "web" and not author.is_staff:
        metrics.message_received(message.channel)
    manager().flush_errors()
    manager().call_event("helpdesk_message_added", ticket=ticket, message=message)
    if changes:
        manager().call_event("helpdesk_ticket_changed", ticket=ticket, changes=changes, actor=author)
    if delivery is not None:
        deliver_reply(delivery.id)
    return message


def _follow_up_ticket(closed: Ticket, customer: User, body: str, *, attachments: Sequence[NewAttachment],
                      channel: str | None, body_html: str | None, external_id: str | None,
                      meta: dict | None, needs_review: bool,
                      before_commit: Callable[[Ticket, Message], None] | None = None) -> Message:
    """"Closed means closed": a customer's message on a closed ticket opens a new, linked one."""
    subject = closed.subject if closed.subject.lower().startswith("re:") else f"Re: {closed.subject}"

    def link(ticket: Ticket, message: Message) -> None:
        message.needs_review = needs_review
        audit(ticket, customer, "linked", "linked_ticket_id", None, closed.reference,
              reason=lazy_gettext("customer wrote on closed %(reference)s", reference=closed.reference))
        if before_commit is not None:
            before_commit(ticket, message)

    ticket = create_ticket(customer, subject[:MAX_SUBJECT], body or "(no text; see the attachments)",
                           channel=channel or closed.channel, attachments=attachments,
                           team_id=closed.team_id, body_html=body_html, external_id=external_id,
                           meta=meta, linked_ticket_id=closed.id, before_commit=link)
    return ticket.messages[0]


def _reopen_days() -> int:
    return int(site_setting("reopen_window_days"))


def _within_reopen_window(ticket: Ticket) -> bool:
    if ticket.resolved_at is None:
        return True
    return utcnow() - ticket.resolved_at <= timedelta(days=_reopen_days())


def _optional_id(value: Any, field: str) -> int | None:
    if value in (None, "", 0, "0"):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ServiceError(gettext('%(value)s is not a valid choice.', value=repr(value)), field=field) from None


def _display(field: str, value: Any) -> Any:
    """Names, not ids, in the audit trail: people read it, and ids outlive renames badly."""
    if value is None:
        return None
    if field == "assignee_id":
        user = db.session.get(User, value)
        return f"{user.name} (#{value})" if user else value
    if field == "team_id":
        team = db.session.get(Team, value)
        return f"{team.name} (#{value})" if team else value
    return value


def _apply_changes(ticket: Ticket, actor: User | None, changes: dict[str, Any]) -> dict[str, tuple]:
    system = actor is None  # automatic changes (escalations, plugins' jobs) act as staff
    if actor is not None and actor.is_light_agent:
        # Status, assignee, team … may all send mail (notifications, surveys): notes only.
        raise PermissionDenied(gettext('Light agents can read tickets and add internal notes, not change them.'))
    staff = system or actor.is_staff
    allowed = STAFF_FIELDS if staff else CUSTOMER_FIELDS
    unknown = set(changes) - allowed
    if unknown:
        raise PermissionDenied(gettext('You cannot change: %(value)s.', value=', '.join(sorted(unknown))))
    if not staff and ticket.customer_id != actor.id:
        raise PermissionDenied(gettext('You cannot change this ticket.'))
    done: dict[str, tuple] = {}
    now = utcnow()
    for field, value in changes.items():
        if field == "status":
            old = ticket.status
            if value == old:
                continue
            if value not in STATUSES:
                raise ServiceError(gettext('Unknown status %(value)s.', value=repr(value)), field="status")
            if value not in TRANSITIONS[old]:
                raise ServiceError(
                    gettext('A %(old)s ticket cannot become %(value)s.', old=old, value=value), field="status")
            if not staff:
                if value not in {"resolved", "open"}:
                    raise PermissionDenied(gettext('You can mark your ticket solved or reopen it.'))
                if value == "open" and (old != "resolved" or not _within_reopen_window(ticket)):
                    raise ServiceError(
                        gettext('%(reference)s can no longer be reopened; please open a new ticket.',
                                reference=ticket.reference), field="status")
            ticket.status = value
            if value == "resolved":
                ticket.resolved_at = now
            elif value == "closed":
                ticket.closed_at = now
            elif value == "open":
                ticket.resolved_at = None
            done["status"] = (old, value)
        elif field == "priority":
            if value not in PRIORITIES:
                raise ServiceError(gettext('Unknown priority %(value)s.', value=repr(value)), field="priority")
            if value != ticket.priority:
                done["priority"] = (ticket.priority, value)
                ticket.priority = value
        elif field == "assignee_id":
            value = _optional_id(value, field)
            if value is not None:
                agent = db.session.get(User, value)
                if agent is None or not agent.is_staff or not agent.is_active:
                    raise ServiceError(gettext('Tickets can only be assigned to active agents.'),
                                       field="assignee_id")
            if value != ticket.assignee_id:
                done["assignee_id"] = (ticket.assignee_id, value)
                ticket.assignee_id = value
        elif field == "team_id":
            value = _optional_id(value, field)
            if value is not None and db.session.get(Team, value) is None:
                raise ServiceError(gettext('No such team.'), field="team_id")
            if value != ticket.team_id:
                done["team_id"] = (ticket.team_id, value)
                ticket.team_id = value
        elif field == "tags":
            new_tags = tags_named(value)
            old_names = [t.name for t in ticket.tags]
            if [t.name for t in new_tags] != old_names:
                ticket.tags = new_tags
                done["tags"] = (", ".join(old_names), ", ".join(t.name for t in new_tags))
        elif field == "subject":
            subject = _clean_text(value, "Subject", MAX_SUBJECT)
            if subject != ticket.subject:
                done["subject"] = (ticket.subject, subject)
                ticket.subject = subject
    for field, (old, new) in done.items():
        audit(ticket, actor, "changed", field, _display(field, old), _display(field, new))
    if done:
        ticket.updated_at = now
    return done


def update_ticket(ticket: Ticket, actor: User | None, *, expected_version: int | None = None,
                  **changes: Any) -> dict[str, tuple]:
    """Change fields of a ticket; returns ``{field: (old, new)}`` of what really changed.

    Each role may set only its own fields (staff: status, priority, assignee, team, tags,
    subject; customers: mark solved or reopen within the window); ``actor=None`` is an
    automatic change with staff rights. Invalid status transitions are refused, and so is
    a change a ``ticket_change_check`` hook refuses. Every change goes to the audit trail.

    The checks run against the row as it is at write time (it is locked first), so two
    people closing and reopening at once leave a valid state and a valid audit chain.
    ``expected_version`` is the ``ticket.version`` the caller's form showed: if the ticket
    changed since, nothing is saved and ``StaleTicket`` is raised.
    """
    try:
        _lock_ticket(ticket)
        if expected_version is not None and ticket.version != expected_version:
            raise StaleTicket(ticket, expected_version)
        done = _apply_changes(ticket, actor, changes)
        refusal = manager().call_first("helpdesk_ticket_change_check", ticket=ticket, changes=done,
                                       actor=actor) if done else None
        if refusal is not None:
            raise ServiceError(str(refusal[1]), field=next(iter(done)))
    except ServiceError:
        db.session.rollback()
        raise
    if done:
        ticket.version += 1
    if "subject" in done:
        db.session.flush()
        search.reindex_ticket(ticket.id)
    db.session.commit()
    if done:
        manager().flush_errors()
        manager().call_event("helpdesk_ticket_changed", ticket=ticket, changes=done, actor=actor)
    return done


def bulk_update(tickets: Sequence[Ticket], actor: User, **changes: Any) -> tuple[int, list[str]]:
    """Apply the same change to many tickets; returns (how many changed, error messages)."""
    if not actor.is_staff:
        raise PermissionDenied(gettext('Only agents can change tickets in bulk.'))
    changed, errors = 0, []
    for ticket in tickets:
        try:
            if update_ticket(ticket, actor, **changes):
                changed += 1
        except ServiceError as exc:
            errors.append(f"{ticket.reference}: {exc.message}")
    return changed, errors


def reply_checks(ticket: Ticket, body: str, agent: User) -> list[str]:
    """Warnings about a reply, from the core and every enabled plugin, except checks an admin
    switched off (``services.reply_review`` tells advice from blocking findings)."""
    return [finding.text for finding in review_reply(ticket, body, agent)]
