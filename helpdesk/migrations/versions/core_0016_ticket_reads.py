"""Ticket reads: how far each agent has read each ticket (the queue's unread markers)

One row per agent and ticket with the id of the last message the agent saw; a ticket with
a newer message by someone else is unread for that agent.

Revision ID: core_0016
Revises: core_0015
"""
import sqlalchemy as sa
from alembic import op

revision = "core_0016"
down_revision = "core_0015"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "ticket_reads",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("last_seen_message_id", sa.Integer(), nullable=False),
        sa.Column("seen_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE",
                                name="fk_ticket_reads_user_id_users"),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], ondelete="CASCADE",
                                name="fk_ticket_reads_ticket_id_tickets"),
        sa.PrimaryKeyConstraint("user_id", "ticket_id", name="pk_ticket_reads"),
    )
    op.create_index("ix_ticket_reads_ticket_id", "ticket_reads", ["ticket_id"])


def downgrade():
    op.drop_index("ix_ticket_reads_ticket_id", table_name="ticket_reads")
    op.drop_table("ticket_reads")
