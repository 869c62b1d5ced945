"""Ticket facts for the core reports: one derived row per ticket

``helpdesk.reports.facts`` keeps it in step after every commit; ``helpdesk reports backfill``
fills it for tickets that existed before this revision (run it once after upgrading).

Revision ID: core_0014
Revises: core_0013
"""
import sqlalchemy as sa
from alembic import op

revision = "core_0014"
down_revision = "core_0013"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "ticket_facts",
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("solved_at", sa.DateTime(), nullable=True),
        sa.Column("first_response_minutes", sa.Float(), nullable=True),
        sa.Column("resolution_minutes", sa.Float(), nullable=True),
        sa.Column("business_hours", sa.Boolean(), nullable=False),
        sa.Column("reopen_count", sa.Integer(), nullable=False),
        sa.Column("agent_replies", sa.Integer(), nullable=False),
        sa.Column("sla_met", sa.Boolean(), nullable=True),
        sa.Column("refreshed_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], ondelete="CASCADE",
                                name="fk_ticket_facts_ticket_id_tickets"),
        sa.PrimaryKeyConstraint("ticket_id", name="pk_ticket_facts"),
    )
    op.create_index("ix_ticket_facts_solved", "ticket_facts", ["solved_at"])


def downgrade():
    op.drop_index("ix_ticket_facts_solved", table_name="ticket_facts")
    op.drop_table("ticket_facts")
