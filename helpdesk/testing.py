"""pytest fixtures for Helpdesk and its plugins (loaded automatically through ``pytest11``).

    def test_sidebar(client, agent, ticket, login):
        login(client, agent)
        assert "Hello" in client.get(f"/tickets/{ticket.reference}").text

Fixtures: ``app`` (a fresh app and database per test, app context pushed), ``db``,
``client`` (injects a valid CSRF token into form posts unless ``csrf=False``),
``login``, ``admin``, ``agent``, ``customer``, ``other_customer``, ``ticket``,
``make_user``, ``plugins``, ``statements`` (count the SQL a page runs). Mark a test
``@pytest.mark.plugins("hello")`` to enable exactly those plugins; without the mark every
installed plugin is disabled, so core tests stay deterministic. Inside a test,
``plugins.enable("hello")`` / ``plugins.disable("hello")`` switch one, as an admin would
(the change applies from the next request or command).
The database is SQLite by default; ``--helpdesk-db=postgres`` (or
``HELPDESK_TEST_DB=postgres``) uses ``HELPDESK_TEST_DATABASE_URL``.
"""
from __future__ import annotations

import os
import shutil
import types
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer


def make_plugin(name: str, **hooks: Callable) -> types.ModuleType:
    """A throwaway plugin: a module whose hook implementations are the given functions.

        spy = make_plugin("spy", helpdesk_ticket_created=lambda ticket: seen.append(ticket.id))
        manager(app).register(spy, "spy")
    """
    from helpdesk import hookimpl

    module = types.ModuleType(name)
    module.__doc__ = f"The {name} test plugin."
    for hook_name, func in hooks.items():
        setattr(module, hook_name, hookimpl(func))
    return module


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--helpdesk-db", default=os.environ.get("HELPDESK_TEST_DB", "sqlite"),
                     choices=("sqlite", "postgres"), help="database for Helpdesk tests")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "plugins(*names): enable exactly these plugins")
    _share_url_builders()


def _share_url_builders() -> None:
    """Every test builds a new app, and Werkzeug compiles two URL-building functions for each of
    its ~250 routes with ``ast`` and ``compile``: about 60 % of ``create_app``'s time. The code
    depends only on the rule's parts, the defaults it inlines and the kind of builder, so apps
    with the same routes share it (each rule still binds it to itself, converters included).
    If Werkzeug changes these internals the cache stays off and tests are only slower."""
    from werkzeug.routing.rules import Rule

    compile_builder = getattr(Rule, "_compile_builder", None)
    if compile_builder is None or getattr(compile_builder, "shared", False):
        return
    built: dict[tuple, Callable] = {}

    def shared_builder(self: Rule, append_unknown: bool = True) -> Callable:
        defaults = self.defaults or {}
        try:  # the defaults a builder inlines, as the URL text it inlines them as
            inlined = tuple((data, self._converters[data].to_url(defaults[data]))
                            for dynamic, data in self._trace if dynamic and data in defaults)
            key = (self.rule, tuple(self._trace), tuple(defaults), inlined, append_unknown)
            hash(key)
        except (AttributeError, KeyError, TypeError):
            return compile_builder(self, append_unknown)
        if key not in built:
            built[key] = compile_builder(self, append_unknown)
        return built[key]

    shared_builder.shared = True  # type: ignore[attr-defined]
    Rule._compile_builder = shared_builder  # type: ignore[method-assign]


