"""The configuration snapshot: what nearly every page reads and admins rarely change.

Site settings, plugin states and settings, teams, agents, canned replies and saved views are
kept in memory by each process and re-read only when their *configuration version* changed.
The version is one row of ``site_settings`` (key ``_config_version``), rewritten with a fresh
token in the same transaction as any change to those tables (a ``before_flush`` listener), so
every web and worker process sees the change from its next request or job, with no restart:
the state still lives in the database, the processes only avoid re-reading it.

A request (or job: any app context) reads the version once, with its first use of the
snapshot; ``snapshot()`` then answers from memory.

    from helpdesk.config_cache import snapshot
    names = [team.name for team in snapshot().teams]

The rows in the snapshot are plain read-only records (``Row``), never ORM objects: they are
shared by the requests of a process, and must not be attached to any session.
"""
from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app, g, has_app_context
from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session

from helpdesk.extensions import db

VERSION_KEY = "_config_version"
_CHECKED = "_helpdesk_config_checked"


class Row:
    """A read-only record: attribute access like an ORM object (``team.name``), nothing lazy."""

    __slots__ = ("__dict__",)

    def __init__(self, **values: Any) -> None:
        self.__dict__.update(values)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("configuration snapshot rows are read-only")

    def __repr__(self) -> str:
        return f"Row({self.__dict__!r})"

    if TYPE_CHECKING:  # fields are whatever the snapshot put there
        def __getattr__(self, name: str) -> Any: ...


@dataclass(frozen=True)
class Snapshot:
    version: str | None
    settings: dict[str, Any] = field(default_factory=dict)  # site_settings key → value
    plugin_enabled: dict[str, bool] = field(default_factory=dict)
    plugin_settings: dict[str, dict] = field(default_factory=dict)
    teams: list[Row] = field(default_factory=list)  # by name: id, name
    agents: list[Row] = field(default_factory=list)  # active agents and admins by name: id, name, role
    canned: list[Row] = field(default_factory=list)  # by title: id, title
    saved_views: dict[int, list[Row]] = field(default_factory=dict)  # user id → id, name, query by name


class _Holder:
    def __init__(self) -> None:
        self.current: Snapshot | None = None
        self.lock = threading.Lock()


def _holder(app: Flask) -> _Holder:
    holder = app.extensions.get("helpdesk_config_cache")
    if holder is None:
        holder = app.extensions["helpdesk_config_cache"] = _Holder()
    return holder


def read_version() -> str | None:
    from helpdesk.models import SiteSetting

    value = db.session.scalar(select(SiteSetting.value).where(SiteSetting.key == VERSION_KEY))
    return None if value is None else str(value)


def _load(version: str | None) -> Snapshot:
    from helpdesk.models import CannedReply, PluginState, SavedView, SiteSetting, Team, User

    session = db.session
    settings = {key: value for key, value in session.execute(select(SiteSetting.key, SiteSetting.value))
                if key != VERSION_KEY}
    plugin_rows = session.execute(select(PluginState.name, PluginState.enabled, PluginState.settings)).all()
    views: dict[int, list[Row]] = {}
    for ident, user_id, name, query in session.execute(
            select(SavedView.id, SavedView.user_id, SavedView.name, SavedView.query).order_by(SavedView.name)):
        views.setdefault(user_id, []).append(Row(id=ident, user_id=user_id, name=name, query=query))
    return Snapshot(
        version=version, settings=settings,
        plugin_enabled={name: enabled for name, enabled, _ in plugin_rows},
        plugin_settings={name: dict(stored or {}) for name, _, stored in plugin_rows},
        teams=[Row(id=i, name=n) for i, n in session.execute(select(Team.id, Team.name).order_by(Team.name))],
        agents=[Row(id=i, name=n, role=r) for i, n, r in session.execute(
            select(User.id, User.name, User.role).where(User.role.in_(("agent", "admin")), User.active.is_(True),
                                                 User.merged_into_id.is_(None)).order_by(User.name))],
        canned=[Row(id=i, title=t) for i, t in session.execute(
            select(CannedReply.id, CannedReply.title).order_by(CannedReply.title))],
        saved_views=views)


def version_column() -> Any:
    """The configuration version as a scalar subquery, to read along with another statement."""
    from helpdesk.models import SiteSetting

    return select(SiteSetting.value).where(SiteSetting.key == VERSION_KEY).scalar_subquery()


def prefetched(version: Any) -> None:
    """The version was read with another statement (the sign-in check): ``snapshot()`` uses it."""
    if has_app_context():
        g.pop(_CHECKED, None)
        g._helpdesk_config_prefetched = (None if version is None else str(version),)


def snapshot() -> Snapshot:
    """This process's configuration, checked against the database once per app context."""
    holder = _holder(current_app)
    current = holder.current
    if current is not None and g.get(_CHECKED) is current:
        return current
    known = g.pop("_helpdesk_config_prefetched", None)
    version = known[0] if known is not None else read_version()
    if current is None or current.version != version:
        with holder.lock:
            current = holder.current = _load(version)
    setattr(g, _CHECKED, current)  # g is per app context: a request or a job
    return current


def recheck() -> None:
    """Forget this app context's check: the next ``snapshot()`` reads the version again."""
    if has_app_context():
        g.pop(_CHECKED, None)
        g.pop("_helpdesk_config_prefetched", None)
        _holder(current_app).current = None


# ------------------------------------------------------------ invalidation

# Model name → the columns whose change alters the snapshot (None: any change).
_TRACKED: dict[str, frozenset[str] | None] = {
    "SiteSetting": None, "PluginState": None, "CannedReply": frozenset({"title"}),
    "Team": frozenset({"name"}), "User": frozenset({"name", "role", "active", "merged_into_id"}), "SavedView": None,
}


def _changes_configuration(session: Session) -> bool:
    for obj in session.new:
        name = type(obj).__name__
        if name in _TRACKED and not (name == "SiteSetting" and obj.key == VERSION_KEY):
            if name != "User" or obj.role in ("agent", "admin"):
                return True
    for obj in session.deleted:
        if type(obj).__name__ in _TRACKED:
            return True
    for obj in session.dirty:
        name = type(obj).__name__
        if name not in _TRACKED or (name == "SiteSetting" and obj.key == VERSION_KEY):
            continue
        columns = _TRACKED[name]
        state = inspect(obj)
        watched = state.attrs if columns is None else [state.attrs[c] for c in columns]
        if any(attr.history.has_changes() for attr in watched):
            return True
    return False


def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    if session.info.get("helpdesk_config_bumped") or not _changes_configuration(session):
        return
    from helpdesk.models import SiteSetting

    with session.no_autoflush:
        row = session.get(SiteSetting, VERSION_KEY)
        token = uuid.uuid4().hex
        if row is None:
            session.add(SiteSetting(key=VERSION_KEY, value=token))
        else:
            row.value = token
    session.info["helpdesk_config_bumped"] = True


def _after_commit(session: Session) -> None:
    if session.info.pop("helpdesk_config_bumped", False) and has_app_context():
        recheck()  # this process knows at once; the others on their next request


def _after_rollback(session: Session, previous_transaction: Any) -> None:
    if previous_transaction.parent is None:  # the whole transaction, not a savepoint
        session.info.pop("helpdesk_config_bumped", None)


def install() -> None:
    """Listen on every ORM session (idempotent)."""
    if not event.contains(Session, "before_flush", _before_flush):
        event.listen(Session, "before_flush", _before_flush)
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_soft_rollback", _after_rollback)
