"""Building raw mails for the email plugin's tests, the way mail clients write them."""
from __future__ import annotations

import itertools
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime

_counter = itertools.count(1)


def make_mail(*, sender: str = "Carla Customer <carla@example.test>", to: str = "support@helpdesk.test",
              subject: str = "Printer on fire", body: str = "The printer in room 4 is smoking.\n",
              message_id: str | None = None, in_reply_to: str | None = None, references: str | None = None,
              html: str | None = None, headers: dict[str, str] | None = None,
              attachments: list[tuple[str, bytes, str]] = (), inline_images: list[tuple[str, bytes]] = (),
              date: datetime | None = None) -> bytes:
    """A mail as bytes; ``attachments`` are (filename, content, "type/subtype")."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(date or datetime(2025, 6, 2, 9, 0, tzinfo=UTC))
    msg["Message-ID"] = message_id or f"<mail-{next(_counter)}@client.example.test>"
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    if references or in_reply_to:
        msg["References"] = references or in_reply_to
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    if html is not None:
        msg.add_alternative(html, subtype="html")
        for cid, data in inline_images:
            msg.get_payload()[1].add_related(data, maintype="image", subtype="png", cid=f"<{cid}>",
                                             filename=f"{cid}.png")
    for filename, content, content_type in attachments:
        maintype, subtype = content_type.split("/")
        msg.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    return msg.as_bytes()


def make_dsn(recipient: str, action: str, status: str, original_id: str = "<x@example.test>") -> bytes:
    """A delivery status notification (bounce) about ``recipient`` of the mail ``original_id``."""
    return (f"From: MAILER-DAEMON@mx.example.test\r\nTo: support@helpdesk.test\r\n"
            f"Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: <dsn-{action}@mx.example.test>\r\n"
            f"Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
            f"Content-Type: multipart/report; report-type=delivery-status; boundary=D\r\n\r\n"
            f"--D\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
            f"--D\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.test\r\n\r\n"
            f"Final-Recipient: rfc822; {recipient}\r\nAction: {action}\r\nStatus: {status}\r\n"
            f"--D\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: {original_id}\r\nSubject: Hi\r\n--D--\r\n"
            ).encode()
