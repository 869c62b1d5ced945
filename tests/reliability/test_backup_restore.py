"""`helpdesk backup` of a running helpdesk, restored the way docs/operations.md says:
every row of every table is back, every attachment, the keys and the config."""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from helpdesk import services
from helpdesk.services.tickets import NewAttachment

HELPDESK = str(Path(sys.executable).parent / "helpdesk")


@pytest.fixture
def app_config() -> dict:
    return {}


def all_rows(url: str) -> dict[str, list[tuple]]:
    """Every row of every table (sorted), read with plain SQL."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return {name: sorted((tuple(row) for row in conn.execute(sa.text(f'SELECT * FROM "{name}"'))), key=repr)
                    for name in sa.inspect(conn).get_table_names()}
    finally:
        engine.dispose()


def test_a_backup_restores_every_row_attachment_and_key(app, db, customer, agent, tmp_path):
    (Path(app.instance_path) / "config.py").write_text('HELPDESK_NAME = "Acme Support"\n')
    for n in range(5):
        ticket = services.create_ticket(customer, f"Backup {n}", f"Question {n}", attachments=[
            NewAttachment(f"screenshot-{n}.png", f"png bytes {n}".encode(), "image/png")])
        services.add_message(ticket, agent, f"Answer {n}")  # a delivery and an outbox mail
        services.update_ticket(ticket, agent, status="pending")
    (Path(app.instance_path) / "secrets.key").write_text("the-secrets-key")
    source_url = app.config["SQLALCHEMY_DATABASE_URI"]
    before = all_rows(source_url)
    assert len(before["tickets"]) == 5 and len(before["messages"]) == 10 and before["deliveries"]

    backup = tmp_path / "backup"
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELPDESK_")}
    env.update(HELPDESK_INSTANCE_PATH=app.instance_path, HELPDESK_SQLALCHEMY_DATABASE_URI=source_url,
               HELPDESK_SECRET_KEY="test-secret")
    done = subprocess.run([HELPDESK, "backup", str(backup)], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Backup complete" in done.stdout and "(5 attachments)" in done.stdout

    # Restore into a new instance, as docs/operations.md says.
    restored = tmp_path / "restored"
    restored.mkdir()
    for name in ("config.py", "secret_key", "secrets.key", "huey.sqlite3"):
        if (backup / name).exists():
            shutil.copy2(backup / name, restored / name)
    shutil.copytree(backup / "attachments", restored / "attachments")
    if source_url.startswith("sqlite"):
        shutil.copy2(backup / "helpdesk.sqlite3", restored / "helpdesk.sqlite3")
        restored_url = f"sqlite:///{restored / 'helpdesk.sqlite3'}"
        drop = None
    else:
        server = sa.engine.make_url(source_url)
        name = f"helpdesk_restore_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        restored_url = server.set(database=name).render_as_string(hide_password=False)
        plain = server.set(drivername="postgresql", database=name).render_as_string(hide_password=False)
        result = subprocess.run(["pg_restore", "--no-owner", f"--dbname={plain}", str(backup / "helpdesk.dump")],
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr

        def drop() -> None:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    try:
        assert all_rows(restored_url) == before
    finally:
        if drop:
            drop()
    assert (restored / "secrets.key").read_text() == "the-secrets-key"
    assert 'HELPDESK_NAME = "Acme Support"' in (restored / "config.py").read_text()
    for path in (Path(app.instance_path) / "attachments").rglob("*"):
        if path.is_file():
            copy = restored / "attachments" / path.relative_to(Path(app.instance_path) / "attachments")
            assert hashlib.sha256(copy.read_bytes()).digest() == hashlib.sha256(path.read_bytes()).digest()
