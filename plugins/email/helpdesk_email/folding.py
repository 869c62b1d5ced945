"""Folding a mail body: what the person wrote, the quoted history below it, their signature.

``fold_text`` works on lines. It finds, in this order:

1. a *hard break*: the quoted history of clients that do not prefix it with ``>``, so
   everything below is history: an "-----Original Message-----" or "Forwarded message"
   line, an Outlook header block (``From:`` with ``Sent:``/``To:``/``Subject:`` below, in
   several languages), or an "On … wrote:" line followed by unquoted text. It counts only
   when the person wrote something above it;
2. from the bottom up, the trailing region: ``>`` quoted lines (with the "On … wrote:" line
   or "<date> <address>:" line above them) and signature blocks (``-- `` delimiter,
   "-Name", "Sent from my iPhone", a mailing-list footer). Quotes *between* answers
   (inline replies) stay visible: only the trailing region is folded.

``fold_html`` turns the HTML into text (block elements become lines, ``<blockquote>``
becomes ``>`` quoting, ``<hr>`` and Outlook's bordered reply header a separator line) and
folds that. Nothing is ever dropped: ``visible + quoted + signature`` hold every line.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

SEPARATOR = "_" * 32

# "On Tue, 1 Mar 2011, Ann <ann@example.com> wrote:" and its translations (one logical line).
QUOTE_HEADER = re.compile(
    r"^\s*(?:"
    r"On\s.{1,400}?\bwrote\s?:"
    r"|Am\s.{1,400}?\bschrieb\b.{0,100}:"
    r"|Le\s.{1,400}?\ba\s+écrit\s?:"
    r"|El\s.{1,400}?\bescribió\s?:"
    r"|Il\s.{1,400}?\bha\s+scritto\s?:"
    r"|Op\s.{1,400}?\bschreef\b.{0,100}:"
    r"|Em\s.{1,400}?\bescreveu\s?:"
    r"|W\sdniu\s.{1,400}?\bpisze\s?:"
    r"|Den\s.{1,400}?\bskrev\b.{0,100}:"
    r"|.{1,400}?\bнаписал[аи]?\s?:"
    r")\s*$", re.IGNORECASE)
HEADER_VERB = re.compile(r"(wrote|schrieb|écrit|escribió|scritto|schreef|escreveu|pisze|skrev|написал)",
                         re.IGNORECASE)
# "<date> <someone@example.com>:" directly above quoted lines (Yandex, Mail.ru and others).
LOOSE_QUOTE_HEADER = re.compile(r"^.{0,300}(@|\d{1,2}:\d{2}|\d{4}).{0,300}:\s*$")
EXPLICIT_SEPARATOR = re.compile(
    r"^\s*[-_=*\s]*(Original Message|Ursprüngliche Nachricht|Message d'origine|Mensaje original|"
    r"Messaggio originale|Oorspronkelijk bericht|Forwarded message|Weitergeleitete Nachricht|"
    r"Begin forwarded message|Message transféré)[-_=*:\s]*$", re.IGNORECASE)
LINE_SEPARATOR = re.compile(r"^\s*(?:[-_]\s?){10,}\s*$|^.{0,80}?_{32}\s*$")
FROM_FIELDS = ("from", "von", "de", "da", "van", "от")
HEADER_FIELD = re.compile(
    r"^\s*\*?(From|Sent|Date|To|Cc|Subject|Von|Gesendet|Datum|An|Betreff|De|Envoyé|À|Objet|Enviado|"
    r"Para|Asunto|Fecha|Da|Inviato|Oggetto|Van|Verzonden|Aan|Onderwerp|От|Отправлено|Дата|Кому|Тема)"
    r"\s*:\s*\*?(?:\s|$)", re.IGNORECASE)
STRONG_SIGNATURE = re.compile(r"^(--|—|-- )\s*$")
WEAK_SIGNATURE = re.compile(
    r"^(?:-\w"
    r"|_{2,}\s*$"
    r"|Sent from (?:my \w+(?:\s+\w+){0,3}|Outlook(?: for \w+)?|Mail for Windows(?: \d+)?)\s*$"
    r"|Sent with \w+(?:\s+\w+){0,2}(?:\s+\(\S+\))?\s*$"
    r"|Get Outlook for \w+\s*$"
    r"|(?:Von meinem|Envoyé de mon|Enviado desde mi|Inviato da(?:l mio)?) [\w ]{1,40}$"
    r")")
SIGNATURE_REACH = 15  # lines a "-- " delimiter may sit above the end of the message


@dataclass
class Folded:
    """A mail body split into what the person wrote, the quoted history, and their signature."""

    visible: str
    quoted: str = ""
    signature: str = ""

    @property
    def folded(self) -> bool:
        return bool(self.quoted or self.signature)


def _is_quoted(line: str) -> bool:
    stripped = line.lstrip(" ")
    return stripped.startswith(">") and len(line) - len(stripped) <= 2


def _quote_headers(lines: list[str]) -> dict[int, int]:
    """Start line → end line of each "On … wrote:" header (clients wrap it over up to 4 lines).

    Only a line ending in ":" with one of the verbs can end a header, so ordinary text costs
    one string check per line.
    """
    spans: dict[int, int] = {}
    taken = -1
    for i, line in enumerate(lines):
        stripped = line.strip()
        if not stripped.endswith(":") or _is_quoted(line) or not HEADER_VERB.search(stripped):
            continue
        joined = stripped
        best = None
        for start in range(i, max(taken, i - 4), -1):
            if start < i:
                above = lines[start].strip()
                if not above or _is_quoted(lines[start]):
                    break
                if best is not None and not re.search(r"[\d@]", above):
                    break  # found; a line above joins only if it looks like more of it (a date, an address)
                joined = above + " " + joined
            if len(joined) > 700:
                break
            if QUOTE_HEADER.match(joined):
                best = start
            elif best is not None:
                break
        if best is not None:
            spans[best] = i
            taken = i
    return spans


def _next_nonblank(lines: list[str], start: int, count: int) -> list[int]:
    found = []
    for k in range(start, len(lines)):
        if lines[k].strip():
            found.append(k)
            if len(found) == count:
                break
    return found


def _header_block_at(lines: list[str], i: int) -> bool:
    """An Outlook-style header block starts at line ``i``: a From line and another field below."""
    first = HEADER_FIELD.match(lines[i])
    if not first:
        return False
    names = {first.group(1).lower()}
    for k in _next_nonblank(lines, i + 1, 3):
        match = HEADER_FIELD.match(lines[k])
        if not match:
            break
        names.add(match.group(1).lower())
    return len(names) >= 2 and bool(names & set(FROM_FIELDS))


def _hard_break(lines: list[str], headers: dict[int, int]) -> int | None:
    """The first line of unprefixed quoted history, if the person wrote something above it."""
    seen_text = False
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            i += 1
            continue
        if _is_quoted(line):
            i += 1
            continue
        if seen_text:
            if EXPLICIT_SEPARATOR.match(line):
                return i
            if LINE_SEPARATOR.match(line):
                after = _next_nonblank(lines, i + 1, 1)
                if after and _header_block_at(lines, after[0]):
                    return i
            if _header_block_at(lines, i):
                return i
            if i in headers:
                after = _next_nonblank(lines, headers[i] + 1, 1)
                if after and not _is_quoted(lines[after[0]]):
                    return i
        if i in headers:
            i = headers[i] + 1
            seen_text = True
            continue
        seen_text = True
        i += 1
    return None


def _signature_start(lines: list[str], end: int) -> int | None:
    """Where a signature block ending at ``end`` (exclusive) starts, if there is one."""
    # A "-- " delimiter a few lines up, with only unquoted lines below it.
    for k in range(end - 1, max(-1, end - 1 - SIGNATURE_REACH), -1):
        line = lines[k]
        if _is_quoted(line) or HEADER_FIELD.match(line):
            break
        if STRONG_SIGNATURE.match(line.rstrip("\n")) and any(lines[m].strip() for m in range(k)):
            return k
    # The last paragraph starts like a signature ("-Ann", "Sent from my iPhone", "____").
    start = end - 1
    while start > 0 and lines[start - 1].strip() and not _is_quoted(lines[start - 1]):
        start -= 1
    if start > 0 and WEAK_SIGNATURE.match(lines[start].strip()) and any(lines[m].strip() for m in range(start)):
        return start
    return None


def fold_text(text: str) -> Folded:
    """Split a plain-text mail body into visible text, quoted history and signature."""
    lines = (text or "").replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "").split("\n")
    headers = _quote_headers(lines)
    header_lines = {k for start, stop in headers.items() for k in range(start, stop + 1)}
    kinds = ["visible"] * len(lines)

    end = len(lines)
    cut = _hard_break(lines, headers)
    if cut is not None:
        for k in range(cut, len(lines)):
            kinds[k] = "quoted"
        end = cut

    while end > 0:
        while end > 0 and not lines[end - 1].strip():
            end -= 1
        if end == 0:
            break
        last = end - 1
        if _is_quoted(lines[last]) or last in header_lines:
            start = end
            while start > 0 and (not lines[start - 1].strip() or _is_quoted(lines[start - 1])
                                 or start - 1 in header_lines):
                start -= 1
            while start < end and not lines[start].strip():
                start += 1
            # "26.06.2014, Ann <ann@example.com>:" right above the quote belongs to it.
            above = _next_nonblank_above(lines, start)
            if above is not None and LOOSE_QUOTE_HEADER.match(lines[above]) and above > 0:
                start = above
                above = _next_nonblank_above(lines, start)
            if above is not None and LINE_SEPARATOR.match(lines[above]) and above > 0:
                start = above  # the rule an HTML quote container became
            for k in range(start, end):
                kinds[k] = "quoted"
            end = start
            continue
        sig = _signature_start(lines, end)
        if sig is None:
            break
        for k in range(sig, end):
            kinds[k] = "signature"
        end = sig

    _fold_leading_quote(lines, kinds, header_lines, end)
    visible = "\n".join(lines[k] for k in range(len(lines)) if kinds[k] == "visible").strip("\n").rstrip()
    quoted = "\n".join(lines[k] for k in range(len(lines)) if kinds[k] == "quoted").strip("\n").rstrip()
    signature = "\n".join(lines[k] for k in range(len(lines)) if kinds[k] == "signature").strip("\n").rstrip()
    if not visible.strip():
        # Only quotes (a forward without a note): show all of it rather than nothing.
        return Folded(visible=(text or "").replace("\r\n", "\n").replace("\r", "\n").strip())
    return Folded(visible=visible, quoted=quoted, signature=signature)


def _fold_leading_quote(lines: list[str], kinds: list[str], header_lines: set[int], end: int) -> None:
    """Bottom-posting: the history first ("On … wrote:" and ``>`` lines), then the answer below it.

    Folded only when no other quote follows; quotes between answers (inline replies) stay.
    """
    first = next((k for k in range(end) if lines[k].strip()), None)
    if first is None or not (_is_quoted(lines[first]) or first in header_lines):
        return
    stop = first
    while stop < end and (not lines[stop].strip() or _is_quoted(lines[stop]) or stop in header_lines):
        stop += 1
    rest = range(stop, end)
    if not any(lines[k].strip() for k in rest) or any(_is_quoted(lines[k]) for k in rest):
        return
    for k in range(first, stop):
        kinds[k] = "quoted"


def _next_nonblank_above(lines: list[str], start: int) -> int | None:
    k = start - 1
    while k >= 0 and not lines[k].strip():
        k -= 1
    return k if k >= 0 and not _is_quoted(lines[k]) else None


# ------------------------------------------------------------------ HTML

BLOCK_TAGS = {"p", "div", "li", "tr", "table", "ul", "ol", "dl", "dt", "dd", "h1", "h2", "h3", "h4", "h5",
              "h6", "pre", "section", "article", "header", "footer", "address", "center", "blockquote",
              "form", "fieldset", "tbody", "thead", "tfoot", "main", "aside", "nav", "figure", "figcaption"}
SKIP_TAGS = {"head", "style", "script", "title", "xml", "template", "noscript", "object", "iframe", "svg"}
VOID_TAGS = {"br", "hr", "img", "meta", "link", "input", "area", "base", "col", "embed", "source", "track",
             "wbr", "param"}
# Elements where clients put the quoted history without a <blockquote>.
QUOTE_CONTAINER_IDS = {"olk_src_body_section", "divrplyfwdmsg", "appendonsend", "stopspelling"}
QUOTE_CONTAINER_CLASSES = {"gmail_quote", "yahoo_quoted", "moz-cite-prefix", "protonmail_quote"}
MAX_HTML = 2_000_000  # characters converted; the rest of a giant HTML body is left out of the text


class _TextExtractor(HTMLParser):
    """HTML → text lines; ``>`` marks text inside <blockquote>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.current: list[str] = []
        self.current_depth = 0
        self.depth = 0  # blockquote nesting
        self.skip = 0
        self.pre = 0

    def _break(self, force: bool = False) -> None:
        """End the current line; ``force`` (a <br>) keeps an empty line too."""
        text = "".join(self.current).replace("\xa0", " ")
        if not self.pre:
            text = " ".join(text.split())
        if text or force:
            prefix = "> " * self.current_depth if text else ">" * self.current_depth
            self.lines.append((prefix + text).rstrip() if self.current_depth else text)
        self.current = []
        self.current_depth = self.depth

    def _separator(self) -> None:
        """A rule; text on the same line (``Bob<hr>``) goes with it, as a sign-off above a header block."""
        text = " ".join("".join(self.current).replace("\xa0", " ").split())
        prefix = "> " * self.depth if self.depth else ""
        if text:
            self.lines.append(prefix + text + " " + SEPARATOR)
            self.current = []
            self.current_depth = self.depth
        else:
            self._break()
            self.lines.append(prefix + SEPARATOR)

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in SKIP_TAGS:
            if tag not in VOID_TAGS:
                self.skip += 1
            return
        if self.skip:
            return
        attributes = {k.lower(): (v or "") for k, v in attrs}
        if tag == "br":
            self._break(force=True)
            return
        if tag == "hr":
            self._separator()
            return
        if tag in BLOCK_TAGS:
            self._break()
        if tag == "pre":
            self.pre += 1
        if tag == "blockquote":
            self.depth += 1
            self.current_depth = self.depth
        ident = attributes.get("id", "").lower()
        classes = set(attributes.get("class", "").lower().split())
        style = attributes.get("style", "").lower().replace(" ", "")
        if (ident in QUOTE_CONTAINER_IDS or classes & QUOTE_CONTAINER_CLASSES
                or (tag == "div" and "border-top:solid" in style)
                or (tag == "div" and "border-top-style:solid" in style)):
            self._separator()

    def handle_startendtag(self, tag: str, attrs: list) -> None:
        if tag in VOID_TAGS or tag in SKIP_TAGS:
            if tag not in SKIP_TAGS:
                self.handle_starttag(tag, attrs)
            return
        self.handle_starttag(tag, attrs)
        self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in SKIP_TAGS:
            if tag not in VOID_TAGS and self.skip:
                self.skip -= 1
            return
        if self.skip:
            return
        if tag in BLOCK_TAGS:
            self._break()
            if tag == "p":
                self.lines.append("> " * self.depth if self.depth else "")
        if tag == "pre" and self.pre:
            self.pre -= 1
        if tag == "blockquote" and self.depth:
            self.depth -= 1
            self.current_depth = self.depth

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        if not self.current:
            self.current_depth = self.depth
        self.current.append(data)

    def text(self) -> str:
        self._break()
        out: list[str] = []
        for line in self.lines:
            if line.strip(" >") or (out and out[-1].strip(" >")):
                out.append(line)
        return "\n".join(out).strip("\n")


def html_to_text(html: str) -> str:
    """Readable text of an HTML mail body (quotes marked with ``>``); never raises."""
    parser = _TextExtractor()
    try:
        parser.feed((html or "")[:MAX_HTML])
        parser.close()
    except Exception:  # HTMLParser is lenient, but a mail body is hostile input: keep what we have
        pass
    return parser.text()


def fold_html(html: str) -> Folded:
    """Fold an HTML mail body; the parts are plain text."""
    return fold_text(html_to_text(html))
