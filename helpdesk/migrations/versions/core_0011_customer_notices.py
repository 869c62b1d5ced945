"""Customer notices: the per-recipient cap on automatic notices, and what it held back

``notify_customer`` records each automatic notice it sends (status ``sent``) and each it
holds back (``held``, with the reason): the hourly cap counts the sent ones per customer.

Revision ID: core_0011
Revises: core_0010
"""
import sqlalchemy as sa
from alembic import op

revision = "core_0011"
down_revision = "core_0010"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "customer_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(length=40), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["users.id"], ondelete="CASCADE",
                                name="fk_customer_notices_customer_id_users"),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], ondelete="SET NULL",
                                name="fk_customer_notices_ticket_id_tickets"),
        sa.PrimaryKeyConstraint("id", name="pk_customer_notices"),
    )
    op.create_index("ix_customer_notices_customer_created", "customer_notices", ["customer_id", "created_at"])


def downgrade():
    op.drop_index("ix_customer_notices_customer_created", table_name="customer_notices")
    op.drop_table("customer_notices")
