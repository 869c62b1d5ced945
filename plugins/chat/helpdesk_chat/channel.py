"""The ``chat`` channel: replies reach the visitor live; a visitor who left gets them by email."""
from __future__ import annotations

from sqlalchemy import or_, select

from helpdesk.plugin_api import (
    Channel,
    Message,
    Ticket,
    User,
    customer_locale,
    db_session,
    gettext,
    lazy_gettext,
    queue_mail,
)
from helpdesk_chat import visitors
from helpdesk_chat.models import ChatVisitor


def visitor_of_ticket(ticket_id: int) -> ChatVisitor | None:
    """The visitor chatting on this ticket, or on a ticket merged into it."""
    merged = select(Ticket.id).where(Ticket.merged_into_id == ticket_id)
    return db_session().scalar(select(ChatVisitor).where(
        or_(ChatVisitor.ticket_id == ticket_id, ChatVisitor.ticket_id.in_(merged)))
        .order_by(ChatVisitor.last_seen_at.desc()).limit(1))


def last_customer_channel(ticket: Ticket) -> str | None:
    return db_session().scalar(select(Message.channel).where(
        Message.ticket_id == ticket.id, Message.author_id == ticket.customer_id, Message.internal.is_(False))
        .order_by(Message.id.desc()).limit(1))


class ChatChannel(Channel):
    """Chats (``channel="chat"``). The core's live channel already carries the reply to the
    widget (the widget's stream listens to ``ticket:<id>``); ``deliver`` adds the email for a
    visitor who is away and gave an address, so the conversation continues by mail."""

    def __init__(self) -> None:
        super().__init__(name="chat", label=lazy_gettext("Website chat"), plugin="chat")

    def deliver(self, ticket: Ticket, message: Message) -> None:
        visitor = visitor_of_ticket(ticket.id)
        if visitor is None or not visitor.email or not visitors.is_away(visitor):
            return  # seen live in the widget
        # The footer in the customer's language (their preference, else the site's), whoever replied.
        with customer_locale(visitors.customer_of(visitor)):
            author = message.author.first_name if message.author else gettext("Support")
            if visitor.origin:
                footer = gettext("You wrote to us in the chat on %(site)s (%(reference)s). Open the chat there "
                                 "again to answer, or reply to this email.", site=visitor.origin,
                                 reference=ticket.reference)
            else:
                footer = gettext("You wrote to us in the chat on our website (%(reference)s). Open the chat "
                                 "there again to answer, or reply to this email.", reference=ticket.reference)
        text = f"{message.body}\n\n-- \n{author}\n\n{footer}\n"
        queue_mail(visitor.email, f"[{ticket.reference}] {ticket.subject}", text, ticket_id=ticket.id)

    def notify(self, customer: User, subject: str, text: str, *, ticket: Ticket | None = None,
               html: str | None = None, headers: dict[str, str] | None = None) -> bool:
        """Notices (survey invitations, acknowledgements) go to the address the visitor gave;
        a visitor without one cannot be reached outside the widget."""
        visitor = visitor_of_ticket(ticket.id) if ticket is not None else None
        if visitor is None or not visitor.email:
            return False
        queue_mail(visitor.email, subject, text, html=html, headers=headers,
                   ticket_id=ticket.id if ticket is not None else None)
        return True


