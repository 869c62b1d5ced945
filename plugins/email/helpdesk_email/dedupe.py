"""When is a mail one we already have? Same Message-ID **and** same sender **and** same content.

A Message-ID is chosen by the sender's software, so it proves nothing: a different mail
(another sender, another text) that reuses one we have seen is a new mail, stored with a
note; otherwise whoever sends first with a victim's Message-ID would make the victim's
real mail vanish. The *content key* of a mail is a hash of the mailbox it came in by, the
sender's address, its subject and its body bytes (line endings normalised, so the same
mail read from an mbox or over IMAP has the same key; the header block is left out, since
every delivery adds its own ``Received`` lines).

The threading index keeps one row per distinct mail: the first mail with a Message-ID is
indexed under sha256(Message-ID), so replies thread to it; a later, different mail with
the same Message-ID is indexed under sha256(Message-ID + content key) (its *variant hash*),
so delivering *it* again is a duplicate too. Rows written before content keys existed
(``content_key`` NULL) count as the same mail, so re-running an old import stays a no-op.
"""
from __future__ import annotations

import hashlib
import re

from helpdesk_email.mime import ParsedMail

_HEADER_END = re.compile(rb"\r?\n\r?\n")


def content_key(raw: bytes, parsed: ParsedMail, sender: str | None, mailbox_id: int | None) -> str:
    match = _HEADER_END.search(raw)
    body = raw[match.end():] if match else b""
    body = body.replace(b"\r\n", b"\n").rstrip()
    digest = hashlib.sha256()
    digest.update(f"{mailbox_id or ''}\n{sender or ''}\n{parsed.subject}\n".encode("utf-8", "surrogateescape"))
    digest.update(body)
    return digest.hexdigest()


def variant_hash(msgid_hash: str, key: str) -> str:
    return hashlib.sha256(f"{msgid_hash}|{key}".encode()).hexdigest()
