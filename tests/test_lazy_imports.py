"""Libraries a web process does not need are not imported by ``create_app()`` (issue 19).

Each web worker pays for every module it imports, in memory (numpy alone is about 16 MiB a
process) and in start-up time (every ``helpdesk`` command). The modules below are imported
where they are used: in jobs, in the views that fetch or ingest mail, when a secret is
decrypted, when the first job is queued. A fresh Python process (so that nothing the test
run imported counts) makes the app with every installed plugin, on a SQLite instance with no
Redis, and lists what it loaded.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

# Each name: a module (or package) ``create_app()`` must not import, and where it is used.
DEFERRED = {
    "numpy": "helpdesk_insights.engine: fitting and splitting themes (jobs)",
    "sklearn": "helpdesk_insights.engine and the complaint model's training (jobs)",
    "scipy": "scikit-learn's dependency",
    "huey": "helpdesk.jobs: when the first job is queued or a worker starts",
    "redis": "imported by huey and by the Redis stores, when configured",
    "psycopg": "imported by huey; SQLAlchemy imports it for a PostgreSQL database",
    "imaplib": "helpdesk_email.imap: polling and testing a mailbox",
    "helpdesk_email.imap": "the mailbox views and `helpdesk mail poll`",
    "helpdesk_email.ingest": "the webhook, quarantine views and `helpdesk mail ingest`",
    "vaderSentiment": "helpdesk_insights.engine.sentiment: when a text is ingested",
    "helpdesk.cli": "the `helpdesk` command",
    "helpdesk.db_copy": "`helpdesk db copy`",
    "helpdesk.demo": "`helpdesk demo`",
    "cryptography": "plugin_manager, plugin_api and the API-token page, where a secret is encrypted or decrypted",
}

SCRIPT = """
import json, sys
from helpdesk import create_app
create_app({"RATELIMIT_ENABLED": False})
print("MODULES=" + json.dumps(sorted(sys.modules)))
"""


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    instance = tmp_path_factory.mktemp("instance")
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("HELPDESK_", "PROMETHEUS_"))}  # SQLite, no Redis, no metrics folder
    env["HELPDESK_INSTANCE_PATH"] = str(instance)
    env["HELPDESK_SECRET_KEY"] = "lazy-imports-test"
    out = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parent.parent)
    line = next(line for line in out.stdout.splitlines() if line.startswith("MODULES="))
    return set(json.loads(line[len("MODULES="):]))


def test_every_plugin_is_loaded(loaded: set[str]) -> None:
    """The check below means something only if the plugins that use those libraries are there."""
    assert {"helpdesk_insights", "helpdesk_email", "helpdesk_complaints"} <= loaded


@pytest.mark.parametrize("module", sorted(DEFERRED))
def test_create_app_does_not_import(loaded: set[str], module: str) -> None:
    imported = sorted(name for name in loaded if name == module or name.startswith(module + "."))
    assert imported == [], f"create_app() imported {module} ({DEFERRED[module]} imports it where needed)"
