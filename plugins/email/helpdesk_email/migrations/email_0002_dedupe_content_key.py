"""email: content keys for dedupe (same Message-ID, sender and content); acknowledgements counted by the core.

Revision ID: email_0002
Revises: email_0001
Create Date: 2026-12-04 16:30:00

``content_key`` (sha256 of mailbox, sender, subject and body) on the threading index and the
quarantine: a mail is a duplicate only when its Message-ID *and* its content key match.
``email_acks`` is dropped: the per-recipient cap on automatic notices is the core's
(``customer_notices``, site setting ``notices_per_recipient_per_hour``).
"""
import sqlalchemy as sa
from alembic import op

revision = "email_0002"
down_revision = "email_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("email_message_ids", sa.Column("content_key", sa.String(length=64), nullable=True))
    op.add_column("email_quarantine", sa.Column("content_key", sa.String(length=64), nullable=True))
    op.drop_index("ix_email_acks_address_sent", table_name="email_acks")
    op.drop_table("email_acks")


def downgrade() -> None:
    op.create_table(
        "email_acks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("sent_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], ondelete="SET NULL",
                                name="fk_email_acks_ticket_id_tickets"),
        sa.PrimaryKeyConstraint("id", name="pk_email_acks"),
    )
    op.create_index("ix_email_acks_address_sent", "email_acks", ["address", "sent_at"])
    with op.batch_alter_table("email_quarantine") as batch:
        batch.drop_column("content_key")
    with op.batch_alter_table("email_message_ids") as batch:
        batch.drop_column("content_key")
