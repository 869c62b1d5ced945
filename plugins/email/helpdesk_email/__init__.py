"""Email channel: mail in (IMAP, MTA pipe, webhook) becomes tickets and replies; replies go out as threaded mail.

Hook implementations only; the work is in ``ingest`` (mail in), ``outbound`` (the
``email`` channel), ``imap`` (polling), ``views`` (admin pages, webhook, original
download) and ``cli`` (``helpdesk mail``).
"""
from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

import click
from flask import Blueprint, g, render_template, url_for
from markupsafe import Markup
from sqlalchemy import func, select

from helpdesk import hookimpl
from helpdesk.plugin_api import Channel, Message, Setting, Ticket, User, db_session, gettext, lazy_gettext, words_text
from helpdesk_email import access_rules
from helpdesk_email.models import EmailQuarantine, EmailRawMessage
from helpdesk_email.said import note_texts

__version__ = "0.1.0"
PLUGIN = "email"


@hookimpl
def helpdesk_settings() -> list[Setting]:
    return [
        Setting("address", "email", default="", label=lazy_gettext("Support address"),
                help=lazy_gettext("The address customers write to; replies say Reply-To this address. Empty: the "
                                  "helpdesk's sender address (Admin → Settings).")),
        Setting("max_message_mb", "int", default=25, min=1, max=100, label=lazy_gettext("Size limit (MB)"),
                help=lazy_gettext("Mail larger than this is quarantined unread (download it from the quarantine). "
                                  "Within the limit, a file over the helpdesk's attachment limit is dropped with a "
                                  "note.")),
        Setting("max_mime_parts", "int", default=1000, min=10, max=100_000, label=lazy_gettext("MIME parts per mail"),
                help=lazy_gettext("A mail with more parts is quarantined before it is read (a cheap count of the raw "
                                  "bytes): a mail built of millions of empty parts cannot tie up the server.")),
        Setting("max_mime_depth", "int", default=25, min=2, max=100, label=lazy_gettext("MIME nesting depth"),
                help=lazy_gettext("A mail whose parts are nested deeper is quarantined before it is read.")),
        Setting("max_ingest_seconds", "int", default=30, min=1, max=600,
                label=lazy_gettext("Time limit per mail (seconds)"),
                help=lazy_gettext("Reading one mail must finish within this time; a mail that takes longer is "
                                  "quarantined.")),
        Setting("quarantine_budget_mb", "int", default=500, min=1, max=100_000,
                label=lazy_gettext("Quarantine storage (MB)"),
                help=lazy_gettext("Quarantined originals are stored compressed, up to this much in all. Over it, only "
                                  "the headers and a SHA-256 hash of a new entry are kept, and the quarantine page "
                                  "says so.")),
        Setting("quarantine_retention_days", "int", default=90, min=1, max=3650,
                label=lazy_gettext("Keep quarantine (days)"),
                help=lazy_gettext("Quarantine entries older than this are deleted by a daily job.")),
        Setting("ack_enabled", "bool", default=True, label=lazy_gettext("Acknowledge new tickets"),
                help=lazy_gettext("Answer each new ticket opened by mail with its reference (never automatic mail).")),
        Setting("ack_articles", "bool", default=True, label=lazy_gettext("Suggest articles in the acknowledgement"),
                help=lazy_gettext("When a knowledge base plugin is confident that help-centre articles answer the new "
                                  "ticket, list up to two (with links in the customer's language) in the "
                                  "acknowledgement.")),
        Setting("notify_assignee", "bool", default=True, label=lazy_gettext("Mail the assigned agent"),
                help=lazy_gettext("When a customer writes by mail on a ticket that has an agent, mail that agent. "
                                  "Replying to that mail is how an agent answers by mail: only such replies, from the "
                                  "agent's own address, are sent on to the customer (anything else becomes an "
                                  "unverified internal note).")),
        Setting("plus_addressing", "bool", default=False, label=lazy_gettext("Signed plus-address in Reply-To"),
                help=lazy_gettext("Agents' notices say Reply-To support+<signed token>@ your domain. Turn on only "
                                  "when your mail server delivers support+anything@ to the support mailbox.")),
        Setting("authserv_id", "text", default="", label=lazy_gettext("Trusted mail server (authserv-id)"),
                help=lazy_gettext("The authserv-id your own mail server writes in Authentication-Results (e.g. "
                                  "mx.example.com). When set, an agent's reply by mail also needs that server's "
                                  "dmarc=pass, or a dkim=pass / spf=pass aligned with the agent's domain. Empty: not "
                                  "checked.")),
        Setting("webhook_secret", "secret", default="", label=lazy_gettext("Webhook secret"),
                help=lazy_gettext("Shared secret for POST /email/inbound (header X-Helpdesk-Signature: sha256=<HMAC "
                                  "of the body>). Empty: the webhook is off.")),
        Setting("default_team", "team", default=None, label=lazy_gettext("Team for new tickets"),
                help=lazy_gettext("Team of tickets opened by mail that no mailbox assigns (pipe, webhook, imports).")),
    ]


