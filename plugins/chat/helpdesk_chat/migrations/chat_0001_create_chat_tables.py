"""Create chat_visitors and chat_ratings: the first revision of the chat plugin's branch.

Revision ID: chat_0001
"""
import sqlalchemy as sa
from alembic import op

revision = "chat_0001"
down_revision = None
branch_labels = ("chat",)
depends_on = "core_0001"


def upgrade() -> None:
    op.create_table(
        "chat_visitors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(200), nullable=True),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("verified_user", sa.String(200), nullable=True),
        sa.Column("origin", sa.String(200), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["users.id"], ondelete="CASCADE",
                                name="fk_chat_visitors_customer_id_users"),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], ondelete="SET NULL",
                                name="fk_chat_visitors_ticket_id_tickets"),
        sa.PrimaryKeyConstraint("id", name="pk_chat_visitors"),
        sa.UniqueConstraint("key", name="uq_chat_visitors_key"),
    )
    op.create_index("ix_chat_visitors_customer_id", "chat_visitors", ["customer_id"])
    op.create_index("ix_chat_visitors_ticket_id", "chat_visitors", ["ticket_id"])
    op.create_table(
        "chat_ratings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], ondelete="CASCADE",
                                name="fk_chat_ratings_ticket_id_tickets"),
        sa.PrimaryKeyConstraint("id", name="pk_chat_ratings"),
        sa.UniqueConstraint("ticket_id", name="uq_chat_ratings_ticket_id"),
    )


def downgrade() -> None:
    op.drop_table("chat_ratings")
    op.drop_index("ix_chat_visitors_ticket_id", table_name="chat_visitors")
    op.drop_index("ix_chat_visitors_customer_id", table_name="chat_visitors")
    op.drop_table("chat_visitors")
