"""Audit reasons in the reader's language

``audit_events.reason_words``: the reason's message id and parameters (JSON) when it was
given as ``lazy_gettext(...)``, so each reader sees it in their language; ``reason`` keeps
the English text (search, exports and older readers use it).

Revision ID: core_0020
Revises: core_0019
"""
import sqlalchemy as sa
from alembic import op

revision = "core_0020"
down_revision = "core_0019"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("audit_events") as batch:
        batch.add_column(sa.Column("reason_words", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("audit_events") as batch:
        batch.drop_column("reason_words")
