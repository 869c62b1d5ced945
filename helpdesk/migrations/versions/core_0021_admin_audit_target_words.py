"""Admin audit targets in the reader's language

``admin_audit.target_words``: the target's message id and parameters (JSON) when it was given
as ``lazy_gettext(...)`` ("team %(name)s (#%(id)s)"), so each admin reads it in their language;
``target`` keeps the English text (the CSV export, search and older rows use it).

Revision ID: core_0021
Revises: core_0020
"""
import sqlalchemy as sa
from alembic import op

revision = "core_0021"
down_revision = "core_0020"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("admin_audit") as batch:
        batch.add_column(sa.Column("target_words", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("admin_audit") as batch:
        batch.drop_column("target_words")
