"""``helpdesk db upgrade`` from the previous release's schema, with data, on SQLite and PostgreSQL.

The previous release is the code as of commit 65e2faf (2026-11-26, the end of the last
session before this one): the core at ``core_0007`` and each bundled plugin at its first
revision. Those migration files have not changed since, so migrating to these revisions
builds exactly the schema an install of that release has. The data is written with plain
SQL against that schema (today's models have columns it lacks), then the real command runs
and the data must be intact and the app must work on it. When a release is cut, add its
revisions here as the new starting point (keep the old one too while installs may skip it).
"""
from __future__ import annotations

import datetime as dt
import uuid

import flask_migrate
import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from werkzeug.security import generate_password_hash

from helpdesk.cli import main

RELEASE_65E2FAF = ("core_0007", "complaints_0001", "email_0001", "recognition_0001", "surveys_0001", "hello_0001")
PLUGINS = ("complaints", "email", "hello", "recognition", "surveys")
T0 = dt.datetime(2026, 11, 20, 9, 0, 0)
PASSWORD = "old-release-pw"


@pytest.fixture
def release_url(helpdesk_database, tmp_path):
    """An empty database of this run's kind (a SQLite file, or a new PostgreSQL database)."""
    if helpdesk_database["kind"] == "sqlite":
        yield f"sqlite:///{tmp_path / 'release.sqlite3'}"
        return
    server = sa.engine.make_url(helpdesk_database["url"])
    admin = sa.create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    name = f"helpdesk_release_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield server.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _rows() -> list[tuple[str, list[dict]]]:
    """Representative data of the release, table by table (in an order foreign keys accept)."""
    pw = generate_password_hash(PASSWORD, "pbkdf2:sha256:1000")
    user = {"active": True, "available": True, "tags": "", "session_version": 0, "created_at": T0,
            "password_hash": pw, "merged_into_id": None, "last_login_at": None}
    when = {"created_at": T0}
    return [
        ("users", [{**user, "id": 1, "name": "Ada Admin", "email": "ada@example.test", "role": "admin"},
                   {**user, "id": 2, "name": "Alex Agent", "email": "alex@example.test", "role": "agent"},
                   {**user, "id": 3, "name": "Carla Customer", "email": "carla@example.test", "role": "customer"}]),
        ("contact_identities", [{"id": 1, "user_id": 3, "kind": "email", "value": "carla@example.test",
                                 "verified": True, "bouncing": False, **when}]),
        ("teams", [{"id": 1, "name": "Support", "description": "", "lead_id": 2, "assignment_strategy": "manual",
                    "rr_counter": 0}]),
        ("team_members", [{"team_id": 1, "user_id": 2}]),
        ("tags", [{"id": 1, "name": "printer"}]),
        ("site_settings", [{"key": "helpdesk_name", "value": "Acme Support"}]),
        ("canned_replies", [{"id": 1, "title": "Thanks", "body": "Thank you, {first}!", **when}]),
        ("plugin_states", [{"name": name, "enabled": True, "settings": {}, "updated_at": T0} for name in PLUGINS]),
        ("tickets", [
            {"id": 1, "subject": "Printer on fire", "status": "open", "priority": "high", "priority_rank": 2,
             "channel": "email", "customer_id": 3, "assignee_id": 2, "team_id": 1, "message_count": 3,
             "created_at": T0, "updated_at": T0 + dt.timedelta(hours=1),
             "first_response_at": T0 + dt.timedelta(hours=1)},
            {"id": 2, "subject": "Invoice question", "status": "resolved", "priority": "normal", "priority_rank": 1,
             "channel": "web", "customer_id": 3, "message_count": 1, "created_at": T0, "updated_at": T0,
             "resolved_at": T0}]),
        ("ticket_tags", [{"ticket_id": 1, "tag_id": 1}]),
        ("messages", [
            {"id": 1, "ticket_id": 1, "author_id": 3, "internal": False, "body": "The printer in room 4 is smoking.",
             "channel": "email", "needs_review": False, "meta": {}, "created_at": T0},
            {"id": 2, "ticket_id": 1, "author_id": 2, "internal": False, "body": "Unplug it, Carla.",
             "channel": "web", "needs_review": False, "meta": {}, "created_at": T0 + dt.timedelta(hours=1)},
            {"id": 3, "ticket_id": 1, "author_id": 2, "internal": True, "body": "Facilities informed (quokka).",
             "channel": "web", "needs_review": False, "meta": {}, "created_at": T0 + dt.timedelta(hours=1)},
            {"id": 4, "ticket_id": 2, "author_id": 3, "internal": False, "body": "Why was I billed twice?",
             "channel": "web", "needs_review": False, "meta": {}, "created_at": T0}]),
        ("audit_events", [{"id": 1, "ticket_id": 1, "actor_id": 3, "action": "created", "reason": "via email",
                           **when}]),
        ("outbox_mail", [
            {"id": 1, "to_addr": "carla@example.test", "subject": "[HD-1] Re: Printer on fire",
             "body_text": "Unplug it", "headers": {}, "status": "sent", "attempts": 1,
             "ticket_id": 1, "created_at": T0, "sent_at": T0},
            {"id": 2, "to_addr": "carla@example.test", "subject": "Queued before the upgrade", "body_text": "Hi",
             "headers": {}, "status": "queued", "attempts": 0, "ticket_id": 1, "created_at": T0}]),
        ("hello_greetings", [{"id": 1, "ticket_id": 1, **when}]),
        ("email_message_ids", [{"id": 1, "msgid_hash": "a" * 64, "message_id_header": "<fire@example.test>",
                                "ticket_id": 1, "message_id": 1, "direction": "in", **when}]),
        ("email_raw_messages", [{"id": 1, "message_id": 1, "raw": b"Subject: Printer on fire\r\n\r\nsmoking",
                                 "full_text": "smoking", "quoted": "", "signature": "", **when}]),
        ("email_quarantine", [{"id": 1, "kind": "loop", "reason": "mail loop", "sender": "daemon@example.test",
                               "subject": "Auto", "message_id_hash": "b" * 64, "raw": b"Subject: Auto\r\n\r\nx",
                               "size": 19, "source": "pipe", **when}]),
        ("email_acks", [{"id": 1, "address": "carla@example.test", "ticket_id": 1, "sent_at": T0}]),
        ("complaints_flags", [{"id": 1, "ticket_id": 1, "score": 0.8, "signals": {"words": ["fire"]},
                               "source": "auto", "flagged_at": T0}]),
        ("recognition_kudos", [{"id": 1, "recipient_id": 2, "giver_id": 1, "source": "peer", "ticket_id": 1,
                                "message": "Calm under fire", **when}]),
        ("surveys_invitations", [{"id": 1, "kind": "csat", "purpose": "ticket", "customer_id": 3, "ticket_id": 2,
                                  "agent_id": 2, "team_id": 1, "channel": "web", "status": "sent", "send_after": T0,
                                  "sent_at": T0, **when}]),
        ("surveys_responses", [{"id": 1, "invitation_id": 1, "kind": "csat", "score": 5, "comment": "Quick!",
                                "customer_id": 3, "ticket_id": 2, "agent_id": 2, "team_id": 1, "channel": "web",
                                "source": "survey", "day": T0.date(), "updated_at": T0, **when}]),
    ]


