"""The core's own hook implementations, registered as the always-enabled plugin ``core``.

They are the defaults plugins override or add to: the ``web`` channel, and the reply
guardrails every helpdesk wants.
"""
from __future__ import annotations

import re

from helpdesk.contract import Channel, ReplyWarning
from helpdesk.i18n import customer_locale, gettext, lazy_gettext
from helpdesk.markers import hookimpl
from helpdesk.models import Message, Ticket
from helpdesk.richtext import mail_html
from helpdesk.services.mail import queue_mail
from helpdesk.web.links import external_url

GREETING = re.compile(r"^\s*(hi|hello|hey|dear|good (morning|afternoon|evening)|hallo|bonjour|hola)\b",
                      re.IGNORECASE)


class WebChannel(Channel):
    """Portal tickets: the customer reads replies in the portal and is told by email."""

    def __init__(self) -> None:
        super().__init__(name="web", label=lazy_gettext("Web portal"))

    def deliver(self, ticket: Ticket, message: Message) -> None:
        customer = ticket.customer
        address = customer.email or next(
            (i.value for i in customer.identities if i.kind == "email" and not i.bouncing), None)
        if not address:
            return
        link = external_url("portal.ticket", reference=ticket.reference)
        with customer_locale(customer):  # the footer in the customer's language
            author = message.author.name if message.author else gettext("Support")
            follow = gettext("Reply or follow %(reference)s here: %(link)s", reference=ticket.reference, link=link)
        text = f"{message.body}\n\n-- \n{author}\n\n{follow}\n"
        html = mail_html(message, ["-- ", author, "", follow])
        queue_mail(address, f"[{ticket.reference}] Re: {ticket.subject}", text, html=html, ticket_id=ticket.id)


@hookimpl
def helpdesk_channels() -> list[Channel]:
    return [WebChannel()]


@hookimpl
def helpdesk_reply_checks(ticket: Ticket, body: str) -> list[ReplyWarning]:
    """Advice by default (Admin → Reply checks switches each off, or makes it blocking)."""
    warnings = []
    first_line = next((line for line in body.splitlines() if line.strip()), "")
    first_name = ticket.customer.first_name
    if first_name and (not GREETING.match(first_line) or first_name.lower() not in first_line.lower()):
        warnings.append(ReplyWarning("greeting", f"You did not greet the customer by name (try \"Hi {first_name},\")."))
    if ticket.reference.lower() not in body.lower():
        warnings.append(ReplyWarning("reference", f"This reply has no ticket reference ({ticket.reference}); "
                                     "it helps the customer find the conversation later."))
    return warnings

