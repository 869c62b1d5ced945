"""Reading a raw RFC 5322 message defensively: headers, text, HTML and attachments.

The message is parsed with the standard library's ``compat32`` policy, which never
interprets header values on access (the modern policy raises on some malformed headers
when they are read). Every header, body part and file name is then decoded here with
explicit fallbacks: text labelled with a single-byte charset that is valid UTF-8 is read
as UTF-8; undeclared, unknown or wrong charsets are detected (charset-normalizer) before
the last, lossy fallback (Windows-1252 with replacement characters), and each fallback is
noted so the agent can be told. Detection runs only for text that needs it.
"""
from __future__ import annotations

import binascii
import codecs
import email
import email.errors
import email.header
import email.policy
import email.utils
import hashlib
import mimetypes
import re
from dataclasses import dataclass, field
from email.message import Message as MimeMessage
from email.policy import Compat32

from helpdesk.plugin_api import Text, lazy_gettext, safe_filename
from helpdesk_email import limits
from helpdesk_email.folding import html_to_text

MESSAGE_TEXT = lazy_gettext("message text")  # what a note about a decoding guess is about

MAX_HEADER_CHARS = 20_000  # of one header value decoded (a 200 KB Subject is cut, not decoded)
MAX_PARTS = 500  # leaves looked at; a "part flood" does not get the rest read
MAX_DEPTH = 40
CHARSET_ALIASES = {
    "unicode-1-1-utf-7": "utf-7", "utf7": "utf-7", "ks_c_5601-1987": "cp949", "ks_c_5601": "cp949",
    "euc-kr": "cp949", "gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "iso-8859-8-i": "iso-8859-8",
    "windows-874": "cp874", "x-sjis": "shift_jis", "shift-jis": "shift_jis", "sjis": "shift_jis",
    "x-mac-roman": "mac_roman", "macintosh": "mac_roman", "iso-2022-jp": "iso2022_jp_ext",
    "us-ascii": "ascii", "ansi_x3.4-1968": "ascii", "latin1": "iso-8859-1", "ascii-8bit": "",
    "x-unknown": "", "unknown-8bit": "", "none": "", "default": "", "8bit": "", "binary": "",
}
# RFC 2047 encoded word, leniently: the text may hold spaces (mailers do that), the charset
# may carry an RFC 2231 language (``utf-8*de``).
_ENCODED_WORD = re.compile(r"=\?([^?\s*]{1,40})(?:\*[^?\s]{0,20})?\?([bBqQ])\?([^?]{0,2000}?)\?=")
_SINGLE_BYTE = re.compile(r"^(ascii|latin_?\d*|iso8859_\d+|cp12[5-9]\d|cp437|cp850|koi8_\w+|mac_\w+|windows_125\d)$")
DETECT_LIMIT = 200_000  # bytes looked at to guess a charset
DETECT_MIN = 16  # shorter text is not guessed (the detector is wrong more often than right)
_UNFOLD = re.compile(r"\r?\n(?=[ \t])")
_MSGID = re.compile(r"<([^<>\s]{1,490})>")
_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?")


class _RawHeaders(Compat32):
    """compat32, but header values come back exactly as received (8-bit bytes as surrogates).

    compat32 would wrap a header holding raw 8-bit bytes in a ``Header`` that replaces them
    with U+FFFD; we decode them ourselves (UTF-8, else Windows-1252) instead.
    """

    def header_fetch_parse(self, name: str, value: str) -> str:
        return value


RAW_POLICY = _RawHeaders()


def _is_text_codec(name: str) -> bool:
    try:
        return codecs.lookup(name)._is_text_encoding
    except (LookupError, ValueError, TypeError):
        return False


