"""Who sent a mail: the address in ``From``, never its display name.

The ``From`` value is parsed *as received* (encoded words still encoded) twice, by the
standard library's modern parser (``headerregistry``, as ``email.policy.default`` uses it) and by
``email.utils.getaddresses`` in strict mode; only then is the display name decoded, and it
is used for nothing but the customer's name. So ``=?UTF-8?Q?Support_=3Cagent=40x=3E?=
<mallory@evil.example>`` is mallory, and ``=?utf-8?q?M=C3=BCller,_Bernd?= <b@x>`` is one
person called "Müller, Bernd".

A mail whose sender is ambiguous (more than one ``From`` header, more than one address,
the two parsers disagreeing, or a defect the parser flags in the address) gets a
``problem``: the ingester quarantines it with that reason rather than guessing.
"""
from __future__ import annotations

import email.errors
import email.headerregistry
import email.utils
import functools
import inspect
import re
from dataclasses import dataclass

from helpdesk.plugin_api import Text, lazy_gettext

ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?")
# RFC 6532 (SMTPUTF8): non-ASCII letters allowed; the core's address validation has the last word.
UTF8_ADDRESS = re.compile(r"[^\s@<>()\[\],;:\"\\\x00-\x1f\x7f]{1,64}@[^\s@<>()\[\],;:\"\\\x00-\x1f\x7f]{1,255}")
_UNFOLD = re.compile(r"\r?\n(?=[ \t])")
_SURROGATES = re.compile("[\udc80-\udcff]")
_CONTROL = re.compile("[\x00-\x1f\x7f]")
# Defects that concern only how a display name is written (common in real mail, and the
# name is not identity): they do not make the sender ambiguous.
_COSMETIC = (email.errors.UndecodableBytesDefect, email.errors.InvalidBase64PaddingDefect,
             email.errors.InvalidBase64CharactersDefect, email.errors.InvalidBase64LengthDefect,
             email.errors.ObsoleteHeaderDefect, email.errors.NonASCIILocalPartDefect)
_STRICT = "strict" in inspect.signature(email.utils.getaddresses).parameters
MAX_FROM_CHARS = 4000


@dataclass(frozen=True)
class Sender:
    """The sender of one mail: ``address`` (lower case) or a ``problem`` saying why there is none."""

    address: str | None = None
    name: str = ""
    problem: Text | None = None  # a lazy text in lower case: the ingester says "No usable sender: <problem>"
    present: bool = True  # False: the mail has no From header at all


def sender(from_values: list[str]) -> Sender:
    """The sender named by the raw ``From`` header values of a mail (as received, one per header)."""
    values = [v for v in from_values if v is not None]
    if not values:
        return Sender(present=False, problem=lazy_gettext("the mail has no From header."))
    if len(values) > 1:
        return Sender(problem=lazy_gettext("the mail has %(count)s From headers: the sender is ambiguous.",
                                           count=len(values)))
    return _one_from(_as_text(_UNFOLD.sub("", str(values[0])[:MAX_FROM_CHARS])))


_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_PLAIN_ADDRESS = rf"{_ATEXT}(?:\.{_ATEXT})*@{_LABEL}(?:\.{_LABEL})*"
# The everyday shapes, which every parser reads alike: ``addr``, ``Plain Name <addr>``,
# ``"Any, Name" <addr>`` (ASCII, no encoded word, no escape). Anything else takes the full path.
_SIMPLE = re.compile(rf'[ \t]*(?:(?P<addr>{_PLAIN_ADDRESS})|(?:(?P<name>[A-Za-z0-9][A-Za-z0-9 \t.\'_-]{{0,150}}?)'
                     rf'|"(?P<quoted>[ -!#-\[\]-~]{{0,150}})")?[ \t]*<(?P<angle>{_PLAIN_ADDRESS})>)[ \t]*')


@functools.lru_cache(maxsize=2048)  # a pure function of the value; regular senders come back often
def _one_from(value: str) -> Sender:
    simple = _SIMPLE.fullmatch(value)
    if simple and "=?" not in (simple.group("quoted") or ""):
        address = simple.group("addr") or simple.group("angle")
        name = simple.group("quoted") if simple.group("quoted") is not None else (simple.group("name") or "")
        return Sender(address=address.lower(), name=_printable(name).strip(" \"'")[:200])
    return _one_from_parsed(value)


