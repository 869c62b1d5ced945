"""Macros: a reply or note plus field changes, applied to a ticket in one click.

Who sees a macro (:func:`visible_macros`): its owner (personal), the members of its team
(shared with a team), everyone in the back office (shared with everyone); admins see every
shared macro. Anything else is "not found". Who changes one (:func:`can_manage`): the owner;
for a team's macro an admin or an agent of that team; for everyone's an admin. Changes to
shared macros go to the admin audit log.

Applying (:func:`apply_macro`) goes through ``update_ticket`` and ``add_message`` only, so
roles, transitions, hooks and the ticket's version hold as for the ticket form: the field
changes first (refused as a whole if the ticket changed since the page was shown, nothing
sent), then the reply, rendered with the canned replies' placeholders and written in Markdown.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Select, or_, select, update

import helpdesk.services.admin_audit as admin_audit
from helpdesk.canned import check_template, render_strict, text_for
from helpdesk.extensions import db
from helpdesk.i18n import gettext, lazy_gettext
from helpdesk.models import Macro, Team, Ticket, User, team_members
from helpdesk.models.base import utcnow
from helpdesk.models.tickets import PRIORITIES
from helpdesk.richtext import compose
from helpdesk.services.errors import PermissionDenied, ServiceError, StaleTicket
from helpdesk.services.tickets import MAX_BODY, TRANSITIONS, add_message, update_ticket
from helpdesk.services.translations import (
    check_translations,
    delete_translations,
    save_translations,
    translation_snapshot,
)

MACRO_STATUSES = ("open", "pending", "resolved", "closed")
AUDITED = ("name", "body", "internal", "status", "priority", "add_tags", "remove_tags", "assignee",
           "set_team_id", "owner_id", "shared_team_id")


# ------------------------------------------------------------------ who


def _team_ids(user: User) -> list[int]:
    return [team.id for team in user.teams]


def _team_ids_query(user: User) -> Any:
    """The user's teams, as a subquery (no statement of its own)."""
    return select(team_members.c.team_id).where(team_members.c.user_id == user.id)


def visible_macros(user: User) -> Select:
    """The macros ``user`` may see and apply, by name."""
    if not user.is_backoffice:
        return select(Macro).where(Macro.id.is_(None))
    shared: ColumnElement[bool] = Macro.owner_id.is_(None)
    if not user.is_admin:
        shared = shared & (Macro.shared_team_id.is_(None) | Macro.shared_team_id.in_(_team_ids_query(user)))
    return select(Macro).where(or_(Macro.owner_id == user.id, shared)).order_by(Macro.name, Macro.id)


def macro_for(user: User, macro_id: int) -> Macro | None:
    """The macro if ``user`` may see it (else None: the page answers 404)."""
    return db.session.scalar(visible_macros(user).where(Macro.id == macro_id))


def can_manage(user: User, macro: Macro | None = None, *, scope: str = "personal",
               team_id: int | None = None) -> bool:
    """May ``user`` edit ``macro`` (or create one with this scope)?"""
    if macro is not None:
        scope, team_id = macro.scope, macro.shared_team_id
        if scope == "personal":
            return macro.owner_id == user.id
    if scope == "personal":
        return user.is_backoffice
    if user.is_admin:
        return True
    return scope == "team" and user.is_staff and team_id in _team_ids(user)


def applicable(user: User, macro: Macro) -> bool:
    """Light agents add notes only: a macro that replies or changes fields is not for them."""
    if not user.is_light_agent:
        return user.is_staff
    return bool(macro.body.strip()) and macro.internal and not _has_changes(macro)


def describe(macro: Macro) -> str:
    """What a macro does, in a few words (for the list)."""
    does = []
    if macro.body.strip():
        does.append(gettext("note") if macro.internal else gettext("reply"))
    if macro.status:
        does.append(gettext("status %(status)s", status=macro.status))
    if macro.priority:
        does.append(gettext("priority %(priority)s", priority=macro.priority))
    does += [f"+{tag}" for tag in macro.add_tags] + [f"−{tag}" for tag in macro.remove_tags]
    if macro.assignee:
        does.append({"me": gettext("assign to me"), "none": gettext("unassign")}.get(macro.assignee, gettext("assign")))
    if macro.set_team_id:
        does.append(gettext("team %(name)s", name=macro.set_team.name if macro.set_team else macro.set_team_id))
    return "; ".join(does)


def _has_changes(macro: Macro) -> bool:
    return bool(macro.status or macro.priority or macro.add_tags or macro.remove_tags or macro.assignee
                or macro.set_team_id)


# ------------------------------------------------------------------ saving


def _tag_list(value: Iterable[str] | str) -> list[str]:
    raw = value.split(",") if isinstance(value, str) else list(value)
    out: list[str] = []
    for item in raw:
        name = str(item or "").strip().lower()[:60]
        if name and name not in out:
            out.append(name)
    return out[:20]


