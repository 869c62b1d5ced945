"""Messaging: SMS (Twilio-style), Telegram- and WhatsApp-style bots, Slack-style workplace chat
and social mentions (Mastodon-style) as tickets; agents' replies go back through each provider.

See the plugin's README for the webhooks, what is verified and how replies are sent.
"""
from __future__ import annotations

from pathlib import Path
from types import ModuleType

from flask import Blueprint

from helpdesk import hookimpl
from helpdesk.plugin_api import Channel, Message, Setting, Ticket
from helpdesk_messaging import access_rules
from helpdesk_messaging.channels import CHANNELS, NAMES, last_customer_message
from helpdesk_messaging.config import SETTINGS
from helpdesk_messaging.views import bp

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
    return list(CHANNELS)


@hookimpl
def helpdesk_reply_channel(ticket: Ticket, message: Message) -> str | None:
    """Answer where the customer last wrote: a chat ticket the customer continued by SMS (merged,
    or the same ticket) is answered by SMS."""
    last = last_customer_message(ticket)
    if last is not None and last.channel in NAMES and last.channel != ticket.channel:
        return last.channel
    return None
