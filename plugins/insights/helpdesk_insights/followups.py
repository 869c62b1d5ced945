""""You said, we did": the lead's action told to every customer who raised a theme, once each.

Each customer hears about their own most recent ticket in the theme, through that ticket's
channel (the core's ``notify_customer``: its hourly notice cap and no-reply guard hold).
Customers who opted out are skipped; a notice the core held back can be sent again later.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from helpdesk.plugin_api import (
    Message,
    ServiceError,
    Ticket,
    User,
    customer_address,
    db_session,
    external_url,
    gettext,
    services,
    utcnow,
)
from helpdesk_insights.models import InsightsFollowUp, InsightsOptOut, InsightsText, InsightsTheme

SALT = "insights-optout"
OPTOUT_DAYS = 180


@dataclass
class Recipient:
    customer: User
    ticket: Ticket | None
    quote: str
    status: str  # "send", "sent", "opted out", "unreachable"
    channel: str


def optout_token(customer_id: int) -> str:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT).dumps(customer_id)


def read_optout(token: str) -> int | None:
    try:
        value = URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT).loads(
            token, max_age=OPTOUT_DAYS * 86400)
    except BadSignature:
        return None
    return value if isinstance(value, int) else None


def opt_out(customer_id: int) -> None:
    if db_session().get(InsightsOptOut, customer_id) is None:
        db_session().add(InsightsOptOut(customer_id=customer_id))
        db_session().commit()


def recipients(theme: InsightsTheme) -> list[Recipient]:
    """Every customer who raised the theme, with their newest text and what will happen."""
    texts = list(db_session().scalars(
        select(InsightsText).where(InsightsText.theme_id == theme.id, InsightsText.customer_id.is_not(None))
        .options(selectinload(InsightsText.customer).selectinload(User.identities),
                 selectinload(InsightsText.ticket))
        .order_by(InsightsText.created_at.desc(), InsightsText.id.desc())))
    done = {f.customer_id: f.status for f in db_session().scalars(
        select(InsightsFollowUp).where(InsightsFollowUp.theme_id == theme.id))}
    opted = set(db_session().scalars(select(InsightsOptOut.customer_id).where(
        InsightsOptOut.customer_id.in_({t.customer_id for t in texts}))))
    seen: dict[int, Recipient] = {}
    for text in texts:
        customer = text.customer
        if customer is None or customer.id in seen or customer.role != "customer" or not customer.active:
            continue
        ticket = text.ticket
        if ticket is None:  # a comment on no ticket: their newest ticket in the theme, if any, comes later
            pass
        if done.get(customer.id) == "sent":
            status = "sent"
        elif customer.id in opted:
            status = "opted out"
        elif (ticket is None or ticket.channel in ("web", "email")) and not customer_address(customer):
            status = "unreachable"
        else:
            status = "send"
        seen[customer.id] = Recipient(customer, ticket, text.text, status, ticket.channel if ticket else "email")
    return sorted(seen.values(), key=lambda r: (r.status != "send", (r.customer.name or "").lower()))


def topic(theme: InsightsTheme) -> str:
    """What the customer wrote about, in words they would use: the name an admin gave the
    theme, else its strongest key phrase (a generated name lists several)."""
    if theme.named_by_hand or not theme.key_phrases:
        return theme.name
    return theme.key_phrases[0]


def message_for(theme: InsightsTheme, recipient: Recipient) -> tuple[str, str]:
    """Subject and text of one customer's notice (plain text: SMS and chat channels send only it)."""
    name = (recipient.customer.name or "").split(" ")[0] or "there"
    about = f"in {recipient.ticket.reference} " if recipient.ticket is not None else ""
    subject = f"You told us about {topic(theme).lower()}: here is what we did"
    link = external_url("insights.optout", optout_token=optout_token(recipient.customer.id))
    text = (f"Hello {name},\n\nYou wrote to us {about}about {topic(theme).lower()}. "
            f"Thank you: you were not the only one, and we acted on it.\n\nWhat changed: {theme.action}\n\n"
            f"If anything is still not right, just reply to this message.\n\n"
            f"No more messages like this one: {link}\n")
    return subject, text


def send(theme: InsightsTheme, actor: User, *, expected: int | None = None, now: datetime | None = None) -> dict:
    """Send the theme's action to each customer due one; returns counts by outcome.

    ``expected`` is the count the lead saw in the preview: if more customers are due now
    (new tickets arrived meanwhile), nothing is sent and the lead previews again.
    """
    if not (theme.action or "").strip():
        raise ServiceError(gettext('Say first what you did about this theme (the action).'), field="action")
    due = [r for r in recipients(theme) if r.status == "send"]
    if expected is not None and len(due) > expected:
        raise ServiceError(
            gettext('%(value)s customers are due now, not the %(expected)s you previewed: look at the preview again.',
                    value=len(due), expected=expected))
    now = now or utcnow()
    counts = {"sent": 0, "held": 0}
    existing = {f.customer_id: f for f in db_session().scalars(
        select(InsightsFollowUp).where(InsightsFollowUp.theme_id == theme.id))}
    for recipient in due:
        subject, text = message_for(theme, recipient)
        ok = services.notify_customer(recipient.customer, subject, text, ticket=recipient.ticket, now=now)
        row = existing.get(recipient.customer.id) or InsightsFollowUp(theme_id=theme.id,
                                                                      customer_id=recipient.customer.id)
        row.ticket_id = recipient.ticket.id if recipient.ticket is not None else None
        row.channel, row.action, row.sent_by_id, row.sent_at = recipient.channel, theme.action, actor.id, now
        row.status = "sent" if ok else "held"
        row.reason = None if ok else "held back by the notice rules (hourly cap, or an address nobody reads)"
        db_session().add(row)
        db_session().commit()
        counts["sent" if ok else "held"] += 1
    return counts


def record(theme: InsightsTheme) -> list[InsightsFollowUp]:
    return list(db_session().scalars(
        select(InsightsFollowUp).where(InsightsFollowUp.theme_id == theme.id)
        .options(selectinload(InsightsFollowUp.customer), selectinload(InsightsFollowUp.ticket))
        .order_by(InsightsFollowUp.sent_at.desc(), InsightsFollowUp.id)))


def set_action(theme: InsightsTheme, action: str, actor: User) -> None:
    action = " ".join((action or "").split())
    if not action:
        raise ServiceError(gettext('Say what you did, e.g. “Fixed in 2.3” or “We changed the returns policy”.'),
                           field="action")
    if len(action) > 500:
        raise ServiceError(gettext('The action is 500 characters at most.'), field="action")
    theme.action, theme.action_by_id, theme.action_at = action, actor.id, utcnow()
    db_session().commit()


def customer_replied(ticket: Ticket, message: Message) -> None:
    """A customer's reply on a ticket we followed up: the follow-up was answered."""
    if message.internal or message.author_id != ticket.customer_id:
        return
    rows = list(db_session().scalars(select(InsightsFollowUp).where(
        InsightsFollowUp.ticket_id == ticket.id, InsightsFollowUp.status == "sent",
        InsightsFollowUp.answered_at.is_(None))))
    changed = False
    for row in rows:
        if row.sent_at <= (message.created_at or utcnow()):
            row.answered_at = message.created_at or utcnow()
            changed = True
    if changed:
        db_session().commit()
