"""search index: one row per ticket

SQLite only: ``search_index`` had a row per message, so a search had to read every hit
row to learn its ticket (150-300 ms for a common word in 100,000 tickets). Now rowid = ticket
id, with the subject and public messages in ``public`` and internal notes in ``internal``.

Revision ID: core_0003
Revises: core_0002
"""
from alembic import op

revision = 'core_0003'
down_revision = 'core_0002'
branch_labels = None
depends_on = None

TOKENIZE = "tokenize='unicode61 remove_diacritics 2'"


def upgrade():
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute("DROP TABLE IF EXISTS search_index")
    op.execute(f"CREATE VIRTUAL TABLE search_index USING fts5(public, internal, {TOKENIZE})")
    op.execute("""
        INSERT INTO search_index(rowid, public, internal)
        SELECT t.id,
               t.subject || coalesce(char(10) || (SELECT group_concat(m.body, char(10)) FROM messages m
                                                  WHERE m.ticket_id = t.id AND m.internal = 0), ''),
               coalesce((SELECT group_concat(m.body, char(10)) FROM messages m
                         WHERE m.ticket_id = t.id AND m.internal = 1), '')
        FROM tickets t""")


def downgrade():
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute("DROP TABLE IF EXISTS search_index")
    op.execute("CREATE VIRTUAL TABLE search_index USING fts5("
               f"text, ticket_id UNINDEXED, internal UNINDEXED, {TOKENIZE})")
    op.execute("""
        INSERT INTO search_index(rowid, text, ticket_id, internal)
        SELECT m.id,
               CASE WHEN m.id = (SELECT min(id) FROM messages f WHERE f.ticket_id = m.ticket_id)
                    THEN t.subject || char(10) || m.body ELSE m.body END,
               m.ticket_id, m.internal
        FROM messages m JOIN tickets t ON t.id = m.ticket_id""")
