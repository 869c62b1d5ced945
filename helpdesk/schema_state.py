"""Where a database's schema stands against the code: the revisions it has and those expected."""
from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import inspect, text


def expected_heads(app: Flask) -> set[str]:
    """The head revisions of the core and of every installed plugin (read once per process)."""
    heads = app.extensions.get("helpdesk_schema_heads")
    if heads is None:
        from alembic.script import ScriptDirectory

        with app.app_context():
            config = app.extensions["migrate"].migrate.get_config()
            heads = set(ScriptDirectory.from_config(config).get_heads())
        app.extensions["helpdesk_schema_heads"] = heads
    return heads


def current_revisions(connection: Any) -> set[str]:
    """The revisions recorded in ``alembic_version`` (empty when the database is not set up)."""
    if not inspect(connection).has_table("alembic_version"):
        return set()
    return {row[0] for row in connection.execute(text("SELECT version_num FROM alembic_version"))}


def behind(app: Flask, connection: Any) -> str | None:
    """Why the schema is not at head (for people), or None when it is."""
    current, wanted = current_revisions(connection), expected_heads(app)
    if current == wanted:
        return None
    if not current:
        return "the database is not set up: run `helpdesk init` (or `helpdesk db upgrade`)"
    return ("schema is not at head: run `helpdesk db upgrade` "
            f"(missing {', '.join(sorted(wanted - current)) or 'none'}; "
            f"the database has {', '.join(sorted(current))})")