def _one_from_parsed(value: str) -> Sender:
    """The full reading: the modern parser and strict ``getaddresses`` must agree on one address."""
    if not value.strip():
        return Sender(problem=lazy_gettext("the From header is empty."))
    try:
        # What ``email.policy.default`` does for a From header, without building a header class per call.
        parsed: dict = {}
        email.headerregistry.UniqueAddressHeader.parse(value, parsed)
        modern = [(a.display_name, a.addr_spec) for group in parsed["groups"] for a in group.addresses]
        defects = list(parsed["defects"])
    except Exception as exc:  # the modern parser has bugs on hostile input: refuse, do not guess
        return Sender(problem=lazy_gettext("the From header could not be parsed (%(error)s).",
                                           error=type(exc).__name__))
    strict = strict_addresses(value)
    if len(modern) > 1 or len(strict) > 1:
        count = max(len(modern), len(strict))
        return Sender(problem=lazy_gettext("the From header names %(count)s addresses: the sender is ambiguous.",
                                           count=count))
    if not modern or not strict:
        return Sender(problem=lazy_gettext("the From header holds no valid address."))
    name, address = modern[0]
    if address.lower() != strict[0][1].lower():
        return Sender(problem=lazy_gettext("the From header reads differently to different mail programs: the "
                                           "sender is ambiguous."))
    flagged = [str(d) or type(d).__name__ for d in defects if not _cosmetic(d)]
    if flagged:
        return Sender(problem=lazy_gettext("the From header is malformed: %(defects)s.",
                                           defects="; ".join(flagged)[:200]))
    if not (ADDRESS.fullmatch(address) or (not address.isascii() and UTF8_ADDRESS.fullmatch(address)
                                             and not _SURROGATES.search(address))):
        return Sender(problem=lazy_gettext("the From header holds no valid address (%(address)s).",
                                           address=repr(_printable(address)[:120])))
    return Sender(address=address.lower(), name=_display_name(name, strict[0][0]))


def strict_addresses(value: str) -> list[tuple[str, str]]:
    """``getaddresses([value], strict=True)`` without the ('', '') it returns for a refusal.

    Python before 3.11.10 lacks ``strict``: the same refusals are made here (unbalanced
    parentheses, an address count that differs from the comma count, a bracket in an address).
    """
    if _STRICT:
        pairs = email.utils.getaddresses([value], strict=True)
    else:
        pairs = _strict_fallback(value)
    # A piece without "@" is no address (an unencoded comma in an encoded word splits one off).
    return [(name, addr) for name, addr in pairs if "@" in addr]


def _strict_fallback(value: str) -> list[tuple[str, str]]:
    if not _balanced(value):
        return []
    pairs = email.utils.getaddresses([value])
    expected = 1 + _outside_quotes(value).count(",")
    if len(pairs) != expected or any("[" in addr for _name, addr in pairs):
        return []
    return pairs


def _outside_quotes(value: str) -> str:
    """The value with quoted strings and comments taken out (their commas separate nothing)."""
    out, quoted, depth, escaped = [], False, 0, False
    for char in value:
        if escaped:
            escaped = False
            continue
        if char == "\\":
            escaped = True
        elif char == '"' and depth == 0:
            quoted = not quoted
        elif not quoted and char == "(":
            depth += 1
        elif not quoted and char == ")" and depth:
            depth -= 1
        elif not quoted and depth == 0:
            out.append(char)
    return "".join(out)


def _balanced(value: str) -> bool:
    depth, quoted, escaped = 0, False, False
    for char in value:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == '"' and depth == 0:
            quoted = not quoted
        elif not quoted and char == "(":
            depth += 1
        elif not quoted and char == ")":
            depth -= 1
            if depth < 0:
                return False
    return depth == 0


def _cosmetic(defect: email.errors.MessageDefect) -> bool:
    if isinstance(defect, _COSMETIC):
        return True
    return isinstance(defect, email.errors.InvalidHeaderDefect) and "encoded" in str(defect)


def _as_text(value: str) -> str:
    """Raw 8-bit bytes (kept as surrogates by the parser): UTF-8 (RFC 6532) when they are that."""
    if not _SURROGATES.search(value):
        return value
    try:
        return value.encode("utf-8", "surrogateescape").decode("utf-8")
    except UnicodeDecodeError:
        return value  # not UTF-8: only a display name may hold such bytes (decoded below)


def _display_name(modern: str, raw: str) -> str:
    """The decoded display name, whole; never an address (it is not trusted for anything)."""
    name = modern
    if _SURROGATES.search(name):  # 8-bit bytes in a legacy charset: the lenient decoder guesses
        from helpdesk_email.mime import decode_header_value

        name = decode_header_value(raw, 400)
    return _printable(name).strip(" \"'")[:200]


def _printable(value: str) -> str:
    return " ".join(_CONTROL.sub(" ", _SURROGATES.sub("\ufffd", value)).split())
