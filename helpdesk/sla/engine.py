"""Service-level clocks of tickets: which policy applies, arming, meeting, pausing, checking.

Each ticket has at most one ``SlaTarget`` per kind:

* ``first_response``: armed when the ticket is created, met by the first public agent reply;
* ``next_response``: armed when the customer writes after the first response, met by the
  next public agent reply; re-armed (``cycle`` + 1) by the customer's next message;
* ``periodic_update``: the customer hears from us at least this often while the ticket is
  open; armed on creation and re-armed after every public agent reply;
* ``resolution``: armed on creation, met when the ticket is resolved or closed (and resumed,
  with the resolved time not counted, if it is reopened).

Statuses in the policy's ``pause_statuses`` stop every running clock; leaving them moves
each due time on by the business minutes spent paused. ``Ticket.sla_due_at`` mirrors the
nearest due time of the running clocks so the queue sorts by it with an index.

The event hooks in ``helpdesk.sla.hooks`` call the ``on_*`` functions after the core's
commit. ``check_sla`` is the periodic job: it reads only targets that are due or nearly
due (an index range), claims each warning and breach with one conditional ``UPDATE`` and
fires ``helpdesk_sla_warning`` / ``helpdesk_sla_breached`` only for the claims it won, so
several workers running it at once fire each hook once per target and cycle.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import g, has_app_context
from sqlalchemy import Select, bindparam, delete, event, func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from helpdesk.extensions import db
from helpdesk.i18n import N_, gettext
from helpdesk.jobs import crontab, periodic_task, task
from helpdesk.models import BusinessHours, SlaPolicy, SlaTarget, Team, Ticket
from helpdesk.models.base import utcnow
from helpdesk.models.sla import SLA_KINDS
from helpdesk.models.tickets import OPEN_STATUSES
from helpdesk.plugin_manager import manager
from helpdesk.services.tickets import audit
from helpdesk.sla.clock import (
    Calendar,
    add_business_minutes,
    business_minutes_between,
    compile_calendar,
    format_duration,
)

log = logging.getLogger(__name__)

# English here (they are also written into audit reasons); the sidebar translates them.
KIND_LABELS = {
    "first_response": N_("First response"),
    "next_response": N_("Next response"),
    "periodic_update": N_("Update to the customer"),
    "resolution": N_("Resolution"),
}
DEFAULT_WARN_MINUTES = 30  # for targets whose policy was deleted under them
DEFAULT_PAUSE = frozenset({"pending"})
STOP_STATUSES = frozenset({"resolved", "closed"})
BATCH = 500


# ------------------------------------------------------------------ policies


def pause_statuses(policy: AnyPolicy | None) -> frozenset[str]:
    if policy is None:
        return DEFAULT_PAUSE
    return frozenset(s.strip() for s in (policy.pause_statuses or "").split(",") if s.strip())


@dataclass(frozen=True)
class PolicyView:
    """A read-only copy of an active policy: what matching and arming need.

    Copies, not ORM objects, so a request or job can keep them across its commits (an
    expired ORM object would be reloaded row by row) without detaching anyone's objects.
    """

    id: int
    name: str
    position: int
    team_id: int | None
    priority: str | None
    tag: str | None
    business_hours_id: int | None
    first_response_minutes: int | None
    next_response_minutes: int | None
    periodic_update_minutes: int | None
    resolution_minutes: int | None
    warn_before_minutes: int
    pause_statuses: str


_POLICY_FIELDS = tuple(PolicyView.__dataclass_fields__)
_CACHE_KEY = "_sla_active_policies"


def active_policies() -> list[PolicyView]:
    """The active policies by position, read once per request or job (every new ticket and
    message asks), and read again after any policy is written in this process."""
    cached = g.get(_CACHE_KEY) if has_app_context() else None
    if cached is None:
        columns = [getattr(SlaPolicy, name) for name in _POLICY_FIELDS]
        cached = [PolicyView(*row) for row in db.session.execute(
            select(*columns).where(SlaPolicy.active.is_(True)).order_by(SlaPolicy.position, SlaPolicy.id))]
        if has_app_context():
            setattr(g, _CACHE_KEY, cached)
    return cached


@event.listens_for(Session, "after_flush")
def _forget_policies(session: Session, _context: Any) -> None:
    if has_app_context() and g.get(_CACHE_KEY) is not None and any(
            isinstance(obj, SlaPolicy) for obj in (*session.new, *session.dirty, *session.deleted)):
        g.pop(_CACHE_KEY, None)


@event.listens_for(Session, "do_orm_execute")
def _forget_policies_on_bulk_writes(state: Any) -> None:
    if (state.is_update or state.is_delete) and has_app_context() and g.get(_CACHE_KEY) is not None:
        mapper = state.bind_mapper
        if mapper is not None and mapper.class_ is SlaPolicy:
            g.pop(_CACHE_KEY, None)


AnyPolicy = SlaPolicy | PolicyView


def match_policy(ticket: Ticket, policies: Sequence[AnyPolicy] | None = None) -> AnyPolicy | None:
    """The first active policy, by position, whose team, priority and tag match (empty = any)."""
    tags = None
    for policy in active_policies() if policies is None else policies:
        if policy.team_id is not None and policy.team_id != ticket.team_id:
            continue
        if policy.priority and policy.priority != ticket.priority:
            continue
        if policy.tag:
            if tags is None:
                tags = {t.name for t in ticket.tags}
            if policy.tag not in tags:
                continue
        return policy
    return None


def business_hours_for(policy: AnyPolicy | None, ticket: Ticket) -> BusinessHours | None:
    """The policy's business hours, else the ticket team's, else none (around the clock)."""
    if policy is not None and policy.business_hours_id:
        hours = db.session.get(BusinessHours, policy.business_hours_id)
        if hours is not None:
            return hours
    if ticket.team_id:
        team = db.session.get(Team, ticket.team_id)
        if team is not None and team.business_hours_id:
            return db.session.get(BusinessHours, team.business_hours_id)
    return None


def calendar_for(policy: AnyPolicy | None, ticket: Ticket) -> Calendar | None:
    hours = business_hours_for(policy, ticket)
    try:
        calendar = compile_calendar(hours)
    except ValueError:  # hand-edited data the admin form would have refused
        log.warning("business hours %r are invalid; counting around the clock", hours and hours.name)
        return None
    return None if calendar is None or calendar.always_open else calendar


def _minutes(policy: AnyPolicy | None, kind: str) -> int | None:
    value = getattr(policy, f"{kind}_minutes", None) if policy is not None else None
    return value if value and value > 0 else None


def _warn(policy: AnyPolicy | None) -> timedelta:
    minutes = policy.warn_before_minutes if policy is not None else DEFAULT_WARN_MINUTES
    return timedelta(minutes=max(minutes or 0, 0))


# ------------------------------------------------------------------ targets


def ticket_targets(ticket: Ticket) -> dict[str, SlaTarget]:
    return {t.kind: t for t in db.session.scalars(select(SlaTarget).where(SlaTarget.ticket_id == ticket.id))}


def _set(target: SlaTarget, **values: Any) -> None:
    """Assign and always write, even a value the session thinks unchanged.

    The periodic job may have set ``warned_at`` in the database since we loaded the row;
    re-arming must overwrite it, not skip a ``None`` the ORM believes is already there.
    """
    for name, value in values.items():
        setattr(target, name, value)
        if target in db.session and not _is_pending(target):
            flag_modified(target, name)


def _is_pending(target: SlaTarget) -> bool:
    return target in db.session.new


def _arm(ticket: Ticket, policy: AnyPolicy, calendar: Calendar | None, kind: str,
         targets: dict[str, SlaTarget], now: datetime, start: datetime | None = None) -> SlaTarget | None:
    """Start (or restart, as a new cycle) one clock of ``ticket``."""
    minutes = _minutes(policy, kind)
    if minutes is None:
        return None
    start = start or now
    due = add_business_minutes(start, minutes, calendar)
    paused = now if ticket.status in pause_statuses(policy) else None
    target = targets.get(kind)
    if target is None:
        target = SlaTarget(ticket_id=ticket.id, policy_id=policy.id, kind=kind, cycle=1,
                           started_at=start, due_at=due, paused_at=paused)
        db.session.add(target)
        targets[kind] = target
    else:
        # cycle + 1 in SQL: a warning or breach the job is claiming for the old cycle fails.
        _set(target, policy_id=policy.id, cycle=SlaTarget.cycle + 1, started_at=start, due_at=due,
             paused_at=paused, met_at=None, warned_at=None, breached_at=None)
    return target


def _move_due(target: SlaTarget, due: datetime, warn: timedelta, now: datetime) -> None:
    """A new promise for a running clock: new cycle; a warning or breach already fired stays
    recorded only if it is still true for the new due time (no second firing for it)."""
    if target.due_at == due:
        return
    warned = target.warned_at if target.warned_at and now >= due - warn else None
    breached = target.breached_at if target.breached_at and now >= due else None
    _set(target, due_at=due, cycle=SlaTarget.cycle + 1, warned_at=warned, breached_at=breached)


def _meet(target: SlaTarget, now: datetime) -> None:
    if target.met_at is None:
        _set(target, met_at=now, paused_at=None)


def _running(target: SlaTarget) -> bool:
    return target.met_at is None and target.paused_at is None and target.due_at is not None


def sync_due(ticket: Ticket, targets: dict[str, SlaTarget]) -> None:
    """``Ticket.sla_due_at`` = the nearest due time of the running clocks (None if none)."""
    dues = [t.due_at for t in targets.values() if _running(t)]
    due = min(dues) if dues else None
    if ticket.sla_due_at != due:
        ticket.sla_due_at = due


def _policy_of(targets: dict[str, SlaTarget]) -> AnyPolicy | None:
    for target in targets.values():
        if target.policy_id:
            return db.session.get(SlaPolicy, target.policy_id)
    return None


# ------------------------------------------------------------------ events


def on_ticket_created(ticket: Ticket, now: datetime | None = None) -> None:
    """Arm first response, resolution and periodic update for a matching policy."""
    now = now or utcnow()
    policy = match_policy(ticket)
    if policy is None:
        return
    calendar = calendar_for(policy, ticket)
    targets = ticket_targets(ticket)
    for kind in ("first_response", "resolution", "periodic_update"):
        _arm(ticket, policy, calendar, kind, targets, now)
    db.session.flush()
    sync_due(ticket, targets)
    db.session.commit()


def on_message_added(ticket: Ticket, internal: bool, from_staff: bool | None, now: datetime | None = None) -> None:
    """A public agent reply meets the response clocks and restarts the update clock; a
    customer's message starts the next-response clock once the first response is given."""
    if internal or from_staff is None:
        return  # internal notes never count; a message without an author is the system's
    now = now or utcnow()
    targets = ticket_targets(ticket)
    policy = match_policy(ticket)
    if policy is None and not targets:
        return
    calendar = calendar_for(policy, ticket)
    if from_staff:
        for kind in ("first_response", "next_response"):
            if kind in targets:
                _meet(targets[kind], now)
        if policy is not None and ticket.status in OPEN_STATUSES:
            _arm(ticket, policy, calendar, "periodic_update", targets, now)
    elif policy is not None and ticket.status in OPEN_STATUSES:
        first = targets.get("first_response")
        waiting = targets.get("next_response")
        # Until the first response the first-response clock covers every customer message;
        # while a next response is already owed, the clock keeps running from the oldest
        # unanswered message (a second "any news?" must not push the deadline back).
        if (first is None or first.met_at is not None) and (waiting is None or waiting.met_at is not None):
            _arm(ticket, policy, calendar, "next_response", targets, now)
    db.session.flush()
    sync_due(ticket, targets)
    db.session.commit()


