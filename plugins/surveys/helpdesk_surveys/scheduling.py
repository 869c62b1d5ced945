"""Who gets a survey, and when: invitations are rows first, sent later by the periodic job.

Every rule that can say "not this one" lives here, so the hook (at resolution), the
relationship-NPS job and the sender (just before sending) agree. A ticket that is not
surveyed gets a ``skipped`` invitation with the reason, shown on the ticket's sidebar.
"""
from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, exists, or_, select, update

from helpdesk.plugin_api import Message, Ticket, User, db_session, utcnow
from helpdesk_surveys.config import setting, site_zone, split_list, survey_types, zone
from helpdesk_surveys.models import SurveyContact, SurveyInvitation, SurveyType

LIVE = ("scheduled", "sending", "sent")


def in_sample(ticket_id: int, percent: int) -> bool:
    """Deterministic sampling: the same ticket is always in or out for a given share."""
    if percent >= 100:
        return True
    if percent <= 0:
        return False
    digest = hashlib.sha256(f"surveys:{ticket_id}".encode()).hexdigest()
    return int(digest[:8], 16) % 100 < percent


def customer_addresses(customer: User) -> list[str]:
    addresses = [customer.email] if customer.email else []
    addresses += [i.value for i in customer.identities if i.kind == "email"]
    return [a.lower() for a in addresses]


def blocklisted(customer: User) -> bool:
    entries = split_list(setting("blocklist"))
    if not entries:
        return False
    for address in customer_addresses(customer):
        domain = address.rpartition("@")[2]
        for entry in entries:
            entry = entry.lstrip("@")
            if address == entry or domain == entry or domain.endswith("." + entry):
                return True
    return False


def contact(customer_id: int) -> SurveyContact | None:
    return db_session().get(SurveyContact, customer_id)


def automated_first_message(ticket: Ticket) -> bool:
    """The conventions of the email plugin: never survey what an auto-responder started."""
    meta = db_session().scalar(select(Message.meta).where(Message.ticket_id == ticket.id)
                             .order_by(Message.id).limit(1)) or {}
    return bool(meta.get("auto_reply") or (meta.get("email") or {}).get("auto_reply"))


def blocked_reason(customer: User, ticket: Ticket | None) -> str | None:
    """Why this customer (about this ticket) must not be surveyed now, or None."""
    if customer.role != "customer" or not customer.is_active:
        return "not an active customer"
    found = contact(customer.id)
    if found is not None and found.unsubscribed_at is not None:
        return "the customer unsubscribed from surveys"
    if blocklisted(customer):
        return "the customer's address is on the blocklist"
    if ticket is not None:
        if ticket.merged_into_id:
            return "the ticket was merged into another"
        excluded = set(split_list(setting("excluded_tags")))
        tagged = sorted(excluded & {t.name for t in ticket.tags})
        if tagged:
            return f"the ticket is tagged {', '.join(tagged)}"
        if automated_first_message(ticket):
            return "the ticket was opened by an automated sender"
    return None


def throttled_since(customer_id: int, now: datetime) -> datetime | None:
    """When the customer was last surveyed, if that is within the throttle window."""
    days = setting("throttle_days") or 0
    found = contact(customer_id)
    if not days or found is None or found.last_surveyed_at is None:
        return None
    return found.last_surveyed_at if found.last_surveyed_at > now - timedelta(days=days) else None


def in_scope(kind_type: SurveyType, ticket: Ticket) -> bool:
    if kind_type.team_ids and ticket.team_id not in kind_type.team_ids:
        return False
    return not (kind_type.channels and ticket.channel not in kind_type.channels)


def _snapshot(ticket: Ticket | None) -> dict:
    if ticket is None:
        return {}
    return {"ticket_id": ticket.id, "agent_id": ticket.assignee_id, "team_id": ticket.team_id,
            "channel": ticket.channel}


