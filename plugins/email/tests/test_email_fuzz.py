"""Fuzzing the ingester: whatever the bytes, ``ingest_message`` returns a valid outcome and stores a row.

Two sources of input: random bytes, and real corpus messages (tests/data/mail/messages/)
mutated the way broken mailers and hostile senders break mail: dropped, duplicated and
garbled headers, a body cut anywhere, unknown or malformed charsets, broken MIME boundaries,
NUL bytes and very long header lines. About 100 examples in all, derandomized so CI always
runs the same ones.
"""
from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from helpdesk.models import Message, Ticket

ROOT = Path(__file__).resolve().parents[3]
MESSAGES = ROOT / "tests" / "data" / "mail" / "messages"
# Small seeds keep each example fast; the big files are covered by test_email_corpus.py.
SEEDS = sorted(p.name for p in MESSAGES.iterdir() if p.suffix != ".mbox" and p.stat().st_size <= 6000)
OUTCOMES = {"ticket", "message", "duplicate", "bounce", "auto_reply", "bulk", "quarantined"}

FUZZ = settings(derandomize=True, database=None, deadline=None, print_blob=False,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large, HealthCheck.large_base_example])

pytestmark = pytest.mark.plugins("email")


def counts(db) -> tuple[int, int, int]:
    from helpdesk_email.models import EmailQuarantine

    db.session.expire_all()
    return (db.session.scalar(select(func.count(Ticket.id))), db.session.scalar(select(func.count(Message.id))),
            db.session.scalar(select(func.count(EmailQuarantine.id))))


def check_ingest(db, data: bytes) -> str:
    """Ingest ``data`` and check the result against what was stored; returns the outcome."""
    from helpdesk_email.ingest import ingest_message
    from helpdesk_email.models import EmailQuarantine

    tickets, messages, quarantine = counts(db)
    result = ingest_message(data, source="pipe")  # must never raise
    what = f"outcome {result.outcome!r}, reason {result.reason!r}, input {data[:300]!r}..."
    assert result.outcome in OUTCOMES, what
    after = counts(db)
    if result.outcome in ("ticket", "message"):
        assert db.session.get(Message, result.message_id) is not None, what
        assert db.session.get(Ticket, result.ticket_id) is not None, what
        assert after == (tickets + (result.outcome == "ticket"), messages + 1, quarantine), what
    elif result.outcome == "duplicate":
        assert after == (tickets, messages, quarantine), what
    else:
        row = db.session.get(EmailQuarantine, result.quarantine_id)
        assert row is not None and row.kind == result.outcome, what
        assert row.reason and row.reason.strip(), what
        assert row.original == data, what
        assert after == (tickets, messages, quarantine + 1), what
    return result.outcome


# ------------------------------------------------------------------ random bytes


@settings(FUZZ, max_examples=40)
@given(data=st.one_of(
    st.binary(max_size=2000),
    # byte soup that looks a little like a message, so the parser gets further than line 1
    st.lists(st.sampled_from([b"From: ", b"Subject: ", b"Content-Type: multipart/mixed; boundary=", b"\r\n",
                              b"\n", b"--", b"=?utf-8?B?", b"?=", b"a@b.example", b"\x00", b"\xff\xfe", b": ",
                              b"Message-ID: <", b">", b"\r\n\r\n", b"charset=", b"base64", b" "]),
             max_size=60).map(b"".join)))
def test_random_bytes_never_crash_the_ingester(db, data):
    check_ingest(db, data)


# ------------------------------------------------------------------ mutated real mail


def split_message(raw: bytes) -> tuple[list[bytes], bytes]:
    """Header lines (with their line ends) and the rest (blank line and body)."""
    match = re.search(rb"\r?\n\r?\n", raw)
    head, rest = (raw[:match.start()], raw[match.start():]) if match else (raw, b"")
    return head.splitlines(keepends=True), rest


MUTATIONS = ("drop_header", "duplicate_header", "garble_header", "cut", "bad_charset", "break_boundary",
             "nul_bytes", "huge_header", "huge_encoded_subject", "bad_encoded_word", "bad_transfer_encoding",
             "bare_cr_line_ends")


