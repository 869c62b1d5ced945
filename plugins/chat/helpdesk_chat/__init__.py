"""Website chat: a widget any site embeds with one script tag; chats are tickets on channel ``chat``.

See the plugin's README for embedding, verified identities and the rules (allowed origins,
limits, business hours, continuing by email).
"""
from __future__ import annotations

from pathlib import Path
from types import ModuleType

from flask import Blueprint

from helpdesk import hookimpl
from helpdesk.plugin_api import Channel, Message, Setting, Ticket
from helpdesk_chat import access_rules
from helpdesk_chat.channel import ChatChannel, last_customer_channel
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


@hookimpl
def helpdesk_reply_channel(ticket: Ticket, message: Message) -> str | None:
    """A ticket the customer continued in the chat (merged with their SMS or email ticket) is
    answered in the chat (and by email if they left and gave an address)."""
    if ticket.channel != "chat" and last_customer_channel(ticket) == "chat":
        return "chat"
    return None
