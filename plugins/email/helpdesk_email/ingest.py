"""Turning one raw mail into a ticket, a message on a ticket, or a quarantine entry.

``ingest_message`` never raises: whatever the bytes, the result is an ``IngestResult`` and
every mail that is not a ticket or a message is kept in ``email_quarantine`` with its raw
bytes and the reason. The steps:

1. size gate, then parse (``mime.parse_message``); the sender is the From address alone
   (``identity``: display names are never identity, an ambiguous From is quarantined);
2. duplicate? the same Message-ID *and* sender *and* content (``dedupe``) in the threading
   index or the quarantine; a different mail reusing a Message-ID is stored as new, with a note;
3. our own mail coming back (loop header, our Message-ID, one of our own addresses), bounces
   (addresses marked bouncing), then the one table of automated mail (``automated``): none of
   these becomes a ticket or a message, so nothing reopens and nobody is answered;
4. a usable sender;
5. threading: In-Reply-To/References against our HMAC-signed Message-IDs and the ones we
   received, then the ticket reference in the subject (only from people on the ticket);
6. the services: ``add_message`` (a stranger's reply flagged for review; an agent's mail an
   agent reply only when ``agentauth`` authenticates it, else an unverified internal note)
   or ``create_ticket``, then the raw mail and the index rows, then the acknowledgement
   (``services.notify_customer``: the core caps automatic notices per recipient) and the
   notice to the ticket's agent.
"""
from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import nh3
from flask import current_app, g
from sqlalchemy import func, insert, literal, null, select, union_all
from sqlalchemy.exc import IntegrityError

from helpdesk.plugin_api import (
    MAX_BODY,
    ContactIdentity,
    Message,
    NewAttachment,
    Text,
    Ticket,
    User,
    audit,
    customer_language,
    customer_locale,
    db_session,
    english_text,
    find_customer,
    get_setting,
    gettext,
    human_size,
    joined,
    lazy_gettext,
    ngettext,
    normalise_email,
    services,
    site_setting,
    stored_text,
    suggest_answers,
    utcnow,
    words_of,
)
from helpdesk_email import agentauth, automated, classify, dedupe, identity, limits, msgids, quarantine_store
from helpdesk_email.folding import Folded, fold_html, fold_text
from helpdesk_email.mime import ParsedMail, parse_headers, parse_message
from helpdesk_email.models import EmailMessageId, EmailQuarantine, EmailRawMessage

log = logging.getLogger(__name__)

PLUGIN = "email"
OUTCOMES = ("ticket", "message", "duplicate", "bounce", "auto_reply", "bulk", "quarantined")
STAFF_ROLES = ("agent", "admin")
IMPORT_SOURCES = ("mbox", "maildir")  # archives being imported: history, never acknowledged
MAX_ID = 2**31 - 1
HTML_TAGS = nh3.ALLOWED_TAGS - {"img"}  # no remote images: they track the reader and break the CSP


@dataclass
class IngestResult:
    """What became of one mail (see ``OUTCOMES``).

    ``text`` says why, as built: a ``lazy_gettext`` text keeps its words, so an admin reads it
    in their own language (``str(text)``) while ``reason`` is the English the CLI prints, the
    webhook answers and the quarantine stores for search.
    """

    outcome: str
    ticket_id: int | None = None
    message_id: int | None = None
    quarantine_id: int | None = None
    text: Text = ""

    @property
    def reason(self) -> str:
        return english_text(self.text) or ""

    @property
    def reference(self) -> str | None:
        return f"{current_app.config['TICKET_PREFIX']}-{self.ticket_id}" if self.ticket_id else None


def ingest_message(raw: bytes, *, source: str = "pipe", mailbox_id: int | None = None,
                   now: datetime | None = None, retry_of: int | None = None,
                   time_limit: float | None = None) -> IngestResult:
    """Ingest one raw RFC 5322 message; commits its own work and never raises.

    ``retry_of`` (a quarantine id) re-runs a quarantined mail: its own quarantine row does
    not count as a duplicate, and it is updated rather than copied if the mail is still refused.
    ``time_limit`` (seconds) overrides the ``max_ingest_seconds`` setting.
    """
    now = now or utcnow()
    try:
        data = bytes(raw) if isinstance(raw, (bytes, bytearray, memoryview)) else str(raw).encode(
            "utf-8", "surrogateescape")
    except Exception:
        data = b""
    try:
        seconds = time_limit if time_limit is not None else float(get_setting(PLUGIN, "max_ingest_seconds") or 30)
        with limits.deadline(seconds):
            if source in IMPORT_SOURCES:  # history: no plugin writes to anyone, no reply is re-sent
                with services.importing():
                    return _ingest(data, source, mailbox_id, now, retry_of)
            return _ingest(data, source, mailbox_id, now, retry_of)
    except limits.IngestTimeout as exc:  # raised while reading, before anything was written
        db_session().rollback()
        return _quarantine(data, parse_headers(data), "quarantined", exc.text, source, mailbox_id, now, retry_of)
    except Exception as exc:  # the last line of defence: keep the mail, say why
        db_session().rollback()
        log.exception("email: could not ingest a %d-byte message from %s", len(data), source)
        reason = lazy_gettext("Could not be processed: %(error)s", error=_error(exc))
        try:
            return _quarantine(data, None, "quarantined", reason, source, mailbox_id, now, retry_of)
        except Exception:
            db_session().rollback()
            log.exception("email: could not even quarantine a message")
            return IngestResult("quarantined", text=lazy_gettext("%(reason)s (and it could not be stored)",
                                                                 reason=reason))


