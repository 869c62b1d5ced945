"""Messaging: SMS (Twilio-style), Telegram- and WhatsApp-style bots, Slack-style workplace chat
and social mentions (Mastodon-style) as tickets; agents' replies go back through each provider.

See the plugin's README for the webhooks, what is verified and how replies are sent.
"""
from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

from flask import Blueprint, render_template
from markupsafe import Markup

from helpdesk import hookimpl
from helpdesk.plugin_api import Channel, Message, NotificationKind, Setting, Ticket, lazy_gettext
from helpdesk_messaging import access_rules, contacts  # noqa: F401  (routes register on import)
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


CONTACT_CHANNELS = NAMES | {"chat"}  # tickets whose customer record may be a stranger to link


@hookimpl
def helpdesk_notification_kinds() -> list[NotificationKind]:
    return [NotificationKind("messaging.incoming_call", lazy_gettext("A customer is calling (the call's ticket)"),
                             default="app")]


@hookimpl
def helpdesk_template_slot(slot: str, context: dict[str, Any]) -> Markup | None:
    """The ticket sidebar's "Log a call" and "Link this contact" links, from the ticket in the
    page's context only: no statement is added to the ticket page."""
    user = context.get("user")
    if slot != "ticket.sidebar" or user is None or not getattr(user, "is_staff", False):
        return None
    ticket = context["ticket"]
    return Markup(render_template("messaging/sidebar.html", ticket=ticket,
                                  channel_contact=ticket.channel in CONTACT_CHANNELS))