def schedule_after_resolution(ticket: Ticket, now: datetime | None = None) -> list[SurveyInvitation]:
    """Make the invitations (scheduled or skipped, with the reason) for a just-resolved ticket."""
    now = now or utcnow()
    made = []
    for kind_type in survey_types():
        if not kind_type.enabled or kind_type.trigger != "resolution" or not in_scope(kind_type, ticket):
            continue
        already = db_session().scalar(select(SurveyInvitation.id).where(
            SurveyInvitation.ticket_id == ticket.id, SurveyInvitation.kind == kind_type.kind,
            SurveyInvitation.status.in_(LIVE)).limit(1))
        if already:
            continue
        reason = blocked_reason(ticket.customer, ticket)
        if reason is None and not in_sample(ticket.id, setting("sampling_percent")):
            reason = f"not in the sample ({setting('sampling_percent')} % of tickets are surveyed)"
        if reason is None:
            last = throttled_since(ticket.customer_id, now)
            if last is not None:
                reason = (f"the customer was surveyed on {last:%Y-%m-%d} "
                          f"(at most once in {setting('throttle_days')} days)")
        invitation = SurveyInvitation(
            kind=kind_type.kind, purpose="resolution", customer_id=ticket.customer_id,
            status="skipped" if reason else "scheduled", reason=reason,
            send_after=now + timedelta(minutes=kind_type.delay_minutes), created_at=now, **_snapshot(ticket))
        db_session().add(invitation)
        made.append(invitation)
    if made:
        db_session().commit()
    return made


def withdraw_for_ticket(ticket_id: int, reason: str, *, sent_too: bool) -> int:
    """Cancel the ticket's scheduled invitations; with ``sent_too`` also void links already sent."""
    changed = db_session().execute(  # type: ignore[attr-defined]  # a CursorResult
        update(SurveyInvitation).where(SurveyInvitation.ticket_id == ticket_id,
                                       SurveyInvitation.status.in_(("scheduled", "sending")))
        .values(status="cancelled", reason=reason)).rowcount
    if sent_too:
        changed += db_session().execute(  # type: ignore[attr-defined]  # a CursorResult
            update(SurveyInvitation).where(SurveyInvitation.ticket_id == ticket_id,
                                           SurveyInvitation.status == "sent")
            .values(status="invalidated", reason=reason)).rowcount
    db_session().commit()
    return changed


def schedule_resurvey(kind: str, customer_id: int, ticket: Ticket | None, now: datetime) -> SurveyInvitation:
    """After a follow-up case is closed: ask again (exempt from throttle and sampling)."""
    invitation = SurveyInvitation(
        kind=kind, purpose="resurvey", customer_id=customer_id, status="scheduled",
        send_after=now + timedelta(hours=setting("resurvey_delay_hours")), created_at=now, **_snapshot(ticket))
    db_session().add(invitation)
    db_session().flush()
    return invitation


def schedule_relationship(now: datetime | None = None, limit: int = 50_000) -> int:
    """Relationship surveys: active customers not asked for this kind within its interval.

    "Active" means a ticket created within the type's ``active_days``. One INSERT per run
    (after the checks that need Python: blocklist, opt-out); the sender checks again.
    """
    now = now or utcnow()
    total = 0
    for kind_type in survey_types():
        if not kind_type.enabled or kind_type.trigger != "relationship":
            continue
        recent = select(Ticket.id).where(Ticket.customer_id == User.id,
                                         Ticket.created_at >= now - timedelta(days=kind_type.active_days))
        if kind_type.team_ids:
            recent = recent.where(Ticket.team_id.in_(kind_type.team_ids))
        if kind_type.channels:
            recent = recent.where(Ticket.channel.in_(kind_type.channels))
        asked = select(SurveyInvitation.id).where(
            SurveyInvitation.customer_id == User.id, SurveyInvitation.kind == kind_type.kind,
            or_(SurveyInvitation.status.in_(("scheduled", "sending")),
                and_(SurveyInvitation.status.in_(("sent", "invalidated")),
                     SurveyInvitation.sent_at >= now - timedelta(days=kind_type.interval_days))))
        opted_out = select(SurveyContact.customer_id).where(
            SurveyContact.customer_id == User.id, SurveyContact.unsubscribed_at.is_not(None))
        customers = db_session().scalars(
            select(User).where(User.role == "customer", User.active.is_(True), User.merged_into_id.is_(None),
                               exists(recent), ~exists(asked), ~exists(opted_out))
            .order_by(User.id).limit(limit)).all()
        rows = [{"kind": kind_type.kind, "purpose": "relationship", "customer_id": c.id, "status": "scheduled",
                 "send_after": now + timedelta(minutes=kind_type.delay_minutes), "created_at": now}
                for c in customers if not blocklisted(c)]
        if rows:
            db_session().execute(SurveyInvitation.__table__.insert(), rows)
        db_session().commit()
        total += len(rows)
    return total


