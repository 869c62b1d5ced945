"""``helpdesk db copy --to postgresql://…``: move an install's database to PostgreSQL.

1. The source (the configured database, usually the embedded SQLite file) must be at head.
2. The target gets the schema by the migrations (core and every installed plugin, to head),
   exactly as ``helpdesk db upgrade`` would make it.
3. Every table (core and plugins) is copied in dependency order, in batches, with foreign
   keys checked at the end (``session_replication_role = replica`` while copying, when the
   target user may; else rows go in dependency order and checks run as they arrive).
4. Sequences are moved past the highest id, the planner's statistics refreshed. The
   full-text search index needs no copy: SQLite's FTS table (``search_index``) is not
   needed on PostgreSQL, which indexes the rows themselves.
5. Rows are counted per table on both sides and printed; any difference is an error.

The target must be empty (no tables) unless ``--force`` is given: then the rows of every
Helpdesk table there are deleted first.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask import Flask

BATCH_ROWS = 1000
LOCK_TIMEOUT_S = 10  # --force waits this long for other connections' locks on the target


class CopyError(Exception):
    """Something the operator must fix; the message says what."""


@dataclass
class CopyReport:
    counts: list[tuple[str, int, int]] = field(default_factory=list)  # table, source rows, target rows
    skipped: list[tuple[str, str]] = field(default_factory=list)  # table, why

    @property
    def mismatches(self) -> list[str]:
        return [name for name, source, target in self.counts if source != target]


def normalise_url(url: str) -> str:
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def _source_only(name: str) -> str | None:
    """Why a table of the source has no counterpart to fill (None: it must have one)."""
    if name == "search_index" or name.startswith("search_index_"):
        return "SQLite's full-text index; PostgreSQL indexes the rows themselves"
    if name.startswith("sqlite_"):
        return "SQLite's own"
    return None


def target_app(source_app: Flask, url: str) -> Flask:
    """An app like ``source_app`` (same instance, settings and plugins) on the target database."""
    from helpdesk import create_app, jobs

    overrides = {"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": source_app.instance_path,
                 "SECRET_KEY": source_app.config["SECRET_KEY"]}
    for key in ("TESTING", "SAFE_MODE", "DISABLED_PLUGINS"):
        if key in source_app.config:
            overrides[key] = source_app.config[key]
    try:
        return create_app(overrides)
    finally:
        jobs.configure(source_app)  # create_app pointed the jobs at the new app


def copy_database(source_app: Flask, url: str, *, force: bool = False, batch_rows: int = BATCH_ROWS,
                  progress: Callable[[int, int], Any] | None = None,
                  say: Callable[[str], Any] = print, lock_timeout_s: float = LOCK_TIMEOUT_S) -> CopyReport:
    """Copy ``source_app``'s database into the PostgreSQL database at ``url``.

    ``progress(total_rows, done_rows_delta)`` is called once with 0 as the delta (the total),
    then after each batch. Raises :class:`CopyError` for what the operator must fix.
    """
    import flask_migrate

    from helpdesk import schema_state
    from helpdesk.extensions import db

    url = normalise_url(url)
    if not url.startswith("postgresql+psycopg://"):
        raise CopyError("--to must be a PostgreSQL URL: postgresql://user:password@host:5432/database")
    with source_app.app_context():
        source_engine = db.engine
        if source_engine.url.render_as_string(hide_password=False) == url:
            raise CopyError("The target is the database this install already uses.")
        with source_engine.connect() as conn:
            problem = schema_state.behind(source_app, conn)
        if problem:
            raise CopyError(f"The source database is not at head ({problem}). Upgrade it first.")

    target_engine = sa.create_engine(url)
    shown = target_engine.url.render_as_string(hide_password=True)
    try:
        with target_engine.connect() as conn:
            existing = list(sa.inspect(conn).get_table_names())
    except sa.exc.OperationalError as exc:
        detail = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)
        raise CopyError(f"Cannot reach the target database {shown}: {detail}\n"
                        "Create it first (createdb …) and check the URL, user and password.") from None
    if existing and not force:
        raise CopyError(f"The target database {shown} is not empty ({len(existing)} tables, e.g. "
                        f"{', '.join(sorted(existing)[:3])}). Use an empty database, or --force to "
                        "delete the rows of every Helpdesk table there first.")

    say(f"Creating the schema in {shown} (migrations to head)…")
    target = target_app(source_app, url)
    with target.app_context():
        flask_migrate.upgrade(revision="heads")
        db.session.remove()
        db.engine.dispose()

    report = CopyReport()
    source_meta, target_meta = sa.MetaData(), sa.MetaData()
    with source_app.app_context():
        source_meta.reflect(bind=db.engine)
    target_meta.reflect(bind=target_engine)
    target_tables = [t for t in target_meta.sorted_tables if t.name != "alembic_version"]
    for name in sorted(source_meta.tables):
        if name == "alembic_version" or name in target_meta.tables:
            continue
        why = _source_only(name)
        if why is None:
            raise CopyError(f"The source has a table {name} that the target's schema lacks: is the plugin that "
                            "owns it installed here? Install it (or remove its tables with `helpdesk db "
                            "downgrade <plugin>@base`) and try again.")
        if not name.startswith("search_index_"):
            report.skipped.append((name, why))

    with source_app.app_context(), db.engine.connect() as source, target_engine.connect() as dest:
        source_counts = {t.name: source.scalar(sa.select(sa.func.count()).select_from(source_meta.tables[t.name]))
                         for t in target_tables if t.name in source_meta.tables}
        total = sum(source_counts.values())
        if progress:
            progress(total, 0)
        with dest.begin():
            replica = _relax_foreign_keys(dest)
            if force:
                # Never wait forever behind a process still using the target: give up with a reason.
                dest.execute(sa.text(f"SET LOCAL lock_timeout = '{int(lock_timeout_s * 1000)}ms'"))
                try:
                    dest.execute(sa.text("TRUNCATE " + ", ".join(f'"{t.name}"' for t in target_tables)
                                         + " RESTART IDENTITY CASCADE"))
                except sa.exc.OperationalError as exc:
                    if getattr(exc.orig, "sqlstate", None) != "55P03":  # lock_not_available
                        raise
                    raise CopyError(
                        f"Another connection to {shown} holds a lock on its tables, so --force could not "
                        f"empty them within {lock_timeout_s:g} s. Stop every Helpdesk process (web, worker) "
                        "using that database, or end its sessions (pg_stat_activity), and try again.") from None
            for table in target_tables:
                if table.name not in source_meta.tables:
                    report.skipped.append((table.name, "not in the source (left empty)"))
                    continue
                _copy_table(source, dest, _reader(source_meta.tables[table.name], table), table, batch_rows,
                            (lambda n: progress(total, n)) if progress else None)
            if replica:
                dest.execute(sa.text("SET LOCAL session_replication_role = DEFAULT"))
                _check_foreign_keys(dest, target_tables)
            _reset_sequences(dest, target_tables)
        dest.commit()
        dest.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
        for table in target_tables:
            if table.name in source_counts:
                report.counts.append((table.name, source_counts[table.name],
                                      dest.scalar(sa.select(sa.func.count()).select_from(table))))
    target_engine.dispose()
    return report


def _reader(source: sa.Table, target: sa.Table) -> sa.Select:
    """SELECT the shared columns, read with the model's types where Helpdesk has a model for
    the table (JSON, booleans and times as SQLite stores them), ordered by primary key."""
    from helpdesk.extensions import db

    model = db.metadata.tables.get(target.name)
    columns = []
    for column in target.columns:
        if column.name not in source.c:
            continue
        typed = source.c[column.name].type
        if model is not None and column.name in model.c:
            typed = model.c[column.name].type
        if isinstance(typed, sa.types.TypeDecorator):  # copy what is stored, not what it decodes to
            typed = source.c[column.name].type
        columns.append(sa.type_coerce(source.c[column.name], typed).label(column.name))
    order = [source.c[c.name] for c in target.primary_key.columns if c.name in source.c]
    return sa.select(*columns).order_by(*order)


def _copy_table(source: sa.Connection, dest: sa.Connection, query: sa.Select, table: sa.Table,
                batch_rows: int, advance: Callable[[int], Any] | None) -> None:
    result = source.execution_options(stream_results=True, yield_per=batch_rows).execute(query)
    insert = table.insert()
    for batch in result.mappings().partitions(batch_rows):
        dest.execute(insert, [dict(row) for row in batch])
        if advance:
            advance(len(batch))


def _relax_foreign_keys(dest: sa.Connection) -> bool:
    """Skip foreign-key triggers while copying (rows pointing forward, e.g. a merged ticket),
    when the user may (a superuser, or the owner with the right role); checked afterwards."""
    try:
        with dest.begin_nested():
            dest.execute(sa.text("SET LOCAL session_replication_role = replica"))
        return True
    except sa.exc.DBAPIError:
        return False


def _check_foreign_keys(dest: sa.Connection, tables: list[sa.Table]) -> None:
    """Every foreign key of the copied rows points at a row (as PostgreSQL would have checked)."""
    for table in tables:
        for fk in table.foreign_key_constraints:
            parent = fk.referred_table
            join = sa.and_(*[parent.c[e.column.name] == table.c[e.parent.name] for e in fk.elements])
            present = sa.and_(*[table.c[e.parent.name].isnot(None) for e in fk.elements])
            orphans = dest.scalar(sa.select(sa.func.count()).select_from(table).where(
                present, ~sa.exists().where(join)))
            if orphans:
                columns = ", ".join(e.parent.name for e in fk.elements)
                raise CopyError(f"{orphans} row(s) of {table.name} point ({columns}) at a missing {parent.name} row "
                                "in the source; nothing was committed. Fix the source (or remove those rows) first.")


def _reset_sequences(dest: sa.Connection, tables: list[sa.Table]) -> None:
    """Each serial/identity column's sequence continues after the highest copied value."""
    for table in tables:
        for column in table.primary_key.columns:
            sequence = dest.scalar(sa.text("SELECT pg_get_serial_sequence(:t, :c)"),
                                   {"t": f'"{table.name}"', "c": column.name})
            if sequence:
                dest.execute(sa.text(
                    f'SELECT setval(:s, coalesce(max("{column.name}"), 1), max("{column.name}") IS NOT NULL) '
                    f'FROM "{table.name}"'), {"s": sequence})