def on_ticket_changed(ticket: Ticket, changes: dict[str, tuple], now: datetime | None = None) -> None:
    """Team, priority or tags → re-evaluate the policy; status → stop, resume, pause or unpause."""
    if not ({"team_id", "priority", "tags", "status"} & set(changes)):
        return
    now = now or utcnow()
    targets = ticket_targets(ticket)
    policy = match_policy(ticket)
    if policy is None and not targets:
        return
    if "team_id" in changes or "priority" in changes or "tags" in changes:
        _reevaluate(ticket, policy, targets, now)
    if "status" in changes:
        old, new = changes["status"]
        _status_changed(ticket, policy or _policy_of(targets), targets, old, new, now)
    db.session.flush()
    sync_due(ticket, targets)
    db.session.commit()


def _status_changed(ticket: Ticket, policy: AnyPolicy | None, targets: dict[str, SlaTarget],
                    old: str, new: str, now: datetime) -> None:
    calendar = calendar_for(policy, ticket)
    if new in STOP_STATUSES:
        for target in targets.values():
            _meet(target, now)  # resolved or closed: every clock stops
        return
    if old in STOP_STATUSES:
        _reopen(ticket, policy, calendar, targets, now)
        return
    pauses = pause_statuses(policy)
    if new in pauses and old not in pauses:
        for target in targets.values():
            if target.met_at is None and target.paused_at is None:
                _set(target, paused_at=now)
    elif old in pauses and new not in pauses:
        for target in targets.values():
            if target.met_at is None and target.paused_at is not None:
                spent = business_minutes_between(target.paused_at, now, calendar)
                due = add_business_minutes(target.due_at, spent, calendar) if target.due_at else None
                # Same promise, same cycle: the clock only stood still.
                _set(target, paused_at=None, due_at=due)