def _error(exc: BaseException) -> str:
    """An exception as a parameter of a stored sentence (data: kept as it is in every language)."""
    return f"{type(exc).__name__}: {exc}"[:400]


def _limit_bytes() -> int:
    return int(get_setting(PLUGIN, "max_message_mb") or 25) * 1024 * 1024


def _ingest(raw: bytes, source: str, mailbox_id: int | None, now: datetime, retry_of: int | None) -> IngestResult:
    limit = _limit_bytes()
    if len(raw) > limit:  # not even parsed: a huge mail must not stall the worker
        return _quarantine(raw, None, "quarantined",
                           lazy_gettext("Over the size limit: the mail is %(size)s, the limit is %(limit)s "
                                        "(setting max_message_mb).", size=human_size(len(raw)),
                                        limit=human_size(limit)), source, mailbox_id, now, retry_of)
    breach = limits.prescan(raw, int(get_setting(PLUGIN, "max_mime_parts") or 1000),
                            int(get_setting(PLUGIN, "max_mime_depth") or 25))
    if breach is not None:
        return _quarantine(raw, parse_headers(raw), "quarantined", breach.reason, source, mailbox_id, now, retry_of)
    try:
        msg, parsed = parse_message(raw)
    except RecursionError:
        return _quarantine(raw, None, "quarantined",
                           lazy_gettext("Unparseable: the MIME structure is nested too deeply."),
                           source, mailbox_id, now, retry_of)
    except Exception as exc:
        return _quarantine(raw, None, "quarantined", lazy_gettext("Unparseable: %(error)s", error=_error(exc)),
                           source, mailbox_id, now, retry_of)

    # Identity from the From address alone, parsed before any display name is decoded. Without
    # any From header the parser's own reading stands (it may recover a sender elsewhere).
    who = identity.sender(msg.get_all("From") or [])
    if who.present:
        parsed.from_address = who.address
        parsed.from_name = "" if "@" in who.name else who.name

    seen = _Seen(key=dedupe.content_key(raw, parsed, parsed.from_address, mailbox_id), index_hash=parsed.msgid_hash)
    duplicate = _duplicate(parsed, seen, retry_of)
    if duplicate is not None:
        return duplicate

    loop = classify.loop_reason(parsed) or _own_message_id(parsed) or _own_address(parsed)
    if loop:
        return _quarantine(raw, parsed, "bulk", loop, source, mailbox_id, now, retry_of)
    bounce = classify.bounce_reason(parsed)
    auto = None if bounce else automated.automated(parsed)
    if not bounce and (auto is None or not auto.by_header):
        bounce = classify.daemon_bounce_reason(parsed)
    if bounce:
        return _bounce(raw, parsed, bounce, source, mailbox_id, now, retry_of)
    if auto:  # never a ticket, never a message: nothing reopens, nobody is answered
        return _quarantine(raw, parsed, auto.kind, auto.reason, source, mailbox_id, now, retry_of,
                           ticket_id=msgids.embedded_ticket_id(raw[:200_000]))

    if not parsed.from_address:
        problem = who.problem if who.present and who.problem else \
            lazy_gettext("the From header is missing or holds no valid address.")
        return _quarantine(raw, parsed, "quarantined", lazy_gettext("No usable sender: %(problem)s", problem=problem),
                           source, mailbox_id, now, retry_of)
    try:
        address = normalise_email(parsed.from_address)
    except services.ServiceError as exc:
        return _quarantine(raw, parsed, "quarantined",
                           lazy_gettext("No usable sender (%(address)s): %(problem)s",
                                        address=parsed.from_address[:200], problem=exc.message),
                           source, mailbox_id, now, retry_of)

    staff_id = _staff_addresses().get(address)
    staff = db_session().get(User, staff_id) if staff_id is not None else None
    ticket, threaded_by = _thread(parsed)
    if ticket is not None and threaded_by == "subject" and not _on_ticket(ticket, address, staff):
        ticket, threaded_by = None, None  # a reference in the subject counts only from people on the ticket

    if ticket is None and staff is not None:
        return _quarantine(raw, parsed, "quarantined",
                           lazy_gettext("From an agent's address (%(address)s) and not a reply to a ticket: "
                                        "agents' mail does not open tickets.", address=address),
                           source, mailbox_id, now, retry_of)
    unverified = None
    if staff is not None and ticket is not None and staff.is_active:
        unverified = agentauth.unverified_reason(parsed, msg, staff, ticket)

    content = _content(parsed)
    content.seen = seen
    if seen.note:
        content.notes.append(seen.note)
    if unverified:
        content.notes.insert(0, lazy_gettext("%(unverified)s: from an agent's address, but %(reason)s Kept as an "
                                             "internal note; the customer did not get it.",
                                             unverified=agentauth.UNVERIFIED, reason=unverified))
    meta = _meta(parsed, address, source, mailbox_id, content.notes)
    if unverified:
        meta["email"]["unverified"] = (english_text(unverified) or "")[:300]
        meta["email"]["unverified_words"] = words_of(unverified)
    external_id = (parsed.message_id or f"sha256:{hashlib.sha256(raw).hexdigest()}")[:500]
    try:
        if ticket is not None:
            return _add_to_ticket(raw, parsed, ticket, threaded_by, address, staff, content, meta, external_id,
                                  source, mailbox_id, now, retry_of, unverified=unverified)
        return _new_ticket(raw, parsed, address, content, meta, external_id, source, mailbox_id, now, retry_of)
    except services.ServiceError as exc:
        db_session().rollback()
        return _quarantine(raw, parsed, "quarantined",
                           lazy_gettext("Refused by the helpdesk: %(problem)s", problem=exc.message),
                           source, mailbox_id, now, retry_of)


