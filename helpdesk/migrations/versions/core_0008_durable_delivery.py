"""Durable delivery and ticket versions

Deliveries: one row per agent reply promised to a customer, written with the reply and
claimed by jobs for a lease. Outbox mail gets a lease and the reply it carries. Tickets get
a version for refusing saves from stale forms.

Revision ID: core_0008
Revises: core_0007
"""
import sqlalchemy as sa
from alembic import op

revision = "core_0008"
down_revision = "core_0007"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_until", sa.DateTime(), nullable=True),
        sa.Column("claim", sa.String(length=32), nullable=True),
        sa.Column("last_error", sa.String(length=1000), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("done_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["message_id"], ["messages.id"], name=op.f("fk_deliveries_message_id_messages"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliveries")),
        sa.UniqueConstraint("message_id", name=op.f("uq_deliveries_message_id")),
    )
    op.create_index("ix_deliveries_status_lease", "deliveries", ["status", "lease_until"])
    with op.batch_alter_table("outbox_mail") as batch:
        batch.add_column(sa.Column("lease_until", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("claim", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("message_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f("fk_outbox_mail_message_id_messages"), "messages", ["message_id"], ["id"],
                                 ondelete="SET NULL")
    op.add_column("tickets", sa.Column("version", sa.Integer(), nullable=False, server_default="1"))


def downgrade():
    if op.get_bind().dialect.name == "sqlite":  # no batch rebuild: it would lose the expression index
        op.execute("ALTER TABLE tickets DROP COLUMN version")
    else:
        op.drop_column("tickets", "version")
    with op.batch_alter_table("outbox_mail") as batch:
        batch.drop_constraint(op.f("fk_outbox_mail_message_id_messages"), type_="foreignkey")
        batch.drop_column("message_id")
        batch.drop_column("claim")
        batch.drop_column("lease_until")
    op.drop_index("ix_deliveries_status_lease", table_name="deliveries")
    op.drop_table("deliveries")