def _reopen(ticket: Ticket, policy: AnyPolicy | None, calendar: Calendar | None,
            targets: dict[str, SlaTarget], now: datetime) -> None:
    """A reopened ticket resumes its resolution clock (the resolved time does not count)
    and owes the customer updates again."""
    resolution = targets.get("resolution")
    if resolution is not None and resolution.met_at is not None and resolution.due_at is not None:
        spent = business_minutes_between(resolution.met_at, now, calendar)
        due = add_business_minutes(resolution.due_at, spent, calendar)
        _set(resolution, met_at=None, paused_at=None, due_at=due, cycle=SlaTarget.cycle + 1,
             warned_at=None, breached_at=None)
    if policy is not None:
        _arm(ticket, policy, calendar, "periodic_update", targets, now)


def _reevaluate(ticket: Ticket, policy: AnyPolicy | None, targets: dict[str, SlaTarget], now: datetime) -> None:
    """Team or priority changed: the policy (or its business hours) may be another one.

    Running clocks are recounted from when they started under the new policy's minutes;
    clocks the new policy does not have are dropped; ones it adds start as on creation.
    """
    if policy is None:
        for kind, target in list(targets.items()):
            if target.met_at is None:
                db.session.delete(target)
                del targets[kind]
        return
    calendar = calendar_for(policy, ticket)
    warn = _warn(policy)
    for kind in SLA_KINDS:
        target = targets.get(kind)
        minutes = _minutes(policy, kind)
        if target is not None:
            if target.met_at is not None:
                continue
            if minutes is None:
                db.session.delete(target)
                del targets[kind]
                continue
            if target.policy_id != policy.id:
                _set(target, policy_id=policy.id)
            _move_due(target, add_business_minutes(target.started_at, minutes, calendar), warn, now)
        elif minutes is not None and ticket.status in OPEN_STATUSES:
            if kind == "first_response" and ticket.first_response_at is None:
                _arm(ticket, policy, calendar, kind, targets, now, start=min(ticket.created_at or now, now))
            elif kind == "resolution":
                _arm(ticket, policy, calendar, kind, targets, now, start=min(ticket.created_at or now, now))
            elif kind == "periodic_update":
                _arm(ticket, policy, calendar, kind, targets, now)