def decode_bytes(data: bytes, charset: str | None, notes: list[Text] | None = None, what: Text | None = None) -> str:
    """Bytes → text: the declared charset (UTF-8 when a single-byte label is wrong), else UTF-8,
    else a detected charset, else Windows-1252 with replacement characters. Never raises.
    A guess is said in ``notes`` (lazy texts: each agent reads them in their language)."""
    what = what or lazy_gettext("text")
    declared = (charset or "").strip().strip("\"'").lower()
    name = CHARSET_ALIASES.get(declared, declared)
    known = bool(name) and _is_text_codec(name)
    if data.isascii() and b"\x1b" not in data:  # the common case: nothing to decide
        return data.decode("ascii")
    if known:
        if _is_single_byte(name):  # "Gr\xc3\xbc\xc3\x9fe" labelled Latin-1 is UTF-8
            try:
                return data.decode("utf-8")
            except UnicodeDecodeError:
                pass
        try:
            return data.decode(name)
        except (UnicodeDecodeError, LookupError, ValueError):
            pass
    elif declared and notes is not None:
        notes.append(lazy_gettext("Unknown character set %(charset)s in the %(what)s; read as UTF-8.",
                                  charset=repr(declared[:40]), what=what))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    detected = _detect(data)
    if detected is not None:
        if notes is not None and known:
            notes.append(lazy_gettext("The %(what)s was not valid %(charset)s; read as %(detected)s (detected).",
                                      what=what, charset=declared[:40], detected=detected[1]))
        return detected[0]
    if known:
        try:
            return data.decode(name, errors="replace")
        except (LookupError, ValueError):
            pass
    if notes is not None and declared and name not in ("", "ascii"):
        notes.append(lazy_gettext("The %(what)s was not valid %(charset)s; some characters may be wrong.",
                                  what=what, charset=declared[:40]))
    return data.decode("cp1252", errors="replace")


def _is_single_byte(name: str) -> bool:
    try:
        return bool(_SINGLE_BYTE.match(codecs.lookup(name).name.replace("-", "_")))
    except LookupError:
        return False


def _detect(data: bytes) -> tuple[str, str] | None:
    """The text and charset name of the likeliest reading, or None.

    Mostly valid UTF-8 (a stray or cut byte among many good multi-byte characters) stays
    UTF-8; otherwise charset-normalizer guesses, limited to charsets that keep ASCII as ASCII
    (mail text always does: a UTF-16 guess would turn the addresses into ideographs).
    """
    lenient = data.decode("utf-8", errors="replace")
    bad = lenient.count("\ufffd")
    if sum(1 for c in lenient if c > "\x7f") - bad >= 3 * bad:
        return lenient, "utf-8"
    if len(data) < DETECT_MIN:  # too short to guess from: the lossy fallback is no worse
        return None
    sample = data[:DETECT_LIMIT]
    try:
        # Imported here: charset-normalizer takes ~60 ms to import and most mail never needs it
        # (every ``helpdesk`` command imports this plugin).
        from charset_normalizer import from_bytes as detect_charset

        results = list(detect_charset(sample))
    except Exception:  # a detector bug must not lose the mail
        return None
    for match in results[:5]:
        if not match.encoding or not _keeps_ascii(match.encoding):
            continue
        try:
            return data.decode(match.encoding, errors="replace"), match.encoding
        except LookupError:
            continue
    return None


def _keeps_ascii(name: str) -> bool:
    probe = b"From: <a@b.example> 0-9, A-Z; a-z!?"
    try:
        return probe.decode(name) == probe.decode("ascii")
    except (UnicodeDecodeError, LookupError):
        return False


_SURROGATES = re.compile("[\udc80-\udcff]")
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f]")


def _unsurrogate(value: str) -> str:
    """Raw 8-bit bytes in a header (kept as surrogates by the parser) → text."""
    if not _SURROGATES.search(value):
        return value
    return decode_bytes(value.encode("utf-8", "surrogateescape"), None)


def one_line(value: str, limit: int = 1000) -> str:
    """No CR, LF, NUL or other control characters: safe in a header, a subject or a log line."""
    return " ".join(_CONTROL.sub(" ", value).split())[:limit]


def decode_header_value(value: object, limit: int = 1000) -> str:
    """A header value with RFC 2047 encoded words and raw 8-bit bytes decoded, on one line."""
    if value is None:
        return ""
    if isinstance(value, email.header.Header):
        try:
            value = str(value)
        except Exception:
            value = ""
    text = _UNFOLD.sub("", _unsurrogate(str(value)[:MAX_HEADER_CHARS]))
    if "=?" in text:
        text = decode_encoded_words(text)
    return one_line(text, limit)


