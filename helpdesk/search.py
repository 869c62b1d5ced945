"""Full-text search over ticket subjects and messages.

SQLite: an FTS5 table ``search_index`` (one row per message, rowid = message id; the
first message also carries the subject). PostgreSQL: GIN expression indexes on
``to_tsvector('simple', ...)``. Both are created by the core's migrations.
"""
from __future__ import annotations

import re

from sqlalchemy import Integer, Select, select, text, union

from helpdesk.extensions import db
from helpdesk.models import Message, Ticket

_WORD = re.compile(r"\w+", re.UNICODE)


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def index_message(message: Message, subject: str | None = None) -> None:
    """Add a message to the SQLite index (PostgreSQL indexes the rows themselves)."""
    if _dialect() != "sqlite":
        return
    body = message.body if subject is None else f"{subject}\n{message.body}"
    db.session.execute(
        text("INSERT INTO search_index(rowid, text, ticket_id, internal) VALUES (:id, :t, :tid, :i)"),
        {"id": message.id, "t": body, "tid": message.ticket_id, "i": int(message.internal)},
    )


def reindex_ticket(ticket_id: int) -> None:
    """Rebuild a ticket's rows (after a subject change or a merge)."""
    if _dialect() != "sqlite":
        return
    db.session.execute(text("DELETE FROM search_index WHERE ticket_id = :tid"), {"tid": ticket_id})
    ticket = db.session.get(Ticket, ticket_id)
    for i, message in enumerate(db.session.scalars(
            select(Message).where(Message.ticket_id == ticket_id).order_by(Message.id))):
        index_message(message, subject=ticket.subject if i == 0 else None)


def words(query: str) -> list[str]:
    return _WORD.findall(query or "")[:12]


def matching_ticket_ids(query: str, include_internal: bool) -> Select | None:
    """A SELECT of ticket ids matching every word of ``query`` (None if it has no words)."""
    terms = words(query)
    if not terms:
        return None
    if _dialect() == "sqlite":
        # Each word quoted (so FTS syntax in user input is inert); the last one as a prefix.
        fts = " ".join(f'"{w}"' for w in terms[:-1]) + f' "{terms[-1]}"*'
        sql = "SELECT ticket_id FROM search_index WHERE search_index MATCH :q"
        if not include_internal:
            sql += " AND internal = 0"
        hits = text(sql).bindparams(q=fts.strip()).columns(ticket_id=Integer).subquery("hits")
        return select(hits.c.ticket_id)
    # Words are \w+ only, so joining them into tsquery syntax is safe; the last is a prefix.
    tsq = db.func.to_tsquery("simple", " & ".join(terms[:-1] + [terms[-1] + ":*"]))
    by_message = select(Message.ticket_id).where(
        db.func.to_tsvector("simple", Message.body).op("@@")(tsq))
    if not include_internal:
        by_message = by_message.where(Message.internal.is_(False))
    by_subject = select(Ticket.id).where(db.func.to_tsvector("simple", Ticket.subject).op("@@")(tsq))
    return union(by_message, by_subject)
