"""Our own Message-IDs: ``<t{ticket}.m{message}.{hmac16}@{domain}>`` (``n`` for notices,
``a{agent}k{nonce}`` for a notice to an agent, which is the agent's token to reply by mail).

The HMAC (app SECRET_KEY, salt ``email-message-id``) makes them unguessable: a reply that
names an id of this shape threads only when the HMAC checks out, and a forged or guessed
one is rejected before any database lookup.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from flask import current_app

from helpdesk.plugin_api import get_setting, site_setting

SALT = "email-message-id"
OURS = re.compile(r"^t(\d{1,12})\.([mna])([0-9a-z]{1,32})\.([0-9a-f]{16})@", re.IGNORECASE)
EMBEDDED = re.compile(rb"<(t\d{1,12}\.[mna][0-9a-z]{1,32}\.[0-9a-f]{16}@[^<>\s]{1,255})>", re.IGNORECASE)


def _signature(local: str) -> str:
    key = current_app.config["SECRET_KEY"]
    key = key.encode() if isinstance(key, str) else key
    return hmac.new(key, f"{SALT}|{local}".encode(), hashlib.sha256).hexdigest()[:16]


def support_address() -> str:
    """The support address: the plugin's ``address`` setting, else the core's mail_from."""
    return get_setting("email", "address") or site_setting("mail_from")


def domain() -> str:
    return support_address().rpartition("@")[2] or "helpdesk.invalid"


def make_message_id(ticket_id: int, message_id: int | None = None) -> str:
    """A new Message-ID (without angle brackets) for a reply (``message_id``) or a notice."""
    local = f"t{ticket_id}.m{message_id}" if message_id is not None else f"t{ticket_id}.n{secrets.token_hex(6)}"
    return f"{local}.{_signature(local)}@{domain()}"


def make_agent_message_id(ticket_id: int, agent_id: int) -> str:
    """A Message-ID for a notice to an agent about a ticket: replying to it is the agent's token."""
    local = f"t{ticket_id}.a{agent_id}k{secrets.token_hex(8)}"
    return f"{local}.{_signature(local)}@{domain()}"


_AGENT = re.compile(r"^a(\d{1,12})k[0-9a-f]{16}$")


def verified_agent_token(message_id: str) -> tuple[int, int] | None:
    """(ticket id, agent id) of one of our notices to an agent, or None (not one, or forged)."""
    match = OURS.match(message_id or "")
    if not match or match.group(2).lower() != "a":
        return None
    agent = _AGENT.match("a" + match.group(3).lower())
    ticket_id = verified_ticket_id(message_id)
    if agent is None or ticket_id is None:
        return None
    return ticket_id, int(agent.group(1))


def plus_address(ticket_id: int, agent_id: int) -> str:
    """``support+a{agent}t{ticket}-{hmac16}@domain``: a Reply-To only that agent's reply on that ticket can use."""
    local, _at, host = support_address().rpartition("@")
    tag = f"a{agent_id}t{ticket_id}"
    return f"{local}+{tag}-{_signature('plus|' + tag)}@{host}"


_PLUS = re.compile(r"\+a(\d{1,12})t(\d{1,12})-([0-9a-f]{16})@", re.IGNORECASE)


def verified_plus_address(address: str) -> tuple[int, int] | None:
    """(ticket id, agent id) of a signed plus-address of ours, or None."""
    match = _PLUS.search(address or "")
    if not match:
        return None
    agent, ticket, mac = match.groups()
    if not hmac.compare_digest(_signature(f"plus|a{int(agent)}t{int(ticket)}"), mac.lower()):
        return None
    if int(ticket) > 2**31 - 1 or int(agent) > 2**31 - 1:
        return None
    return int(ticket), int(agent)


def verified_ticket_id(message_id: str) -> int | None:
    """The ticket of one of our Message-IDs, or None (not ours, or the HMAC does not match)."""
    match = OURS.match(message_id or "")
    if not match:
        return None
    ticket, kind, number, mac = match.groups()
    local = f"t{ticket}.{kind.lower()}{number.lower()}"
    if not hmac.compare_digest(_signature(local), mac.lower()) or int(ticket) > 2**31 - 1:
        return None
    return int(ticket)


def looks_like_ours(message_id: str) -> bool:
    return OURS.match(message_id or "") is not None


def hash_id(message_id: str) -> str:
    return hashlib.sha256(message_id.encode("utf-8", "surrogateescape")).hexdigest()


def embedded_ticket_id(raw: bytes) -> int | None:
    """A ticket named by one of our (verified) Message-IDs anywhere in a mail: bounces quote the original."""
    for match in EMBEDDED.finditer(raw[:2_000_000]):
        ticket_id = verified_ticket_id(match.group(1).decode("ascii", "replace"))
        if ticket_id is not None:
            return ticket_id
    return None
