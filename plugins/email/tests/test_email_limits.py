"""Bounded parsing: part floods and deep nesting are refused before the parse; one mail has a time limit."""
from __future__ import annotations

import pytest
from email_mailmaker import make_mail
from helpdesk_email.ingest import ingest_message
from helpdesk_email.limits import prescan
from helpdesk_email.models import EmailQuarantine
from sqlalchemy import func, select

from helpdesk.plugin_api import Ticket, db_session

pytestmark = pytest.mark.plugins("email")


def count(model) -> int:
    return db_session().scalar(select(func.count()).select_from(model))


def part_flood(parts: int, boundary: bytes = b"flood") -> bytes:
    """The attack from the issue, smaller: one multipart/mixed with ``parts`` empty parts."""
    head = (b"From: Mallory <mallory@evil.example>\r\nTo: support@helpdesk.test\r\nSubject: Flood\r\n"
            b"Message-ID: <flood@evil.example>\r\nMIME-Version: 1.0\r\n"
            b"Content-Type: multipart/mixed; boundary=\"" + boundary + b"\"\r\n\r\n")
    return head + (b"--" + boundary + b"\r\n\r\n") * parts + b"--" + boundary + b"--\r\n"


def deep_nest(depth: int) -> bytes:
    """Multiparts inside multiparts, ``depth`` levels, each with its own boundary."""
    lines = [b"From: Mallory <mallory@evil.example>", b"Subject: Deep", b"Message-ID: <deep@evil.example>",
             b"MIME-Version: 1.0", b"Content-Type: multipart/mixed; boundary=b0", b""]
    for level in range(1, depth):
        lines += [b"--b%d" % (level - 1), b"Content-Type: multipart/mixed; boundary=b%d" % level, b""]
    lines += [b"--b%d" % (depth - 1), b"Content-Type: text/plain", b"", b"the bottom"]
    lines += [b"--b%d--" % level for level in reversed(range(depth))]
    return b"\r\n".join(lines) + b"\r\n"


@pytest.fixture
def app_config(smtp_port):
    return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": smtp_port, "MAIL_FROM": "help@acme.test"}


def test_a_part_flood_through_the_cli_is_quarantined_unread_and_nothing_is_sent(app, smtp):
    raw = part_flood(20_000)  # 20 times the default limit of 1,000 parts
    result = app.test_cli_runner().invoke(args=["mail", "ingest"], input=raw)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("quarantined: More than 1,000 MIME parts (setting max_mime_parts)")
    assert count(Ticket) == 0
    [row] = db_session().scalars(select(EmailQuarantine)).all()
    assert (row.kind, row.sender, row.subject) == ("quarantined", "mallory@evil.example", "Flood")
    assert row.original == raw  # nothing lost: the admin can still download it
    assert smtp.sink.envelopes == []  # no acknowledgement to the attacker


def test_the_part_limit_is_a_setting(app, monkeypatch):
    raw = part_flood(300)
    assert ingest_message(raw).outcome == "ticket"  # within the default limit
    monkeypatch.setenv("HELPDESK_PLUGIN_EMAIL_MAX_MIME_PARTS", "100")
    other = raw.replace(b"<flood@", b"<flood2@")
    result = ingest_message(other)
    assert result.outcome == "quarantined"
    assert result.reason.startswith("More than 100 MIME parts")


def test_deep_nesting_is_quarantined_before_the_parse(app):
    result = ingest_message(deep_nest(200))
    assert result.outcome == "quarantined"
    assert result.reason.startswith("MIME parts nested more than 25 deep (setting max_mime_depth)")
    assert ingest_message(deep_nest(10).replace(b"<deep@", b"<shallow@")).outcome == "ticket"


def test_many_lines_that_only_look_like_delimiters_are_not_parts():
    # A long text full of "-- " signature separators and dashes is an ordinary mail.
    body = b"".join(b"--\r\nregards %d\r\n-- \r\n----------\r\n" % n for n in range(3000))
    raw = b"From: a@example.test\r\nSubject: dashes\r\n\r\n" + body
    assert prescan(raw, max_parts=1000, max_depth=25) is None
    # ... while the same number of real delimiters is a flood.
    assert prescan(part_flood(3000), max_parts=1000, max_depth=25) is not None


def test_inner_multiparts_left_unclosed_end_where_their_outer_one_goes_on():
    def chain(name: bytes) -> bytes:  # five multiparts, each inside the last, none of them closed
        return b"".join(b"--%s%d\r\nContent-Type: multipart/mixed; boundary=%s%d\r\n\r\n" % (name, n, name, n + 1)
                        for n in range(5))
    raw = (b"From: a@example.test\r\nContent-Type: multipart/mixed; boundary=out\r\n\r\n"
           b"--out\r\nContent-Type: multipart/mixed; boundary=a0\r\n\r\n" + chain(b"a")
           + b"--out\r\nContent-Type: multipart/mixed; boundary=b0\r\n\r\n" + chain(b"b") + b"--out--\r\n")
    # out + a0..a4 is six levels with parts; the b chain starts again below "out", not below a4.
    assert prescan(raw, max_parts=1000, max_depth=6) is None
    refused = prescan(raw, max_parts=1000, max_depth=5)
    assert refused is not None and "nested more than 5 deep" in refused.reason