def _staff_addresses() -> dict[str, int]:
    """Agents' and admins' addresses → user id, read once per request (or per CLI run, or job)."""
    if "_email_staff_addresses" not in g:
        g._email_staff_addresses = dict(db_session().execute(
            select(User.email, User.id).where(User.role.in_(STAFF_ROLES), User.email.is_not(None))).all())
    return g._email_staff_addresses


def own_addresses() -> set[str]:
    """Every address the helpdesk sends from or reads: mail from them is our own, never a ticket."""
    if "_email_own_addresses" not in g:
        from helpdesk_email.models import EmailMailbox

        found = {site_setting("mail_from"), get_setting(PLUGIN, "address"), current_app.config.get("MAIL_FROM")}
        found.update(db_session().scalars(select(EmailMailbox.username)))
        g._email_own_addresses = {a.strip().lower() for a in found if a and "@" in a}
    return g._email_own_addresses


def _own_address(parsed: ParsedMail) -> Text | None:
    address = (parsed.from_address or "").lower()
    if address and address in own_addresses():
        return lazy_gettext("From the helpdesk's own address (%(address)s): our own mail is never a ticket and "
                            "never answered.", address=address)
    return None


# ------------------------------------------------------------------ duplicates and threading


@dataclass
class _Seen:
    """How this mail is told apart from others with its Message-ID (see ``dedupe``)."""

    key: str  # its content key
    index_hash: str  # the hash it is indexed under: sha256(Message-ID), or its variant hash
    note: Text = ""  # said on the message when another mail had the same Message-ID


def _duplicate(parsed: ParsedMail, seen: _Seen, retry_of: int | None) -> IngestResult | None:
    """Seen before (same Message-ID, sender and content)? One round trip: the threading index and the quarantine.

    A different mail with a Message-ID we have is not a duplicate: ``seen`` is then given
    its variant hash and a note, and the mail is stored as new.
    """
    digest = parsed.msgid_hash
    variant = dedupe.variant_hash(digest, seen.key)
    quarantine = select(literal("q").label("direction"), null().label("ticket_id"), null().label("message_id"),
                        EmailQuarantine.id.label("quarantine_id"), EmailQuarantine.content_key,
                        EmailQuarantine.message_id_hash.label("digest")
                        ).where(EmailQuarantine.message_id_hash == digest)
    if retry_of is not None:
        quarantine = quarantine.where(EmailQuarantine.id != retry_of)
    indexed = select(EmailMessageId.direction, EmailMessageId.ticket_id, EmailMessageId.message_id,
                     null().label("quarantine_id"), EmailMessageId.content_key,
                     EmailMessageId.msgid_hash.label("digest")).where(EmailMessageId.msgid_hash.in_((digest, variant)))
    # Core execution: these plain lookups need none of the ORM's per-statement work.
    rows = list(db_session().connection().execute(union_all(indexed, quarantine)))
    for row in rows:
        same = row.digest == variant or row.content_key is None or row.content_key == seen.key
        if row.direction == "in" and same:
            return IngestResult("duplicate", ticket_id=row.ticket_id, message_id=row.message_id,
                                text=lazy_gettext("Already received (same Message-ID, sender and content): nothing "
                                                  "new stored."))
        if row.direction == "q" and same:
            return IngestResult("duplicate", quarantine_id=row.quarantine_id,
                                text=lazy_gettext("Already received and kept in the quarantine: nothing new stored."))
    earlier = next((row for row in rows if row.direction in ("in", "q")), None)
    if earlier is not None:
        message_id = f"<{(parsed.message_id or '')[:200]}>"
        if earlier.ticket_id:
            seen.note = lazy_gettext(
                "Another mail with the same Message-ID %(message_id)s arrived earlier on %(reference)s, from another "
                "sender or with other content: this one is a different mail and was stored as new, not dropped as "
                "a duplicate.", message_id=message_id, reference=_reference(earlier.ticket_id))
        else:
            seen.note = lazy_gettext(
                "Another mail with the same Message-ID %(message_id)s arrived earlier (kept in the quarantine), from "
                "another sender or with other content: this one is a different mail and was stored as new, not "
                "dropped as a duplicate.", message_id=message_id)
    if any(row.direction in ("in", "out") for row in rows):
        seen.index_hash = variant  # the Message-ID's own row belongs to the first mail
    return None


