"""email: quarantine reasons and mailbox errors in each admin's language

Revision ID: email_0004
Revises: email_0003

``email_quarantine.reason_words`` and ``email_mailboxes.last_error_words`` keep the message
id and parameters of the sentence (``plugin_api.words_of``) beside its English (``reason``,
``last_error``); older rows have none and show their English.
"""
import sqlalchemy as sa
from alembic import op

revision = "email_0004"
down_revision = "email_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("email_quarantine") as batch:
        batch.add_column(sa.Column("reason_words", sa.JSON(), nullable=True))
    with op.batch_alter_table("email_mailboxes") as batch:
        batch.add_column(sa.Column("last_error_words", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("email_mailboxes") as batch:
        batch.drop_column("last_error_words")
    with op.batch_alter_table("email_quarantine") as batch:
        batch.drop_column("reason_words")
