"""recognition: kudos, reactions, ratings, awards, badges, notifications, preferences, digests.

Revision ID: recognition_0001
Revises:
Create Date: 2025-01-01 00:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = "recognition_0001"
down_revision = None
branch_labels = ("recognition",)
depends_on = "core_0001"

NOT_PEER = sa.text("source <> 'peer'")


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    referred = target.split(".")[0]
    return sa.ForeignKeyConstraint([column], [target], ondelete=ondelete, name=f"fk_{table}_{column}_{referred}")


def upgrade() -> None:
    op.create_table(
        "recognition_kudos",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recipient_id", sa.Integer(), nullable=False),
        sa.Column("giver_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("value_tag", sa.String(60), nullable=True),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        _fk("recognition_kudos", "recipient_id", "users.id", "CASCADE"),
        _fk("recognition_kudos", "giver_id", "users.id", "SET NULL"),
        _fk("recognition_kudos", "ticket_id", "tickets.id", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name="pk_recognition_kudos"),
    )
    op.create_index("ix_recognition_kudos_created", "recognition_kudos", ["created_at", "id"])
    op.create_index("ix_recognition_kudos_recipient", "recognition_kudos", ["recipient_id", "created_at"])
    op.create_index("ix_recognition_kudos_ticket_id", "recognition_kudos", ["ticket_id"])
    op.create_index("uq_recognition_kudos_customer_ticket", "recognition_kudos", ["ticket_id", "recipient_id"],
                    unique=True, sqlite_where=NOT_PEER, postgresql_where=NOT_PEER)

    op.create_table(
        "recognition_reactions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kudos_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("emoji", sa.String(20), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        _fk("recognition_reactions", "kudos_id", "recognition_kudos.id", "CASCADE"),
        _fk("recognition_reactions", "user_id", "users.id", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_recognition_reactions"),
        sa.UniqueConstraint("kudos_id", "user_id", "emoji", name="uq_recognition_reactions_once"),
    )

    op.create_table(
        "recognition_ratings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        _fk("recognition_ratings", "user_id", "users.id", "CASCADE"),
        _fk("recognition_ratings", "ticket_id", "tickets.id", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_recognition_ratings"),
        sa.UniqueConstraint("ticket_id", "user_id", "kind", name="uq_recognition_ratings_once"),
    )
    op.create_index("ix_recognition_ratings_user", "recognition_ratings", ["user_id", "created_at"])

    op.create_table(
        "recognition_awards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("badge", sa.String(40), nullable=False),
        sa.Column("period", sa.String(20), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("detail", sa.String(300), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        _fk("recognition_awards", "user_id", "users.id", "CASCADE"),
        _fk("recognition_awards", "ticket_id", "tickets.id", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name="pk_recognition_awards"),
        sa.UniqueConstraint("user_id", "badge", "period", name="uq_recognition_awards_once"),
    )
    op.create_index("ix_recognition_awards_created", "recognition_awards", ["created_at", "id"])

    op.create_table(
        "recognition_badges",
        sa.Column("key", sa.String(40), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("threshold", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_recognition_badges"),
    )

    op.create_table(
        "recognition_notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kudos_id", sa.Integer(), nullable=True),
        sa.Column("award_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.String(500), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("read_at", sa.DateTime(), nullable=True),
        _fk("recognition_notifications", "user_id", "users.id", "CASCADE"),
        _fk("recognition_notifications", "kudos_id", "recognition_kudos.id", "CASCADE"),
        _fk("recognition_notifications", "award_id", "recognition_awards.id", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_recognition_notifications"),
    )
    op.create_index("ix_recognition_notifications_user", "recognition_notifications", ["user_id", "read_at"])

    op.create_table(
        "recognition_preferences",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("email_notifications", sa.Boolean(), nullable=False),
        sa.Column("digest", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        _fk("recognition_preferences", "user_id", "users.id", "CASCADE"),
        sa.PrimaryKeyConstraint("user_id", name="pk_recognition_preferences"),
    )

    op.create_table(
        "recognition_digests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("week", sa.String(10), nullable=False),
        sa.Column("items", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        _fk("recognition_digests", "user_id", "users.id", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_recognition_digests"),
        sa.UniqueConstraint("user_id", "week", name="uq_recognition_digests_once"),
    )


def downgrade() -> None:
    for table in ("recognition_digests", "recognition_preferences", "recognition_notifications",
                  "recognition_badges", "recognition_awards", "recognition_ratings", "recognition_reactions"):
        op.drop_table(table)
    for index in ("uq_recognition_kudos_customer_ticket", "ix_recognition_kudos_ticket_id",
                  "ix_recognition_kudos_recipient", "ix_recognition_kudos_created"):
        op.drop_index(index, table_name="recognition_kudos")
    op.drop_table("recognition_kudos")
