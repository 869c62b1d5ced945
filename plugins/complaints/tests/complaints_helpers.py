"""Shared helpers of the complaints plugin's tests: what a person sees on a page, and set-up."""
from __future__ import annotations

import re
from html.parser import HTMLParser

from sqlalchemy import select


class _Texts(HTMLParser):
    """Visible text of the elements with an id or a class (whitespace collapsed)."""

    VOID = {"br", "hr", "img", "input", "link", "meta", "source", "wbr", "col", "area", "base", "embed", "track"}

    def __init__(self, id_: str | None, cls: str | None) -> None:
        super().__init__(convert_charrefs=True)
        self.id_, self.cls = id_, cls
        self.depth = 0
        self.hidden = 0
        self.found: list[list[str]] = []

    def _wanted(self, attrs: dict) -> bool:
        if self.id_ is not None:
            return attrs.get("id") == self.id_
        return self.cls in (attrs.get("class") or "").split()

    def handle_starttag(self, tag, attrs) -> None:
        attrs = {k: v or "" for k, v in attrs}
        if tag in ("script", "style", "title") and not self.depth:
            self.hidden += 1
        if self.depth:
            if tag not in self.VOID:
                self.depth += 1
            self.found[-1].append(" ")
        elif self._wanted(attrs):
            self.found.append([])
            if tag not in self.VOID:
                self.depth = 1

    def handle_endtag(self, tag) -> None:
        if tag in ("script", "style", "title") and self.hidden and not self.depth:
            self.hidden -= 1
        if self.depth and tag not in self.VOID:
            self.depth -= 1
            if self.depth:
                self.found[-1].append(" ")

    def handle_data(self, data) -> None:
        if self.depth and not self.hidden:
            self.found[-1].append(data)


def texts(page: str, *, id: str | None = None, cls: str | None = None) -> list[str]:
    parser = _Texts(id, cls)
    parser.feed(page)
    return [re.sub(r"\s+", " ", "".join(parts)).strip() for parts in parser.found]


def text(page: str, *, id: str | None = None, cls: str | None = None) -> str:
    found = texts(page, id=id, cls=cls)
    assert len(found) == 1, f"expected one element id={id!r} cls={cls!r}, found {len(found)}"
    return found[0]


def alerts(page: str) -> list[str]:
    return texts(page, cls="alert")


def field_errors(page: str) -> list[str]:
    return texts(page, cls="invalid-feedback") + texts(page, cls="form-errors")


def audit_rows(db, ticket_id: int) -> list:
    events = db.metadata.tables["audit_events"]
    return list(db.session.execute(select(events).where(events.c.ticket_id == ticket_id).order_by(events.c.id)))


def outbox(db) -> list:
    mail = db.metadata.tables["outbox_mail"]
    return list(db.session.execute(select(mail).order_by(mail.c.id)))


COMPLAINT = ("My order #48213 was supposed to arrive on Monday. It is now Thursday and still nothing. "
             "This is unacceptable.")
QUESTION = "Could you tell me how to change the email address on my account?"
