"""email: mailboxes, quarantine, threading index, raw messages, acknowledgements.

Revision ID: email_0001
Revises:
Create Date: 2025-01-01 00:00:00

The first revision of the ``email`` branch; it needs the core's tickets, messages, teams
and users (core_0001).
"""
import sqlalchemy as sa
from alembic import op

revision = "email_0001"
down_revision = None
branch_labels = ("email",)
depends_on = "core_0001"


def upgrade() -> None:
    op.create_table(
        "email_mailboxes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("port", sa.Integer(), nullable=False),
        sa.Column("security", sa.String(length=10), nullable=False),
        sa.Column("username", sa.String(length=255), nullable=False),
        sa.Column("password_encrypted", sa.Text(), nullable=False),
        sa.Column("folder", sa.String(length=255), nullable=False),
        sa.Column("processed_folder", sa.String(length=255), nullable=True),
        sa.Column("poll_minutes", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("last_uid", sa.BigInteger(), nullable=False),
        sa.Column("uidvalidity", sa.BigInteger(), nullable=True),
        sa.Column("last_polled_at", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.String(length=1000), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], ondelete="SET NULL",
                                name="fk_email_mailboxes_team_id_teams"),
        sa.PrimaryKeyConstraint("id", name="pk_email_mailboxes"),
        sa.UniqueConstraint("name", name="uq_email_mailboxes_name"),
    )
    op.create_table(
        "email_quarantine",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("sender", sa.String(length=320), nullable=True),
        sa.Column("subject", sa.String(length=250), nullable=True),
        sa.Column("message_id_header", sa.String(length=500), nullable=True),
        sa.Column("message_id_hash", sa.String(length=64), nullable=False),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("mailbox_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.Column("resolution", sa.String(length=40), nullable=True),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["mailbox_id"], ["email_mailboxes.id"], ondelete="SET NULL",
                                name="fk_email_quarantine_mailbox_id_email_mailboxes"),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], ondelete="SET NULL",
                                name="fk_email_quarantine_ticket_id_tickets"),
        sa.PrimaryKeyConstraint("id", name="pk_email_quarantine"),
    )
    op.create_index("ix_email_quarantine_kind", "email_quarantine", ["kind", "id"])
    op.create_index("ix_email_quarantine_message_id_hash", "email_quarantine", ["message_id_hash"])
    op.create_table(
        "email_message_ids",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("msgid_hash", sa.String(length=64), nullable=False),
        sa.Column("message_id_header", sa.String(length=500), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("direction", sa.String(length=3), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], ondelete="CASCADE",
                                name="fk_email_message_ids_ticket_id_tickets"),
        sa.ForeignKeyConstraint(["message_id"], ["messages.id"], ondelete="CASCADE",
                                name="fk_email_message_ids_message_id_messages"),
        sa.PrimaryKeyConstraint("id", name="pk_email_message_ids"),
        sa.UniqueConstraint("msgid_hash", name="uq_email_message_ids_msgid_hash"),
    )
    op.create_index("ix_email_message_ids_ticket", "email_message_ids", ["ticket_id", "id"])
    op.create_index("ix_email_message_ids_message_id", "email_message_ids", ["message_id"])
    op.create_table(
        "email_raw_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
        sa.Column("full_text", sa.Text(), nullable=False),
        sa.Column("quoted", sa.Text(), nullable=False),
        sa.Column("signature", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["message_id"], ["messages.id"], ondelete="CASCADE",
                                name="fk_email_raw_messages_message_id_messages"),
        sa.PrimaryKeyConstraint("id", name="pk_email_raw_messages"),
        sa.UniqueConstraint("message_id", name="uq_email_raw_messages_message_id"),
    )
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


def downgrade() -> None:
    op.drop_index("ix_email_acks_address_sent", table_name="email_acks")
    op.drop_table("email_acks")
    op.drop_table("email_raw_messages")
    op.drop_index("ix_email_message_ids_message_id", table_name="email_message_ids")
    op.drop_index("ix_email_message_ids_ticket", table_name="email_message_ids")
    op.drop_table("email_message_ids")
    op.drop_index("ix_email_quarantine_message_id_hash", table_name="email_quarantine")
    op.drop_index("ix_email_quarantine_kind", table_name="email_quarantine")
    op.drop_table("email_quarantine")
    op.drop_table("email_mailboxes")
