"""Agents' notifications from the core's own events (registered as ``core.notifications``, always on).

Ordinary hook implementations, as a plugin would write them: after each commit they turn
what happened into ``services.notifications.notify`` calls, which apply the scoping,
"never your own action" and the agents' preferences. The core's kinds are declared here
through ``helpdesk_notification_kinds``, the hook plugins use for theirs.
"""
from __future__ import annotations

from typing import Any

from flask_babel import gettext, lazy_gettext

from helpdesk.contract import NotificationKind
from helpdesk.extensions import db
from helpdesk.markers import hookimpl
from helpdesk.models import Message, SlaTarget, Team, Ticket, User
from helpdesk.services import notifications as notes
from helpdesk.sla.engine import KIND_LABELS

ASSIGNED, TEAM, REPLIED, MENTION = "assigned", "team_assigned", "customer_replied", "mention"
SLA_WARNING, SLA_BREACHED = "sla_warning", "sla_breached"


@hookimpl
def helpdesk_notification_kinds() -> list[NotificationKind]:
    # Lazy: the kinds are declared once and each agent reads them in their own language.
    return [
        NotificationKind(ASSIGNED, lazy_gettext("A ticket is assigned to me")),
        NotificationKind(TEAM, lazy_gettext("A ticket comes to my team with nobody assigned"), default="app"),
        # The bell by default: the email plugin already mails the assignee the customer's
        # message (which they can answer by mail); agents may ask for these mails too.
        NotificationKind(REPLIED, lazy_gettext("The customer replied on a ticket I own or follow"), default="app"),
        NotificationKind(MENTION, lazy_gettext("Someone @mentions me in an internal note")),
        NotificationKind(SLA_WARNING, lazy_gettext("A service-level target of my ticket is about to be missed")),
        NotificationKind(SLA_BREACHED, lazy_gettext("A service-level target of my ticket was missed")),
    ]


@hookimpl
def helpdesk_nav_counts(user: User) -> dict[str, Any] | None:
    """The bell's count, run with every other navigation count in one statement."""
    if not getattr(user, "is_authenticated", False) or not user.is_backoffice:
        return None
    return {"bell": notes.unread_count_query(user)}


def _staff(user: User | None) -> User | None:
    return user if user is not None and user.is_backoffice else None


def _assigned(ticket: Ticket, actor: User | None) -> None:
    if ticket.assignee is None:
        return
    if actor is not None:
        text = lazy_gettext("%(who)s assigned %(reference)s to you: %(subject)s", who=actor.name,
                            reference=ticket.reference, subject=ticket.subject)
    else:
        text = lazy_gettext("Routing assigned %(reference)s to you: %(subject)s", reference=ticket.reference,
                            subject=ticket.subject)
    notes.notify(ASSIGNED, [ticket.assignee], ticket=ticket, actor=actor, text=text)


def _to_team(ticket: Ticket, actor: User | None) -> None:
    team = db.session.get(Team, ticket.team_id) if ticket.team_id else None
    if team is None or ticket.assignee_id is not None:
        return
    notes.notify(TEAM, team.members, ticket=ticket, actor=actor,
                 text=lazy_gettext("%(reference)s came to your team %(team)s, nobody assigned: %(subject)s",
                                   reference=ticket.reference, team=team.name, subject=ticket.subject))


@hookimpl
def helpdesk_ticket_created(ticket: Ticket, message: Message) -> None:
    actor = _staff(message.author)
    _assigned(ticket, actor)
    _to_team(ticket, actor)


@hookimpl
def helpdesk_ticket_changed(ticket: Ticket, changes: dict[str, tuple], actor: User | None) -> None:
    if changes.get("assignee_id", (None, None))[1] is not None:
        _assigned(ticket, actor)
    if changes.get("team_id", (None, None))[1] is not None:
        _to_team(ticket, actor)


@hookimpl
def helpdesk_message_added(ticket: Ticket, message: Message) -> None:
    author = message.author
    if author is None:
        return
    if message.internal and author.is_backoffice:
        # The composer's Markdown source keeps the mention tokens; the stored text is rendered.
        source = (message.meta or {}).get("markdown") or message.body
        mentioned = [u for u in notes.mentioned_users(source) if u.id != author.id]
        for user in mentioned:
            notes.follow(user, ticket, commit=False)
        db.session.commit()
        notes.notify(MENTION, mentioned, ticket=ticket, actor=author,
                     text=lazy_gettext("%(who)s mentioned you in a note on %(reference)s: %(subject)s",
                                       who=author.name, reference=ticket.reference, subject=ticket.subject))
    elif not message.internal and not author.is_backoffice:
        notes.notify(REPLIED, [ticket.assignee, *notes.followers(ticket)], ticket=ticket, actor=author,
                     text=lazy_gettext("%(who)s replied on %(reference)s: %(subject)s", who=author.name,
                                       reference=ticket.reference, subject=ticket.subject))


def _sla(kind: str, ticket: Ticket, target: SlaTarget, warning: bool) -> None:
    label = KIND_LABELS.get(target.kind, target.kind.replace("_", " "))
    # The target's name is translated with the sentence, in the recipient's language.
    what = LazyTarget(label)
    text = (lazy_gettext("%(reference)s: %(target)s is due soon: %(subject)s", reference=ticket.reference,
                         target=what, subject=ticket.subject) if warning else
            lazy_gettext("%(reference)s: %(target)s target was missed: %(subject)s", reference=ticket.reference,
                         target=what, subject=ticket.subject))
    notes.notify(kind, [ticket.assignee], ticket=ticket, text=text)


class LazyTarget:
    """A target's name that is translated when the sentence around it is (lower case mid-sentence)."""

    def __init__(self, label: str) -> None:
        self.label = label

    def __str__(self) -> str:
        return gettext(self.label).lower()


@hookimpl
def helpdesk_sla_warning(ticket: Ticket, target: SlaTarget) -> None:
    _sla(SLA_WARNING, ticket, target, warning=True)


@hookimpl
def helpdesk_sla_breached(ticket: Ticket, target: SlaTarget) -> None:
    _sla(SLA_BREACHED, ticket, target, warning=False)
