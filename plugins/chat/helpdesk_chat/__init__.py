"""Website chat: a widget any site embeds with one script tag; chats are tickets on channel ``chat``.

See the plugin's README for embedding, verified identities and the rules (allowed origins,
limits, business hours, continuing by email).
"""
from __future__ import annotations

from pathlib import Path
from types import ModuleType

from flask import Blueprint

from helpdesk import hookimpl
from helpdesk.plugin_api import Channel, Setting
from helpdesk_chat import access_rules
from helpdesk_chat.channel import ChatChannel
from helpdesk_chat.config import SETTINGS
from helpdesk_chat.views import bp

__version__ = "0.1.0"
requires_api = ">=1.2,<2"


@hookimpl
def helpdesk_settings() -> list[Setting]:
    return SETTINGS


@hookimpl
def helpdesk_blueprints() -> list[Blueprint]:
    return [bp]


@hookimpl
def helpdesk_access_rules() -> ModuleType:
    return access_rules


@hookimpl
def helpdesk_migrations() -> str:
    return str(Path(__file__).parent / "migrations")


@hookimpl
def helpdesk_channels() -> list[Channel]:
    return [ChatChannel()]