def _own_message_id(parsed: ParsedMail) -> Text | None:
    """A mail carrying a Message-ID we generated is our own mail coming back."""
    if parsed.message_id and msgids.verified_ticket_id(parsed.message_id) is not None:
        return lazy_gettext("Our own mail came back (it has a Message-ID we generated): not answered, to avoid a "
                            "loop.")
    return None


def _thread(parsed: ParsedMail) -> tuple[Ticket | None, str | None]:
    """The ticket this mail answers, and how we know ("message-id" or "subject")."""
    candidates: list[str] = []
    for value in parsed.in_reply_to + list(reversed(parsed.references)):
        if value not in candidates:
            candidates.append(value)
    ticket_ids: dict[str, int] = {}
    others = []
    for value in candidates[:40]:
        if msgids.looks_like_ours(value):
            verified = msgids.verified_ticket_id(value)  # a forged HMAC is rejected here, before any lookup
            if verified is not None:
                ticket_ids[value] = verified
        else:
            others.append(value)
    if others:
        hashes = {msgids.hash_id(v): v for v in others}
        for digest, ticket_id in db_session().execute(select(EmailMessageId.msgid_hash, EmailMessageId.ticket_id)
                                                    .where(EmailMessageId.msgid_hash.in_(hashes))):
            ticket_ids[hashes[digest]] = ticket_id
    for value in candidates:
        if value in ticket_ids:
            ticket = db_session().get(Ticket, ticket_ids[value])
            if ticket is not None:
                return ticket, "message-id"
    prefix = re.escape(current_app.config["TICKET_PREFIX"])
    for match in re.finditer(rf"(?<![\w-]){prefix}-(\d{{1,10}})\b", parsed.subject, re.IGNORECASE):
        if int(match.group(1)) > MAX_ID:  # not one of ours (and PostgreSQL's INTEGER would refuse it)
            continue
        ticket = db_session().get(Ticket, int(match.group(1)))
        if ticket is not None:
            return ticket, "subject"
    return None, None


def _on_ticket(ticket: Ticket, address: str, staff: User | None) -> bool:
    """Is the sender one of the people on the ticket (its customer, an agent, an earlier writer)?"""
    if staff is not None:
        return staff.is_active
    customer = find_customer("email", address)
    if customer is None:
        return False
    if customer.id == ticket.customer_id:
        return True
    return db_session().scalar(select(Message.id).where(Message.ticket_id == ticket.id,
                                                      Message.author_id == customer.id).limit(1)) is not None


# ------------------------------------------------------------------ content


@dataclass
class _Content:
    body: str
    folded: Folded
    full_text: str
    html: str | None
    attachments: list[NewAttachment]
    notes: list[Text]  # for the agents, each read in their language (see ``_meta``)
    seen: _Seen | None = None  # how it is indexed (set by ``_ingest``; None: under its own Message-ID)


def _content(parsed: ParsedMail) -> _Content:
    notes = list({english_text(note): note for note in parsed.notes}.values())  # in order, once each
    folded = fold_html(parsed.html) if parsed.text_from_html else fold_text(parsed.text)
    attachments = _attachments(parsed, notes)
    body = folded.visible.strip()
    if len(body) > MAX_BODY - 500:
        body = body[:MAX_BODY - 500].rstrip() + "\n\n[…] The rest of this long message is in the original mail."
        notes.append(lazy_gettext("The text was cut: the full text is in the original mail."))
    # The message's own text is the mail as received: files left out are said there in English.
    dropped = [english_text(n) for n in notes if (english_text(n) or "").startswith("Attachment ")]
    if dropped:
        body = (body + "\n\n" if body else "") + "\n".join(f"[{n}]" for n in dropped)
    if not body:
        body = "(no text; see the attachments)" if attachments else "(no text)"
    # Kept only when the HTML is what the ticket must show (no text part, or a stub of it): the core
    # shows a message's ``body_html`` in a sandboxed frame instead of its text.
    html = nh3.clean(_no_nul(parsed.html[:2_000_000]), tags=HTML_TAGS) if parsed.prefer_html else None
    return _Content(body=body, folded=folded, full_text=_no_nul(parsed.text[:2_000_000]), html=html,
                    attachments=attachments, notes=notes)


def _no_nul(text: str) -> str:
    """PostgreSQL text cannot hold NUL characters (mail bodies sometimes do)."""
    return text.replace("\x00", "")


