"""complaints: agents' corrections as labels, models learned from them, the detector's admin choices.

Revision ID: complaints_0002
Revises: complaints_0001
Create Date: 2026-12-04 00:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = "complaints_0002"
down_revision = "complaints_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "complaints_labels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("complaint", sa.Boolean(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], ondelete="CASCADE",
                                name="fk_complaints_labels_ticket_id_tickets"),
        sa.ForeignKeyConstraint(["agent_id"], ["users.id"], ondelete="SET NULL",
                                name="fk_complaints_labels_agent_id_users"),
        sa.PrimaryKeyConstraint("id", name="pk_complaints_labels"),
        sa.UniqueConstraint("ticket_id", name="uq_complaints_labels_ticket_id"),
    )
    op.create_index("ix_complaints_labels_created_at", "complaints_labels", ["created_at"])
    op.create_table(
        "complaints_models",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("label_count", sa.Integer(), nullable=False),
        sa.Column("weights", sa.JSON(), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("beats_builtin", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_complaints_models"),
    )
    op.create_index("ix_complaints_models_created_at", "complaints_models", ["created_at"])
    op.create_table(
        "complaints_detector_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sensitivity", sa.Integer(), nullable=False),
        sa.Column("use_learned", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_complaints_detector_state"),
    )


def downgrade() -> None:
    op.drop_table("complaints_detector_state")
    op.drop_index("ix_complaints_models_created_at", table_name="complaints_models")
    op.drop_table("complaints_models")
    op.drop_index("ix_complaints_labels_created_at", table_name="complaints_labels")
    op.drop_table("complaints_labels")
