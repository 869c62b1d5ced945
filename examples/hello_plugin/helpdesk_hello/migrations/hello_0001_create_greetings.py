"""hello: create hello_greetings.

Revision ID: hello_0001
Revises:
Create Date: 2025-01-01 00:00:00

The first revision of the ``hello`` branch. It starts a branch of its own
(``down_revision = None``) and needs the core's first revision, which creates ``tickets``.
"""
import sqlalchemy as sa
from alembic import op

revision = "hello_0001"
down_revision = None
branch_labels = ("hello",)
depends_on = "core_0001"


def upgrade() -> None:
    op.create_table(
        "hello_greetings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], ondelete="CASCADE",
                                name="fk_hello_greetings_ticket_id_tickets"),
        sa.PrimaryKeyConstraint("id", name="pk_hello_greetings"),
    )
    op.create_index("ix_hello_greetings_ticket_id", "hello_greetings", ["ticket_id"])


def downgrade() -> None:
    op.drop_index("ix_hello_greetings_ticket_id", table_name="hello_greetings")
    op.drop_table("hello_greetings")
