"""Bounds on reading one mail: a pre-scan of the raw bytes and a wall-clock limit.

The standard library's parser builds every MIME part in memory before we see any of them:
a 13 MB mail with 1.5 million empty parts took 49 s and 646 MB to parse. ``prescan`` looks
at the raw bytes first (C-speed ``bytes.count`` and one regex pass on the usual path) and
refuses a mail with more parts or deeper nesting than the settings allow, so the full parse
only ever sees bounded input.

``deadline`` sets a wall-clock limit for the whole ingest of one mail. The parsing code
calls ``check()`` between steps (cooperative: no database write is ever interrupted), and
in the main thread (the CLI, the IMAP poll run by hand) an interval timer also interrupts
the standard library's parse itself.
"""
from __future__ import annotations

import contextvars
import re
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from helpdesk.plugin_api import Text, lazy_gettext

MAX_HEADER_LINES = 5000  # top-level header lines; real mail has a few hundred at most
_BOUNDARY = re.compile(rb'boundary\s*=\s*(?:"([^"\r\n]{1,200})"|([^\s;"]{1,200}))', re.IGNORECASE)
_NESTED_MESSAGE = re.compile(rb"content-type:\s*message/(?:rfc822|global)", re.IGNORECASE)
_DELIMITER = re.compile(rb"^--([^\r\n]{1,210})", re.MULTILINE)
_HEADER_END = re.compile(rb"\r?\n\r?\n")

_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar("email_ingest_deadline", default=None)
_limit: contextvars.ContextVar[float] = contextvars.ContextVar("email_ingest_limit", default=0.0)


class IngestTimeout(BaseException):
    """Reading one mail took longer than its wall-clock limit.

    A ``BaseException``, like ``KeyboardInterrupt``: the parsing code's many "anything goes
    wrong here, fall back" handlers must not swallow it; ``ingest_message`` catches it.
    ``text`` is the quarantine reason (a lazy text: each admin reads it in their language).
    """

    def __init__(self, text: Text) -> None:
        super().__init__(str(text))
        self.text = text


@dataclass(frozen=True)
class Breach:
    """Why a mail is refused before parsing (the quarantine reason)."""

    reason: Text


def prescan(raw: bytes, max_parts: int, max_depth: int) -> Breach | None:
    """Refuse a mail with more than ``max_parts`` MIME parts or nesting deeper than ``max_depth``.

    The usual mail is settled by two passes in C: lines starting with ``--`` (an upper
    bound on the part delimiters) and the ``boundary=`` declarations (an upper bound on the
    nesting). Only a mail over either bound gets the exact, line-by-line count, which stops
    as soon as a limit is passed.
    """
    header_end = _HEADER_END.search(raw, 0, 2_000_000)
    header_block = raw[:header_end.start()] if header_end else raw[:2_000_000]
    if header_block.count(b"\n") > MAX_HEADER_LINES:
        return Breach(lazy_gettext("Too many header lines (more than %(limit)s): refused before reading, as a "
                                   "mail built to exhaust the parser.", limit=f"{MAX_HEADER_LINES:,}"))
    dashes = raw.count(b"\n--") + raw.startswith(b"--")
    declared: set[bytes] = set()
    count = 0
    for match in _BOUNDARY.finditer(raw):
        declared.add(match.group(1) or match.group(2))
        count += 1
        if count > max_parts + 1:  # every multipart but the outermost is a part itself
            return _too_many(max_parts)
    nested = len(_NESTED_MESSAGE.findall(raw)) if count >= max_depth else 0
    if dashes <= max_parts and count + nested <= max_depth:
        return None
    return _exact(raw, declared, nested, max_parts, max_depth)


def _too_many(max_parts: int) -> Breach:
    return Breach(lazy_gettext("More than %(limit)s MIME parts (setting max_mime_parts): refused before reading, "
                               "as a mail built to exhaust the parser.", limit=f"{max_parts:,}"))


def _exact(raw: bytes, boundaries: set[bytes], nested: int, max_parts: int, max_depth: int) -> Breach | None:
    """Count delimiter lines of declared boundaries; the open boundaries form a stack (the nesting)."""
    parts = 0
    stack: list[bytes] = []
    for index, match in enumerate(_DELIMITER.finditer(raw)):
        if index % 4096 == 0:
            check()
        line = match.group(1).rstrip(b" \t")
        closing = line.endswith(b"--") and line[:-2] in boundaries
        boundary = line[:-2] if closing else line
        if boundary not in boundaries:
            continue  # "-- " signature separators, dashes in text
        if boundary in stack:
            del stack[stack.index(boundary) + 1:]  # inner multiparts that never closed end here
            if closing:
                stack.pop()
                continue
        elif closing:
            continue
        else:
            stack.append(boundary)
            if len(stack) > max_depth:
                return Breach(lazy_gettext("MIME parts nested more than %(limit)s deep (setting max_mime_depth): "
                                           "refused before reading, as a mail built to exhaust the parser.",
                                           limit=max_depth))
        parts += 1
        if parts > max_parts:
            return _too_many(max_parts)
    if nested > max_depth:
        return Breach(lazy_gettext("Attached messages nested more than %(limit)s deep (setting max_mime_depth): "
                                   "refused before reading.", limit=max_depth))
    return None


# ------------------------------------------------------------------ wall-clock limit


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Ingest of one mail must finish within ``seconds``; ``check()`` raises ``IngestTimeout`` after."""
    token = _deadline.set(time.monotonic() + max(0.0, seconds))
    limit_token = _limit.set(seconds)
    try:
        yield
    finally:
        _deadline.reset(token)
        _limit.reset(limit_token)


def _timeout() -> IngestTimeout:
    limit = _limit.get()
    return IngestTimeout(lazy_gettext("Reading the mail took longer than %(limit)s s (setting max_ingest_seconds): "
                                      "stopped and held back for an admin.", limit=f"{limit:g}"))


def check() -> None:
    """Raise ``IngestTimeout`` if the current mail's deadline has passed (no deadline: never)."""
    expires = _deadline.get()
    if expires is not None and time.monotonic() >= expires:
        raise _timeout()


INTERRUPT_FROM_BYTES = 256 * 1024  # a smaller mail within the pre-scan's bounds parses in milliseconds


@contextmanager
def interruptible(size: int) -> Iterator[None]:
    """Let the remaining time interrupt a long step we cannot put checks into (the stdlib parse of ``size`` bytes).

    Only in the main thread, where signals are delivered; elsewhere (web requests, worker
    threads) the cooperative checks and the pre-scan's bounds are the limit. Small mails
    skip the timer: four system calls per mail are measurable at hundreds of mails a second.
    """
    check()
    expires = _deadline.get()
    if expires is None or size < INTERRUPT_FROM_BYTES or threading.current_thread() is not threading.main_thread() \
            or not hasattr(signal, "setitimer"):
        yield
        return

    def _alarm(_signum, _frame):
        raise _timeout()

    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, max(0.001, expires - time.monotonic()))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
