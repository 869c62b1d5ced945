"""The email plugin's tables. Every name starts with ``email_``.

- ``email_mailboxes``: IMAP mailboxes polled by the periodic job.
- ``email_quarantine``: every inbound mail that did not become a ticket or a message
  (bounces, auto-replies, bulk mail, and what could not be processed), with its raw bytes
  compressed (only the headers when the quarantine's storage budget is used up).
- ``email_message_ids``: the threading index, sha256(Message-ID) → ticket and message, for
  what we received and what we sent. Its unique hash makes "the same mail twice" one message;
  ``content_key`` tells a different mail that reuses a Message-ID apart (see ``dedupe``).
- ``email_raw_messages``: the original bytes and the folded-away parts of each mail message.
"""
from __future__ import annotations

import zlib
from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.plugin_api import Model, utcnow, words_text

SECURITY_CHOICES = ("ssl", "starttls", "none")
QUARANTINE_KINDS = ("bounce", "auto_reply", "bulk", "quarantined")
# How ``EmailQuarantine.raw`` holds the mail: as received (rows from before compression),
# zlib-compressed, or only the zlib-compressed header block (the storage budget was used up).
QUARANTINE_STORAGE = ("raw", "zlib", "headers")


class EmailMailbox(Model):
    """An IMAP mailbox the helpdesk reads; new tickets from it go to ``team_id``."""

    __tablename__ = "email_mailboxes"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    host: Mapped[str] = mapped_column(String(255))
    port: Mapped[int] = mapped_column(default=993)
    security: Mapped[str] = mapped_column(String(10), default="ssl")  # ssl, starttls or none
    username: Mapped[str] = mapped_column(String(255))
    # plugin_api.encrypt_secret(password): never the plain value
    password_encrypted: Mapped[str] = mapped_column(Text, default="")
    folder: Mapped[str] = mapped_column(String(255), default="INBOX")
    processed_folder: Mapped[str | None] = mapped_column(String(255))
    poll_minutes: Mapped[int] = mapped_column(default=5)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    active: Mapped[bool] = mapped_column(default=True)
    # IMAP UIDs are unsigned 32-bit numbers: more than a signed INTEGER holds on PostgreSQL.
    last_uid: Mapped[int] = mapped_column(BigInteger, default=0)
    uidvalidity: Mapped[int | None] = mapped_column(BigInteger)
    last_polled_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(1000))  # English; its words beside it
    last_error_words: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def last_error_text(self) -> str | None:
        """The last poll's error in the reader's language (the stored English for older rows)."""
        return words_text(self.last_error_words, self.last_error)


class EmailQuarantine(Model):
    """A mail that is not (yet) a ticket: kind ``bounce``, ``auto_reply``, ``bulk`` or ``quarantined``."""

    __tablename__ = "email_quarantine"
    __table_args__ = (Index("ix_email_quarantine_kind", "kind", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(500))  # English: search, exports and older rows read it
    # The reason's message id and parameters (``plugin_api.words_of``), so each admin reads it in
    # their own language; NULL on rows from before it (they show ``reason``).
    reason_words: Mapped[dict | None] = mapped_column(JSON)
    sender: Mapped[str | None] = mapped_column(String(320))
    subject: Mapped[str | None] = mapped_column(String(250))
    message_id_header: Mapped[str | None] = mapped_column(String(500))
    # sha256 of the Message-ID (of the raw bytes when there is none): a second delivery is a duplicate.
    message_id_hash: Mapped[str] = mapped_column(String(64), index=True)
    # sha256 of mailbox, sender, subject and body (``dedupe.content_key``): NULL on rows from before it.
    content_key: Mapped[str | None] = mapped_column(String(64))
    # Deferred: lists and counts never load the bytes. Read them through ``original``.
    raw: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    size: Mapped[int] = mapped_column(default=0)  # of the mail as received
    storage: Mapped[str] = mapped_column(String(10), default="zlib", server_default="raw")
    stored_size: Mapped[int] = mapped_column(default=0, server_default="0")  # bytes in ``raw``, for the budget
    raw_sha256: Mapped[str | None] = mapped_column(String(64))  # of the mail as received
    source: Mapped[str] = mapped_column(String(20), default="pipe")
    mailbox_id: Mapped[int | None] = mapped_column(ForeignKey("email_mailboxes.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]
    resolution: Mapped[str | None] = mapped_column(String(40))  # "retried", "ticket created"
    # The ticket the mail became after a retry or "create ticket anyway" (or the one a bounce is about).
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))

    @property
    def reason_text(self) -> str:
        """The reason in the reader's language (the stored English for older rows)."""
        return words_text(self.reason_words, self.reason) or ""

    @property
    def complete(self) -> bool:
        """Is the whole mail stored (not only its headers)?"""
        return self.storage != "headers"

    @property
    def original(self) -> bytes:
        """The mail as received (only its header block when ``complete`` is false)."""
        data = self.raw or b""
        return zlib.decompress(data) if self.storage in ("zlib", "headers") else data


class EmailMessageId(Model):
    """One Message-ID we received or sent, and the ticket (and message) it belongs to."""

    __tablename__ = "email_message_ids"
    __table_args__ = (Index("ix_email_message_ids_ticket", "ticket_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # sha256 of the Message-ID; for a second, different mail with the same Message-ID, its variant hash.
    msgid_hash: Mapped[str] = mapped_column(String(64), unique=True)
    content_key: Mapped[str | None] = mapped_column(String(64))
    message_id_header: Mapped[str] = mapped_column(String(500))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), index=True)
    direction: Mapped[str] = mapped_column(String(3))  # "in" or "out"
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class EmailRawMessage(Model):
    """The original mail behind a message, and what folding hid (quoted history, signature)."""

    __tablename__ = "email_raw_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), unique=True)
    raw: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    full_text: Mapped[str] = mapped_column(Text, default="", deferred=True)
    quoted: Mapped[str] = mapped_column(Text, default="")
    signature: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
