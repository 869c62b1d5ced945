"""The ``helpdesk`` command line (a Flask CLI group): init, demo, worker, db, user, plugins."""
from __future__ import annotations

import secrets
from pathlib import Path

import click
import flask_migrate
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext
from sqlalchemy import func, select

from helpdesk.extensions import db
from helpdesk.models import User


def _create_app():
    from helpdesk import create_app

    return create_app()


class HelpdeskGroup(FlaskGroup):
    def _load_plugin_commands(self) -> None:
        super()._load_plugin_commands()
        # Our ``db`` group (upgrade to *all* heads: core and plugin branches) wins over Flask-Migrate's.
        self.add_command(db_group)


# ------------------------------------------------------------------- db


@click.group("db", help="Database migrations of the core and every installed plugin.")
def db_group() -> None:
    pass


@db_group.command("upgrade")
@click.argument("revision", default="heads")
@with_appcontext
def db_upgrade(revision: str) -> None:
    """Migrate to REVISION (default: the head of the core and of every plugin)."""
    flask_migrate.upgrade(revision=revision)
    _refresh_planner_statistics()
    click.echo("Database is up to date.")


def _refresh_planner_statistics() -> None:
    """New indexes without statistics can mislead SQLite's planner; PRAGMA optimize is cheap."""
    if db.engine.dialect.name == "sqlite":
        with db.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA optimize")


@db_group.command("downgrade")
@click.argument("revision")
@with_appcontext
def db_downgrade(revision: str) -> None:
    """Migrate down to REVISION, e.g. ``hello@base`` to remove a plugin's tables."""
    flask_migrate.downgrade(revision=revision)


@db_group.command("revision")
@click.option("-m", "--message", required=True)
@click.option("--autogenerate", is_flag=True)
@click.option("--head", default="core@head", show_default=True, help="e.g. myplugin@head")
@click.option("--branch-label", default=None)
@click.option("--version-path", default=None, help="folder for a new plugin branch")
@click.option("--rev-id", default=None)
@with_appcontext
def db_revision(message: str, autogenerate: bool, head: str, branch_label: str | None,
                version_path: str | None, rev_id: str | None) -> None:
    """Create a migration revision (for the core or, with --head/--branch-label, a plugin)."""
    flask_migrate.revision(message=message, autogenerate=autogenerate, head=head,
                           branch_label=branch_label, version_path=version_path, rev_id=rev_id)


@db_group.command("current")
@with_appcontext
def db_current() -> None:
    flask_migrate.current(verbose=True)


@db_group.command("heads")
@with_appcontext
def db_heads() -> None:
    flask_migrate.heads(verbose=True)


@db_group.command("history")
@with_appcontext
def db_history() -> None:
    flask_migrate.history()


main = HelpdeskGroup(create_app=_create_app, help="Helpdesk: run, set up and manage a helpdesk.")

# ------------------------------------------------------------------ init

INSTANCE_CONFIG = '''\
# Instance configuration: read after the defaults, before HELPDESK_* environment variables.
# HELPDESK_NAME = "Acme Support"
# EXTERNAL_URL = "https://support.example.com"   # links in mail are built from this
# TRUSTED_HOSTS = ["support.example.com"]
# MAIL_FROM = "support@example.com"
# SMTP_HOST = "smtp.example.com"                  # empty: mail is kept in Admin -> Outbox
# DATABASE_URL = "postgresql://user@localhost/helpdesk"
# REDIS_URL = "redis://localhost:6379/0"          # jobs and rate limits in Redis
'''


@main.command("init")
@click.option("--admin-email", default="admin@example.com", show_default=True)
@click.option("--admin-name", default="Admin", show_default=True)
@click.option("--admin-password", default=None, help="default: a random one-time password, printed")
@click.option("--demo", is_flag=True, help="also load demo data when the database has no tickets")
@with_appcontext
def init_command(admin_email: str, admin_name: str, admin_password: str | None, demo: bool) -> None:
    """Create the instance config, migrate the database and create the first admin."""
    from helpdesk.models import Ticket
    from helpdesk.services import create_user

    instance = Path(current_app.instance_path)
    config_file = instance / "config.py"
    if not config_file.exists():
        config_file.write_text(INSTANCE_CONFIG)
        click.echo(f"Wrote {config_file}")
    flask_migrate.upgrade(revision="heads")
    # A demo instance keeps its generated admin password so `make run` can show it again.
    demo_secret = instance / "demo-admin-password"
    if not db.session.scalar(select(func.count()).select_from(User).where(User.role == "admin")):
        password = admin_password or secrets.token_urlsafe(12)
        create_user(admin_name, admin_email, "admin", password)
        click.echo(f"Admin created: {admin_email}")
        if demo and not admin_password:
            demo_secret.write_text(password)
            demo_secret.chmod(0o600)
        elif not admin_password:
            click.echo(f"One-time password: {password}  (change it under Admin → Users)")
    if demo:
        if not db.session.scalar(select(func.count()).select_from(Ticket)):
            from helpdesk.demo import seed_demo

            click.echo(seed_demo(300))
        shown = demo_secret.read_text() if demo_secret.exists() else "(the password you chose)"
        click.echo(f"\n  Admin:    {admin_email} / {shown}"
                   "\n  Agent:    agent@example.com / demo-password"
                   "\n  Customer: customer@example.com / demo-password\n")