def save_macro(actor: User, macro: Macro | None, *, name: str, body: str = "", internal: bool = False,
               status: str = "", priority: str = "", add_tags: Iterable[str] | str = (),
               remove_tags: Iterable[str] | str = (), assignee: str = "", set_team_id: int | None = None,
               scope: str = "personal", team_id: int | None = None,
               translations: Mapping[str, tuple[str, str]] | None = None) -> Macro:
    """Create (``macro=None``) or change a macro. ``scope`` is personal, team (with
    ``team_id``) or everyone; ``translations``: the reply in other languages
    (``{language: ("", text)}``, empty removes one). Raises ``ServiceError`` naming the field
    that is wrong."""
    if macro is not None and not can_manage(actor, macro):
        raise PermissionDenied(gettext('You cannot change this macro.'))
    if macro is not None and macro.scope == "personal":
        scope, team_id = "personal", None  # a personal macro stays its owner's
    if scope not in ("personal", "team", "everyone"):
        raise ServiceError(gettext('Choose who may use the macro.'), field="scope")
    if scope == "team" and (team_id is None or db.session.get(Team, team_id) is None):
        raise ServiceError(gettext('Choose the team that shares this macro.'), field="scope")
    if not can_manage(actor, None, scope=scope, team_id=team_id):
        raise PermissionDenied(
            gettext('Only admins share macros with everyone; agents share them with their own teams.'))
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise ServiceError(gettext('Enter a name (120 characters at most).'), field="name")
    body = (body or "").replace("\r\n", "\n").strip()
    if len(body) > MAX_BODY:
        raise ServiceError(
            gettext('The reply is too long (at most %(max_body)s characters).',
                    max_body=format(MAX_BODY, ',')), field="body")
    if error := check_template(body):
        raise ServiceError(error, field="body")
    if status and status not in MACRO_STATUSES:
        raise ServiceError(gettext('Unknown status %(status)s.', status=repr(status)), field="status")
    if priority and priority not in PRIORITIES:
        raise ServiceError(gettext('Unknown priority %(priority)s.', priority=repr(priority)), field="priority")
    assignee = (assignee or "").strip()
    if assignee not in ("", "me", "none"):
        agent = db.session.get(User, int(assignee)) if assignee.isdigit() else None
        if agent is None or not agent.is_staff or not agent.is_active:
            raise ServiceError(gettext('Assign to an active agent, to whoever applies the macro, or to nobody.'),
                               field="assignee")
    if set_team_id is not None and db.session.get(Team, set_team_id) is None:
        raise ServiceError(gettext('No such team.'), field="set_team_id")
    adds, removes = _tag_list(add_tags), _tag_list(remove_tags)
    if set(adds) & set(removes):
        raise ServiceError(
            gettext('A tag cannot be both added and removed: %(value)s.',
                    value=', '.join(sorted(set(adds) & set(removes)))),
                           field="remove_tags")
    if actor.is_light_agent:
        internal = True
        if status or priority or adds or removes or assignee or set_team_id:
            raise PermissionDenied(
                gettext("Light agents' macros add internal notes only: leave the ticket fields empty."))
    if not body and not (status or priority or adds or removes or assignee or set_team_id):
        raise ServiceError(gettext('A macro needs a reply or at least one change.'), field="body")
    check_translations(translations or {})

    before = _snapshot(macro)
    was_shared = macro is not None and macro.scope != "personal"
    macro = macro or Macro(usage_count=0)
    macro.name, macro.body, macro.internal = name, body, bool(internal)
    macro.status, macro.priority, macro.assignee, macro.set_team_id = status, priority, assignee, set_team_id
    macro.add_tags, macro.remove_tags = adds, removes
    macro.owner_id = actor.id if scope == "personal" else None
    macro.shared_team_id = team_id if scope == "team" else None
    macro.updated_at = utcnow()
    db.session.add(macro)
    db.session.flush()
    if translations is not None:
        save_translations("macro", macro.id, translations)
        db.session.flush()
    if was_shared or scope != "personal":
        audit_target = lazy_gettext("macro “%(name)s” (#%(id)s)", name=name, id=macro.id)
        admin_audit.record_change("macro", audit_target, before, _snapshot(macro))
    db.session.commit()
    return macro


def delete_macro(actor: User, macro: Macro) -> None:
    if not can_manage(actor, macro):
        raise PermissionDenied(gettext('You cannot delete this macro.'))
    if macro.scope != "personal":
        admin_audit.record_change("macro", lazy_gettext("macro “%(name)s” (#%(id)s)", name=macro.name, id=macro.id),
                                  _snapshot(macro), None)
    delete_translations("macro", macro.id)
    db.session.delete(macro)
    db.session.commit()