def decode_encoded_words(text: str) -> str:
    """RFC 2047, as mailers really write it.

    Whitespace between two encoded words is dropped (RFC 2047 section 6.2), and adjacent
    words in the same charset are joined as bytes before decoding, so a multi-byte character
    split across two words survives. Encoded text holding spaces and words in different
    charsets are decoded too; a word that cannot be decoded stays as it was.
    """
    out: list[str] = []
    pending: list[bytes] = []
    pending_charset: str | None = None
    position = 0

    def flush() -> None:
        nonlocal pending, pending_charset
        if pending:
            out.append(decode_bytes(b"".join(pending), pending_charset))
        pending, pending_charset = [], None

    after_word = False
    for match in _ENCODED_WORD.finditer(text):
        gap = text[position:match.start()]
        position = match.end()
        chunk = _word_bytes(match.group(2), match.group(3))
        if chunk is None:  # not decodable: keep the word as text
            flush()
            out.append(gap + match.group(0))
            after_word = False
            continue
        charset = match.group(1).lower()
        if gap and not (after_word and gap.isspace()):
            flush()
            out.append(gap)
        if pending and charset != pending_charset:
            flush()
        pending.append(chunk)
        pending_charset = charset
        after_word = True
    flush()
    out.append(text[position:])
    return "".join(out)


def _word_bytes(encoding: str, encoded: str) -> bytes | None:
    try:
        if encoding in "bB":
            compact = "".join(encoded.split())
            return binascii.a2b_base64(compact + "=" * (-len(compact) % 4), strict_mode=True)
        return _q_bytes(encoded)
    except (binascii.Error, ValueError):
        return None


