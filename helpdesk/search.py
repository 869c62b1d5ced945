"""Full-text search over tickets.

SQLite: an FTS5 table ``search_index`` with one row per ticket, rowid = ticket id: the
subject and public messages in column ``public``, internal notes in ``internal``. A
search yields ticket ids straight from the index, without reading its rows, so even a
word in half of 100,000 tickets answers in a few milliseconds. PostgreSQL: GIN
expression indexes on ``to_tsvector('simple', ...)``. Both are created by migrations.
"""
from __future__ import annotations

import re

from sqlalchemy import CompoundSelect, Integer, Select, false, literal_column, select, text, union

from helpdesk.extensions import db
from helpdesk.models import Message, Ticket

_WORD = re.compile(r"\w+", re.UNICODE)
# Above this many hits the queue walks tickets in its own order and keeps the matching
# ones; below it, SQLite starts from the hits and sorts them (see ``restrict``).
COMMON_HITS = 1000

# The index row of each ticket in ``ticket_ids``: subject and public messages, and notes.
_ROWS = """
SELECT t.id,
       t.subject || coalesce(char(10) || (SELECT group_concat(m.body, char(10)) FROM messages m
                                          WHERE m.ticket_id = t.id AND m.internal = 0), ''),
       coalesce((SELECT group_concat(m.body, char(10)) FROM messages m
                 WHERE m.ticket_id = t.id AND m.internal = 1), '')
FROM tickets t
"""


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def reindex_ticket(ticket_id: int) -> None:
    """Rebuild a ticket's index row (after a new message, a subject change or a merge)."""
    if _dialect() != "sqlite":
        return
    db.session.execute(text("DELETE FROM search_index WHERE rowid = :tid"), {"tid": ticket_id})
    db.session.execute(text(f"INSERT INTO search_index(rowid, public, internal) {_ROWS} WHERE t.id = :tid"),
                       {"tid": ticket_id})


def index_message(message: Message, subject: str | None = None) -> None:
    """Index a new message (PostgreSQL indexes the rows themselves)."""
    reindex_ticket(message.ticket_id)


def rebuild(from_ticket_id: int = 1) -> None:
    """(Re)index every ticket from ``from_ticket_id`` on, in one statement (migrations, demo data)."""
    if _dialect() != "sqlite":
        return
    db.session.execute(text("DELETE FROM search_index WHERE rowid >= :tid"), {"tid": from_ticket_id})
    db.session.execute(text(f"INSERT INTO search_index(rowid, public, internal) {_ROWS} WHERE t.id >= :tid"),
                       {"tid": from_ticket_id})


def words(query: str) -> list[str]:
    return _WORD.findall(query or "")[:12]


def _fts_query(terms: list[str], include_internal: bool) -> str:
    # Each word quoted (so FTS syntax in user input is inert); the last one as a prefix.
    fts = (" ".join(f'"{w}"' for w in terms[:-1]) + f' "{terms[-1]}"*').strip()
    return fts if include_internal else f"{{public}} : ({fts})"


def matching_ticket_ids(query: str, include_internal: bool) -> Select | CompoundSelect | None:
    """A SELECT of ticket ids matching every word of ``query`` (None if it has no words)."""
    terms = words(query)
    if not terms:
        return None
    if _dialect() == "sqlite":
        hits = text("SELECT rowid AS ticket_id FROM search_index WHERE search_index MATCH :q").bindparams(
            q=_fts_query(terms, include_internal)).columns(ticket_id=Integer).subquery("hits")
        return select(hits.c.ticket_id)
    # Words are \w+ only, so joining them into tsquery syntax is safe; the last is a prefix.
    tsq = db.func.to_tsquery("simple", " & ".join(terms[:-1] + [terms[-1] + ":*"]))
    by_message = select(Message.ticket_id).where(
        db.func.to_tsvector("simple", Message.body).op("@@")(tsq))
    if not include_internal:
        by_message = by_message.where(Message.internal.is_(False))
    by_subject = select(Ticket.id).where(db.func.to_tsvector("simple", Ticket.subject).op("@@")(tsq))
    return union(by_message, by_subject)


def restrict(query: Select, text_: str, include_internal: bool) -> Select:
    """``query`` (of tickets) limited to those matching every word of ``text_``.

    SQLite's planner cannot know how many tickets match, and always starts from the hits.
    For a common word that means fetching and sorting tens of thousands of tickets to show
    25, so then the ticket id is hidden from it (``id + 0``): it walks the queue's index in
    display order and stops after one page.
    """
    hits = matching_ticket_ids(text_, include_internal)
    if hits is None:
        return query.where(false())
    if _dialect() == "sqlite":
        probe = text("SELECT count(*) FROM (SELECT rowid FROM search_index WHERE search_index MATCH :q "
                     "LIMIT :n)")
        found = db.session.scalar(probe, {"q": _fts_query(words(text_), include_internal), "n": COMMON_HITS})
        if found >= COMMON_HITS:
            return query.where((Ticket.id + literal_column("0")).in_(hits))
    return query.where(Ticket.id.in_(hits))
