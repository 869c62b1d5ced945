"""Who may use each route of the email plugin (given to the core's access matrix by the
``helpdesk_access_rules`` hook)."""
from __future__ import annotations

# Every role of the core's access matrix (see the ``helpdesk_access_rules`` hook).
ROLES = ("anonymous", "customer_a", "customer_b", "agent", "team_agent", "light_agent", "admin")
PUBLIC = set(ROLES)
AGENTS = {"agent", "team_agent", "admin"}  # pages about no ticket in particular (light agents: none)
IN_SCOPE = {"agent", "admin"}  # pages about the world's ticket, which is outside the team agent's teams
ADMIN = {"admin"}

RULES: dict[str, set[str]] = {
    "email.mailboxes": ADMIN, "email.mailbox_edit": ADMIN, "email.mailbox_delete": ADMIN,
    "email.mailbox_test": ADMIN, "email.mailbox_poll": ADMIN,
    "email.quarantine": ADMIN, "email.quarantine_detail": ADMIN, "email.quarantine_raw": ADMIN,
    "email.quarantine_retry": ADMIN, "email.quarantine_ticket": ADMIN,
    "email.original": IN_SCOPE,  # a message's original mail: staff only, never the customer
    # The webhook authenticates by its HMAC signature, not by a session: an empty, unsigned
    # POST is refused for everyone (403 while no secret is set, 401 for a bad signature).
    "email.inbound": set(),
}

CLOSED_PORT = 9  # "discard": nothing listens on loopback, so tests and polls fail fast


def values(world: dict) -> dict:
    """A mailbox, a quarantined auto-reply and a mail reply on customer A's ticket."""
    from helpdesk.plugin_api import db_session, encrypt_secret
    from helpdesk_email.ingest import ingest_message
    from helpdesk_email.models import EmailMailbox, EmailRawMessage

    mailbox = EmailMailbox(name="Support", host="127.0.0.1", port=CLOSED_PORT, security="none",
                           username="support", password_encrypted=encrypt_secret("secret"))
    db_session().add(mailbox)
    db_session().commit()
    auto = ingest_message(b"From: Away <away@example.test>\r\nSubject: Out of office\r\n"
                          b"Auto-Submitted: auto-replied\r\nMessage-ID: <away-1@example.test>\r\n\r\nBack Monday.\r\n")
    ticket = world["ticket"]
    reply = ingest_message(
        f"From: Carla Customer <{ticket.customer.email}>\r\nSubject: Re: [{ticket.reference}] A's ticket\r\n"
        f"Message-ID: <carla-reply-1@example.test>\r\n\r\nAny news?\r\n".encode())
    raw_id = db_session().query(EmailRawMessage.id).filter_by(message_id=reply.message_id).scalar()
    return {"mailbox_id": mailbox.id, "quarantine_id": auto.quarantine_id, "raw_id": raw_id}
