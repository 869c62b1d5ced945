"""knowledge: a faster search index on both databases.

SQLite: ``search_index_knowledge`` rebuilt with FTS5 prefix indexes of 2 and 3 characters
(a short prefix such as "pas"* read every matching term's doclist), its rows copied over.
PostgreSQL: a stored, generated ``search_vector`` column (the title weighted A, then the
text, kept in the row), so ranking reads a stored vector instead of parsing each candidate's
text again, with a GIN index on it; a GIN expression index on the title alone, so title matches can be picked
as candidates without reading the text. The old expression index on title and text goes.

Revision ID: knowledge_0003
Revises: knowledge_0002
Create Date: 2026-12-06 06:00:00
"""
from alembic import op

revision = "knowledge_0003"
down_revision = "knowledge_0002"
branch_labels = None
depends_on = None

TOKENIZE = "tokenize='unicode61 remove_diacritics 2'"
PREFIX = "prefix='2 3'"


def _rebuild_sqlite(options: str) -> None:
    """Replace the FTS5 table by one created with ``options``, keeping every row (rowid = article id)."""
    op.execute(f"CREATE VIRTUAL TABLE search_index_knowledge_rebuilt USING fts5(title, body, {options})")
    op.execute("INSERT INTO search_index_knowledge_rebuilt(rowid, title, body) "
               "SELECT rowid, title, body FROM search_index_knowledge")
    op.execute("DROP TABLE search_index_knowledge")
    op.execute("ALTER TABLE search_index_knowledge_rebuilt RENAME TO search_index_knowledge")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_sqlite(f"{TOKENIZE}, {PREFIX}")
        return
    # Storage MAIN keeps the vector in the row (compressed if need be) while the texts go out
    # of line first: ranking reads every candidate's vector, and a TOAST fetch each cost ~3x.
    # One ALTER TABLE, so the rewrite that fills the column already stores it that way.
    op.execute("ALTER TABLE knowledge_articles ADD COLUMN search_vector tsvector GENERATED ALWAYS AS "
               "(setweight(to_tsvector('simple', title), 'A') || to_tsvector('simple', body_text)) STORED, "
               "ALTER COLUMN search_vector SET STORAGE MAIN")
    op.execute("CREATE INDEX ix_knowledge_articles_search_fts ON knowledge_articles USING gin (search_vector)")
    op.execute("CREATE INDEX ix_knowledge_articles_title_fts ON knowledge_articles "
               "USING gin (to_tsvector('simple', title))")
    op.execute("DROP INDEX IF EXISTS ix_knowledge_articles_fts")
    # The search leaves out very common words by the planner's lexeme frequencies of the new
    # column (pg_stats), which exist only once the table has been analysed.
    op.execute("ANALYZE knowledge_articles")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_sqlite(TOKENIZE)
        return
    op.execute("CREATE INDEX ix_knowledge_articles_fts ON knowledge_articles "
               "USING gin (to_tsvector('simple', title || ' ' || body_text))")
    op.execute("DROP INDEX IF EXISTS ix_knowledge_articles_title_fts")
    op.execute("DROP INDEX IF EXISTS ix_knowledge_articles_search_fts")
    op.execute("ALTER TABLE knowledge_articles DROP COLUMN search_vector")
