"""Fixtures for the insights plugin's tests: a real SMTP sink on loopback, a seeded corpus."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
if str(ROOT / "tests") not in sys.path:  # the core's SMTP sink and page-text helpers live in tests/
    sys.path.insert(0, str(ROOT / "tests"))

from smtp_sink import SMTPServer, free_port  # noqa: E402


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def smtp(smtp_port):
    server = SMTPServer(smtp_port).start()
    yield server
    server.stop()


@pytest.fixture
def app_config(request, smtp_port):
    config = {"EXTERNAL_URL": "https://support.acme.test", "MAIL_FROM": "help@acme.test"}
    if "smtp" in request.fixturenames:
        config.update({"SMTP_HOST": "127.0.0.1", "SMTP_PORT": smtp_port})
    return config