def _attachments(parsed: ParsedMail, notes: list[Text]) -> list[NewAttachment]:
    """The mail's files as core attachments; a file over the helpdesk's per-file limit is dropped with a note."""
    per_file = int(current_app.config.get("MAX_ATTACHMENT_BYTES", 10 * 1024 * 1024))
    kept: list[NewAttachment] = []
    for item in parsed.attachments:
        size = len(item.content)
        if size > per_file:
            notes.append(lazy_gettext("Attachment %(filename)s (%(size)s) was not kept: files over %(limit)s are "
                                      "not stored. It is in the original mail.", filename=item.filename,
                                      size=human_size(size), limit=human_size(per_file)))
            continue
        kept.append(NewAttachment(item.filename, item.content, item.content_type or "application/octet-stream"))
    return kept


def _meta(parsed: ParsedMail, address: str, source: str, mailbox_id: int | None, notes: list[Text]) -> dict:
    """The message's ``meta["email"]``. Its ``notes`` are English (search, the API, older rows);
    ``notes_words`` holds each note's words (None for a plain one), so every agent reads them in
    their own language (``note_texts``)."""
    email_meta = {"message_id": parsed.message_id, "from": address, "auto_reply": False,
                  "subject": parsed.subject[:250], "to": parsed.header("to")[:500], "cc": parsed.header("cc")[:500],
                  "source": source}
    if mailbox_id is not None:
        email_meta["mailbox_id"] = mailbox_id
    if notes:
        email_meta["notes"] = [english_text(note) for note in notes[:20]]
        email_meta["notes_words"] = [words_of(note) for note in notes[:20]]
    return {"email": email_meta}


# ------------------------------------------------------------------ writing


def _add_to_ticket(raw: bytes, parsed: ParsedMail, ticket: Ticket, threaded_by: str | None, address: str,
                   staff: User | None, content: _Content, meta: dict, external_id: str, source: str,
                   mailbox_id: int | None, now: datetime, retry_of: int | None,
                   unverified: Text | None = None) -> IngestResult:
    def stage(landed: Ticket, message: Message) -> None:
        _stage_record(raw, parsed, landed.id, message.id, content, now)

    kwargs = dict(channel="email", attachments=content.attachments, body_html=content.html,
                  external_id=external_id, meta=meta, before_commit=stage)
    try:
        result = _add_to_ticket_staged(raw, parsed, ticket, threaded_by, address, staff, content, meta,
                                       external_id, source, mailbox_id, now, retry_of, kwargs, unverified)
    except IntegrityError:  # the same mail committed by another process a moment ago
        db_session().rollback()
        return _duplicate(parsed, _Seen(content.seen.key if content.seen else "", parsed.msgid_hash), retry_of) \
            or IngestResult("duplicate", text=lazy_gettext("Received twice at once."))
    if staff is None and result.outcome == "message" and result.message_id and source not in IMPORT_SOURCES:
        trouble = _after_commit(lambda: agentauth.notify_assignee(result.ticket_id, result.message_id))
        if trouble:
            result.text = joined([result.text, trouble], " ")
    return result


def _add_to_ticket_staged(raw: bytes, parsed: ParsedMail, ticket: Ticket, threaded_by: str | None, address: str,
                          staff: User | None, content: _Content, meta: dict, external_id: str, source: str,
                          mailbox_id: int | None, now: datetime, retry_of: int | None, kwargs: dict,
                          unverified: Text | None) -> IngestResult:
    if staff is not None:
        if not staff.is_active:
            return _quarantine(raw, parsed, "quarantined",
                               lazy_gettext("From a disabled agent account (%(address)s).", address=address),
                               source, mailbox_id, now, retry_of)
        if unverified:  # it claims to be an agent's: the agents see it, the customer never does
            message = services.add_message(ticket, staff, content.body, internal=True, needs_review=True, **kwargs)
            how: Text = lazy_gettext("%(unverified)s: kept as an internal note on %(reference)s; from %(address)s, "
                                     "but %(reason)s", unverified=agentauth.UNVERIFIED, reference=ticket.reference,
                                     address=address, reason=unverified)
            return IngestResult("message", ticket_id=message.ticket_id, message_id=message.id, text=how)
        message = services.add_message(ticket, staff, content.body, **kwargs)
        how = lazy_gettext("Agent reply by mail on %(reference)s, sent on to the customer.", reference=ticket.reference)
    else:
        customer = find_customer("email", address)
        if customer is not None and customer.id == ticket.customer_id:
            try:
                message = services.add_message(ticket, customer, content.body, **kwargs)
            except services.ServiceError as exc:
                # A reply to a closed ticket (or one resolved too long ago) must not be lost: new ticket.
                db_session().rollback()
                return _new_ticket(raw, parsed, address, content, meta, external_id, source, mailbox_id, now,
                                   retry_of, linked=ticket, note=exc.message)
            how = lazy_gettext("Added to %(reference)s (threaded by %(how)s).", reference=ticket.reference,
                               how=threaded_by or "")
        else:
            customer = customer or services.find_or_create_customer("email", address, parsed.from_name or None)
            message = services.add_message(ticket, customer, content.body, needs_review=True, **kwargs)
            how = lazy_gettext("Added to %(reference)s and flagged for review: %(address)s is not the ticket's "
                               "customer or an agent.", reference=ticket.reference, address=address)
    message_id, landed_on = message.id, message.ticket_id  # one refresh after the service's commit
    outcome = "message"
    if landed_on != ticket.id and db_session().scalar(
            select(func.min(Message.id)).where(Message.ticket_id == landed_on)) == message_id:
        outcome = "ticket"  # "closed means closed": the reply opened a new, linked ticket
        how = lazy_gettext("New ticket %(reference)s, linked to closed %(closed)s.", reference=_reference(landed_on),
                           closed=ticket.reference)
    return IngestResult(outcome, ticket_id=landed_on, message_id=message_id, text=how)