def test_a_mail_over_its_time_limit_is_quarantined_with_the_reason_and_nothing_stored(app):
    raw = make_mail(subject="Slow", message_id="<slow@example.test>")
    result = ingest_message(raw, time_limit=0)  # the limit has passed before the first step
    assert result.outcome == "quarantined"
    assert result.reason.startswith("Reading the mail took longer than 0 s (setting max_ingest_seconds)")
    assert count(Ticket) == 0
    row = db_session().get(EmailQuarantine, result.quarantine_id)
    assert (row.sender, row.subject, row.original) == ("carla@example.test", "Slow", raw)
    # The admin raises the limit (or the server is less busy): a retry makes the ticket.
    from helpdesk_email.ingest import retry_quarantined

    assert retry_quarantined(row.id).outcome == "ticket"


# ------------------------------------------------------------------ quarantine storage


def auto_reply(subject: str, payload: bytes = b"") -> bytes:
    attachments = [("blob.bin", payload, "application/octet-stream")] if payload else []
    return make_mail(subject=subject, headers={"Auto-Submitted": "auto-replied"}, attachments=attachments)


def test_quarantined_mail_is_stored_compressed_and_comes_back_whole(app):
    raw = auto_reply("Out of office", b"the same line again\n" * 20_000)
    row = db_session().get(EmailQuarantine, ingest_message(raw).quarantine_id)
    assert row.storage == "zlib" and row.size == len(raw)
    assert row.stored_size == len(row.raw) and row.stored_size * 10 < row.size
    assert row.original == raw


def test_over_the_storage_budget_only_headers_and_a_hash_are_kept_and_the_admin_is_told(
        app, client, login, admin, monkeypatch):
    import hashlib
    import os

    from pagetext import text, texts

    monkeypatch.setenv("HELPDESK_PLUGIN_EMAIL_QUARANTINE_BUDGET_MB", "1")
    first = auto_reply("First away notice", os.urandom(600_000))  # random bytes do not compress
    second = auto_reply("Second away notice", os.urandom(600_000))
    kept = db_session().get(EmailQuarantine, ingest_message(first).quarantine_id)
    assert kept.complete and kept.original == first
    row = db_session().get(EmailQuarantine, ingest_message(second).quarantine_id)
    assert not row.complete and row.stored_size < 2000
    assert row.raw_sha256 == hashlib.sha256(second).hexdigest()
    assert row.original.startswith(b"From: Carla Customer") and b"Second away notice" in row.original
    assert b"blob.bin" not in row.original  # the body is gone

    login(client, admin)
    page = client.get("/admin/email/quarantine").text
    assert text(page, id="quarantine-budget-warning").startswith(
        "The quarantine's storage is full. 1 entry kept only the headers and a SHA-256 hash of the mail")
    assert "of 1.0 MB used" in text(page, id="quarantine-storage")
    assert "Entries are deleted after 90 days" in text(page, id="quarantine-storage")
    dashboard = client.get("/admin/").text
    assert text(dashboard, id="email-quarantine-full") == (
        "The quarantine's storage is full: 1 mail(s) kept only their headers.")
    assert [("headers only" in r) for r in texts(page, cls="quarantine-row")] == [True, False]
    detail = client.get(f"/admin/email/quarantine/{row.id}").text
    assert text(detail, id="quarantine-headers-only").startswith("Only the headers and a SHA-256 hash")
    assert text(detail, id="quarantine-sha256") == row.raw_sha256
    assert "Second away notice" in text(detail, id="quarantine-headers")
    download = client.get(f"/admin/email/quarantine/{row.id}/raw")
    assert download.data == row.original
    assert "quarantine-2-headers-only.eml" in download.headers["Content-Disposition"]
    retried = client.post(f"/admin/email/quarantine/{row.id}/retry", follow_redirects=True).text
    assert "Only the headers of this mail were kept" in retried
    assert count(Ticket) == 0


def test_entries_older_than_the_retention_period_are_deleted(app, monkeypatch):
    from datetime import timedelta

    from helpdesk_email.quarantine_store import purge_expired

    from helpdesk.plugin_api import utcnow

    now = utcnow()
    old = ingest_message(auto_reply("Old"), now=now - timedelta(days=31)).quarantine_id
    recent = ingest_message(auto_reply("Recent"), now=now - timedelta(days=29)).quarantine_id
    assert purge_expired(now) == 0  # 90 days by default
    monkeypatch.setenv("HELPDESK_PLUGIN_EMAIL_QUARANTINE_RETENTION_DAYS", "30")
    assert purge_expired(now) == 1
    assert db_session().get(EmailQuarantine, old) is None
    assert db_session().get(EmailQuarantine, recent) is not None


def test_in_the_main_thread_the_time_limit_interrupts_a_step_without_checks():
    from helpdesk_email.limits import IngestTimeout, deadline, interruptible

    steps = 0
    with pytest.raises(IngestTimeout), deadline(0.05), interruptible(10_000_000):
        while True:  # stands for the standard library's parse of a huge mail: no checks inside
            steps += 1
    assert steps > 0
