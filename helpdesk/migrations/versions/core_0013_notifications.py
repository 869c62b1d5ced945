"""Agents' notifications, their per-kind preferences, ticket followers

``helpdesk.services.notifications`` writes a ``notifications`` row for each thing an agent
should know (assigned, customer replied, mentioned, SLA, plugins' kinds); ``email`` says
whether it is mailed at once, waits for the daily digest, or stays in the app.

Revision ID: core_0013
Revises: core_0012
"""
import sqlalchemy as sa
from alembic import op

revision = "core_0013"
down_revision = "core_0012"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recipient_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=80), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("read_at", sa.DateTime(), nullable=True),
        sa.Column("email", sa.String(length=12), nullable=False),
        sa.Column("emailed_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["recipient_id"], ["users.id"], ondelete="CASCADE",
                                name="fk_notifications_recipient_id_users"),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], ondelete="SET NULL",
                                name="fk_notifications_ticket_id_tickets"),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"], ondelete="SET NULL",
                                name="fk_notifications_actor_id_users"),
        sa.PrimaryKeyConstraint("id", name="pk_notifications"),
    )
    op.create_index("ix_notifications_recipient_read", "notifications", ["recipient_id", "read_at", "id"])
    op.create_index("ix_notifications_email", "notifications", ["email", "recipient_id"])
    op.create_table(
        "notification_preferences",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=80), nullable=False),
        sa.Column("delivery", sa.String(length=12), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE",
                                name="fk_notification_preferences_user_id_users"),
        sa.PrimaryKeyConstraint("user_id", "kind", name="pk_notification_preferences"),
    )
    op.create_table(
        "ticket_followers",
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], ondelete="CASCADE",
                                name="fk_ticket_followers_ticket_id_tickets"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE",
                                name="fk_ticket_followers_user_id_users"),
        sa.PrimaryKeyConstraint("ticket_id", "user_id", name="pk_ticket_followers"),
    )
    op.create_index("ix_ticket_followers_user", "ticket_followers", ["user_id"])


def downgrade():
    op.drop_index("ix_ticket_followers_user", table_name="ticket_followers")
    op.drop_table("ticket_followers")
    op.drop_table("notification_preferences")
    op.drop_index("ix_notifications_email", table_name="notifications")
    op.drop_index("ix_notifications_recipient_read", table_name="notifications")
    op.drop_table("notifications")