def _new_ticket(raw: bytes, parsed: ParsedMail, address: str, content: _Content, meta: dict, external_id: str,
                source: str, mailbox_id: int | None, now: datetime, retry_of: int | None,
                linked: Ticket | None = None, note: Text | None = None) -> IngestResult:
    customer = services.find_or_create_customer("email", address, parsed.from_name or None)
    first_name = customer.first_name  # read now: the service's commit expires the object
    team_id = _team_for(mailbox_id)
    subject = parsed.subject.strip()[:250].strip() or "(no subject)"
    ids: dict[str, int] = {}

    def stage(ticket: Ticket, message: Message) -> None:
        # The dedupe index and the original are committed with the ticket, or not at all.
        ids.update(ticket=ticket.id, message=message.id)
        _stage_record(raw, parsed, ticket.id, message.id, content, now)

    try:
        services.create_ticket(
            customer, subject, content.body, channel="email", attachments=content.attachments,
            body_html=content.html, external_id=external_id, meta=meta,
            headers=dict(list(parsed.headers.items())[:100]), team_id=team_id,
            linked_ticket_id=linked.id if linked is not None else None, before_commit=stage)
    except IntegrityError:  # the same mail committed by another process a moment ago
        db_session().rollback()
        return _duplicate(parsed, _Seen(content.seen.key if content.seen else "", parsed.msgid_hash), retry_of) \
            or IngestResult("duplicate", text=lazy_gettext("Received twice at once."))
    ticket_id, message_id = ids["ticket"], ids["message"]
    reference = _reference(ticket_id)
    troubles: list[Text] = []
    if source not in IMPORT_SOURCES:
        troubles.append(_after_commit(lambda: _acknowledge(ticket_id, reference, subject, customer.id, first_name,
                                                           now)))
        troubles.append(_after_commit(lambda: agentauth.notify_assignee(ticket_id, message_id)))
    reason: Text = lazy_gettext("New ticket %(reference)s from %(address)s.", reference=reference, address=address)
    if linked is not None:
        reason = lazy_gettext("New ticket %(reference)s, linked to %(linked)s (%(why)s)", reference=reference,
                              linked=linked.reference, why=note or "")
    troubles = [trouble for trouble in troubles if trouble]
    if troubles:
        reason = joined([reason, *troubles], " ")
    return IngestResult("ticket", ticket_id=ticket_id, message_id=message_id, text=reason)


def _after_commit(step: Callable[[], object]) -> Text:
    """Run the bookkeeping after the service committed the ticket or message.

    The mail is safe by then: a failure here must not turn it into a quarantine entry too
    (it would exist twice). It is logged and said in the result's reason ("" when all went well).
    """
    try:
        step()
    except Exception as exc:
        db_session().rollback()
        log.exception("email: the message is stored, but its bookkeeping failed")
        return lazy_gettext("(Its original could not be stored: %(error)s.)", error=type(exc).__name__)
    return ""


def _reference(ticket_id: int) -> str:
    return f"{current_app.config['TICKET_PREFIX']}-{ticket_id}"


def _team_for(mailbox_id: int | None) -> int | None:
    from helpdesk.plugin_api import Team
    from helpdesk_email.models import EmailMailbox

    team_id = None
    if mailbox_id is not None:
        team_id = db_session().scalar(select(EmailMailbox.team_id).where(EmailMailbox.id == mailbox_id))
    team_id = team_id or get_setting(PLUGIN, "default_team")
    if team_id and db_session().get(Team, team_id) is None:
        return None
    return team_id or None


def _stage_record(raw: bytes, parsed: ParsedMail, ticket_id: int, message_id: int, content: _Content,
                  now: datetime) -> None:
    """Write the index row (dedupe, threading) and the original bytes in the open transaction (no commit).

    Plain INSERTs on the session's connection: two rows per mail do not need the unit of work.
    """
    header = parsed.message_id or f"sha256:{hashlib.sha256(raw).hexdigest()}"
    seen = content.seen
    connection = db_session().connection()
    # Called from the service's ``before_commit``: a unique-key clash here means another process
    # ingested the same mail a moment ago, and the whole ticket or message is rolled back.
    connection.execute(insert(EmailMessageId.__table__), {
        "msgid_hash": seen.index_hash if seen else parsed.msgid_hash, "message_id_header": header[:500],
        "ticket_id": ticket_id, "message_id": message_id, "direction": "in", "created_at": now,
        "content_key": seen.key if seen else None})
    connection.execute(insert(EmailRawMessage.__table__), {
        "message_id": message_id, "raw": raw, "full_text": content.full_text,
        "quoted": _no_nul(content.folded.quoted[:1_000_000]),
        "signature": _no_nul(content.folded.signature[:100_000]), "created_at": now})



