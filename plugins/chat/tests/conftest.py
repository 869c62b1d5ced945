"""Fixtures for the chat plugin's tests: an allowed origin, a JSON widget client."""
from __future__ import annotations

import pytest
from chat_testkit import SECRET, SITE, Widget


@pytest.fixture(autouse=True)
def chat_settings(monkeypatch):
    monkeypatch.setenv("HELPDESK_PLUGIN_CHAT_ALLOWED_ORIGINS", SITE)
    monkeypatch.setenv("HELPDESK_PLUGIN_CHAT_IDENTITY_SECRET", SECRET)


@pytest.fixture
def widget(client):
    return Widget(client)
