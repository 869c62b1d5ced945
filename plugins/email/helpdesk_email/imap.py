"""Reading IMAP mailboxes: poll, ingest, and only then mark (or move) each message.

A message is marked ``\\Seen`` (or moved to the processed folder) and ``last_uid`` stored
only after ``ingest_message`` committed it. A crash or a dropped connection in between
means the message is fetched again next time, and the Message-ID dedupe makes that
second delivery a no-op. ``UIDVALIDITY`` changing (the folder was recreated) resets the
position; the dedupe again prevents duplicates.
"""
from __future__ import annotations

import imaplib
import logging
import socket
import ssl
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select, update

from helpdesk.plugin_api import (
    Text,
    crontab,
    db_session,
    decrypt_secret,
    english_text,
    gettext,
    joined,
    lazy_gettext,
    periodic_task,
    utcnow,
    words_of,
)
from helpdesk_email.ingest import ingest_message
from helpdesk_email.models import EmailMailbox

log = logging.getLogger(__name__)

TIMEOUT = 30  # seconds for every socket operation of a poll
TEST_TIMEOUT = 10
MAX_PER_POLL = 500  # the rest waits for the next poll


@dataclass
class PollResult:
    fetched: int = 0
    ingested: int = 0
    errors: list[Text] = field(default_factory=list)  # lazy texts: each admin reads them in their language
    outcomes: dict[str, int] = field(default_factory=dict)


class PollError(Exception):
    """An IMAP command answered something other than OK; ``text`` says so (a lazy text)."""

    def __init__(self, text: Text) -> None:
        super().__init__(str(text))
        self.text = text


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _connect(host: str, port: int, security: str, timeout: float) -> imaplib.IMAP4:
    context = ssl.create_default_context()
    if security == "ssl":
        return imaplib.IMAP4_SSL(host, port, ssl_context=context, timeout=timeout)
    conn = imaplib.IMAP4(host, port, timeout=timeout)
    if security == "starttls":
        conn.starttls(ssl_context=context)
    return conn


def describe(exc: BaseException) -> Text:
    """An error as an admin can act on it (the server's own words stay as they are)."""
    if isinstance(exc, ConnectionRefusedError):
        return lazy_gettext("connection refused (is the host and port right, and the server running?)")
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return lazy_gettext("no answer in time (a firewall, or the wrong port?)")
    if isinstance(exc, socket.gaierror):
        return lazy_gettext("unknown host name")
    if isinstance(exc, ssl.SSLError):
        return lazy_gettext("TLS failed (%(error)s); check the security setting and the port",
                            error=str(exc.reason or exc))
    if isinstance(exc, imaplib.IMAP4.abort):
        return lazy_gettext("the server closed the connection (%(error)s)", error=str(exc))
    text = exc.args[0] if exc.args else exc
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"{type(exc).__name__}: {text}"


def _ok(answer: tuple, what: Text) -> list:
    typ, data = answer
    if typ != "OK":
        detail = b" ".join(d for d in data if isinstance(d, bytes)).decode("utf-8", "replace") if data else ""
        raise PollError(lazy_gettext("%(what)s failed: %(detail)s", what=what, detail=detail or typ))
    return data


def _logout(conn: imaplib.IMAP4 | None) -> None:
    if conn is None:
        return
    try:
        conn.logout()
    except Exception:  # the connection may already be gone; nothing to keep
        pass


def test_connection(host: str, port: int, security: str, user: str, password: str,
                    folder: str = "INBOX") -> tuple[bool, str]:
    """Connect, sign in and open ``folder`` read-only; (ok, a sentence saying what happened)."""
    where = f"{host}:{port}"
    try:
        conn = _connect(host, int(port), security, TEST_TIMEOUT)
    except Exception as exc:
        return False, gettext("Could not connect to %(where)s: %(error)s.", where=where, error=describe(exc))
    try:
        try:
            conn.login(user, password)
        except imaplib.IMAP4.error as exc:
            return False, gettext("Connected to %(where)s, but the server refused the user name or password "
                                  "(%(error)s).", where=where, error=describe(exc))
        typ, data = conn.select(_quote(folder or "INBOX"), readonly=True)
        if typ != "OK":
            detail = data[0].decode("utf-8", "replace") if data and isinstance(data[0], bytes) else typ
            return False, gettext("Signed in to %(where)s, but the folder %(folder)s cannot be opened: %(detail)s.",
                                  where=where, folder=repr(folder), detail=detail)
        count = data[0].decode() if data and isinstance(data[0], bytes) else "?"
        return True, gettext("Connected to %(where)s and signed in as %(user)s: %(folder)s holds %(count)s message(s).",
                             where=where, user=user, folder=folder, count=count)
    except Exception as exc:
        return False, gettext("Connected to %(where)s, then: %(error)s.", where=where, error=describe(exc))
    finally:
        _logout(conn)


def _fetch_body(data: list) -> bytes | None:
    for item in data:
        if isinstance(item, tuple) and len(item) >= 2 and b"BODY[]" in item[0].upper():
            return item[1]
    return None