def _quarantine(raw: bytes, parsed: ParsedMail | None, kind: str, reason: Text, source: str,
                mailbox_id: int | None, now: datetime, retry_of: int | None,
                ticket_id: int | None = None) -> IngestResult:
    row = db_session().get(EmailQuarantine, retry_of) if retry_of is not None else None
    if row is None:
        row = EmailQuarantine(size=len(raw), source=(source or "pipe")[:20], mailbox_id=mailbox_id,
                              created_at=now)
        quarantine_store.store_original(row, raw)  # compressed, within the storage budget
        db_session().add(row)
    # English for search and older readers, and its words for each admin's language.
    row.kind, row.reason, row.reason_words = kind, _no_nul(english_text(reason) or "")[:500], words_of(reason)
    row.sender = (parsed.from_address or None) if parsed else None
    if row.sender:
        row.sender = row.sender[:320]
    row.subject = _no_nul(parsed.subject)[:250] if parsed and parsed.subject else None
    row.message_id_header = parsed.message_id[:500] if parsed and parsed.message_id else None
    row.message_id_hash = parsed.msgid_hash if parsed else hashlib.sha256(raw).hexdigest()
    row.content_key = dedupe.content_key(raw, parsed, parsed.from_address, mailbox_id) if parsed else None
    if ticket_id is not None and db_session().get(Ticket, ticket_id) is not None:
        row.ticket_id = ticket_id
    db_session().commit()
    return IngestResult(kind, ticket_id=row.ticket_id if kind != "quarantined" else None, quarantine_id=row.id,
                        text=reason if row.reason_words else row.reason)


def _bounce(raw: bytes, parsed: ParsedMail, reason: Text, source: str, mailbox_id: int | None, now: datetime,
            retry_of: int | None) -> IngestResult:
    addresses = classify.failed_recipients(parsed)
    marked = mark_bouncing(addresses)
    if marked:
        reason = lazy_gettext("%(reason)s Marked as bouncing: %(addresses)s.", reason=reason,
                              addresses=", ".join(marked))
    ticket_id = msgids.embedded_ticket_id(raw[:500_000])
    if ticket_id is not None:
        ticket = db_session().get(Ticket, ticket_id)
        if ticket is not None:
            audit(ticket, None, "bounced", "email", None, ", ".join(addresses) or None,
                  reason=lazy_gettext("mail to the customer bounced: %(reason)s", reason=reason))
    return _quarantine(raw, parsed, "bounce", reason, source, mailbox_id, now, retry_of, ticket_id=ticket_id)


def mark_bouncing(addresses: list[str]) -> list[str]:
    """Mark our customers' email identities with these addresses as bouncing; returns those marked."""
    if not addresses:
        return []
    identity = ContactIdentity
    rows = list(db_session().scalars(select(identity).where(identity.kind == "email", identity.value.in_(addresses))))
    for row in rows:
        row.bouncing = True
    return sorted({row.value for row in rows})


# ------------------------------------------------------------------ acknowledgement


def _acknowledge(ticket_id: int, reference: str, subject: str, customer_id: int, first_name: str,
                 now: datetime) -> bool:
    """Tell the sender their reference: an automatic notice, so the core's per-recipient cap applies.

    Returns True when the acknowledgement was queued.
    """
    if not get_setting(PLUGIN, "ack_enabled"):
        return False
    ticket, customer = db_session().get(Ticket, ticket_id), db_session().get(User, customer_id)
    if ticket is None or customer is None:
        return False
    with customer_locale(customer):  # in the customer's language
        text = (gettext("Hello %(name)s,", name=first_name or gettext("there")) + "\n\n"
                + gettext("We received your message — your reference is %(reference)s.", reference=reference) + "\n"
                + gettext("Reply to this mail to add to it (keep %(reference)s in the subject).",
                          reference=reference) + "\n\n"
                + _suggested_articles(ticket, customer, subject)
                + f"{site_setting('helpdesk_name')}\n")
    return services.notify_customer(customer, f"[{reference}] Re: {subject}", text, ticket=ticket,
                                    headers={"Auto-Submitted": "auto-replied"}, now=now)


ACK_ARTICLES = 2  # help-centre articles an acknowledgement offers at most


