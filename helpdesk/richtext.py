"""Agents' replies written in Markdown: safe HTML for mail and pages, readable text for the rest.

The composer's text is Markdown (CommonMark with tables, strikethrough and line breaks kept).
It is rendered by markdown-it-py with raw HTML **off** (``<script>`` stays text), then the HTML
is sanitised by nh3 to a short list of tags: links only to http(s) and mailto, images only
from our own attachment downloads. ``javascript:`` links are dropped twice over (markdown-it
refuses them, nh3 would remove them).

A message written here is stored as ``body`` = the text rendering (what search indexes and
text-only channels send), ``body_html`` = the sanitised HTML (mail's HTML part, the pages)
and ``meta["format"] = "markdown"`` with the source in ``meta["markdown"]``.

Pasted images: the composer writes ``![name](attachment:name)``; the image becomes a
placeholder ``/attachments/pending/<n>`` (n = its place among the uploaded files) and
:func:`link_pending_images` swaps in the stored attachment's token before the commit.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from html import escape
from html.parser import HTMLParser
from typing import Any
from urllib.parse import unquote

import nh3
from flask import current_app
from markdown_it import MarkdownIt

ATTACHMENTS = "/attachments/"
PENDING = "/attachments/pending/"
TAGS = {"p", "br", "strong", "em", "del", "s", "code", "pre", "blockquote", "ul", "ol", "li", "h1", "h2",
        "h3", "h4", "h5", "h6", "hr", "a", "img", "table", "thead", "tbody", "tr", "th", "td"}
ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "ol": {"start"}}
URL_SCHEMES = {"http", "https", "mailto"}
BLOCKS = {"p", "div", "pre", "blockquote", "ul", "ol", "table", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "hr"}

_md = MarkdownIt("commonmark", {"html": False, "breaks": True, "linkify": False}).enable(
    ["table", "strikethrough"])
_ATTACHMENT_SRC = re.compile(r'src="attachment:([^"]*)"')


def _our_images_only(tag: str, attribute: str, value: str) -> str | None:
    if tag == "img" and attribute == "src":
        return value if value.startswith(ATTACHMENTS) else None
    return value


def clean(html: str) -> str:
    """Sanitise HTML to what the composer may produce (also used when showing it again)."""
    return nh3.clean(html or "", tags=TAGS, attributes=ATTRIBUTES, url_schemes=URL_SCHEMES,
                     attribute_filter=_our_images_only, link_rel="noopener noreferrer nofollow")


def render_markdown(source: str, attachment_names: Sequence[str] = ()) -> str:
    """Markdown → sanitised HTML. ``attachment:NAME`` images point at the NAMEd upload."""
    names = list(attachment_names)

    def pending(match: re.Match) -> str:
        name = unquote(match.group(1).replace("&amp;", "&"))
        return f'src="{PENDING}{names.index(name)}"' if name in names else 'src=""'

    html = _ATTACHMENT_SRC.sub(pending, _md.render(source or ""))
    return clean(html)


class _Text(HTMLParser):
    """HTML → readable plain text: paragraphs, "- " bullets, "text (url)" links, [image: alt]."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.lists: list[list[int]] = []  # per open list: [is_ordered, counter]
        self.href: list[str | None] = []
        self.link_text_start: list[int] = []
        self.quote = 0
        self.pre = 0

    def _at_line_start(self) -> bool:
        return not self.out or self.out[-1].endswith("\n")

    def _tail(self) -> str:
        return "".join(self.out[-4:])

    def _newline(self, count: int = 1) -> None:
        while self.out and self.out[-1].strip(" ") == "":
            self.out.pop()  # trailing spaces (or a lone bullet-less space) before a break
        text = self._tail()
        trailing = len(text) - len(text.rstrip("\n"))
        if self.out and trailing < count:
            self.out.append("\n" * (count - trailing))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag in ("ul", "ol"):
            self._newline(1 if self.lists else 2)
            self.lists.append([tag == "ol", int(values.get("start") or 1)])
        elif tag == "li":
            self._newline()
            indent = "  " * (len(self.lists) - 1)
            if self.lists and self.lists[-1][0]:
                self.out.append(f"{indent}{self.lists[-1][1]}. ")
                self.lists[-1][1] += 1
            else:
                self.out.append(f"{indent}- ")
        elif tag in BLOCKS:
            self._newline(1 if tag == "tr" else 2)
            self.quote += tag == "blockquote"
            self.pre += tag == "pre"
            if tag == "hr":
                self.out.append("----")
        elif tag == "br":
            self.out.append("\n")
        elif tag in ("td", "th"):
            if not self._at_line_start():
                self.out.append(" | ")
        elif tag == "a":
            self.href.append(values.get("href"))
            self.link_text_start.append(len(self.out))
        elif tag == "img":
            self.out.append(f"[image: {values.get('alt') or 'image'}]")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("ul", "ol") and self.lists:
            self.lists.pop()
            self._newline(2 if not self.lists else 1)
        elif tag in BLOCKS or tag == "li":
            self.quote -= tag == "blockquote" and self.quote > 0
            self.pre -= tag == "pre" and self.pre > 0
            self._newline(1 if tag in ("li", "tr") else 2)
        elif tag == "a" and self.href:
            href, start = self.href.pop(), self.link_text_start.pop()
            text = "".join(self.out[start:])
            if href and href.removeprefix("mailto:") != text.strip():
                self.out.append(f" ({href.removeprefix('mailto:')})")

    def handle_data(self, data: str) -> None:
        if not self.pre:
            data = re.sub(r"\s+", " ", data)
            if self._at_line_start():
                data = data.lstrip()
        if data and self.quote and self._at_line_start():
            data = "> " * self.quote + data
        if data:
            self.out.append(data)


