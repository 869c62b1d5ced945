"""The ``helpdesk`` command line (a Flask CLI group): init, demo, worker, db, user, plugins.

Start-up is kept short (under a second): SQLAlchemy models, Alembic and the plugins are
imported by the commands that use them, not when this module is imported.
"""
from __future__ import annotations

import os
import re
import secrets
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import FlaskGroup, ScriptInfo, with_appcontext


def _create_app():
    from helpdesk import create_app

    return create_app()


INIT_FIRST = "Run `helpdesk init` first: it creates the database and the first admin."
UPGRADE_FIRST = ("Run `helpdesk db upgrade` first: the code (the core or an installed plugin) "
                 "is newer than the database.")


class HelpdeskGroup(FlaskGroup):
    def _load_plugin_commands(self) -> None:
        super()._load_plugin_commands()
        # Our ``db`` group (upgrade to *all* heads: core and plugin branches) wins over Flask-Migrate's.
        self.add_command(db_group)
        self.add_command(_served_run_command())

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; a database that is missing or behind gets advice, not a traceback."""
        try:
            return super().invoke(ctx)
        except Exception as exc:
            advice = _database_advice(exc, ctx)
            if advice is None:
                raise
            raise click.ClickException(advice) from None


def served_url(host: str, port: int) -> str:
    """The address ``helpdesk run --host H --port P`` is reached at (a wildcard host: this machine)."""
    if host in ("0.0.0.0", "::", ""):  # noqa: S104 - naming the wildcard, not binding to it
        host = "127.0.0.1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _served_run_command() -> click.Command:
    """Flask's ``run``, telling the app where it is served (``HELPDESK_SERVED_URL``) before the
    app loads: with no EXTERNAL_URL configured, links in mail then point at this host and port."""
    import copy

    from flask.cli import run_command

    command = copy.copy(run_command)
    original = run_command.callback
    assert original is not None

    def callback(**kwargs: Any) -> Any:
        os.environ.setdefault("HELPDESK_SERVED_URL", served_url(kwargs.get("host") or "127.0.0.1",
                                                                kwargs.get("port") or 5000))
        return original(**kwargs)

    command.callback = callback
    return command


def _database_advice(exc: BaseException, ctx: click.Context) -> str | None:
    """What to run first, when ``exc`` says the database lacks a table or column; else None."""
    from sqlalchemy.exc import DBAPIError, OperationalError

    if not isinstance(exc, DBAPIError):
        return None
    detail = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)
    missing = re.search(r"no such (table|column)|(relation|column) .* does not exist", detail)
    app = ctx.ensure_object(ScriptInfo).load_app()
    with app.app_context():
        from sqlalchemy import inspect

        from helpdesk.extensions import db

        db.session.remove()
        where = db.engine.url.render_as_string(hide_password=True)
        if not missing:
            if isinstance(exc, OperationalError) and re.search(
                    r"connect|unable to open|could not translate host", detail, re.I):
                return (f"Cannot reach the database {where}: {detail}\n"
                        "Check DATABASE_URL in the instance's config.py (or HELPDESK_DATABASE_URL).")
            return None
        try:
            initialised = inspect(db.engine).has_table("alembic_version")
        except Exception:  # noqa: BLE001 - we are explaining an error; do not add another
            initialised = False
        finally:
            db.engine.dispose()
    if not initialised:
        return f"The database {where} is not set up yet ({detail}).\n{INIT_FIRST}"
    return f"The database {where} is not up to date ({detail}).\n{UPGRADE_FIRST}"


# ------------------------------------------------------------------- db


@click.group("db", help="Database migrations of the core and every installed plugin.")
def db_group() -> None:
    pass


@db_group.command("upgrade")
@click.argument("revision", default="heads")
@with_appcontext
def db_upgrade(revision: str) -> None:
    """Migrate to REVISION (default: the head of the core and of every plugin)."""
    applied = _upgrade(revision)
    _refresh_planner_statistics()
    if not applied:
        click.echo("Nothing to apply: the database is up to date.")
        return
    click.echo(f"Applied {len(applied)} migration{'s' if len(applied) != 1 else ''}:")
    for owner, rev, doc in applied:
        click.echo(f"  {owner:12} {rev:24} {doc}")
    click.echo("Database is up to date.")


def _upgrade(revision: str = "heads") -> list[tuple[str, str, str]]:
    """Run Alembic's upgrade; return (core or plugin name, revision, message) of each step applied."""
    import flask_migrate

    folders = {os.path.realpath(folder): plugin for plugin, folder in _manager().migration_folders_by_plugin().items()}
    folders[os.path.realpath(Path(__file__).parent / "migrations" / "versions")] = "core"
    applied: list[tuple[str, str, str]] = []

    def record(*, ctx: Any, step: Any, heads: Any, run_args: Any) -> None:
        script = step.up_revision
        owner = folders.get(os.path.realpath(os.path.dirname(script.path)), "?") if script else "?"
        applied.append((owner, step.up_revision_id or "", (script.doc or "") if script else ""))

    config = current_app.extensions["migrate"]
    config.configure_args["on_version_apply"] = record
    try:
        flask_migrate.upgrade(revision=revision)
    finally:
        config.configure_args.pop("on_version_apply", None)
    return applied