def reevaluate_tickets(ticket_ids: Iterable[int], now: datetime | None = None) -> int:
    """Re-match the policy of these tickets (after a policy was deleted or switched off)."""
    now = now or utcnow()
    count = 0
    policies = active_policies()
    for ticket_id in sorted(set(ticket_ids)):
        ticket = db.session.get(Ticket, ticket_id)
        if ticket is None:
            continue
        targets = ticket_targets(ticket)
        if ticket.status in OPEN_STATUSES:
            _reevaluate(ticket, match_policy(ticket, policies), targets, now)
        db.session.flush()
        sync_due(ticket, targets)
        count += 1
        if count % BATCH == 0:
            db.session.commit()  # keep transactions (and SQLite's write lock) short
    db.session.commit()
    return count


@task()
def reevaluate_tickets_job(ticket_ids: list[int]) -> int:
    """The worker re-matches many tickets; the admin's request does not wait for it."""
    return reevaluate_tickets(ticket_ids)


def refresh_due(ticket_ids: Sequence[int]) -> None:
    """Recompute ``Ticket.sla_due_at`` from the targets, set-based (one UPDATE per batch)."""
    nearest = (select(func.min(SlaTarget.due_at))
               .where(SlaTarget.ticket_id == Ticket.id, SlaTarget.met_at.is_(None), SlaTarget.paused_at.is_(None))
               .scalar_subquery())
    for chunk in _chunks(list(ticket_ids), BATCH):
        db.session.execute(update(Ticket).where(Ticket.id.in_(chunk)).values(sla_due_at=nearest)
                           .execution_options(synchronize_session=False))


