"""``helpdesk db copy --to postgresql://…``: an embedded (SQLite) install moved to a real PostgreSQL."""
from __future__ import annotations

import os
import re
import uuid

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from helpdesk.cli import main
from helpdesk.extensions import db

SERVER = os.environ.get("HELPDESK_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres").replace(
    "postgresql://", "postgresql+psycopg://", 1)
ALL_PLUGINS = ("complaints", "recognition", "surveys", "email", "hello", "knowledge")


@pytest.fixture
def target_url(helpdesk_database):
    if helpdesk_database["kind"] != "sqlite":
        pytest.skip("db copy moves an embedded (SQLite) install; this run's source is PostgreSQL")
    admin = sa.create_engine(SERVER, isolation_level="AUTOCOMMIT")
    name = f"helpdesk_copy_{uuid.uuid4().hex[:8]}"
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as exc:
        pytest.skip(f"no PostgreSQL at {SERVER}: {exc.orig}")
    yield sa.engine.make_url(SERVER).set(database=name).render_as_string(hide_password=False).replace(
        "postgresql+psycopg://", "postgresql://", 1)
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def demo_install(app, admin, monkeypatch):
    """The test's SQLite install with demo data in the core and in every plugin's tables
    (the knowledge base's demo articles are written by an admin)."""
    from helpdesk_email.ingest import ingest_message

    from helpdesk.demo import seed_demo

    seed_demo(40, echo=lambda _line: None)
    ingest_message(b"From: Mia <mia@example.net>\r\nTo: support@helpdesk.test\r\nSubject: Mail in\r\n"
                   b"Message-ID: <copy-1@example.net>\r\n\r\nArrived by mail, zebrafinch.\r\n")
    db.session.remove()
    monkeypatch.setenv("HELPDESK_INSTANCE_PATH", app.instance_path)
    monkeypatch.setenv("HELPDESK_DATABASE_URL", app.config["SQLALCHEMY_DATABASE_URI"])
    for name in ("HELPDESK_REDIS_URL", "HELPDESK_SAFE_MODE", "HELPDESK_DISABLED_PLUGINS"):
        monkeypatch.delenv(name, raising=False)
    return app


def _counts(engine: sa.Engine, tables: list[str]) -> dict[str, int]:
    with engine.connect() as conn:
        return {t: conn.scalar(sa.text(f'SELECT count(*) FROM "{t}"')) for t in tables}


