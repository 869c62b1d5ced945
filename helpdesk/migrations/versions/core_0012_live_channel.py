"""The live channel's database storage: recent events and ticket presence

Without Redis, ``helpdesk.live`` publishes events as rows of ``live_events`` (the streams of
every web process poll them by increasing id; rows live a few minutes) and keeps who is
viewing or typing on a ticket in ``live_presence`` (rows expire within seconds).

Revision ID: core_0012
Revises: core_0011
"""
import sqlalchemy as sa
from alembic import op

revision = "core_0012"
down_revision = "core_0011"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "live_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("topic", sa.String(length=100), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_live_events"),
    )
    op.create_index("ix_live_events_created_at", "live_events", ["created_at"])
    op.create_table(
        "live_presence",
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("ticket_id", "user_id", name="pk_live_presence"),
    )
    op.create_index("ix_live_presence_expires_at", "live_presence", ["expires_at"])


def downgrade():
    op.drop_index("ix_live_presence_expires_at", table_name="live_presence")
    op.drop_table("live_presence")
    op.drop_index("ix_live_events_created_at", table_name="live_events")
    op.drop_table("live_events")