def _refresh_planner_statistics() -> None:
    """New indexes without statistics can mislead SQLite's planner; PRAGMA optimize is cheap."""
    from helpdesk.extensions import db

    if db.engine.dialect.name == "sqlite":
        with db.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA optimize")


@db_group.command("copy")
@click.option("--to", "url", required=True, metavar="URL",
              help="the target: postgresql://user:password@host:5432/database (an empty database)")
@click.option("--force", is_flag=True, help="the target has Helpdesk tables: delete their rows first")
@click.option("--batch", "batch_rows", default=1000, show_default=True, help="rows per INSERT batch")
@with_appcontext
def db_copy(url: str, force: bool, batch_rows: int) -> None:
    """Copy this install's database (e.g. the SQLite file) into PostgreSQL, with a count per table.

    Stop the web and worker processes first (rows written meanwhile would be missed), then
    point DATABASE_URL at the target. See docs/operations.md.
    """
    from helpdesk.db_copy import CopyError, copy_database

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    bar: dict[str, Any] = {}

    def progress(total: int, done: int) -> None:
        if "bar" not in bar:
            bar["bar"] = click.progressbar(length=total, label="Copying rows", show_pos=True)
            bar["bar"].__enter__()
        bar["bar"].update(done)

    try:
        report = copy_database(app, url, force=force, batch_rows=batch_rows, progress=progress, say=click.echo)
    except CopyError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        if "bar" in bar:
            bar["bar"].__exit__(None, None, None)
    width = max((len(name) for name, _s, _t in report.counts), default=5)
    click.echo(f"\n{'table':{width}}  {'source':>9}  {'target':>9}")
    for name, source_rows, target_rows in report.counts:
        mark = "" if source_rows == target_rows else "  DIFFERENT"
        click.echo(f"{name:{width}}  {source_rows:>9}  {target_rows:>9}{mark}")
    for name, why in report.skipped:
        click.echo(f"skipped {name}: {why}")
    if report.mismatches:
        raise click.ClickException(f"Row counts differ for: {', '.join(report.mismatches)}")
    click.echo(f"Copied {sum(s for _n, s, _t in report.counts)} rows in {len(report.counts)} tables; "
               "every count matches. Now set DATABASE_URL to the target and start the processes.")


@db_group.command("downgrade")
@click.argument("revision")
@with_appcontext
def db_downgrade(revision: str) -> None:
    """Migrate down to REVISION, e.g. ``hello@base`` to remove a plugin's tables."""
    import flask_migrate

    flask_migrate.downgrade(revision=revision)


@db_group.command("revision")
@click.option("-m", "--message", required=True)
@click.option("--autogenerate", is_flag=True, help="draft the operations from the models")
@click.option("--plugin", "plugin", default=None, metavar="NAME",
              help="write into this installed plugin's migration folder (its own branch)")
@click.option("--head", default=None, help="parent revision (default: core@head, or the plugin's head)")
@click.option("--branch-label", default=None)
@click.option("--version-path", default=None, help="folder for a new branch")
@click.option("--rev-id", default=None)
@with_appcontext
def db_revision(message: str, autogenerate: bool, plugin: str | None, head: str | None,
                branch_label: str | None, version_path: str | None, rev_id: str | None) -> None:
    """Create a migration: for the core, or with ``--plugin NAME`` on that plugin's branch.

    For a plugin the revision id is ``NAME_0001``, ``NAME_0002``...; the first one starts the
    branch (label NAME, depending on the core's first revision), and ``--autogenerate``
    only looks at the plugin's own tables (those named ``NAME_...``).
    """
    import flask_migrate

    if plugin is None:
        flask_migrate.revision(message=message, autogenerate=autogenerate, head=head or "core@head",
                               branch_label=branch_label, version_path=version_path, rev_id=rev_id)
        return
    script = _plugin_revision(plugin, message, autogenerate, rev_id)
    if script is None:
        click.echo("No changes in the plugin's models: no revision written.")
    else:
        click.echo(f"Wrote {script.path}\nRead it through before running `helpdesk db upgrade`.")