def remove_clocks(policy: SlaPolicy, delete_policy: bool = False) -> int:
    """Stop a policy's running clocks (and delete it, if asked); returns how many tickets had one.

    The queue's due times are corrected at once; moving those tickets to the next matching
    policy is a job, so switching off a policy of 50,000 open tickets is a quick request.
    """
    running = list(db.session.scalars(select(SlaTarget.ticket_id).where(
        SlaTarget.policy_id == policy.id, SlaTarget.met_at.is_(None)).distinct()))
    db.session.execute(delete(SlaTarget).where(SlaTarget.policy_id == policy.id, SlaTarget.met_at.is_(None)))
    refresh_due(running)
    if delete_policy:
        db.session.delete(policy)  # met targets keep their history; their policy_id becomes NULL
    db.session.commit()
    if running:
        reevaluate_tickets_job(running)
    return len(running)


def remove_policy(policy: SlaPolicy) -> int:
    """Delete a policy: its running clocks stop and their tickets fall to the next match."""
    return remove_clocks(policy, delete_policy=True)


# ------------------------------------------------------------------ display


@dataclass(frozen=True)
class TargetState:
    kind: str
    label: str
    state: str  # running, warning, overdue, paused, met, met_late
    text: str
    badge: str
    target: SlaTarget


def time_left(due: datetime | None, now: datetime | None = None, soon: timedelta = timedelta(hours=1)
              ) -> tuple[str, str] | None:
    """``(text, badge classes)`` for a due time: ``2h 10m left`` or ``overdue 35m``."""
    if due is None:
        return None
    now = now or utcnow()
    if now >= due:
        return gettext("overdue %(duration)s", duration=format_duration(now - due)), "text-bg-danger"
    badge = "text-bg-warning" if due - now <= soon else "text-bg-success"
    return gettext("%(duration)s left", duration=format_duration(due - now)), badge


