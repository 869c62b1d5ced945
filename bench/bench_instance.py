"""A migrated Helpdesk app on a fresh database, for the benchmarks (imported as ``bench_instance``).

SQLite in the run's folder by default; with a PostgreSQL server URL, a throwaway database on
that server, dropped again by the returned ``cleanup``.
"""
from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa


def migrated_app(label: str, folder: str, database_url: str | None = None,
                 **config: Any) -> tuple[Any, Callable[[], None]]:
    """Create the app (jobs run immediately, ``TESTING``), migrate every branch to its head and
    return ``(app, cleanup)``; ``config`` adds or overrides settings (e.g. ``WTF_CSRF_ENABLED``)."""
    import flask_migrate

    from helpdesk import create_app

    settings: dict[str, Any] = {"INSTANCE_PATH": folder, "SECRET_KEY": "bench", "JOBS_IMMEDIATE": True,
                                "TESTING": True, **config}
    cleanup: Callable[[], None] = lambda: None  # noqa: E731
    if database_url:
        server = database_url.replace("postgresql://", "postgresql+psycopg://", 1)
        name = f"helpdesk_bench_{label}_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        settings["SQLALCHEMY_DATABASE_URI"] = sa.engine.make_url(server).set(database=name).render_as_string(
            hide_password=False)

        def cleanup() -> None:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    else:
        settings["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{os.path.join(folder, f'{label}.sqlite3')}"
    app = create_app(settings)
    with app.app_context():
        flask_migrate.upgrade(revision="heads")
    return app, cleanup
