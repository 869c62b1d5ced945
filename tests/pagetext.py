"""What a person sees on a page: the visible text of elements, found by id, class or tag.

Assertions on rendered pages use this instead of raw HTML, so that markup changes
(attributes, escaping, whitespace) do not break tests while visible wording does.

    from pagetext import text, texts
    assert "Printer on fire" in text(page, id="conversation")
    assert texts(page, cls="ticket-row")[0].startswith("HD-3")
"""
from __future__ import annotations

import re
from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
BLOCK = {"br", "p", "div", "li", "tr", "td", "th", "dt", "dd", "h1", "h2", "h3", "h4", "h5", "h6",
         "option", "article", "section", "header", "pre", "button", "label", "ul", "ol", "nav", "main", "form"}
INVISIBLE = {"script", "style", "template"}


class _Collector(HTMLParser):
    def __init__(self, wanted) -> None:
        super().__init__(convert_charrefs=True)
        self.wanted = wanted
        self.depth = 0
        self.hidden = 0
        self.found: list[list[str]] = []
        self.attrs: list[dict[str, str]] = []

    def handle_starttag(self, tag: str, attrs) -> None:
        attrs = {k: v or "" for k, v in attrs}
        if self.depth:
            if tag not in VOID:
                self.depth += 1
        elif self.wanted(tag, attrs):
            self.found.append([])
            self.attrs.append(attrs)
            if tag not in VOID:
                self.depth = 1
        if tag in INVISIBLE:
            self.hidden += 1
        if self.depth and tag in BLOCK:
            self.found[-1].append(" ")

    def handle_startendtag(self, tag: str, attrs) -> None:
        if self.depth:
            return
        attrs = {k: v or "" for k, v in attrs}
        if self.wanted(tag, attrs):
            self.found.append([])
            self.attrs.append(attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in INVISIBLE and self.hidden:
            self.hidden -= 1
        if self.depth and tag not in VOID:
            self.depth -= 1
            if self.depth and tag in BLOCK:
                self.found[-1].append(" ")

    def handle_data(self, data: str) -> None:
        if self.depth and not self.hidden:
            self.found[-1].append(data)


def _matcher(id: str | None, cls: str | None, tag: str | None):
    def wanted(name: str, attrs: dict[str, str]) -> bool:
        if tag and name != tag:
            return False
        if id and attrs.get("id") != id:
            return False
        if cls and cls not in attrs.get("class", "").split():
            return False
        return bool(id or cls or tag)

    return wanted


def _squash(parts: list[str]) -> str:
    return re.sub(r"\s+", " ", "".join(parts)).strip()


def texts(page: str, *, id: str | None = None, cls: str | None = None, tag: str | None = None) -> list[str]:
    """The visible text of every element matching ``id``/``cls``/``tag``, whitespace collapsed."""
    parser = _Collector(_matcher(id, cls, tag))
    parser.feed(page)
    parser.close()
    return [_squash(parts) for parts in parser.found]


def text(page: str, *, id: str | None = None, cls: str | None = None, tag: str | None = None) -> str:
    """The visible text of the one matching element; fails if there is none (or several)."""
    found = texts(page, id=id, cls=cls, tag=tag)
    assert len(found) == 1, f"expected one element id={id!r} class={cls!r} tag={tag!r}, found {len(found)}"
    return found[0]


def attributes(page: str, *, id: str | None = None, cls: str | None = None,
               tag: str | None = None) -> list[dict[str, str]]:
    """The attributes of every matching element (e.g. ``data-reference`` of the queue rows)."""
    parser = _Collector(_matcher(id, cls, tag))
    parser.feed(page)
    parser.close()
    return parser.attrs


def body(page: str) -> str:
    """All visible text of the page's body."""
    return text(page, tag="body")


def alerts(page: str) -> list[str]:
    """The flash messages shown on the page."""
    return texts(page, cls="alert")


def field_errors(page: str) -> list[str]:
    """The error messages shown under form fields and above forms."""
    return texts(page, cls="invalid-feedback") + texts(page, cls="form-errors")