def _suggested_articles(ticket: Ticket, customer: User, subject: str) -> str:
    """The answer bot's part of the acknowledgement: articles a knowledge base plugin is
    confident answer the mail (``plugin_api.suggest_answers``, in the customer's language
    where a translation exists); empty when none is, or the setting is off."""
    if not get_setting(PLUGIN, "ack_articles"):
        return ""
    first = db_session().scalar(select(Message.body).where(Message.ticket_id == ticket.id)
                                .order_by(Message.id).limit(1)) or ""
    answers = [a for a in suggest_answers(f"{subject}\n{first[:2000]}", customer_language(customer), ACK_ARTICLES)
               if a.get("confident")][:ACK_ARTICLES]
    if not answers:
        return ""
    lines = "".join(f"- {' '.join(str(a.get('title') or '').split())[:200]}\n  {a.get('url')}\n" for a in answers)
    return (ngettext("While you wait, this may already answer your question:",
                     "While you wait, these articles may already answer your question:", len(answers))
            + "\n" + lines + gettext("If not, no need to do anything: a person will answer you.") + "\n\n")


# ------------------------------------------------------------------ admin actions


def retry_quarantined(quarantine_id: int, now: datetime | None = None) -> IngestResult:
    """Run a quarantined mail through the ingester again (after fixing what stopped it)."""
    now = now or utcnow()
    row = db_session().get(EmailQuarantine, quarantine_id)
    if row is None:
        return IngestResult("quarantined", text=lazy_gettext("No such quarantine entry."))
    if not row.complete:
        return IngestResult("quarantined", quarantine_id=row.id, text=lazy_gettext(
            "Only the headers of this mail were kept (the quarantine's storage budget was used up): it cannot be "
            "read again."))
    result = ingest_message(row.original, source=row.source, mailbox_id=row.mailbox_id, now=now, retry_of=row.id)
    row = db_session().get(EmailQuarantine, quarantine_id)
    if row is not None and result.outcome in ("ticket", "message", "duplicate") and result.ticket_id:
        row.resolved_at, row.resolution, row.ticket_id = now, "retried", result.ticket_id
        db_session().commit()
    return result


def create_ticket_anyway(quarantine_id: int, sender: str, subject: str, actor: User,
                         now: datetime | None = None) -> Ticket:
    """Open a ticket from a quarantined mail for ``sender``, whatever the classification said.

    Raises ``services.ServiceError`` for an invalid sender. No acknowledgement is sent, and
    a mail that was automatic keeps ``meta["auto_reply"]`` so no plugin answers or surveys it.
    """
    now = now or utcnow()
    row = db_session().get(EmailQuarantine, quarantine_id)
    if row is None:
        raise services.ServiceError(gettext('No such quarantine entry.'))
    if not row.complete:
        raise services.ServiceError(
            gettext("Only the headers of this mail were kept (the quarantine's storage budget was used up): ask the sender to send it again."))  # noqa: E501 - one msgid
    raw = row.original
    try:
        msg, parsed = parse_message(raw)
        who = identity.sender(msg.get_all("From") or [])
        if who.present:
            parsed.from_address, parsed.from_name = who.address, ("" if "@" in who.name else who.name)
        content = _content(parsed)
    except Exception:
        parsed = ParsedMail(raw=raw)
        content = _Content(body="(The mail could not be read: see the attached original.)", folded=Folded(""),
                           full_text="", html=None, notes=[],
                           attachments=[NewAttachment("original.eml", raw[:_limit_bytes()], "message/rfc822")])
    address = normalise_email(sender)
    if address in _staff_addresses():
        raise services.ServiceError(
            gettext("This is an agent's address: tickets are opened for customers."), field="sender")
    customer = services.find_or_create_customer("email", address, parsed.from_name or None)
    automatic = row.kind in ("bounce", "auto_reply", "bulk")
    meta = _meta(parsed, address, row.source, row.mailbox_id, content.notes)
    meta["email"]["auto_reply"] = automatic
    if automatic:
        meta["auto_reply"] = True
    external_id = (parsed.message_id or f"sha256:{hashlib.sha256(raw).hexdigest()}")[:500]
    ticket = services.create_ticket(
        customer, (subject or parsed.subject or "(no subject)").strip()[:250] or "(no subject)", content.body,
        channel="email", actor=actor, attachments=content.attachments, body_html=content.html,
        external_id=external_id, meta=meta, team_id=_team_for(row.mailbox_id))
    message = ticket.messages[0]
    db_session().add(EmailRawMessage(message_id=message.id, raw=raw, full_text=content.full_text,
                                   quoted=_no_nul(content.folded.quoted[:1_000_000]),
                                   signature=_no_nul(content.folded.signature[:100_000]), created_at=now))
    digest = parsed.msgid_hash
    if db_session().scalar(select(EmailMessageId.id).where(EmailMessageId.msgid_hash == digest)) is None:
        db_session().add(EmailMessageId(msgid_hash=digest, message_id_header=external_id, ticket_id=ticket.id,
                                      message_id=message.id, direction="in", created_at=now,
                                      content_key=row.content_key))
    row = db_session().get(EmailQuarantine, quarantine_id)
    row.resolved_at, row.resolution, row.ticket_id = now, "ticket created", ticket.id
    audit(ticket, actor, "created", reason=lazy_gettext("from quarantined mail #%(number)s (%(kind)s: %(reason)s)",
                                                        number=quarantine_id, kind=row.kind,
                                                        reason=stored_text(row.reason_words, row.reason)))
    db_session().commit()
    return ticket
