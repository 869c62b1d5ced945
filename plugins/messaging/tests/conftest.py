"""Fixtures: a loopback provider server, the providers' secrets and base URLs as settings."""
from __future__ import annotations

import pytest
from messaging_testkit import EXTERNAL, SECRETS, Provider


@pytest.fixture
def provider():
    server = Provider()
    yield server
    server.server.shutdown()


@pytest.fixture
def app_config():
    return {"EXTERNAL_URL": EXTERNAL}


@pytest.fixture(autouse=True)
def messaging_settings(monkeypatch, provider):
    for name, value in SECRETS.items():
        monkeypatch.setenv(f"HELPDESK_PLUGIN_MESSAGING_{name}", value)
    for name in ("TWILIO", "TELEGRAM", "WHATSAPP", "SLACK", "SOCIAL"):
        monkeypatch.setenv(f"HELPDESK_PLUGIN_MESSAGING_{name}_BASE_URL", provider.url)
