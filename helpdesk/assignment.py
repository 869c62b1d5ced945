"""The core's last-resort assignment (registered as ``core.assignment``, always enabled).

Each team has a strategy (``Team.assignment_strategy``):

* ``manual``: nobody is assigned automatically;
* ``round_robin``: the team's eligible agents, sorted by id, take turns. The turn is
  ``Team.rr_counter``, advanced with one atomic ``UPDATE ... RETURNING`` so two processes
  creating tickets at the same moment never get the same turn;
* ``least_loaded``: the eligible agent with the fewest open tickets (new, open, pending);
  ties rotate with the same counter.

Eligible means a member of the team who is active staff, ``available`` (agents set
themselves away on their dashboard, admins in the user form) and below the team's
``max_open_per_agent`` cap. Counts are taken after locking the team row (the same
``UPDATE``) and, on PostgreSQL, the candidates' user rows, inside ``create_ticket``'s
transaction, so concurrent tickets see each other's assignments and never exceed the
cap. The hook is ``trylast``: any plugin's ``route_ticket`` answer overrides it.

Agents switch between available and away in ``helpdesk.web.availability``.
"""
from __future__ import annotations

import logging

from sqlalchemy import func, select, update

from helpdesk.contract import Route
from helpdesk.extensions import db
from helpdesk.markers import hookimpl
from helpdesk.models import Message, Team, Ticket, User
from helpdesk.models.tickets import OPEN_STATUSES

log = logging.getLogger(__name__)

STRATEGIES = ("manual", "round_robin", "least_loaded")


# ------------------------------------------------------------------ routing


def candidates(team: Team) -> list[User]:
    """Members of ``team`` who may get tickets automatically (ignoring the cap), by id."""
    query = (select(User).join(User.teams).where(
        Team.id == team.id, User.role.in_(("agent", "admin")), User.active.is_(True),
        User.merged_into_id.is_(None), User.available.is_(True)).order_by(User.id))
    return list(db.session.scalars(query))


def open_counts(user_ids: list[int], exclude_ticket_id: int | None = None) -> dict[int, int]:
    """user id → number of open tickets (new, open, pending) assigned to them, in any team."""
    if not user_ids:
        return {}
    query = (select(Ticket.assignee_id, func.count()).where(
        Ticket.assignee_id.in_(user_ids), Ticket.status.in_(OPEN_STATUSES))
        .group_by(Ticket.assignee_id))
    if exclude_ticket_id is not None:
        query = query.where(Ticket.id != exclude_ticket_id)
    counts = dict.fromkeys(user_ids, 0)
    counts.update({user_id: n for user_id, n in db.session.execute(query)})
    return counts


def _take_turn(team: Team) -> int:
    """Advance the team's round-robin counter atomically and return the new value.

    The ``UPDATE`` also locks the team row until the ticket's transaction ends (PostgreSQL
    row lock; on SQLite the database write lock is held already since the ticket's insert),
    so the counting that follows is serialised per team.
    """
    counter = db.session.execute(
        update(Team.__table__).where(Team.__table__.c.id == team.id)
        .values(rr_counter=Team.__table__.c.rr_counter + 1)
        .returning(Team.__table__.c.rr_counter)).scalar_one()
    db.session.expire(team, ["rr_counter"])
    return counter


def _lock_agents(user_ids: list[int]) -> None:
    """Lock the candidates' user rows (PostgreSQL) so teams sharing an agent respect the cap.

    ``FOR NO KEY UPDATE`` in id order: it does not block tickets referencing these users and
    cannot deadlock with another assignment. SQLite serialises writers anyway (no-op there).
    """
    if db.session.get_bind().dialect.name != "postgresql":
        return
    db.session.execute(select(User.id).where(User.id.in_(user_ids)).order_by(User.id)
                       .with_for_update(key_share=True)).all()


def _names(users: list[User]) -> str:
    return ", ".join(u.name for u in users)


def choose(ticket: Ticket, team: Team, strategy: str | None = None) -> Route | None:
    """The core's assignment of ``ticket`` in ``team`` by ``strategy`` (default: the team's
    own), or ``None`` when nobody is available."""
    strategy = strategy or team.assignment_strategy or "manual"
    if strategy not in STRATEGIES or strategy == "manual":
        return None
    people = candidates(team)
    if not people:
        log.info("%s not assigned in %s (%s): no active, available agent in the team",
                 ticket.reference, team.name, strategy)
        return None
    counter = _take_turn(team)
    _lock_agents([u.id for u in people])
    counts = open_counts([u.id for u in people], exclude_ticket_id=ticket.id)
    cap = team.max_open_per_agent
    eligible = [u for u in people if cap is None or counts[u.id] < cap]
    if not eligible:
        log.info("%s not assigned in %s (%s): every available agent is at the cap of %s open tickets (%s)",
                 ticket.reference, team.name, strategy, cap, _names(people))
        return None
    cap_note = f", cap {cap}" if cap else ""
    skipped = [u for u in people if u not in eligible]
    at_cap = f"; at the cap: {_names(skipped)}" if skipped else ""
    if strategy == "round_robin":
        agent = eligible[(counter - 1) % len(eligible)]
        reason = (f"round robin in {team.name}: turn {counter}, {agent.name} of "
                  f"{len(eligible)} available ({_names(eligible)}{cap_note}){at_cap}")
    else:
        fewest = min(counts[u.id] for u in eligible)
        tied = [u for u in eligible if counts[u.id] == fewest]
        agent = tied[(counter - 1) % len(tied)]
        loads = ", ".join(f"{u.name} {counts[u.id]}" for u in eligible)
        reason = (f"least loaded in {team.name}: {agent.name} has {fewest} open "
                  f"(open tickets: {loads}{cap_note}){at_cap}")
    return Route(assignee_id=agent.id, reason=reason[:500])


@hookimpl(trylast=True)
def helpdesk_route_ticket(ticket: Ticket, message: Message) -> Route | None:
    """Assign a new ticket of a team by the team's strategy (the core's last resort)."""
    if ticket.team_id is None or ticket.assignee_id is not None:
        return None
    team = db.session.get(Team, ticket.team_id)
    if team is None:
        return None
    return choose(ticket, team)
