"""Delivering agents' public replies through each ticket's channel."""
from __future__ import annotations

import logging

from helpdesk.extensions import db
from helpdesk.jobs import task
from helpdesk.models import Message
from helpdesk.plugin_manager import manager

log = logging.getLogger(__name__)


@task(retries=5, retry_delay=60)
def deliver_message(message_id: int) -> None:
    """Hand a public reply to the channel its ticket belongs to (the ``web`` one by default)."""
    message = db.session.get(Message, message_id)
    if message is None or message.internal:
        return
    ticket = message.ticket
    channels = manager().channels()
    channel = channels.get(ticket.channel)
    if channel is None:
        log.warning("channel %s of %s is not available; notifying by web/email",
                    ticket.channel, ticket.reference)
        channel = channels["web"]
    channel.deliver(ticket, message)