def html_to_text(html: str) -> str:
    """Sanitised HTML → readable plain text (paragraphs, "- " bullets, "text (url)" links)."""
    parser = _Text()
    parser.feed(html or "")
    parser.close()
    lines = [line.rstrip() for line in "".join(parser.out).split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def compose(source: str, attachment_names: Sequence[str] = ()) -> dict[str, Any]:
    """The ``add_message`` keyword arguments for a reply written in Markdown: ``body`` (text),
    ``body_html``, ``meta`` and the ``before_commit`` that links pasted images."""
    source = (source or "").replace("\r\n", "\n")
    html = render_markdown(source, attachment_names)
    text = html_to_text(html)
    if source.strip() and not text:
        text = source.strip()
    return {"body": text, "body_html": html if text else None,
            "meta": {"format": "markdown", "markdown": source},
            "before_commit": link_pending_images}


def link_pending_images(_ticket: Any, message: Any) -> None:
    """``before_commit`` for a composed message: pending image URLs → the stored attachments."""
    if not message.body_html or PENDING not in message.body_html:
        return
    tokens = [a.token for a in message.attachments]

    def token(match: re.Match) -> str:
        index = int(match.group(1))
        return f"{ATTACHMENTS}{tokens[index]}" if index < len(tokens) else ""

    message.body_html = re.sub(re.escape(PENDING) + r"(\d+)", token, message.body_html)


def is_markdown(message: Any) -> bool:
    return bool(message.body_html) and (message.meta or {}).get("format") == "markdown"


def mail_html(message: Any, footer: Sequence[str] = ()) -> str | None:
    """The HTML part of the mail for an agent's reply (None when it has no HTML): the
    message's HTML, sanitised again, with links and images to our attachments made absolute
    (``EXTERNAL_URL``; the customer signs in to open them), and the ``footer`` lines escaped."""
    if not message.body_html:
        return None
    base = current_app.config["EXTERNAL_URL"].rstrip("/")
    body = re.sub(r'(src|href)="(/attachments/[^"]*)"', lambda m: f'{m.group(1)}="{base}{m.group(2)}"',
                  clean(message.body_html))
    lines = "<br>".join(escape(line) for line in footer)
    return (f'<!doctype html><html><head><meta charset="utf-8"></head><body><div>{body}</div>'
            f'<p style="color:#6c757d">{lines}</p></body></html>')
