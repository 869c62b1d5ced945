"""Flask extension objects, created once and bound to each app in ``create_app``."""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from flask import Flask
from flask_bootstrap import Bootstrap5
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData, Table
from sqlalchemy.orm import DeclarativeBase

# A naming convention makes constraint names stable, so Alembic can drop and
# alter them on SQLite (batch mode) and PostgreSQL alike.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    if TYPE_CHECKING:  # every model here maps one Table (SQLAlchemy types it as any FromClause)
        __table__: ClassVar[Table]


db = SQLAlchemy(model_class=Base)
if TYPE_CHECKING:  # db.Model is made at run time; type checkers see the declarative base it extends
    Model = Base
else:
    Model = db.Model


class Migrations:
    """Flask-Migrate, bound to each app without importing it.

    Importing Flask-Migrate imports Alembic (and Mako, Pygments): about 0.2 s that every
    ``helpdesk`` command and web process would pay at start-up, though only the ``db``
    commands and ``init`` migrate. ``app.extensions["migrate"]`` offers what Flask-Migrate's
    functions and ``migrations/env.py`` read; the real ``Migrate`` is made on first use.
    """

    def __init__(self) -> None:
        self.configure_callbacks: list[Callable[[Any], Any]] = []

    def init_app(self, app: Flask, db: SQLAlchemy, directory: str) -> None:
        app.extensions["migrate"] = _MigrateConfig(self, db, directory)

    def configure(self, callback: Callable[[Any], Any]) -> Callable[[Any], Any]:
        """Like ``Migrate.configure``: ``callback(alembic_config)`` returns the config to use."""
        self.configure_callbacks.append(callback)
        return callback


class _MigrateConfig:
    """What Flask-Migrate keeps in ``app.extensions["migrate"]``, with its ``migrate`` made lazily."""

    def __init__(self, owner: Migrations, db: SQLAlchemy, directory: str) -> None:
        self.owner, self.db, self.directory = owner, db, directory
        self.configure_args: dict[str, Any] = {"compare_type": True, "render_as_batch": True}
        self._migrate: Any = None

    @property
    def metadata(self) -> MetaData:
        return self.db.metadata

    @property
    def migrate(self) -> Any:
        if self._migrate is None:
            from flask_migrate import Migrate

            real = Migrate(db=self.db, directory=self.directory)
            real.configure_callbacks = self.owner.configure_callbacks
            self._migrate = real
        return self._migrate
migrate = Migrations()
login_manager = LoginManager()
csrf = CSRFProtect()
bootstrap = Bootstrap5()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