@hookimpl
def helpdesk_blueprints() -> list[Blueprint]:
    from helpdesk_email.views import bp

    return [bp]


@hookimpl
def helpdesk_access_rules() -> ModuleType:
    """Who may use each page (the core's access-matrix test reads it)."""
    return access_rules


@hookimpl
def helpdesk_migrations() -> str:
    return str(Path(__file__).parent / "migrations")


@hookimpl
def helpdesk_channels() -> list[Channel]:
    from helpdesk_email.outbound import EmailChannel

    return [EmailChannel()]


@hookimpl
def helpdesk_cli(cli: click.Group) -> None:
    from helpdesk_email.cli import register

    register(cli)


@hookimpl
def helpdesk_nav_links(user: User) -> list[tuple[str, str]] | None:
    return [(gettext("Email"), url_for("email.mailboxes"))] if user.is_admin else None


def _raw_rows(ticket: Ticket) -> dict[int, EmailRawMessage]:
    """The ticket's mail originals by message id, loaded once per page (not once per message)."""
    cache = g.setdefault("_email_raw_rows", {})
    if ticket.id not in cache:
        rows = db_session().scalars(
            select(EmailRawMessage).join(Message, Message.id == EmailRawMessage.message_id)
            .where(Message.ticket_id == ticket.id))
        cache[ticket.id] = {row.message_id: row for row in rows}
    return cache[ticket.id]


@hookimpl
def helpdesk_template_slot(slot: str, context: dict[str, Any]) -> Markup | None:
    if slot == "message.after_body":
        message = context["message"]
        if message.channel != "email" or not context["user"].is_staff:
            return None
        raw = _raw_rows(context["ticket"]).get(message.id)
        mail = (message.meta or {}).get("email") or {}
        notes = mail.get("notes") or []
        if raw is None and not notes:
            return None
        # Stored in English with their words: each agent reads them in their own language.
        unverified = words_text(mail.get("unverified_words"), mail.get("unverified"))
        return Markup(render_template("email/message_extras.html", message=message, raw=raw,
                                      notes=note_texts(notes, mail.get("notes_words")), unverified=unverified))
    if slot == "ticket.badges":
        ticket = context["ticket"]
        if any(i.kind == "email" and i.bouncing for i in ticket.customer.identities):
            return Markup(render_template("email/bouncing_badge.html"))
        return None
    if slot == "admin.dashboard":
        waiting = db_session().scalar(select(func.count()).select_from(EmailQuarantine)
                                    .where(EmailQuarantine.resolved_at.is_(None),
                                           EmailQuarantine.kind == "quarantined"))
        from helpdesk_email.quarantine_store import status

        return Markup(render_template("email/admin_card.html", waiting=waiting, storage=status()))
    return None
