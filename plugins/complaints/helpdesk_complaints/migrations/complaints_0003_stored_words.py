"""complaints: alerts, escalation summaries and step notes in the reader's language.

Revision ID: complaints_0003
Revises: complaints_0002
Create Date: 2026-12-06 00:00:00

``words`` (``note_words`` on steps): the sentence's message id and parameters (JSON), read in
each reader's language with ``words_text``; the English column beside it stays for search,
mails and exports, and is what older rows (without words) show.
"""
import sqlalchemy as sa
from alembic import op

revision = "complaints_0003"
down_revision = "complaints_0002"
branch_labels = None
depends_on = None

COLUMNS = (("complaints_alerts", "words"), ("complaints_escalations", "words"), ("complaints_steps", "note_words"))


def upgrade() -> None:
    for table, column in COLUMNS:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column(column, sa.JSON(), nullable=True))


def downgrade() -> None:
    for table, column in reversed(COLUMNS):
        with op.batch_alter_table(table) as batch:
            batch.drop_column(column)
