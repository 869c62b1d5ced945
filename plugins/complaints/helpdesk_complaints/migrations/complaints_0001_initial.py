"""complaints: flags, routing rules, playbook steps, acknowledgements, follow-ups, escalations, alerts.

Revision ID: complaints_0001
Revises:
Create Date: 2025-06-01 00:00:00

The first revision of the ``complaints`` branch. It needs the core's tickets and users, and
the SLA policies' ``tag`` (core_0007), which the "apply SLA policy" action relies on.
"""
import sqlalchemy as sa
from alembic import op

revision = "complaints_0001"
down_revision = None
branch_labels = ("complaints",)
depends_on = "core_0007"


def upgrade() -> None:
    op.create_table(
        "complaints_flags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("signals", sa.JSON(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("flagged_at", sa.DateTime(), nullable=False),
        sa.Column("cleared_by_id", sa.Integer(), nullable=True),
        sa.Column("cleared_at", sa.DateTime(), nullable=True),
        sa.Column("clear_reason", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], ondelete="CASCADE",
                                name="fk_complaints_flags_ticket_id_tickets"),
        sa.ForeignKeyConstraint(["cleared_by_id"], ["users.id"], ondelete="SET NULL",
                                name="fk_complaints_flags_cleared_by_id_users"),
        sa.PrimaryKeyConstraint("id", name="pk_complaints_flags"),
        sa.UniqueConstraint("ticket_id", name="uq_complaints_flags_ticket_id"),
    )
    op.create_index("ix_complaints_flags_flagged_at", "complaints_flags", ["flagged_at"])

    op.create_table(
        "complaints_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("conditions", sa.JSON(), nullable=False),
        sa.Column("actions", sa.JSON(), nullable=False),
        sa.Column("stop", sa.Boolean(), nullable=False),
        sa.Column("last_error", sa.String(length=1000), nullable=True),
        sa.Column("last_error_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_complaints_rules"),
    )
    op.create_index("ix_complaints_rules_position", "complaints_rules", ["position"])

    op.create_table(
        "complaints_steps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.String(length=20), nullable=False),
        sa.Column("done_at", sa.DateTime(), nullable=False),
        sa.Column("done_by_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("no_remedy", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], ondelete="CASCADE",
                                name="fk_complaints_steps_ticket_id_tickets"),
        sa.ForeignKeyConstraint(["done_by_id"], ["users.id"], ondelete="SET NULL",
                                name="fk_complaints_steps_done_by_id_users"),
        sa.PrimaryKeyConstraint("id", name="pk_complaints_steps"),
        sa.UniqueConstraint("ticket_id", "step", name="uq_complaints_steps_ticket_id"),
    )

    op.create_table(
        "complaints_acks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("template", sa.Text(), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("subject", sa.String(length=500), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("channel", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], ondelete="CASCADE",
                                name="fk_complaints_acks_ticket_id_tickets"),
        sa.PrimaryKeyConstraint("id", name="pk_complaints_acks"),
        sa.UniqueConstraint("ticket_id", name="uq_complaints_acks_ticket_id"),
    )

    op.create_table(
        "complaints_followups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(), nullable=True),
        sa.Column("answered_at", sa.DateTime(), nullable=True),
        sa.Column("resolved", sa.Boolean(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], ondelete="CASCADE",
                                name="fk_complaints_followups_ticket_id_tickets"),
        sa.PrimaryKeyConstraint("id", name="pk_complaints_followups"),
        sa.UniqueConstraint("ticket_id", name="uq_complaints_followups_ticket_id"),
    )
    op.create_index("ix_complaints_followups_due", "complaints_followups", ["sent_at", "due_at"])

    op.create_table(
        "complaints_escalations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("target_kind", sa.String(length=30), nullable=False),
        sa.Column("cycle", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("summary", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], ondelete="CASCADE",
                                name="fk_complaints_escalations_ticket_id_tickets"),
        sa.PrimaryKeyConstraint("id", name="pk_complaints_escalations"),
        sa.UniqueConstraint("ticket_id", "target_kind", "cycle", name="uq_complaints_escalations_ticket_id"),
    )

    op.create_table(
        "complaints_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("emailed_at", sa.DateTime(), nullable=True),
        sa.Column("dismissed_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE",
                                name="fk_complaints_alerts_user_id_users"),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], ondelete="CASCADE",
                                name="fk_complaints_alerts_ticket_id_tickets"),
        sa.PrimaryKeyConstraint("id", name="pk_complaints_alerts"),
    )
    op.create_index("ix_complaints_alerts_user", "complaints_alerts", ["user_id", "dismissed_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_complaints_alerts_user", table_name="complaints_alerts")
    op.drop_table("complaints_alerts")
    op.drop_table("complaints_escalations")
    op.drop_index("ix_complaints_followups_due", table_name="complaints_followups")
    op.drop_table("complaints_followups")
    op.drop_table("complaints_acks")
    op.drop_table("complaints_steps")
    op.drop_index("ix_complaints_rules_position", table_name="complaints_rules")
    op.drop_table("complaints_rules")
    op.drop_index("ix_complaints_flags_flagged_at", table_name="complaints_flags")
    op.drop_table("complaints_flags")
