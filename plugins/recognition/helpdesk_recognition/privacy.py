"""Who sees whose recognition: the one rule, written as SQL so every query applies it.

An agent's recognition is public (feed, leaderboard, profile, digest) or private. Private
recognition is seen only by the agent and by their lead (``Team.lead_id`` of a team they
belong to). Admins follow the same rule: being an admin does not open a private profile,
leading the agent's team does.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, exists, or_, select

from helpdesk.plugin_api import Team, User, db_session, get_setting, team_members
from helpdesk_recognition.config import PLUGIN
from helpdesk_recognition.models import Preference


@dataclass(frozen=True)
class Choices:
    public: bool
    email_notifications: bool
    digest: bool


def choices(user_id: int) -> Choices:
    """An agent's preferences, with the admin's defaults for someone who has not chosen yet."""
    row = db_session().get(Preference, user_id)
    if row is None:
        return Choices(public=bool(get_setting(PLUGIN, "default_public")), email_notifications=False, digest=False)
    return Choices(public=row.public, email_notifications=row.email_notifications, digest=row.digest)


def led_member_ids(lead_id: int) -> Select:
    """The members of every team ``lead_id`` leads."""
    return (select(team_members.c.user_id).join(Team, Team.id == team_members.c.team_id)
            .where(Team.lead_id == lead_id))


def is_public(user_id_column: ColumnElement) -> ColumnElement[bool]:
    if get_setting(PLUGIN, "default_public"):
        return ~exists().where(Preference.user_id == user_id_column, Preference.public.is_(False))
    return exists().where(Preference.user_id == user_id_column, Preference.public.is_(True))


def visible_to(viewer: User, user_id_column: Any) -> ColumnElement[bool]:
    """True where ``viewer`` may see the recognition of the user in ``user_id_column``."""
    return or_(user_id_column == viewer.id, is_public(user_id_column),
               user_id_column.in_(led_member_ids(viewer.id)))


def can_see(viewer: User, user_id: int) -> bool:
    if viewer.id == user_id:
        return True
    query = select(User.id).where(User.id == user_id, visible_to(viewer, User.id))
    return db_session().scalar(query) is not None


def leads(lead_id: int, user_id: int) -> bool:
    return db_session().scalar(led_member_ids(lead_id).where(team_members.c.user_id == user_id).limit(1)) is not None