def target_states(ticket: Ticket, now: datetime | None = None,
                  targets: dict[str, SlaTarget] | None = None) -> list[TargetState]:
    """Each clock of the ticket as the sidebar shows it, in the order of ``SLA_KINDS``
    (``targets``: the ticket's clocks if already read, e.g. by the page's batch)."""
    now = now or utcnow()
    targets = ticket_targets(ticket) if targets is None else targets
    out = []
    for kind in SLA_KINDS:
        target = targets.get(kind)
        if target is None:
            continue
        label = gettext(KIND_LABELS[kind])
        policy = db.session.get(SlaPolicy, target.policy_id) if target.policy_id else None
        if target.met_at is not None:
            late = target.breached_at is not None or (target.due_at is not None and target.met_at > target.due_at)
            state = (("met_late", gettext("met late"), "text-bg-secondary") if late
                     else ("met", gettext("met"), "text-bg-success"))
        elif target.paused_at is not None:
            left = format_duration(target.due_at - target.paused_at) if target.due_at else ""
            if target.due_at and target.due_at <= target.paused_at:
                left_text = gettext("paused, overdue %(duration)s",
                                    duration=format_duration(target.paused_at - target.due_at))
            else:
                left_text = gettext("paused, %(duration)s left", duration=left) if left else gettext("paused")
            state = ("paused", left_text, "bg-light text-dark border")
        elif now >= target.due_at:
            state = ("overdue", gettext("overdue %(duration)s", duration=format_duration(now - target.due_at)),
                     "text-bg-danger")
        elif now >= target.due_at - _warn(policy):
            state = ("warning", gettext("due in %(duration)s", duration=format_duration(target.due_at - now)),
                     "text-bg-warning")
        else:
            state = ("running", gettext("due in %(duration)s", duration=format_duration(target.due_at - now)),
                     "text-bg-info")
        out.append(TargetState(kind=kind, label=label, state=state[0], text=state[1], badge=state[2],
                               target=target))
    return out


def update_is_near(ticket: Ticket, now: datetime | None = None,
                   targets: dict[str, SlaTarget] | None = None) -> bool:
    """Is the periodic-update clock running and inside its warning window (or overdue)?"""
    now = now or utcnow()
    target = (ticket_targets(ticket) if targets is None else targets).get("periodic_update")
    if target is None or not _running(target) or ticket.status not in OPEN_STATUSES:
        return False
    policy = db.session.get(SlaPolicy, target.policy_id) if target.policy_id else None
    return now >= target.due_at - _warn(policy)


# ------------------------------------------------------------------ the periodic job


def check_sla(now: datetime | None = None, batch_size: int = BATCH) -> dict[str, int]:
    """Fire the warnings and breaches that are due at ``now``; return how many of each.

    Only targets inside the index range ``met_at IS NULL AND breached_at IS NULL AND
    due_at <= now + the longest warning`` are read (``ix_sla_targets_open_due``), so the
    cost follows the number of clocks that are due, not the number of open tickets. Each
    firing is claimed with one conditional ``UPDATE ... WHERE id = :id AND cycle = :cycle
    AND warned_at IS NULL`` (or ``breached_at``) and the hook runs only where this process
    won the claim (``rowcount == 1``), so with several workers at once each warning and
    breach fires exactly once per target and cycle. Claims are committed before the hooks
    run: a crash in between loses a notification rather than sending it twice.
    """
    now = now or utcnow()
    c = SlaTarget.__table__.c
    warn_by_policy = {pid: minutes or 0 for pid, minutes in db.session.execute(
        select(SlaPolicy.id, SlaPolicy.warn_before_minutes))}
    horizon = now + timedelta(minutes=max([DEFAULT_WARN_MINUTES, *warn_by_policy.values()]))
    rows = db.session.execute(candidates_query(horizon)).all()
    statuses: dict[int, str] = {}
    for chunk in _chunks(sorted({row.ticket_id for row in rows}), batch_size):
        statuses.update(db.session.execute(select(Ticket.id, Ticket.status).where(Ticket.id.in_(chunk))).all())
    # (target id, cycle, limit): the claim re-checks due_at <= limit, so a clock that moved
    # meanwhile (a reply, a pause) is not fired on the strength of a stale read.
    warnings: list[tuple[int, int, datetime]] = []
    breaches: list[tuple[int, int, datetime]] = []
    stale: list[int] = []
    for row in sorted(rows, key=lambda r: r.id):
        warn_minutes = warn_by_policy.get(row.policy_id, DEFAULT_WARN_MINUTES)
        if statuses.get(row.ticket_id) not in OPEN_STATUSES:
            stale.append(row.id)  # the ticket changed without events (say, an SQL fix): stop the clock
        elif row.due_at <= now:
            breaches.append((row.id, row.cycle, now))
        elif row.warned_at is None and warn_minutes > 0 and row.due_at - timedelta(minutes=warn_minutes) <= now:
            warnings.append((row.id, row.cycle, now + timedelta(minutes=warn_minutes)))
    counts = {"warned": 0, "breached": 0, "stopped": 0}
    for chunk in _chunks(stale, batch_size):
        result = db.session.execute(update(SlaTarget.__table__).where(c.id.in_(chunk), c.met_at.is_(None))
                                    .values(met_at=now))
        counts["stopped"] += result.rowcount  # type: ignore[attr-defined]  # CursorResult: SQLAlchemy types execute() as Result
    db.session.commit()
    counts["warned"] = _claim_and_fire(warnings, "warned_at", "helpdesk_sla_warning", now, batch_size)
    counts["breached"] = _claim_and_fire(breaches, "breached_at", "helpdesk_sla_breached", now, batch_size)
    if any(counts.values()):
        log.info("SLA check at %s: %s", now, counts)
    return counts