def poll_mailbox(mailbox_id: int, *, now: datetime | None = None) -> PollResult:
    """Fetch new messages of one mailbox, ingest each, then mark it; never raises."""
    now = now or utcnow()
    result = PollResult()
    mailbox = db_session().get(EmailMailbox, mailbox_id)
    if mailbox is None:
        result.errors.append(lazy_gettext("No mailbox #%(number)s.", number=mailbox_id))
        return result
    password = decrypt_secret(mailbox.password_encrypted) if mailbox.password_encrypted else ""
    conn = None
    try:
        if password is None:
            raise PollError(lazy_gettext("the stored password cannot be decrypted (the secrets key changed): enter "
                                         "it again"))
        conn = _connect(mailbox.host, mailbox.port, mailbox.security, TIMEOUT)
        try:
            conn.login(mailbox.username, password)
        except imaplib.IMAP4.error as exc:
            raise PollError(lazy_gettext("the server refused the user name or password (%(error)s)",
                                         error=describe(exc))) from None
        _ok(conn.select(_quote(mailbox.folder or "INBOX")),
            lazy_gettext("Opening folder %(folder)s", folder=repr(mailbox.folder)))
        _typ, validity = conn.response("UIDVALIDITY")
        uidvalidity = int(validity[0]) if validity and validity[0] and validity[0].isdigit() else None
        if uidvalidity is not None and mailbox.uidvalidity != uidvalidity:
            if mailbox.uidvalidity is not None:
                log.warning("email: mailbox %s UIDVALIDITY changed %s → %s; reading it again from the start",
                            mailbox.name, mailbox.uidvalidity, uidvalidity)
            mailbox.uidvalidity, mailbox.last_uid = uidvalidity, 0
            db_session().commit()
        last_uid = mailbox.last_uid or 0
        found = _ok(conn.uid("SEARCH", f"UID {last_uid + 1}:*"), lazy_gettext("Searching for new messages"))
        uids = sorted(int(u) for u in (found[0] or b"").split() if u.isdigit() and int(u) > last_uid)
        use_move = mailbox.processed_folder and b"MOVE" in b" ".join(
            c.encode() if isinstance(c, str) else c for c in conn.capabilities)
        for uid in uids[:MAX_PER_POLL]:
            data = _ok(conn.uid("FETCH", str(uid), "(BODY.PEEK[])"),
                       lazy_gettext("Fetching message %(uid)s", uid=uid))
            raw = _fetch_body(data)
            if raw is None:  # deleted meanwhile: nothing to ingest
                mailbox.last_uid = uid
                db_session().commit()
                continue
            result.fetched += 1
            outcome = ingest_message(raw, source="imap", mailbox_id=mailbox.id, now=now)
            if outcome.outcome == "quarantined" and outcome.quarantine_id is None:
                raise PollError(lazy_gettext("message %(uid)s could not be stored (%(reason)s); it stays unread",
                                             uid=uid, reason=outcome.text))
            result.ingested += 1
            result.outcomes[outcome.outcome] = result.outcomes.get(outcome.outcome, 0) + 1
            if mailbox.processed_folder:
                if use_move:
                    _ok(conn.uid("MOVE", str(uid), _quote(mailbox.processed_folder)),
                        lazy_gettext("Moving message %(uid)s", uid=uid))
                else:
                    _ok(conn.uid("COPY", str(uid), _quote(mailbox.processed_folder)),
                        lazy_gettext("Copying message %(uid)s", uid=uid))
                    _ok(conn.uid("STORE", str(uid), "+FLAGS", "(\\Deleted \\Seen)"),
                        lazy_gettext("Marking message %(uid)s", uid=uid))
            else:
                _ok(conn.uid("STORE", str(uid), "+FLAGS", "(\\Seen)"), lazy_gettext("Marking message %(uid)s", uid=uid))
            mailbox = db_session().get(EmailMailbox, mailbox_id)
            mailbox.last_uid = uid
            db_session().commit()
        if mailbox.processed_folder and not use_move and result.ingested:
            conn.expunge()
    except Exception as exc:
        db_session().rollback()
        message = exc.text if isinstance(exc, PollError) else describe(exc)
        result.errors.append(joined([mailbox.name, message], ": "))
        log.warning("email: polling %s failed: %s", mailbox.name, english_text(message))
    finally:
        _logout(conn)
    mailbox = db_session().get(EmailMailbox, mailbox_id)
    if mailbox is not None:
        mailbox.last_polled_at = now
        last = result.errors[-1] if result.errors else None  # English, and its words for each admin's language
        mailbox.last_error = (english_text(last) or "")[:1000] or None
        mailbox.last_error_words = words_of(last)
        db_session().commit()
    return result


def poll_due(now: datetime | None = None) -> list[PollResult]:
    """Poll every active mailbox whose interval has passed; a mailbox is claimed by one worker only."""
    now = now or utcnow()
    results = []
    rows = db_session().execute(select(EmailMailbox.id, EmailMailbox.last_polled_at, EmailMailbox.poll_minutes)
                              .where(EmailMailbox.active.is_(True)).order_by(EmailMailbox.id)).all()
    for mailbox_id, last_polled_at, minutes in rows:
        if last_polled_at is not None and now - last_polled_at < timedelta(minutes=max(1, minutes or 1)):
            continue
        seen = EmailMailbox.last_polled_at.is_(None) if last_polled_at is None else \
            EmailMailbox.last_polled_at == last_polled_at
        claimed = db_session().execute(update(EmailMailbox).where(EmailMailbox.id == mailbox_id, seen)
                                     .values(last_polled_at=now)).rowcount
        db_session().commit()
        if claimed:  # another worker did not get there first
            results.append(poll_mailbox(mailbox_id, now=now))
    return results


@periodic_task(crontab(minute="*"), plugin="email")
def poll_all() -> int:
    """Every minute: poll the mailboxes that are due. Returns how many were polled."""
    return len(poll_due())
