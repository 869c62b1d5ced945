"""Recognising our own mail coming back and bounces (delivery reports), and whom a bounce is about.

Every other kind of automated mail (auto-replies, list and bulk mail, reports) is in the one
table of ``helpdesk_email.automated``. Order matters: a DSN that also says
``Auto-Submitted: auto-replied`` is a bounce, so bounces are checked first.
"""
from __future__ import annotations

import hashlib
import hmac
import re

from flask import current_app

from helpdesk.plugin_api import Text, lazy_gettext
from helpdesk_email.mime import ParsedMail

DAEMON_LOCAL_PARTS = {"mailer-daemon", "mailerdaemon", "mail-daemon", "postmaster"}
BOUNCE_SUBJECT = re.compile(
    r"(undeliver|undelivered|delivery status notification|delivery failure|delivery has failed|"
    r"mail delivery failed|returned mail|failure notice|non[- ]?delivery|could not be delivered|"
    r"delivery notification|не доставлено|unzustellbar|nicht zugestellt|non remis)", re.IGNORECASE)
STATUS_BLOCK_SPLIT = re.compile(r"\n\s*\n")
RECIPIENT_FIELD = re.compile(r"^(?:final|original)-recipient\s*:\s*(?:rfc822\s*;)?\s*<?([^\s<>;]+@[^\s<>;]+)>?",
                             re.IGNORECASE | re.MULTILINE)
ACTION_FIELD = re.compile(r"^action\s*:\s*(\S+)", re.IGNORECASE | re.MULTILINE)
STATUS_FIELD = re.compile(r"^status\s*:\s*(\d)\.", re.IGNORECASE | re.MULTILINE)
QMAIL_RECIPIENT = re.compile(r"^<([^<>\s]+@[^<>\s]+)>:\s*$", re.MULTILINE)


def loop_token() -> str:
    """Our value of ``X-Helpdesk-Loop``: recognisable as ours, and unlike another install's."""
    key = current_app.config["SECRET_KEY"]
    key = key.encode() if isinstance(key, str) else key
    return hmac.new(key, b"email-loop", hashlib.sha256).hexdigest()[:16]


def loop_reason(parsed: ParsedMail) -> Text | None:
    value = parsed.header("x-helpdesk-loop").strip()
    if value and value in {"1", loop_token()}:
        return lazy_gettext("Our own mail came back (X-Helpdesk-Loop header): not answered, to avoid a mail loop.")
    return None


def _from_local_part(parsed: ParsedMail) -> str:
    return (parsed.from_address or "").partition("@")[0].lower()


def bounce_reason(parsed: ParsedMail) -> Text | None:
    """Structural signs of a delivery status notification (checked before auto-reply headers)."""
    if parsed.report_type.lower() == "delivery-status" or parsed.content_type == "message/delivery-status":
        return lazy_gettext("Delivery status notification (DSN): a message could not be delivered.")
    if parsed.delivery_status:
        return lazy_gettext("Delivery status report (message/delivery-status part).")
    if parsed.header("x-failed-recipients"):
        return lazy_gettext("Bounce: delivery failed for %(addresses)s.",
                            addresses=parsed.header("x-failed-recipients")[:200])
    return None


def daemon_bounce_reason(parsed: ParsedMail) -> Text | None:
    """A bounce known only by its sender (mailer-daemon, postmaster) or null return path."""
    raw_from = parsed.header("from").lower()
    daemon = _from_local_part(parsed) in DAEMON_LOCAL_PARTS or "mailer-daemon" in raw_from \
        or "mailer daemon" in raw_from
    null_sender = parsed.header("return-path").replace(" ", "") == "<>"
    if daemon:
        return lazy_gettext("Bounce from %(sender)s (%(subject)s).",
                            sender=parsed.from_address or lazy_gettext("a mailer daemon"),
                            subject=parsed.subject[:120] or lazy_gettext("no subject"))
    if null_sender and BOUNCE_SUBJECT.search(parsed.subject):
        return lazy_gettext("Bounce: null sender and subject %(subject)s.", subject=repr(parsed.subject[:120]))
    return None


def failed_recipients(parsed: ParsedMail) -> list[str]:
    """Addresses a bounce reports as permanently failed (not merely delayed)."""
    found: list[str] = []
    for value in parsed.header("x-failed-recipients").split(","):
        if "@" in value:
            found.append(value.strip().strip("<>").lower())
    for status in parsed.delivery_status:
        for block in STATUS_BLOCK_SPLIT.split(status.replace("\r\n", "\n")):
            recipients = RECIPIENT_FIELD.findall(block)  # Final- and Original-Recipient (before aliasing)
            if not recipients:
                continue
            action = ACTION_FIELD.search(block)
            code = STATUS_FIELD.search(block)
            failed = (action and action.group(1).lower().startswith("failed")) or (
                not action and code and code.group(1) == "5")
            if failed:
                found.extend(r.strip().lower() for r in recipients)
    if not found and _from_local_part(parsed) in DAEMON_LOCAL_PARTS:
        found.extend(m.lower() for m in QMAIL_RECIPIENT.findall(parsed.text[:20_000]))
    unique = []
    for address in found:
        if address not in unique and len(address) <= 320:
            unique.append(address)
    return unique[:50]
