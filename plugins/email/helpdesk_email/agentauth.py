"""Agents' replies by mail: who may speak for the helpdesk, and how we know.

A mail from an agent's address is an agent's reply (sent on to the customer) only when

1. it answers a notice we mailed to *that* agent about *that* ticket: its In-Reply-To or
   References name the notice's Message-ID (``t{ticket}.a{agent}k{nonce}.{hmac}@…``), or it
   was sent to the notice's signed plus-address (``support+a{agent}t{ticket}-{hmac}@…``);
   both carry an HMAC of the app's secret key, so they cannot be guessed or altered; and
2. its From address is that agent's address; and
3. when the admin names the trusted mail server (setting ``authserv_id``), that server's
   ``Authentication-Results`` header shows ``dmarc=pass``, or ``dkim=pass`` / ``spf=pass``
   for a domain aligned with the From address.

Anything else from a staff address is kept as an internal note marked "unverified — not
sent": the agents see it, the customer never gets it.
"""
from __future__ import annotations

import re
from email.message import Message as MimeMessage

from flask import current_app
from sqlalchemy import select

from helpdesk.plugin_api import (
    Text,
    Ticket,
    User,
    customer_locale,
    db_session,
    get_setting,
    gettext,
    lazy_gettext,
    queue_mail,
    site_setting,
)
from helpdesk_email import msgids
from helpdesk_email.mime import ParsedMail, decode_header_value

PLUGIN = "email"
RECIPIENT_HEADERS = ("To", "Cc", "Delivered-To", "X-Original-To", "Envelope-To")
_RESULT = re.compile(r"^\s*([a-z0-9_-]+)\s*=\s*([a-z]+)", re.IGNORECASE)
_PROPERTY = re.compile(r"\b(header\.d|header\.i|header\.from|smtp\.mailfrom)\s*=\s*\"?([^\s;\"]+)", re.IGNORECASE)
UNVERIFIED = lazy_gettext("Unverified — not sent")


def unverified_reason(parsed: ParsedMail, msg: MimeMessage, staff: User, ticket: Ticket) -> Text | None:
    """None when the mail is ``staff``'s authenticated reply on ``ticket``; else why it is not
    (a lazy text: stored with its words, read in each agent's language)."""
    tokens = _tokens(parsed, msg)
    targets = _ticket_and_merged(ticket)
    if not any(agent_id == staff.id and ticket_id in targets for ticket_id, agent_id in tokens):
        if any(ticket_id in targets for ticket_id, _agent in tokens):
            return lazy_gettext("it answers a notice we sent to another agent, not to %(address)s.",
                                address=staff.email)
        return lazy_gettext("it does not answer a notice we mailed to %(address)s about %(reference)s "
                            "(reply to that notice to answer a customer by mail).",
                            address=staff.email, reference=ticket.reference)
    trusted = (get_setting(PLUGIN, "authserv_id") or "").strip().lower()
    if trusted:
        problem = authentication_problem(msg, trusted, parsed.from_address or "")
        if problem:
            return problem
    return None


def _ticket_and_merged(ticket: Ticket) -> set[int]:
    """The ticket and the tickets merged into it (a notice about one of those still counts)."""
    ids = {ticket.id}
    ids.update(db_session().scalars(select(Ticket.id).where(Ticket.merged_into_id == ticket.id).limit(100)))
    return ids


def _tokens(parsed: ParsedMail, msg: MimeMessage) -> list[tuple[int, int]]:
    found = []
    for value in (parsed.in_reply_to + parsed.references)[:50]:
        token = msgids.verified_agent_token(value)
        if token is not None:
            found.append(token)
    for name in RECIPIENT_HEADERS:
        for value in (msg.get_all(name) or [])[:20]:
            for match in re.finditer(r"[^\s<>,;\"]+@[^\s<>,;\"]+", decode_header_value(value, 4000)):
                token = msgids.verified_plus_address(match.group(0))
                if token is not None:
                    found.append(token)
    return found