# -------------------------------------------------------------- demo/user


@main.command("demo")
@click.option("--tickets", default=300, show_default=True, help="how many tickets to create")
@click.option("--seed", default=1, show_default=True)
@with_appcontext
def demo_command(tickets: int, seed: int) -> None:
    """Fill the database with realistic demo data (teams, agents, customers, tickets)."""
    from helpdesk.demo import seed_demo

    summary = seed_demo(tickets, seed=seed, echo=click.echo)
    click.echo(summary)


@main.group("user", help="Manage users.")
def user_group() -> None:
    pass


@user_group.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", type=click.Choice(["admin", "agent", "customer"]), default="agent", show_default=True)
@click.option("--password", default=None, help="default: random, printed")
@with_appcontext
def user_create(email: str, name: str, role: str, password: str | None) -> None:
    from helpdesk.services import ServiceError, create_user

    generated = password or secrets.token_urlsafe(12)
    try:
        create_user(name, email, role, generated)
    except ServiceError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"Created {role} {email}" + ("" if password else f" with password {generated}"))


# ---------------------------------------------------------------- worker


@main.command("worker")
@click.option("--workers", default=2, show_default=True)
@with_appcontext
def worker_command(workers: int) -> None:
    """Run the job consumer (mail delivery, plugin jobs, periodic tasks)."""
    run_worker(current_app._get_current_object(), workers)


def run_worker(app, workers: int) -> None:  # noqa: ANN001 - a Flask app
    """The consumer and the sweeper, until the process is told to stop."""
    import logging
    import threading

    import helpdesk.services.delivery  # noqa: F401 - registers the core's tasks
    import helpdesk.services.mail  # noqa: F401
    from helpdesk.jobs import huey
    from helpdesk.services.delivery import sweep_forever

    # The consumer reports each job, retry and failure through logging: show it.
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    click.echo(f"Worker started ({workers} threads) on {type(huey.storage).__name__}")
    # Replies and mail a killed worker left half-done are handed on once their lease runs
    # out: swept now, then every SWEEP_SECONDS (each worker sweeps; a row goes to one job).
    stop = threading.Event()
    threading.Thread(target=sweep_forever, args=(app, stop), name="sweeper", daemon=True).start()
    try:
        huey.create_consumer(workers=workers, worker_type="thread", periodic=True).run()
    finally:
        stop.set()


# ---------------------------------------------------------------- backup

INSTANCE_FILES = ("config.py", "secret_key", "secrets.key")


@main.command("backup")
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@with_appcontext
def backup_command(dest: Path) -> None:
    """Back up the helpdesk into DEST (a new folder) while it runs.

    The database (SQLite's online backup, or ``pg_dump --format=custom``), the job queue's
    SQLite file, the instance's config.py and keys, and every attachment. Restoring is
    described in docs/operations.md.
    """
    import shutil
    import sqlite3
    import subprocess

    from helpdesk.jobs import huey

    if dest.exists() and any(dest.iterdir()):
        raise click.ClickException(f"{dest} is not empty; back up into a new folder.")
    dest.mkdir(parents=True, exist_ok=True)
    instance = Path(current_app.instance_path)
    url = db.engine.url
    if url.get_backend_name() == "sqlite":
        _sqlite_backup(sqlite3, url.database, dest / "helpdesk.sqlite3")
        click.echo(f"Database: {dest / 'helpdesk.sqlite3'}")
    else:
        pg_dump = shutil.which("pg_dump")
        if pg_dump is None:
            raise click.ClickException("pg_dump is not installed (Debian: apt-get install postgresql-client).")
        target = dest / "helpdesk.dump"
        plain = url.set(drivername="postgresql").render_as_string(hide_password=False)
        done = subprocess.run([pg_dump, "--format=custom", "--no-owner", f"--file={target}", plain],
                              capture_output=True, text=True)
        if done.returncode != 0:
            raise click.ClickException(f"pg_dump failed: {done.stderr.strip()}")
        click.echo(f"Database: {target} (pg_dump, custom format)")
    queue_file = getattr(huey.storage, "filename", None)
    if queue_file and Path(queue_file).exists():
        _sqlite_backup(sqlite3, queue_file, dest / "huey.sqlite3")
        click.echo(f"Job queue: {dest / 'huey.sqlite3'}")
    else:
        click.echo("Job queue: in Redis, not copied (replies and mail are re-queued from the database).")
    for name in INSTANCE_FILES:
        if (instance / name).exists():
            shutil.copy2(instance / name, dest / name)
            click.echo(f"Copied {name}")
    files = sorted(p for p in (instance / "attachments").rglob("*") if p.is_file()) \
        if (instance / "attachments").exists() else []
    with click.progressbar(files, label="Attachments", show_pos=True) as bar:
        for path in bar:
            target = dest / "attachments" / path.relative_to(instance / "attachments")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
    click.echo(f"Backup complete: {dest} ({len(files)} attachments)")