def _snapshot(macro: Macro | None) -> dict[str, Any] | None:
    before = admin_audit.snapshot(macro, AUDITED)
    if macro is not None and before is not None:
        before.update(translation_snapshot("macro", macro.id))
    return before


# ------------------------------------------------------------------ applying


@dataclass
class Plan:
    """What a macro will do to one ticket: the rendered reply, the field changes, in words."""

    body: str = ""
    internal: bool = False
    changes: dict[str, Any] = field(default_factory=dict)
    steps: list[str] = field(default_factory=list)


def _assignee_id(macro: Macro, actor: User) -> int | None | str:
    if macro.assignee == "me":
        return actor.id
    if macro.assignee == "none":
        return None
    return int(macro.assignee) if macro.assignee.isdigit() else "keep"


def plan_macro(macro: Macro, ticket: Ticket, actor: User) -> Plan:
    """What applying ``macro`` to ``ticket`` now would do (for the preview and for applying)."""
    plan = Plan(internal=macro.internal)
    if macro.body.strip():
        try:
            # a reply in the customer's language when the macro has one (a note stays as written)
            source = macro.body if macro.internal else text_for("macro", macro.id, macro.body, ticket.customer)[1]
            plan.body = render_strict(source, ticket, actor)
        except ValueError as exc:
            raise ServiceError(str(exc), field="body") from None
        plan.steps.append(gettext("Add an internal note") if plan.internal else gettext("Send a reply to the customer"))
    if macro.status and macro.status != ticket.status:
        plan.changes["status"] = macro.status
        plan.steps.append(gettext("Set the status to %(status)s", status=macro.status))
    if macro.priority and macro.priority != ticket.priority:
        plan.changes["priority"] = macro.priority
        plan.steps.append(gettext("Set the priority to %(priority)s", priority=macro.priority))
    names = [t.name for t in ticket.tags]
    new = [n for n in names if n not in macro.remove_tags] + [n for n in macro.add_tags if n not in names]
    if new != names:
        plan.changes["tags"] = new
        added = [n for n in new if n not in names]
        removed = [n for n in names if n not in new]
        if added:
            plan.steps.append(gettext("Add the tags %(tags)s", tags=", ".join(added)))
        if removed:
            plan.steps.append(gettext("Remove the tags %(tags)s", tags=", ".join(removed)))
    assignee = _assignee_id(macro, actor)
    if assignee != "keep" and assignee != ticket.assignee_id:
        plan.changes["assignee_id"] = assignee
        person = db.session.get(User, assignee) if isinstance(assignee, int) else None
        plan.steps.append(gettext("Assign to %(name)s", name=person.name) if person else gettext("Unassign"))
    if macro.set_team_id and macro.set_team_id != ticket.team_id:
        plan.changes["team_id"] = macro.set_team_id
        plan.steps.append(gettext("Move to the team %(name)s",
                                  name=macro.set_team.name if macro.set_team else macro.set_team_id))
    return plan


def apply_macro(macro: Macro, ticket: Ticket, actor: User, *, expected_version: int | None = None) -> Plan:
    """Apply ``macro`` to ``ticket`` as ``actor``; returns what was done.

    Refused as a whole (nothing changed, nothing sent) when the actor may not use it (light
    agents: notes only), when a status change is not allowed, when a hook refuses the change,
    or with ``StaleTicket`` when ``expected_version`` is not the ticket's version any more.
    The macro's usage count goes up by one.
    """
    if macro_for(actor, macro.id) is None:
        raise PermissionDenied(gettext('You cannot use this macro.'))
    plan = plan_macro(macro, ticket, actor)
    if actor.is_light_agent and (plan.changes or not plan.internal):
        raise PermissionDenied(
            gettext('Light agents add internal notes only; this macro changes the ticket or replies.'))
    status = plan.changes.get("status")
    if status and status not in TRANSITIONS[ticket.status]:
        raise ServiceError(
            gettext('A %(status)s ticket cannot become %(status2)s.',
                    status=ticket.status, status2=status), field="status")
    if not plan.body and not plan.changes:
        plan.steps = ["Nothing: the ticket is already as the macro would leave it"]
    if plan.changes:
        update_ticket(ticket, actor, expected_version=expected_version, **plan.changes)
    elif expected_version is not None:
        db.session.refresh(ticket)
        if ticket.version != expected_version:
            raise StaleTicket(ticket, expected_version)
    if plan.body:
        add_message(ticket, actor, internal=plan.internal, **compose(plan.body))
    db.session.execute(update(Macro).where(Macro.id == macro.id)
                       .values(usage_count=Macro.usage_count + 1, last_used_at=utcnow()))
    db.session.commit()
    return plan
