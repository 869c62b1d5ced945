"""The recognition feed: kudos and milestone announcements, newest first, privacy applied in SQL."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import false, literal, select, union_all
from sqlalchemy.orm import selectinload

from helpdesk.plugin_api import User, db_session
from helpdesk_recognition.models import Award, Kudos
from helpdesk_recognition.privacy import team_members, visible_to

PER_PAGE = 20


@dataclass(frozen=True)
class Item:
    kind: str  # "kudos" or "award"
    kudos: Kudos | None = None
    award: Award | None = None

    @property
    def created_at(self) -> datetime:
        return (self.kudos or self.award).created_at

    @property
    def person(self) -> User:
        return self.kudos.recipient if self.kudos else self.award.user


def feed_page(viewer: User, *, team_id: int | None = None, value: str | None = None, recipient_id: int | None = None,
              page: int = 1, per_page: int = PER_PAGE, since: datetime | None = None,
              until: datetime | None = None) -> tuple[list[Item], bool]:
    """One page of what ``viewer`` may see; returns (items, whether there is a next page)."""
    kudos_q = select(literal("kudos").label("kind"), Kudos.id.label("id"), Kudos.created_at.label("at")).where(
        visible_to(viewer, Kudos.recipient_id))
    award_q = select(literal("award").label("kind"), Award.id.label("id"), Award.created_at.label("at")).where(
        visible_to(viewer, Award.user_id))
    if team_id:
        members = select(team_members.c.user_id).where(team_members.c.team_id == team_id)
        kudos_q = kudos_q.where(Kudos.recipient_id.in_(members))
        award_q = award_q.where(Award.user_id.in_(members))
    if recipient_id:
        kudos_q = kudos_q.where(Kudos.recipient_id == recipient_id)
        award_q = award_q.where(Award.user_id == recipient_id)
    if since is not None:
        kudos_q, award_q = kudos_q.where(Kudos.created_at >= since), award_q.where(Award.created_at >= since)
    if until is not None:
        kudos_q, award_q = kudos_q.where(Kudos.created_at < until), award_q.where(Award.created_at < until)
    if value:
        kudos_q = kudos_q.where(Kudos.value_tag == value)
        award_q = award_q.where(false())  # badges carry no value tag
    both = union_all(kudos_q, award_q).subquery()
    rows = db_session().execute(select(both.c.kind, both.c.id).order_by(both.c.at.desc(), both.c.id.desc())
                              .limit(per_page + 1).offset((page - 1) * per_page)).all()
    has_next = len(rows) > per_page
    rows = rows[:per_page]
    kudos_ids = [i for k, i in rows if k == "kudos"]
    award_ids = [i for k, i in rows if k == "award"]
    kudos = {k.id: k for k in db_session().scalars(select(Kudos).where(Kudos.id.in_(kudos_ids)).options(
        selectinload(Kudos.recipient), selectinload(Kudos.giver), selectinload(Kudos.ticket),
        selectinload(Kudos.reactions)))} if kudos_ids else {}
    awards = {a.id: a for a in db_session().scalars(select(Award).where(Award.id.in_(award_ids)).options(
        selectinload(Award.user), selectinload(Award.ticket)))} if award_ids else {}
    items = [Item("kudos", kudos=kudos[i]) if k == "kudos" else Item("award", award=awards[i]) for k, i in rows]
    return items, has_next