def _sqlite_backup(sqlite3, source: str, target: Path) -> None:  # noqa: ANN001 - the module
    """SQLite's online backup: a consistent copy while other processes go on writing."""
    src = sqlite3.connect(source)
    dst = sqlite3.connect(target)
    try:
        with dst:
            src.backup(dst)
    finally:
        dst.close()
        src.close()


# ---------------------------------------------------------------- config


@main.group("config", help="The configuration in force.")
def config_group() -> None:
    pass


@config_group.command("show")
@click.option("--all", "show_all", is_flag=True, help="also Flask's and the extensions' own settings")
@with_appcontext
def config_show(show_all: bool) -> None:
    """Every setting, its value (secrets masked) and where it came from.

    The layers, later winning: defaults, ``instance/config.py``, ``HELPDESK_*`` variables.
    """
    from helpdesk.config import DEFAULTS, masked

    sources = current_app.extensions.get("helpdesk_config_sources", {})
    keys = sorted(current_app.config) if show_all else sorted(set(DEFAULTS) | set(sources) | {
        "SECRET_KEY", "SQLALCHEMY_DATABASE_URI"})
    click.echo(f"Instance folder: {current_app.instance_path}")
    width = max(len(key) for key in keys)
    for key in keys:
        if key not in current_app.config:
            continue
        source = sources.get(key, "derived")
        click.echo(f"{key:{width}}  {masked(key, current_app.config[key])}  [{source}]")


# --------------------------------------------------------------- plugins


@main.group("plugins", help="List, enable, disable and configure plugins.")
def plugins_group() -> None:
    pass


def _manager():
    from helpdesk.plugin_manager import manager

    return manager()


@plugins_group.command("list")
@with_appcontext
def plugins_list() -> None:
    plugins = _manager()
    if current_app.config.get("SAFE_MODE"):
        click.echo("Safe mode is on (HELPDESK_SAFE_MODE): no plugin is loaded, so none is listed. "
                   "Unset it to see and run the installed plugins.")
        return
    if not plugins.plugins:
        click.echo("No plugins installed.")
    for name, info in sorted(plugins.plugins.items()):
        state = "failed to load" if info.load_error else (
            "enabled" if plugins.is_enabled(name) else "disabled")
        click.echo(f"{name:20} {info.version or '-':10} {state:15} {info.description}")


def _known(name: str):
    plugins = _manager()
    if name not in plugins.plugins:
        raise click.ClickException(f"No plugin named {name!r}. See `helpdesk plugins list`.")
    return plugins


@plugins_group.command("enable")
@click.argument("name")
@with_appcontext
def plugins_enable(name: str) -> None:
    _known(name).set_enabled(name, True)
    click.echo(f"{name} enabled")


@plugins_group.command("disable")
@click.argument("name")
@with_appcontext
def plugins_disable(name: str) -> None:
    _known(name).set_enabled(name, False)
    click.echo(f"{name} disabled")


@plugins_group.command("settings")
@click.argument("name")
@click.argument("assignments", nargs=-1, metavar="[KEY=VALUE]...")
@with_appcontext
def plugins_settings(name: str, assignments: tuple[str, ...]) -> None:
    """Show a plugin's settings, or set some: ``helpdesk plugins settings hello greeting=Hi``."""
    from helpdesk.plugin_settings import validate

    plugins = _known(name)
    specs = plugins.setting_specs(name)
    if assignments:
        submitted = {}
        for item in assignments:
            key, sep, value = item.partition("=")
            if not sep or key not in specs:
                raise click.ClickException(f"Unknown setting {key!r}; known: {', '.join(specs) or 'none'}")
            submitted[key] = value
        values, errors = validate({k: specs[k] for k in submitted}, submitted)
        if errors:
            raise click.ClickException("; ".join(f"{k}: {v}" for k, v in errors.items()))
        plugins.save_settings(name, values)
        click.echo("Saved.")
    for key, spec in specs.items():
        value = "********" if spec.type == "secret" and plugins.get_setting(name, key) else \
            plugins.get_setting(name, key)
        click.echo(f"{key} ({spec.type}) = {value!r}  {spec.help}")
