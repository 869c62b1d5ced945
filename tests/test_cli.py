"""The ``helpdesk`` command line on a fresh SQLite instance: init, demo, db, user, plugins."""
from __future__ import annotations

import importlib.util
import os
import re
import sqlite3
import tempfile

import pytest
from click.testing import CliRunner

from helpdesk.cli import main

needs_hello = pytest.mark.skipif(importlib.util.find_spec("helpdesk_hello") is None,
                                 reason="the hello example plugin is not installed "
                                        "(pip install -e examples/hello_plugin)")


@pytest.fixture
def instance(tmp_path, monkeypatch):
    """A fresh, empty instance folder that every CLI call uses."""
    path = tmp_path / "instance"
    path.mkdir()
    monkeypatch.setenv("HELPDESK_INSTANCE_PATH", str(path))
    for name in ("HELPDESK_DATABASE_URL", "HELPDESK_SQLALCHEMY_DATABASE_URI", "HELPDESK_REDIS_URL",
                 "HELPDESK_SAFE_MODE", "HELPDESK_DISABLED_PLUGINS", "HELPDESK_SMTP_HOST"):
        monkeypatch.delenv(name, raising=False)
    return path


@pytest.fixture
def cli(instance):
    runner = CliRunner()

    def run(*args: str, ok: bool = True):
        result = runner.invoke(main, list(args), catch_exceptions=False)
        if ok:
            assert result.exit_code == 0, result.output
        return result

    return run


@pytest.fixture
def initialised(cli):
    cli("init", "--admin-email", "a@example.com", "--admin-password", "longpassword")
    return cli


def rows(instance, sql: str) -> list[tuple]:
    with sqlite3.connect(instance / "helpdesk.sqlite3") as conn:
        return conn.execute(sql).fetchall()


def test_init_creates_config_database_and_admin_and_is_idempotent(cli, instance):
    first = cli("init", "--admin-email", "a@example.com", "--admin-password", "longpassword")
    assert "Admin created: a@example.com" in first.output
    assert "One-time password" not in first.output  # we chose one
    assert (instance / "config.py").exists() and (instance / "helpdesk.sqlite3").exists()
    assert rows(instance, "SELECT email, role FROM users") == [("a@example.com", "admin")]

    second = cli("init", "--admin-email", "b@example.com", "--admin-password", "otherpassword")
    assert "Admin created" not in second.output and "Wrote" not in second.output
    assert rows(instance, "SELECT email FROM users") == [("a@example.com",)]


def test_init_without_a_password_prints_a_one_time_password(cli, instance):
    result = cli("init", "--admin-email", "a@example.com")
    assert "One-time password: " in result.output
    password = result.output.split("One-time password: ")[1].split()[0]
    assert len(password) >= 12

    from helpdesk import create_app
    from helpdesk.extensions import db
    from helpdesk.models import User

    app = create_app({"INSTANCE_PATH": str(instance)})
    with app.app_context():
        assert db.session.query(User).one().check_password(password)
        db.engine.dispose()


def test_the_admin_can_sign_in_after_init(initialised, instance):
    from helpdesk import create_app
    from helpdesk.extensions import db

    app = create_app({"INSTANCE_PATH": str(instance), "WTF_CSRF_ENABLED": False})
    with app.app_context():
        client = app.test_client()
        answer = client.post("/login", data={"email": "a@example.com", "password": "longpassword"})
        assert answer.status_code == 302 and answer.location.endswith("/queue")
        db.engine.dispose()


def test_db_upgrade_is_idempotent(initialised, instance):
    heads = rows(instance, "SELECT version_num FROM alembic_version")
    for _ in range(2):
        assert initialised("db", "upgrade").output == "Nothing to apply: the database is up to date.\n"
    assert rows(instance, "SELECT version_num FROM alembic_version") == heads


def test_db_upgrade_lists_the_migrations_it_applies(cli, instance):
    cli("db", "upgrade", "core_0001")
    result = cli("db", "upgrade")
    applied = rows(instance, "SELECT count(*) FROM alembic_version")  # one row per branch head
    assert applied[0][0] >= 1
    assert re.search(r"Applied \d+ migrations:", result.output)
    assert re.search(r"^  core +core_0002 ", result.output, re.M)
    assert "core_0001" not in result.output  # applied before
    assert result.output.rstrip().endswith("Database is up to date.")


# Every command, as a user types it first on an instance where `helpdesk init` never ran.
# A command added to the CLI must be added here (or to NO_DATABASE_NEEDED).
FIRST_RUN = {
    "demo": ["demo", "--tickets", "1"],
    "plugins list": ["plugins", "list"],
    "plugins enable": ["plugins", "enable", "hello"],
    "plugins disable": ["plugins", "disable", "hello"],
    "plugins settings": ["plugins", "settings", "hello"],
    "user create": ["user", "create", "--email", "x@example.com", "--name", "X"],
    "worker": ["worker"],
    "hello-stats": ["hello-stats"],
    "surveys-send": ["surveys-send"],
    "insights-recompute": ["insights-recompute"],
    "reports backfill": ["reports", "backfill"],
    "mail poll": ["mail", "poll"],
    "mail ingest": ["mail", "ingest"],
    "backup": ["backup", os.path.join(tempfile.gettempdir(), "helpdesk-backup-of-nothing")],
}
NO_DATABASE_NEEDED = {"init", "db", "run", "shell", "routes", "limiter", "plugins new", "config",
                      "openapi print", "openapi write", "openapi list-config-prefixes"}  # flask-smorest's