def _base_config(instance: str) -> dict[str, Any]:
    return {"TESTING": True, "INSTANCE_PATH": instance, "JOBS_IMMEDIATE": True,
            "SECRET_KEY": "test-secret", "EXTERNAL_URL": "http://helpdesk.test",
            "SERVER_NAME": None, "RATELIMIT_ENABLED": True, "MAIL_FROM": "support@helpdesk.test",
            # Real hashing, but cheap: tests sign in often (production uses scrypt).
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"}


@pytest.fixture(scope="session")
def helpdesk_database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """A migrated template database for the session: a SQLite file, or a PostgreSQL database."""
    import flask_migrate

    from helpdesk import create_app

    kind = request.config.getoption("--helpdesk-db")
    instance = str(tmp_path_factory.mktemp("template-instance"))
    if kind == "sqlite":
        path = os.path.join(instance, "template.sqlite3")
        app = create_app({**_base_config(instance), "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})
        with app.app_context():
            flask_migrate.upgrade(revision="heads")
            _dispose(app)
        yield {"kind": kind, "path": path}
        return
    server_url = os.environ.get("HELPDESK_TEST_DATABASE_URL")
    if not server_url:
        pytest.skip("HELPDESK_TEST_DATABASE_URL is not set: PostgreSQL tests skipped")
    import sqlalchemy as sa

    server_url = server_url.replace("postgresql://", "postgresql+psycopg://", 1)
    name = f"helpdesk_test_{uuid.uuid4().hex[:8]}"
    admin_engine = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin_engine.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(server_url).set(database=name).render_as_string(hide_password=False)
    app = create_app({**_base_config(instance), "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        flask_migrate.upgrade(revision="heads")
        _dispose(app)
    yield {"kind": kind, "url": url}
    with admin_engine.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin_engine.dispose()


def _dispose(app: Flask) -> None:
    from helpdesk.extensions import db

    db.session.remove()
    db.engine.dispose()


def _truncate_all(app: Flask) -> None:
    import sqlalchemy as sa

    from helpdesk.extensions import db

    with app.app_context(), db.engine.begin() as conn:
        tables = [r[0] for r in conn.execute(sa.text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'"))]
        if not tables:
            return
        # DELETE with foreign-key triggers off is ~50x faster than TRUNCATE on a few rows
        # (TRUNCATE swaps every table's files: ~0.1-1 s per test); it needs a superuser.
        try:
            with conn.begin_nested():
                conn.execute(sa.text("SET LOCAL session_replication_role = replica"))
                conn.execute(sa.text("; ".join(f'DELETE FROM "{t}"' for t in tables)))
                for (sequence,) in conn.execute(sa.text(
                        "SELECT quote_ident(sequencename) FROM pg_sequences "
                        "WHERE schemaname = 'public' AND last_value IS NOT NULL")).all():
                    conn.execute(sa.text(f"ALTER SEQUENCE {sequence} RESTART"))
        except sa.exc.DBAPIError:
            conn.execute(sa.text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables)
                                 + " RESTART IDENTITY CASCADE"))


@pytest.fixture
def app_config() -> dict[str, Any]:
    """Override in a conftest to change the app's config for some tests."""
    return {}


@pytest.fixture
def app(request: pytest.FixtureRequest, tmp_path, helpdesk_database: dict,
        app_config: dict[str, Any]) -> Iterator[Flask]:
    """A fresh app on a fresh database, with an app context pushed for the test."""
    from helpdesk import create_app
    from helpdesk.extensions import db
    from helpdesk.models import PluginState

    instance = str(tmp_path / "instance")
    os.makedirs(instance, exist_ok=True)
    if helpdesk_database["kind"] == "sqlite":
        path = os.path.join(instance, "helpdesk.sqlite3")
        shutil.copyfile(helpdesk_database["path"], path)
        uri = f"sqlite:///{path}"
    else:
        uri = helpdesk_database["url"]
    application = create_app({**_base_config(instance), "SQLALCHEMY_DATABASE_URI": uri, **app_config})
    marker = request.node.get_closest_marker("plugins")
    wanted = set(marker.args) if marker else set()
    plugins = application.extensions["helpdesk_plugins"]
    with application.app_context():
        for name in plugins.plugins:
            db.session.add(PluginState(name=name, enabled=name in wanted, settings={}))
        db.session.commit()
        missing = wanted - set(plugins.plugins)
        if missing:
            pytest.fail(f"plugins not installed: {', '.join(sorted(missing))}")
        yield application
        db.session.remove()
        if helpdesk_database["kind"] == "postgres":
            _truncate_all(application)
        db.engine.dispose()


@pytest.fixture
def db(app: Flask):
    from helpdesk.extensions import db as database

    return database


class CSRFClient(FlaskClient):
    """A test client that fills in a valid CSRF token, like a browser with the form open."""

    def open(self, *args: Any, csrf: bool = True, **kwargs: Any):
        method = (kwargs.get("method") or "GET").upper()
        data = kwargs.get("data")
        if csrf and method in {"POST", "PUT", "PATCH", "DELETE"} and (data is None or isinstance(data, dict)):
            data = dict(data or {})
            data.setdefault("csrf_token", self.csrf_token())
            kwargs["data"] = data
        return super().open(*args, **kwargs)

    def csrf_token(self) -> str:
        with self.session_transaction() as session:
            raw = session.setdefault("csrf_token", uuid.uuid4().hex)
        serializer = URLSafeTimedSerializer(self.application.config["SECRET_KEY"], salt="wtf-csrf-token")
        return serializer.dumps(raw)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    app.test_client_class = CSRFClient
    return app.test_client()


@pytest.fixture
def login() -> Callable:
    """``login(client, user)``: sign ``user`` in on ``client`` (a server-side session, no password)."""
    def sign_in(client: FlaskClient, user: Any) -> FlaskClient:
        from helpdesk.sessions import open_session

        user_id = open_session(user, user_agent="test client", address="127.0.0.1")
        with client.session_transaction() as session:
            session["_user_id"] = user_id
            session["_fresh"] = True
        return client

    return sign_in


@pytest.fixture
def make_user(app: Flask) -> Callable:
    """``make_user("agent", name="Ann")``: a committed user of that role."""
    from helpdesk.extensions import db
    from helpdesk.models import ContactIdentity, User

    counter = {"n": 0}

    def create(role: str = "customer", name: str | None = None, email: str | None = None,
               password: str | None = None, **fields: Any) -> User:
        counter["n"] += 1
        name = name or f"{role.title()} {counter['n']}"
        email = email or f"{role}{counter['n']}@example.test"
        user = User(name=name, email=email, role=role, **fields)
        if password:
            user.set_password(password)
        if role == "customer":
            user.identities.append(ContactIdentity(kind="email", value=email))
        db.session.add(user)
        db.session.commit()
        return user

    return create


@pytest.fixture
def admin(make_user: Callable):
    return make_user("admin", name="Ada Admin", email="admin@example.test")


@pytest.fixture
def agent(make_user: Callable):
    return make_user("agent", name="Alex Agent", email="agent@example.test")


@pytest.fixture
def light_agent(make_user: Callable):
    """A light agent: reads tickets and adds internal notes, nothing else."""
    return make_user("light_agent", name="Lee Light", email="light@example.test")


@pytest.fixture
def customer(make_user: Callable):
    return make_user("customer", name="Carla Customer", email="carla@example.test")


@pytest.fixture
def other_customer(make_user: Callable):
    return make_user("customer", name="Otto Other", email="otto@example.test")


@pytest.fixture
def ticket(app: Flask, customer: Any):
    from helpdesk import services

    return services.create_ticket(customer, "Printer on fire", "The printer in room 4 is smoking.")


class PluginSwitch:
    """``plugins.enable("hello")``, ``plugins.disable("hello")``, ``plugins.is_enabled("hello")``,
    ``plugins.register(make_plugin("spy", helpdesk_ticket_created=...))``.

    The same switch as Admin → Plugins (the state is stored in the database), so pages,
    hooks, jobs and commands see it at once.
    """

    def __init__(self, app: Flask) -> None:
        self.app = app

    def _manager(self) -> Any:
        from helpdesk.plugin_manager import manager

        return manager(self.app)

    def _set(self, names: tuple[str, ...], enabled: bool) -> None:
        plugins = self._manager()
        unknown = [name for name in names if name not in plugins.plugins]
        if unknown:
            pytest.fail(f"plugins not installed: {', '.join(unknown)} (installed: "
                        f"{', '.join(sorted(plugins.plugins)) or 'none'})")
        with self._context():
            for name in names:
                plugins.set_enabled(name, enabled)  # also forgets the states cached for this context

    def enable(self, *names: str) -> None:
        self._set(names, True)

    def disable(self, *names: str) -> None:
        self._set(names, False)

    def register(self, module: Any, name: str | None = None) -> Any:
        """Install a throwaway plugin (``make_plugin(...)``) for this test; it is enabled."""
        self._manager().register(module, name or module.__name__)
        return module

    def is_enabled(self, name: str) -> bool:
        with self._context():
            return self._manager().is_enabled(name)

    def _context(self) -> Any:
        """The test's own app context when it is active (its cached plugin states must change too)."""
        from contextlib import nullcontext

        from flask import current_app, has_app_context

        if has_app_context() and current_app._get_current_object() is self.app:  # type: ignore[attr-defined]
            return nullcontext()
        return self.app.app_context()


@pytest.fixture
def plugins(app: Flask) -> PluginSwitch:
    """Switch installed plugins on and off inside a test: ``plugins.enable("hello")``."""
    return PluginSwitch(app)


class StatementCounter:
    """The SQL statements run inside ``with statements:`` blocks (see the ``statements`` fixture)."""

    def __init__(self, db: Any) -> None:
        self.db = db
        self.seen: list[str] = []

    def __enter__(self) -> StatementCounter:
        from sqlalchemy import event

        self.db.session.expunge_all()  # what the block reads, it reads from the database
        self.seen = []
        event.listen(self.db.engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *exc: object) -> None:
        from sqlalchemy import event

        event.remove(self.db.engine, "before_cursor_execute", self._record)

    def _record(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        self.seen.append(statement)

    @property
    def count(self) -> int:
        return len(self.seen)

    def page(self, client: FlaskClient, path: str) -> int:
        """Statements for one GET of ``path`` after a warm-up GET (per-process caches are not
        the page's cost); the page must answer 200."""
        client.get(path)
        with self:
            answer = client.get(path)
        assert answer.status_code == 200, f"{path} answered {answer.status_code}"
        return self.count

    def listing(self) -> str:
        """The statements, numbered: for an assertion message when a budget is exceeded."""
        return "\n".join(f"{i + 1}. {text[:300]}" for i, text in enumerate(self.seen))


@pytest.fixture
def statements(db: Any) -> StatementCounter:
    """Count SQL statements: ``with statements: client.get(url)`` then ``statements.count``, or
    ``statements.page(client, url)``; the page budgets (queue ≤ 4, ticket ≤ 6) are checked this way."""
    return StatementCounter(db)