def _q_bytes(encoded: str) -> bytes:
    data = encoded.replace("_", " ").encode("utf-8", "surrogateescape")
    return re.sub(rb"=([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), data)


@dataclass
class MailAttachment:
    filename: str
    content: bytes
    content_type: str
    inline: bool = False


@dataclass
class ParsedMail:
    """What the ingester needs from one message, decoded."""

    raw: bytes
    headers: dict[str, str] = field(default_factory=dict)  # lower-case name → first value, decoded
    from_address: str | None = None
    from_name: str = ""
    subject: str = ""
    message_id: str | None = None  # without angle brackets
    in_reply_to: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    text: str = ""
    html: str = ""
    attachments: list[MailAttachment] = field(default_factory=list)
    notes: list[Text] = field(default_factory=list)  # said to the agents on the message
    content_type: str = "text/plain"
    report_type: str = ""  # of a multipart/report: delivery-status, disposition-notification, feedback-report
    delivery_status: list[str] = field(default_factory=list)  # bodies of message/delivery-status parts
    has_headers: bool = True
    text_from_html: bool = False  # no text/plain part, or only a stub of the HTML: ``text`` is the HTML's text
    prefer_html: bool = False  # the HTML is the faithful content: show it (sanitised), not the text

    @property
    def msgid_hash(self) -> str:
        """sha256 of the Message-ID, or of the bytes when there is none (a resend is the same mail)."""
        if self.message_id:
            return hashlib.sha256(self.message_id.encode("utf-8", "surrogateescape")).hexdigest()
        return hashlib.sha256(self.raw).hexdigest()

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")


def message_ids(value: str) -> list[str]:
    """Every ``<id>`` in a Message-ID, In-Reply-To or References value (a bare id if no brackets)."""
    found = _MSGID.findall(_CONTROL.sub("", value or ""))
    if not found and value and value.strip() and " " not in value.strip():
        found = [value.strip()[:490]]
    return [f for f in found if "@" in f or len(found) == 1]


def _address(raw_from: str) -> tuple[str | None, str]:
    """The first usable address in a From value, and the display name (never trusted for identity)."""
    decoded = decode_header_value(raw_from, 2000)
    try:
        pairs = email.utils.getaddresses([decoded])
    except Exception:
        pairs = []
    for name, addr in pairs:
        if addr and _ADDRESS.fullmatch(addr.strip()):
            return addr.strip().lower(), name.strip()
    match = _ADDRESS.search(decoded)
    return (match.group(0).lower(), "") if match else (None, "")


def parse_headers(raw: bytes) -> ParsedMail | None:
    """Only the header block, for a quarantine entry of a mail that is not read (never raises)."""
    try:
        end = re.search(rb"\r?\n\r?\n", raw[:1_000_000])
        block = raw[:end.end()] if end else raw[:200_000]
        msg = email.message_from_bytes(block, policy=RAW_POLICY)
        parsed = ParsedMail(raw=raw)
        _read_headers(msg, parsed)
        return parsed
    except Exception:
        return None


def parse_message(raw: bytes) -> tuple[MimeMessage, ParsedMail]:
    """Parse ``raw``; raises only for input the parser itself cannot take (too deeply nested).

    Raises ``limits.IngestTimeout`` when the current mail's time limit passes.
    """
    with limits.interruptible(len(raw)):
        msg = email.message_from_bytes(raw, policy=RAW_POLICY)
    parsed = ParsedMail(raw=raw)
    _read_headers(msg, parsed)
    try:
        parsed.content_type = msg.get_content_type()
        parsed.report_type = (msg.get_param("report-type") or "") if parsed.content_type == "multipart/report" else ""
        if not isinstance(parsed.report_type, str):
            parsed.report_type = ""
    except Exception:
        parsed.content_type = "text/plain"
    _read_body(msg, parsed)
    return msg, parsed


def _read_headers(msg: MimeMessage, parsed: ParsedMail) -> None:
    for name, value in msg.items()[:500]:
        key = str(name).strip().lower()
        if key and key not in parsed.headers:
            parsed.headers[key] = decode_header_value(value, 2000)
    parsed.has_headers = bool(msg.keys())
    parsed.from_address, name = _address(msg.get("From", "") or "")
    parsed.from_name = "" if "@" in name else name[:200]
    parsed.subject = decode_header_value(msg.get("Subject", ""), 1000)
    ids = message_ids(_unsurrogate(str(msg.get("Message-ID", "") or "")))
    parsed.message_id = ids[0] if ids else None
    parsed.in_reply_to = message_ids(_unsurrogate(str(msg.get("In-Reply-To", "") or "")))[:5]
    parsed.references = message_ids(_unsurrogate(str(msg.get("References", "") or "")))[-40:]
    if not parsed.from_address:
        _fallback_sender(msg, parsed)


_SALVAGE = re.compile(r"^(return-path|sender|reply-to|from)[ \t]*:[ \t]*(.*)$", re.IGNORECASE | re.MULTILINE)


def _fallback_sender(msg: MimeMessage, parsed: ParsedMail) -> None:
    """No usable From: take the sender from Return-Path, Sender and Reply-To, if all that are there agree.

    When a broken line ended the header block early, the headers after it sit at the top of
    the body; those lines are read too (and a From among them must agree as well).
    """
    found: dict[str, str] = {}
    for name in ("Return-Path", "Sender", "Reply-To"):
        address = _address(str(msg.get(name, "") or ""))[0]
        if address:
            found[name] = address
    if any(isinstance(d, email.errors.MissingHeaderBodySeparatorDefect) for d in msg.defects):
        payload = msg.get_payload()
        top = payload[:8000] if isinstance(payload, str) else ""
        for line_match in _SALVAGE.finditer(top.split("\n\n", 1)[0].replace("\r", "")):
            address = _address(line_match.group(2))[0]
            name = line_match.group(1).title()
            if address and name not in found:
                found[name] = address
    if found and len(set(found.values())) == 1:
        parsed.from_address = next(iter(found.values()))
        parsed.notes.append(lazy_gettext("The From header could not be read; the sender is taken from %(headers)s, "
                                         "which agree.", headers=", ".join(sorted(found))))


def _charset(part: MimeMessage) -> str | None:
    try:
        charset = part.get_param("charset")
    except Exception:
        return None
    if isinstance(charset, tuple):  # RFC 2231 form
        charset = charset[2]
    return str(charset) if charset else None


def _payload(part: MimeMessage, notes: list[Text]) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except Exception:
        data = None
    if data is None:
        payload = part.get_payload()
        if isinstance(payload, str):
            data = payload.encode("utf-8", "surrogateescape")
        else:
            data = b""
    return data


def _filename(part: MimeMessage, content_type: str, index: int) -> str:
    try:
        name = part.get_filename()
    except Exception:
        name = None
    if name is None:
        try:
            name = part.get_param("name")
            if isinstance(name, tuple):
                name = email.utils.collapse_rfc2231_value(name)
        except Exception:
            name = None
    name = decode_header_value(name or "", 255)
    guessed = ".eml" if content_type in ("message/rfc822", "message/global") else (
        mimetypes.guess_extension(content_type) or "")
    name = safe_filename(name, default="")  # Unicode kept (NFC); control, bidi and path characters gone
    if not name or name.startswith("."):  # no name, or only an extension: make one up
        return f"attachment-{index}" + (name if name.startswith(".") else guessed)
    if "." not in name and guessed:
        name += guessed
    return name


def _read_body(msg: MimeMessage, parsed: ParsedMail) -> None:
    plain: list[str] = []
    html: list[str] = []
    other_text: list[str] = []
    leaves = _leaves(msg, parsed)
    for part, inside_alternative in leaves:
        limits.check()
        content_type = _content_type(part)
        if content_type.startswith("multipart/"):  # a multipart without usable boundary: its body is text
            content_type = "text/plain"
        disposition = _disposition(part)
        named = _has_filename(part)
        if content_type == "message/delivery-status":
            parsed.delivery_status.append(decode_bytes(_delivery_status_bytes(part), None))
            continue
        if content_type.startswith("text/") and not named and disposition != "attachment":
            text = decode_bytes(_payload(part, parsed.notes), _charset(part), parsed.notes, MESSAGE_TEXT)
            if content_type == "text/plain":
                plain.append(text)
            elif content_type == "text/html":
                html.append(text)
            elif not inside_alternative:  # text/enriched and friends, when nothing better is offered
                other_text.append(text)
            continue
        _attach(part, content_type, disposition, parsed)
    parsed.text = "\n\n".join(t.strip("\n") for t in plain if t.strip())
    parsed.html = "\n".join(html)
    if parsed.html and (not parsed.text.strip() or _is_stub(parsed.text, parsed.html)):
        parsed.text = html_to_text(parsed.html)
        parsed.text_from_html = parsed.prefer_html = True
    if not parsed.text and other_text:
        parsed.text = "\n\n".join(t.strip("\n") for t in other_text if t.strip())
    if not parsed.text:
        _text_from_forwarded(msg, parsed)


STUB_SHARE = 0.4  # a text part with less than this share of the HTML's words is a stub of it
STUB_MIN_MISSING = 5  # ... if it misses at least this many words
STUB_OVERLAP = 0.5  # a text part whose words are mostly not in the HTML is a stub too ("view it in HTML")
_WORD = re.compile(r"\w+")


def _is_stub(text: str, html: str) -> bool:
    """Is the text part only a stub of the HTML ("This message is in HTML", a greeting above the real content)?

    Cheap first: the HTML's text is never longer than the HTML, so a text part that long
    cannot be a stub and the HTML is not converted.
    """
    if len(text) >= STUB_SHARE * len(html):
        return False
    text_words = [w.lower() for w in _WORD.findall(text)]
    html_words = [w.lower() for w in _WORD.findall(html_to_text(html))]
    if len(html_words) < STUB_MIN_MISSING:
        return False
    if len(text_words) < STUB_SHARE * len(html_words) and len(html_words) - len(text_words) >= STUB_MIN_MISSING:
        return True
    in_html = set(html_words)
    return sum(w in in_html for w in text_words) < STUB_OVERLAP * len(text_words)


def _disposition(part: MimeMessage) -> str:
    return str(part.get("Content-Disposition") or "").split(";")[0].strip().lower()


def _has_filename(part: MimeMessage) -> bool:
    try:
        return bool(part.get_param("filename", header="Content-Disposition") or part.get_param("name"))
    except Exception:
        return False


def _content_type(part: MimeMessage) -> str:
    try:
        return part.get_content_type()
    except Exception:
        return "application/octet-stream"


def _delivery_status_bytes(part: MimeMessage) -> bytes:
    payload = part.get_payload()
    if isinstance(payload, list):  # compat32 parses the status blocks as header blocks
        return b"\n\n".join(bytes(str(block), "utf-8", "surrogateescape") for block in payload)
    return _payload(part, [])


def _leaves(msg: MimeMessage, parsed: ParsedMail) -> list[tuple[MimeMessage, bool]]:
    """The leaf parts in order (with "inside a multipart/alternative"), at most MAX_PARTS of them.

    Attached messages (message/rfc822) are leaves: they become attachments, their text is
    not the sender's.
    """
    leaves: list[tuple[MimeMessage, bool]] = []
    stack: list[tuple[MimeMessage, int, bool]] = [(msg, 0, False)]
    while stack:
        limits.check()
        part, depth, alternative = stack.pop()
        content_type = _content_type(part)
        if part.is_multipart() and content_type.startswith("multipart/"):
            if depth >= MAX_DEPTH:
                parsed.notes.append(lazy_gettext("The message is nested too deeply; the innermost parts were left "
                                                 "out."))
                continue
            children = [c for c in part.get_payload() if isinstance(c, MimeMessage)]
            inner = alternative or content_type == "multipart/alternative"
            stack.extend((child, depth + 1, inner) for child in reversed(children))
            continue
        if len(leaves) >= MAX_PARTS:
            parsed.notes.append(lazy_gettext("The message has more than %(limit)s parts; only the first were read.",
                                             limit=MAX_PARTS))
            break
        leaves.append((part, alternative))
    return leaves


def _attach(part: MimeMessage, content_type: str, disposition: str, parsed: ParsedMail) -> None:
    index = len(parsed.attachments) + 1
    if content_type in ("message/rfc822", "message/global") or (
            part.is_multipart() and content_type.startswith("message/")):
        data = _message_bytes(part)
    else:
        data = _payload(part, parsed.notes)
    if data is None:
        parsed.notes.append(lazy_gettext("Attachment %(number)s could not be read and is only in the original "
                                         "message.", number=index))
        return
    inline = bool(part.get("Content-ID")) or disposition == "inline"
    parsed.attachments.append(MailAttachment(_filename(part, content_type, index), data, content_type[:120],
                                             inline=inline))


def _message_bytes(part: MimeMessage) -> bytes | None:
    payload = part.get_payload()
    inner = payload[0] if isinstance(payload, list) and payload else None
    if inner is None:
        return _payload(part, [])
    try:
        return inner.as_bytes()
    except Exception:
        try:
            return inner.as_string().encode("utf-8", "surrogateescape")
        except Exception:
            return None


def _text_from_forwarded(msg: MimeMessage, parsed: ParsedMail) -> None:
    """A message that is only a forwarded message: show the forwarded message's text."""
    for part in msg.walk() if not _too_deep(msg) else []:
        if part is msg:
            continue
        content_type = _content_type(part)
        if content_type in ("text/plain", "text/html") and not part.is_multipart():
            text = decode_bytes(_payload(part, parsed.notes), _charset(part), parsed.notes, MESSAGE_TEXT)
            parsed.text = html_to_text(text) if content_type == "text/html" else text
            if parsed.text.strip():
                return


def _too_deep(msg: MimeMessage) -> bool:
    def depth(part: MimeMessage, level: int) -> int:
        if level > MAX_DEPTH:
            return level
        payload = part.get_payload()
        if isinstance(payload, list):
            return max([depth(p, level + 1) for p in payload if isinstance(p, MimeMessage)] or [level])
        return level

    return depth(msg, 0) > MAX_DEPTH