def all_commands() -> set[str]:
    import click

    from helpdesk import create_app

    app = create_app()
    found = set()
    for group in (main, app.cli):
        for name, command in getattr(group, "commands", {}).items():
            if isinstance(command, click.Group) and name not in NO_DATABASE_NEEDED:
                found |= {f"{name} {sub}" for sub in command.commands}
            else:
                found.add(name)
    from helpdesk.extensions import db

    with app.app_context():
        db.engine.dispose()
    return found


def test_every_command_on_a_new_instance_says_what_to_run_first(cli, instance):
    missing = all_commands() - set(FIRST_RUN) - NO_DATABASE_NEEDED
    assert not missing, f"add these commands to FIRST_RUN: {sorted(missing)}"
    for name, args in FIRST_RUN.items():
        if args[0] not in all_commands() and name not in all_commands():
            continue  # a plugin that is not installed here
        result = cli(*args, ok=False)
        assert result.exit_code == 1, (name, result.output)
        assert "Run `helpdesk init` first" in result.output, (name, result.output)
        assert "Traceback" not in result.output and "OperationalError" not in result.output, name


def test_a_command_on_an_outdated_database_says_to_upgrade(cli, instance):
    cli("db", "upgrade", "core_0001")  # an old release's database: tickets lack later columns
    result = cli("demo", "--tickets", "1", ok=False)
    assert result.exit_code == 1
    assert "Run `helpdesk db upgrade` first" in result.output and "Traceback" not in result.output


def test_demo_fills_the_database_with_a_progress_bar(initialised, instance):
    result = initialised("demo", "--tickets", "50")
    assert "Creating 50 tickets" in result.output
    assert "Demo data ready: 50 tickets" in result.output
    [(first,)] = rows(instance, "SELECT count(*) FROM tickets")
    assert first >= 50  # the core's 50, plus what installed plugins add to show themselves
    assert rows(instance, "SELECT count(*) FROM messages WHERE ticket_id NOT IN (SELECT id FROM tickets)") == [(0,)]
    assert rows(instance, "SELECT count(*) FROM users WHERE email = 'agent@example.com'") == [(1,)]
    # the demo tickets can be found by the full-text search
    assert rows(instance, "SELECT count(*) FROM search_index")[0][0] == first

    again = initialised("demo", "--tickets", "5")  # more demo data on top, no clashes
    assert "Demo data ready: 5 tickets" in again.output
    assert rows(instance, "SELECT count(*) FROM tickets")[0][0] >= first + 5


def test_user_create(initialised, instance):
    result = initialised("user", "create", "--email", "Bob@Example.com", "--name", "Bob", "--role", "agent",
                         "--password", "longpassword")
    assert "Created agent Bob@Example.com" in result.output
    assert rows(instance, "SELECT name, role FROM users WHERE email = 'bob@example.com'") == [("Bob", "agent")]

    generated = initialised("user", "create", "--email", "cy@example.com", "--name", "Cy")
    assert "with password " in generated.output

    duplicate = initialised("user", "create", "--email", "bob@example.com", "--name", "Bob 2", ok=False)
    assert duplicate.exit_code == 1
    assert "A user with this email address already exists." in duplicate.output

    bad_role = initialised("user", "create", "--email", "d@example.com", "--name", "D", "--role", "king", ok=False)
    assert bad_role.exit_code == 2 and "'king' is not one of" in bad_role.output
    assert rows(instance, "SELECT count(*) FROM users") == [(3,)]


@needs_hello
def test_plugins_list_enable_disable(initialised, instance):
    listed = initialised("plugins", "list")
    hello = next(line for line in listed.output.splitlines() if line.startswith("hello "))
    assert "enabled" in hello

    assert "hello disabled" in initialised("plugins", "disable", "hello").output
    assert "disabled" in next(line for line in initialised("plugins", "list").output.splitlines()
                              if line.startswith("hello "))
    assert rows(instance, "SELECT enabled FROM plugin_states WHERE name = 'hello'") == [(0,)]

    assert "hello enabled" in initialised("plugins", "enable", "hello").output
    assert rows(instance, "SELECT enabled FROM plugin_states WHERE name = 'hello'") == [(1,)]
    assert rows(instance, "SELECT actor_name, action, target, ip_address FROM admin_audit ORDER BY id") == [
        ("system (command line or job)", "disabled", "plugin hello", None),
        ("system (command line or job)", "enabled", "plugin hello", None)]  # the admin audit log has both

    unknown = initialised("plugins", "enable", "nosuchplugin", ok=False)
    assert unknown.exit_code == 1 and "No plugin named 'nosuchplugin'" in unknown.output


@needs_hello
def test_plugins_settings_are_validated_and_saved(initialised, instance):
    shown = initialised("plugins", "settings", "hello")
    assert "max_per_day (int) = 50" in shown.output

    refused = initialised("plugins", "settings", "hello", "max_per_day=5000", ok=False)
    assert refused.exit_code == 1
    assert refused.output.startswith("Error: max_per_day:")
    assert "max_per_day (int) = 50" in initialised("plugins", "settings", "hello").output

    unknown = initialised("plugins", "settings", "hello", "colour=blue", ok=False)
    assert unknown.exit_code == 1 and "Unknown setting 'colour'" in unknown.output

    saved = initialised("plugins", "settings", "hello", "max_per_day=500", "greeting=Howdy")
    assert "Saved." in saved.output
    assert "max_per_day (int) = 500" in saved.output and "greeting (text) = 'Howdy'" in saved.output
    assert "max_per_day (int) = 500" in initialised("plugins", "settings", "hello").output


@needs_hello
def test_plugin_cli_commands_are_registered(initialised):
    assert "0 greeting(s)" in initialised("hello-stats").output


def test_help_lists_the_commands(cli):
    output = cli("--help").output
    for command in ("init", "demo", "db", "user", "plugins", "worker"):
        assert f"  {command}" in output
