"""Create messaging_received and messaging_links: the first revision of the messaging branch.

Revision ID: messaging_0001
"""
import sqlalchemy as sa
from alembic import op

revision = "messaging_0001"
down_revision = None
branch_labels = ("messaging",)
depends_on = "core_0001"


def upgrade() -> None:
    op.create_table(
        "messaging_received",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(20), nullable=False),
        sa.Column("external_id", sa.String(200), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], ondelete="SET NULL",
                                name="fk_messaging_received_ticket_id_tickets"),
        sa.ForeignKeyConstraint(["message_id"], ["messages.id"], ondelete="SET NULL",
                                name="fk_messaging_received_message_id_messages"),
        sa.PrimaryKeyConstraint("id", name="pk_messaging_received"),
        sa.UniqueConstraint("provider", "external_id", name="uq_messaging_received_provider"),
    )
    op.create_table(
        "messaging_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(16), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_messaging_links"),
        sa.UniqueConstraint("code", name="uq_messaging_links_code"),
    )


def downgrade() -> None:
    op.drop_table("messaging_links")
    op.drop_table("messaging_received")
