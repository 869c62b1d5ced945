from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.extensions import Model
from helpdesk.models.base import utcnow
from helpdesk.models.users import Team, User


class Macro(Model):
    """Several ticket actions applied in one click (``helpdesk.services.macros``).

    Whose: ``owner_id`` set = one agent's personal macro; else shared, with the team of
    ``shared_team_id`` (its members see it) or, with neither, with everyone.
    What: a reply (Markdown with canned-reply placeholders; ``internal`` = a note), then
    ``status``, ``priority``, tags added and removed, ``assignee`` ("" keep, "me", "none" or
    an agent's id) and ``set_team_id``; an empty value changes nothing.
    """

    __tablename__ = "macros"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    shared_team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    body: Mapped[str] = mapped_column(Text, default="")
    internal: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(20), default="")
    priority: Mapped[str] = mapped_column(String(20), default="")
    add_tags: Mapped[list] = mapped_column(JSON, default=list)
    remove_tags: Mapped[list] = mapped_column(JSON, default=list)
    assignee: Mapped[str] = mapped_column(String(20), default="")
    set_team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    usage_count: Mapped[int] = mapped_column(default=0)
    last_used_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])
    shared_team: Mapped[Team | None] = relationship(foreign_keys=[shared_team_id])
    set_team: Mapped[Team | None] = relationship(foreign_keys=[set_team_id])

    @property
    def scope(self) -> str:
        """personal, team or everyone."""
        return "personal" if self.owner_id else "team" if self.shared_team_id else "everyone"