def authentication_problem(msg: MimeMessage, authserv_id: str, from_address: str) -> Text | None:
    """None when our trusted server's Authentication-Results vouch for the From domain."""
    domain = from_address.rpartition("@")[2].lower()
    ours = []
    for value in (msg.get_all("Authentication-Results") or [])[:50]:
        text = decode_header_value(value, 4000)
        head, _sep, rest = text.partition(";")
        if head.strip().split(" ")[0].lower() == authserv_id:
            ours.append(rest)
    if not ours:
        return lazy_gettext("the trusted mail server (%(server)s) did not authenticate it (no "
                            "Authentication-Results).", server=authserv_id)
    for results in ours:
        for item in results.split(";"):
            match = _RESULT.match(item)
            if not match:
                continue
            method, result = match.group(1).lower(), match.group(2).lower()
            if result != "pass":
                continue
            if method == "dmarc":
                return None
            properties = {k.lower(): v.strip("<>").lower() for k, v in _PROPERTY.findall(item)}
            if method == "dkim" and _aligned(properties.get("header.d") or
                                             properties.get("header.i", "").rpartition("@")[2], domain):
                return None
            if method == "spf" and _aligned(properties.get("smtp.mailfrom", "").rpartition("@")[2], domain):
                return None
    if not domain:
        return lazy_gettext("the trusted mail server (%(server)s) shows no DMARC pass and no DKIM or SPF pass "
                            "aligned with the sender.", server=authserv_id)
    return lazy_gettext("the trusted mail server (%(server)s) shows no DMARC pass and no DKIM or SPF pass aligned "
                        "with %(domain)s.", server=authserv_id, domain=domain)


def _aligned(other: str, domain: str) -> bool:
    """Relaxed alignment: the same domain, or one a subdomain of the other."""
    other = other.strip().strip(".").lower()
    if not other or not domain:
        return False
    return other == domain or other.endswith("." + domain) or domain.endswith("." + other)


def notify_assignee(ticket_id: int, message_id: int) -> bool:
    """Mail the ticket's agent what the customer wrote; their reply to it is their signed reply.

    Returns True when a notice was queued (setting ``notify_assignee``; only for an active
    agent with an address, never for their own message).
    """
    from helpdesk.plugin_api import Message

    if not get_setting(PLUGIN, "notify_assignee"):
        return False
    ticket = db_session().get(Ticket, ticket_id)
    message = db_session().get(Message, message_id)
    if ticket is None or message is None or ticket.assignee_id is None or ticket.assignee_id == message.author_id:
        return False
    agent = db_session().get(User, ticket.assignee_id)
    if agent is None or not agent.is_active or not agent.is_staff or not agent.email:
        return False
    notice_id = msgids.make_agent_message_id(ticket.id, agent.id)
    reply_to = msgids.plus_address(ticket.id, agent.id) if get_setting(PLUGIN, "plus_addressing") \
        else msgids.support_address()
    from helpdesk_email.classify import loop_token

    link = f"{current_app.config['EXTERNAL_URL'].rstrip('/')}/tickets/{ticket.reference}"
    with customer_locale(agent):  # in the agent's own language, whoever wrote
        author = message.author.name if message.author else gettext("The customer")
        text = (gettext("%(author)s wrote on %(reference)s (%(subject)s):", author=author,
                        reference=ticket.reference, subject=ticket.subject)
                + f"\n\n{message.body.strip()}\n\n-- \n"
                + gettext("Reply to this mail to answer %(author)s (your reply is sent from %(site)s),",
                          author=author, site=site_setting("helpdesk_name")) + "\n"
                + gettext("or open the ticket: %(link)s", link=link) + "\n"
                + gettext("Only your own replies to this mail are sent on; forwarded or rewritten mail stays an "
                          "internal note.") + "\n")
    headers = {"Message-ID": f"<{notice_id}>", "Reply-To": reply_to, "X-Helpdesk-Loop": loop_token(),
               "Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "All"}
    queue_mail(agent.email, f"[{ticket.reference}] {author}: {ticket.subject}"[:200], text, headers=headers,
               ticket_id=ticket.id)
    return True