def _plugin_revision(plugin: str, message: str, autogenerate: bool, rev_id: str | None) -> Any:
    from alembic import command
    from alembic.script import ScriptDirectory

    plugins = _known(plugin)
    folder = plugins.migration_folders_by_plugin().get(plugin)
    if not folder:
        raise click.ClickException(
            f"The {plugin} plugin has no migration folder: add a `helpdesk_migrations` hook that returns "
            "its path (see docs/plugins.md, \"Your own table and migration\").")
    Path(folder).mkdir(parents=True, exist_ok=True)
    config = current_app.extensions["migrate"].migrate.get_config()
    ours = [s for s in ScriptDirectory.from_config(config).walk_revisions()
            if os.path.realpath(os.path.dirname(s.path)) == os.path.realpath(folder)]
    numbers = [int(m.group(1)) for s in ours if (m := re.fullmatch(rf"{re.escape(plugin)}_(\d+)", s.revision))]
    rev_id = rev_id or f"{plugin}_{max(numbers, default=0) + 1:04d}"
    first = not ours
    if autogenerate:
        config.cmd_opts.autogenerate = True  # env.py drops empty drafts
    prefix = f"{plugin}_"

    def own_tables_only(name: str | None, type_: str, parent_names: dict[str, Any]) -> bool:
        table = name if type_ == "table" else parent_names.get("table_name")
        return table is None or table.startswith(prefix)

    def own_objects_only(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
        table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", None)
        return table is None or table.startswith(prefix)

    migrate_config = current_app.extensions["migrate"]
    migrate_config.configure_args["include_name"] = own_tables_only
    migrate_config.configure_args["include_object"] = own_objects_only
    try:
        written = command.revision(
            config, message=message, autogenerate=autogenerate, rev_id=rev_id,
            head="base" if first else f"{plugin}@head", branch_label=plugin if first else None,
            version_path=folder if first else None, depends_on="core_0001" if first else None)
        # Alembic answers a list when the draft was dropped (no changes) or split.
        return next((s for s in written if s is not None), None) if isinstance(written, list) else written
    finally:
        migrate_config.configure_args.pop("include_name", None)
        migrate_config.configure_args.pop("include_object", None)


@db_group.command("current")
@with_appcontext
def db_current() -> None:
    """Show the revision the database is at, for the core and each plugin."""
    import flask_migrate

    flask_migrate.current(verbose=True)


@db_group.command("heads")
@with_appcontext
def db_heads() -> None:
    """Show the newest revision of the core and of each plugin."""
    import flask_migrate

    flask_migrate.heads(verbose=True)


@db_group.command("history")
@with_appcontext
def db_history() -> None:
    """List every revision, newest first."""
    import flask_migrate

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
# REDIS_URL = "redis://localhost:6379/0"          # jobs, sessions and rate limits in Redis
'''


@main.command("init")
@click.option("--admin-email", default="admin@example.com", show_default=True)
@click.option("--admin-name", default="Admin", show_default=True)
@click.option("--admin-password", default=None, help="default: a random one-time password, printed")
@click.option("--demo", is_flag=True, help="also load demo data when the database has no tickets")
@with_appcontext
def init_command(admin_email: str, admin_name: str, admin_password: str | None, demo: bool) -> None:
    """Create the instance config, migrate the database and create the first admin."""
    from sqlalchemy import func, select

    from helpdesk.extensions import db
    from helpdesk.models import Ticket, User
    from helpdesk.services import create_user

    instance = Path(current_app.instance_path)
    config_file = instance / "config.py"
    if not config_file.exists():
        config_file.write_text(INSTANCE_CONFIG)
        click.echo(f"Wrote {config_file}")
    applied = _upgrade("heads")
    click.echo(f"Database ready ({len(applied)} migration{'s' if len(applied) != 1 else ''} applied).")
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
    """Create a user (an admin, an agent or a customer)."""
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
@click.option("--metrics-port", default=0, show_default=True,
              help="serve this worker's Prometheus metrics on this port (0: off)")
@click.option("--metrics-address", default="127.0.0.1", show_default=True)
@with_appcontext
def worker_command(workers: int, metrics_port: int, metrics_address: str) -> None:
    """Run the job consumer (mail delivery, plugin jobs, periodic tasks)."""
    if metrics_port:
        from helpdesk.metrics import serve

        serve(metrics_port, metrics_address)
        click.echo(f"Metrics on http://{metrics_address}:{metrics_port}/metrics")
    run_worker(current_app._get_current_object(), workers)  # type: ignore[attr-defined]


def run_worker(app, workers: int) -> None:  # noqa: ANN001 - a Flask app
    """The consumer and the sweeper, until the process is told to stop."""
    import logging
    import threading

    from sqlalchemy import inspect

    from helpdesk.extensions import db

    if not inspect(db.engine).has_table("alembic_version"):  # the jobs would fail one by one
        raise click.ClickException(f"The database is not set up yet. {INIT_FIRST}")

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

    from sqlalchemy import inspect

    from helpdesk.extensions import db
    from helpdesk.jobs import huey

    if not inspect(db.engine).has_table("alembic_version"):  # nothing worth keeping yet
        raise click.ClickException(f"The database is not set up yet. {INIT_FIRST}")
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


def _manager() -> Any:
    from helpdesk.plugin_manager import manager

    return manager()


@plugins_group.command("list")
@with_appcontext
def plugins_list() -> None:
    """List the installed plugins, their version and state."""
    plugins = _manager()
    if current_app.config.get("SAFE_MODE"):
        click.echo("Safe mode is on (HELPDESK_SAFE_MODE): no plugin is loaded, so none is listed. "
                   "Unset it to see and run the installed plugins.")
        return
    if not plugins.plugins:
        click.echo("No plugins installed.")
    for name, info in sorted(plugins.plugins.items()):
        state = "incompatible" if info.incompatible else "failed to load" if info.load_error else (
            "enabled" if plugins.is_enabled(name) else "disabled")
        click.echo(f"{name:20} {info.version or '-':10} {state:15} {info.description}")
        if info.incompatible:
            click.echo(f"{'':20} {info.incompatible}")


def _known(name: str) -> Any:
    plugins = _manager()
    if name not in plugins.plugins:
        raise click.ClickException(f"No plugin named {name!r}. See `helpdesk plugins list`.")
    return plugins


@plugins_group.command("enable")
@click.argument("name")
@with_appcontext
def plugins_enable(name: str) -> None:
    """Switch a plugin on (every process, from its next request or job)."""
    from helpdesk.services.plugin_config import set_plugin_enabled  # lazy: keeps the CLI's start-up light

    _known(name)
    set_plugin_enabled(name, True)  # recorded in the admin audit log, like the admin page
    click.echo(f"{name} enabled")


@plugins_group.command("disable")
@click.argument("name")
@with_appcontext
def plugins_disable(name: str) -> None:
    """Switch a plugin off; its data and settings are kept."""
    from helpdesk.services.plugin_config import set_plugin_enabled  # lazy: keeps the CLI's start-up light

    _known(name)
    set_plugin_enabled(name, False)
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
        from helpdesk.services.plugin_config import save_plugin_settings

        save_plugin_settings(name, values)
        click.echo("Saved.")
    for key, spec in specs.items():
        value = "********" if spec.type == "secret" and plugins.get_setting(name, key) else \
            plugins.get_setting(name, key)
        click.echo(f"{key} ({spec.type}) = {value!r}  {spec.help}")


@plugins_group.command("new", with_appcontext=False)
@click.argument("name")
@click.option("--directory", "-d", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="where to write the package (default: ./NAME)")
def plugins_new(name: str, directory: Path | None) -> None:
    """Write a new plugin package NAME: hooks, a setting, a page, a table and its migration, tests.

    Then: ``pip install -e ./NAME``, ``helpdesk db upgrade``, ``pytest ./NAME``.
    """
    from helpdesk.scaffold import ScaffoldError, write_plugin

    target = directory or Path.cwd() / name
    try:
        written = write_plugin(name, target)
    except ScaffoldError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Wrote the {name} plugin to {target} ({len(written)} files). Next:\n"
               f"  pip install -e {target}\n"
               f"  helpdesk db upgrade     (creates its table)\n"
               f"  pytest {target}\n"
               f"then restart the helpdesk: the plugin is listed in Admin → Plugins.")