@pytest.mark.plugins(*ALL_PLUGINS)
def test_copy_to_postgresql_with_verification_counts(demo_install, target_url):
    app = demo_install
    result = CliRunner().invoke(main, ["db", "copy", "--to", target_url, "--batch", "50"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "Copying rows" in result.output and "every count matches" in result.output
    printed = {m.group(1): (int(m.group(2)), int(m.group(3)))
               for m in re.finditer(r"^(\w+)\s+(\d+)\s+(\d+)$", result.output, re.M)}
    # core and plugin tables, with rows, and the same counts on both sides
    for table in ("users", "tickets", "messages", "audit_events", "plugin_states", "complaints_flags",
                  "email_raw_messages", "recognition_kudos", "surveys_responses", "hello_greetings",
                  "knowledge_articles"):
        assert table in printed, (table, result.output)
    assert printed["tickets"][0] == printed["tickets"][1] >= 41
    assert printed["messages"][0] >= 41 and printed["email_raw_messages"][0] == 1
    assert all(printed[t][0] > 0 for t in ("complaints_flags", "recognition_kudos", "surveys_responses",
                                           "knowledge_articles"))
    assert all(source == target for source, target in printed.values())
    assert "skipped search_index" in result.output

    # what the target holds, counted independently of the command's own report
    target = sa.create_engine(target_url.replace("postgresql://", "postgresql+psycopg://", 1))
    with app.app_context():
        tables = [t for t in sa.inspect(db.engine).get_table_names()
                  if not t.startswith("search_index") and t != "alembic_version"]
        assert _counts(db.engine, tables) == _counts(target, tables)

    # the copy is a working install: at head, new rows get fresh ids, search finds copied text
    from helpdesk import create_app, jobs, services
    from helpdesk.models import Ticket, User
    from helpdesk.schema_state import behind

    moved = create_app({"TESTING": True, "INSTANCE_PATH": app.instance_path, "JOBS_IMMEDIATE": True,
                        "SQLALCHEMY_DATABASE_URI": target_url})
    try:
        with moved.app_context():
            with db.engine.connect() as conn:
                assert behind(moved, conn) is None
            highest = db.session.scalar(sa.select(sa.func.max(Ticket.id)))
            customer = db.session.scalar(sa.select(User).where(User.role == "customer").limit(1))
            fresh = services.create_ticket(customer, "After the move", "Created on PostgreSQL.")
            assert fresh.id == highest + 1
            from helpdesk import search

            hits = db.session.scalars(search.matching_ticket_ids("zebrafinch", include_internal=False)).all()
            assert len(hits) == 1
            # the knowledge base's copied articles are searchable (PostgreSQL fills their stored vectors)
            from helpdesk_knowledge import search as knowledge_search
            from helpdesk_knowledge.articles import visible_articles

            found = knowledge_search.search(visible_articles(None), "parcel")
            assert [a.title for a in found][:1] == ["Where is my parcel?"]
            suggested = knowledge_search.search(visible_articles(None), "my parcel has not arrived", mode="any")
            assert "Where is my parcel?" in [a.title for a in suggested]
            db.session.remove()
            db.engine.dispose()
    finally:
        jobs.configure(app)
    target.dispose()
    # The in-process app above may leave a pooled connection of a job's session open in a
    # transaction; a --force copy would then wait for its lock forever. End them (the test
    # owns this throwaway database; a real operator stops the app before copying).
    with sa.create_engine(target_url).connect() as admin_conn:
        admin_conn.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                   "WHERE datname = current_database() AND pid <> pg_backend_pid()"))

    # a second copy into the now non-empty target is refused, unless --force
    again = CliRunner().invoke(main, ["db", "copy", "--to", target_url])
    assert again.exit_code != 0 and "is not empty" in again.output and "--force" in again.output
    forced = CliRunner().invoke(main, ["db", "copy", "--to", target_url, "--force"], catch_exceptions=False)
    assert forced.exit_code == 0, forced.output
    assert "every count matches" in forced.output


def test_copy_explains_an_unreachable_target_and_a_wrong_url(app, monkeypatch):
    monkeypatch.setenv("HELPDESK_INSTANCE_PATH", app.instance_path)
    monkeypatch.setenv("HELPDESK_DATABASE_URL", app.config["SQLALCHEMY_DATABASE_URI"])
    db.session.remove()
    down = CliRunner().invoke(main, ["db", "copy", "--to", "postgresql://nobody@127.0.0.1:1/helpdesk"])
    assert down.exit_code == 1
    assert "Cannot reach the target database" in down.output and "createdb" in down.output
    wrong = CliRunner().invoke(main, ["db", "copy", "--to", "mysql://x@y/z"])
    assert wrong.exit_code == 1 and "must be a PostgreSQL URL" in wrong.output


def test_a_forced_copy_gives_up_on_a_locked_target_instead_of_waiting_forever(app, target_url):
    """Another connection holding a lock on the target: --force stops with a reason, within its lock timeout."""
    from helpdesk.db_copy import CopyError, copy_database

    copy_database(app, target_url, say=lambda _line: None)  # the target now has the schema and rows
    holder = sa.create_engine(target_url.replace("postgresql://", "postgresql+psycopg://", 1))
    with holder.connect() as conn:
        conn.execute(sa.text("LOCK TABLE tickets IN ACCESS SHARE MODE"))  # held until this block ends
        with pytest.raises(CopyError, match="holds a lock on its tables"):
            copy_database(app, target_url, force=True, say=lambda _line: None, lock_timeout_s=0.5)
        conn.rollback()
    holder.dispose()
    report = copy_database(app, target_url, force=True, say=lambda _line: None)
    assert all(source == copied for _table, source, copied in report.counts)