def _fill(engine: sa.Engine) -> dict[str, int]:
    meta = sa.MetaData()
    meta.reflect(bind=engine)
    rows = _rows()
    with engine.begin() as conn:
        for name, table_rows in rows:
            for row in table_rows:  # one by one: the rows of a table give different columns
                conn.execute(meta.tables[name].insert(), row)
        if engine.dialect.name == "postgresql":
            for name, _table_rows in rows:
                if "id" in meta.tables[name].c:
                    conn.execute(sa.text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                                         f"(SELECT max(id) FROM \"{name}\"))"))
        else:  # the search index of the release (core_0003 builds it from the rows it finds)
            conn.execute(sa.text("DELETE FROM search_index"))
            conn.execute(sa.text(
                "INSERT INTO search_index(rowid, public, internal) SELECT t.id, t.subject || coalesce(char(10) || "
                "(SELECT group_concat(m.body, char(10)) FROM messages m WHERE m.ticket_id = t.id AND m.internal = 0),"
                " ''), coalesce((SELECT group_concat(m.body, char(10)) FROM messages m WHERE m.ticket_id = t.id "
                "AND m.internal = 1), '') FROM tickets t"))
    return {name: len(table_rows) for name, table_rows in rows}


def test_upgrade_from_the_previous_release_keeps_data_and_the_app_works(release_url, tmp_path, monkeypatch):
    from helpdesk import create_app
    from helpdesk.extensions import db

    instance = tmp_path / "instance"
    instance.mkdir()
    config = {"TESTING": True, "INSTANCE_PATH": str(instance), "SECRET_KEY": "upgrade-test",
              "SQLALCHEMY_DATABASE_URI": release_url, "JOBS_IMMEDIATE": True, "WTF_CSRF_ENABLED": False,
              "EXTERNAL_URL": "http://helpdesk.test", "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"}
    old = create_app(config)
    with old.app_context():
        for revision in RELEASE_65E2FAF:
            flask_migrate.upgrade(revision=revision)
        engine = db.engine
        counts = _fill(engine)
        db.session.remove()
        engine.dispose()

    # the real command, as an operator runs it
    monkeypatch.setenv("HELPDESK_INSTANCE_PATH", str(instance))
    monkeypatch.setenv("HELPDESK_DATABASE_URL", release_url)
    for name in ("HELPDESK_REDIS_URL", "HELPDESK_SAFE_MODE", "HELPDESK_DISABLED_PLUGINS"):
        monkeypatch.delenv(name, raising=False)
    result = CliRunner().invoke(main, ["db", "upgrade"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "core_0011" in result.output and "email_0003" in result.output
    assert "Database is up to date." in result.output

    app = create_app(config)
    with app.app_context():
        from helpdesk.schema_state import behind

        with db.engine.connect() as conn:
            assert behind(app, conn) is None
            for name, count in counts.items():
                if name != "email_acks":
                    assert conn.scalar(sa.text(f'SELECT count(*) FROM "{name}"')) == count, name
            assert not sa.inspect(conn).has_table("email_acks")  # dropped by email_0002, as designed
            quarantine = conn.execute(sa.text("SELECT size, stored_size, storage FROM email_quarantine")).one()
            assert tuple(quarantine) == (19, 19, "raw")
            assert conn.scalar(sa.text("SELECT version FROM tickets WHERE id = 1")) == 1
            assert conn.scalar(sa.text("SELECT team_scoped FROM users WHERE id = 2")) in (False, 0)
            raw = conn.scalar(sa.text("SELECT raw FROM email_raw_messages"))
            assert bytes(raw) == b"Subject: Printer on fire\r\n\r\nsmoking"
        # a mail queued by the old release is picked up by the sweeper (no SMTP here: kept in the outbox)
        from helpdesk.models import OutboxMail
        from helpdesk.services.delivery import sweep

        sweep()
        db.session.expire_all()
        assert db.session.get(OutboxMail, 2).status == "kept"
        assert db.session.get(OutboxMail, 1).status == "sent"
        db.session.remove()

    client = app.test_client()
    # the agent signs in with the password of the old release and works on the old ticket
    login = client.post("/login", data={"email": "alex@example.test", "password": PASSWORD})
    assert login.status_code == 302, login.text
    page = client.get("/tickets/HD-1")
    assert page.status_code == 200
    for text in ("Printer on fire", "The printer in room 4 is smoking.", "Unplug it, Carla.",
                 "Facilities informed (quokka).", "printer"):
        assert text in page.text
    found = client.get("/queue?q=quokka")
    assert found.status_code == 200 and "Printer on fire" in found.text
    reply = client.post("/tickets/HD-1", data={"body": "Fixed after the upgrade.", "send_anyway": "y"})
    assert reply.status_code in (200, 302), reply.text
    assert "Fixed after the upgrade." in client.get("/tickets/HD-1").text
    # the customer still sees her tickets; the admin's plugin pages still open
    client.post("/logout")
    client.post("/login", data={"email": "carla@example.test", "password": PASSWORD})
    portal = client.get("/portal/")
    assert "Printer on fire" in portal.text and "Invoice question" in portal.text
    assert client.get("/readyz").status_code == 200
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