def candidates_query(horizon: datetime) -> Select:
    """Running clocks due before ``horizon``: a range of ``ix_sla_targets_open_due``.

    One table, no join: the index range is the whole cost. ``due_at IS NOT NULL`` makes
    the range two-sided, which SQLite's planner (no histograms) needs to prefer the index
    over a full scan once the table is analysed; it changes nothing else.
    """
    c = SlaTarget.__table__.c
    return (select(c.id, c.cycle, c.due_at, c.warned_at, c.ticket_id, c.policy_id)
            .where(c.met_at.is_(None), c.breached_at.is_(None), c.due_at.is_not(None), c.due_at <= horizon,
                   c.paused_at.is_(None)))


def _claim_and_fire(claims: Sequence[tuple[int, int, datetime]], column: str, hook: str, now: datetime,
                    batch_size: int) -> int:
    c = SlaTarget.__table__.c
    flag = c[column]
    # One statement, compiled once, run per target: each claim must report its own rowcount.
    claim = (update(SlaTarget.__table__)
             .where(c.id == bindparam("claim_id"), c.cycle == bindparam("claim_cycle"), flag.is_(None),
                    c.met_at.is_(None), c.paused_at.is_(None), c.due_at <= bindparam("claim_limit"))
             .values({column: bindparam("claim_now")}))
    fired = 0
    for chunk in _chunks(claims, batch_size):
        won = []
        for target_id, cycle, limit in chunk:  # in id order: concurrent workers lock rows in the same order
            result = db.session.execute(claim, {"claim_id": target_id, "claim_cycle": cycle,
                                                "claim_limit": limit, "claim_now": now})
            if result.rowcount == 1:  # type: ignore[attr-defined]  # CursorResult: SQLAlchemy types execute() as Result
                won.append(target_id)
        if won and column == "breached_at":
            targets, tickets = _load(won)
            for target in targets:
                audit(tickets[target.ticket_id], None, "sla_breached", target.kind, None,
                      f"{target.due_at:%Y-%m-%d %H:%M} UTC",
                      reason=f"{KIND_LABELS.get(target.kind, target.kind)} target missed (cycle {target.cycle})")
        db.session.commit()  # the claims are final before anyone hears of them
        if not won:
            continue
        targets, tickets = _load(won)  # fresh after the commit, two queries for the batch
        for target in targets:
            manager().call_event(hook, ticket=tickets[target.ticket_id], target=target)
        fired += len(won)
    return fired


def _load(target_ids: Sequence[int]) -> tuple[list[SlaTarget], dict[int, Ticket]]:
    targets = list(db.session.scalars(select(SlaTarget).where(SlaTarget.id.in_(target_ids))
                                      .order_by(SlaTarget.id).execution_options(populate_existing=True)))
    tickets = {t.id: t for t in db.session.scalars(
        select(Ticket).where(Ticket.id.in_({t.ticket_id for t in targets}))
        .execution_options(populate_existing=True))}
    return targets, tickets


def _chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


@periodic_task(crontab(minute="*"))
def check_sla_job() -> dict[str, int]:
    """Every minute on the worker: ``check_sla`` at the current time."""
    return check_sla()