@st.composite
def mutated_messages(draw) -> bytes:
    name = draw(st.sampled_from(SEEDS))
    raw = (MESSAGES / name).read_bytes()
    for mutation in draw(st.lists(st.sampled_from(MUTATIONS), min_size=1, max_size=4)):
        lines, rest = split_message(raw)
        if mutation == "drop_header" and lines:
            del lines[draw(st.integers(0, len(lines) - 1))]
        elif mutation == "duplicate_header" and lines:
            i = draw(st.integers(0, len(lines) - 1))
            lines.insert(i, lines[i])
        elif mutation == "garble_header" and lines:
            i = draw(st.integers(0, len(lines) - 1))
            at = draw(st.integers(0, len(lines[i])))
            lines[i] = lines[i][:at] + draw(st.binary(min_size=1, max_size=30)) + lines[i][at:]
        elif mutation == "cut":
            raw = raw[:draw(st.integers(0, len(raw)))]
            continue
        elif mutation == "bad_charset":
            junk = draw(st.sampled_from([b"x-unknown", b"utf-99", b'"\xff\xfe"', b"", b"iso-8859-1;;;", b"utf-7",
                                         b"unicode-1-1-utf-7", b"big5-hkscs-xx", b"=?utf-8?q?x?="]))
            raw = re.sub(rb"(?i)charset=\"?[^\s;\"]*\"?", b"charset=" + junk, raw)
            if b"charset=" not in raw.lower():
                raw = raw.replace(b"\n\n", b"\nContent-Type: text/plain; charset=" + junk + b"\n\n", 1)
            continue
        elif mutation == "break_boundary":
            boundaries = re.findall(rb'(?i)boundary="?([^";\r\n]+)', raw)
            if boundaries:
                boundary = draw(st.sampled_from(boundaries))
                how = draw(st.sampled_from(["drop_first", "drop_last", "rename", "truncate"]))
                if how == "drop_first":
                    raw = raw.replace(b"--" + boundary + b"\n", b"", 1).replace(b"--" + boundary + b"\r\n", b"", 1)
                elif how == "drop_last":
                    raw = raw.replace(b"--" + boundary + b"--", b"")
                elif how == "rename":
                    raw = raw.replace(b"boundary=\"" + boundary, b"boundary=\"X" + boundary, 1).replace(
                        b"boundary=" + boundary, b"boundary=X" + boundary, 1)
                else:
                    raw = raw.replace(boundary, boundary[: max(1, len(boundary) // 2)])
            else:
                raw = raw.replace(b"\n\n", b"\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=zz\n\n", 1)
            continue
        elif mutation == "nul_bytes":
            at = draw(st.integers(0, len(raw)))
            raw = raw[:at] + b"\x00" * draw(st.integers(1, 64)) + raw[at:]
            continue
        elif mutation == "huge_header":
            lines.insert(0, b"X-Huge: " + b"a" * draw(st.sampled_from([1000, 70_000, 300_000])) + b"\r\n")
        elif mutation == "huge_encoded_subject":
            lines = [line for line in lines if not line.lower().startswith(b"subject:")]
            lines.insert(0, b"Subject:" + b"\r\n =?utf-8?q?Die_hei=C3=9Fe_Zypernsonne?=" * 3000 + b"\r\n")
        elif mutation == "bad_encoded_word":
            word = draw(st.sampled_from([b"=?x-unknown?B?!!!?=", b"=?utf-8?B?////?=", b"=?utf-8?Q?=FF=FE=?=",
                                         b"=?NONE?B?VEVTVA=?=", b"=?utf-8?X?abc?=", b"=?\xff?B?AA==?="]))
            lines = [line for line in lines if not line.lower().startswith((b"subject:", b"from:"))]
            lines[:0] = [b"Subject: " + word + b"\r\n", b"From: " + word + b" <x@example.test>\r\n"]
        elif mutation == "bad_transfer_encoding":
            value = draw(st.sampled_from([b"base64", b"quoted-printable", b"x-uuencode", b"8bit;", b"", b"base64x"]))
            lines = [line for line in lines if not line.lower().startswith(b"content-transfer-encoding:")]
            lines.append(b"Content-Transfer-Encoding: " + value + b"\r\n")
        elif mutation == "bare_cr_line_ends":
            raw = raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r")
            continue
        raw = b"".join(lines) + rest
    # A fresh Message-ID per example so the dedupe does not hide the mutation (most of the time).
    if draw(st.integers(0, 9)) < 9:
        digest = hashlib.sha1(raw).hexdigest()[:16]
        raw = re.sub(rb"(?im)^message-id:[^\r\n]*", f"Message-ID: <fuzz-{digest}@example.test>".encode(),
                     raw, count=1)
    return raw


@settings(FUZZ, max_examples=60)
@given(data=mutated_messages())
def test_mutated_real_messages_never_crash_the_ingester(db, data):
    check_ingest(db, data)


def test_the_fuzz_seeds_are_real_corpus_files():
    assert len(SEEDS) > 80