def quiet_until(customer_id: int, now: datetime) -> datetime | None:
    """If ``now`` (naive UTC) is inside the customer's quiet hours, when they end (naive UTC)."""
    start, end = setting("quiet_hours_start"), setting("quiet_hours_end")
    if start is None or end is None or start == end:
        return None
    found = contact(customer_id)
    tz = (zone(found.timezone) if found is not None else None) or site_zone()
    local = now.replace(tzinfo=UTC).astimezone(tz)
    hour = local.hour
    inside = (hour >= start or hour < end) if start > end else (start <= hour < end)
    if not inside:
        return None
    wake = local.replace(hour=end, minute=0, second=0, microsecond=0)
    if wake <= local:
        wake = (local + timedelta(days=1)).replace(hour=end, minute=0, second=0, microsecond=0)
    return wake.astimezone(UTC).replace(tzinfo=None)


def ensure_contact(customer_id: int) -> None:
    """Create the customer's contact row if missing (safe when two workers race)."""
    ensure_contacts([customer_id])


def ensure_contacts(customer_ids: list[int]) -> None:
    """Create the missing contact rows of many customers in one statement."""
    if not customer_ids:
        return
    table = SurveyContact.__table__
    if db_session().get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    db_session().execute(insert(table).values([{"customer_id": i} for i in customer_ids]).on_conflict_do_nothing())


def load_contacts(customer_ids: list[int]) -> None:
    """Every customer's contact row into the session at once: a batch then reads them for free."""
    ensure_contacts(customer_ids)
    list(db_session().scalars(select(SurveyContact).where(SurveyContact.customer_id.in_(customer_ids))))


def take_throttle_turn(customer_id: int, now: datetime, *, exempt: bool = False) -> bool:
    """Atomically mark the customer surveyed now, unless surveyed within the throttle window.

    One conditional UPDATE: of two workers sending to the same customer at once, only
    one changes the row, so only one survey goes out.
    """
    if contact(customer_id) is None:  # usually loaded already (blocked_reason): no INSERT then
        ensure_contact(customer_id)
    days = setting("throttle_days") or 0
    query = update(SurveyContact).where(SurveyContact.customer_id == customer_id)
    if days and not exempt:
        query = query.where(or_(SurveyContact.last_surveyed_at.is_(None),
                                SurveyContact.last_surveyed_at <= now - timedelta(days=days)))
    return db_session().execute(query.values(last_surveyed_at=now)).rowcount == 1  # type: ignore[attr-defined]  # a CursorResult


def set_timezone(customer_id: int, name: str) -> None:
    if zone(name) is None:
        return
    ensure_contact(customer_id)
    db_session().execute(update(SurveyContact).where(SurveyContact.customer_id == customer_id)
                       .values(timezone=name))


def unsubscribe(customer_id: int, now: datetime | None = None) -> int:
    """Record the opt-out and cancel what is scheduled; returns how many invitations were cancelled."""
    now = now or utcnow()
    ensure_contact(customer_id)
    db_session().execute(update(SurveyContact).where(SurveyContact.customer_id == customer_id,
                                                   SurveyContact.unsubscribed_at.is_(None))
                       .values(unsubscribed_at=now))
    cancelled = db_session().execute(  # type: ignore[attr-defined]  # a CursorResult
        update(SurveyInvitation).where(SurveyInvitation.customer_id == customer_id,
                                       SurveyInvitation.status == "scheduled")
        .values(status="cancelled", reason="the customer unsubscribed from surveys")).rowcount
    db_session().commit()
    return cancelled
