"""insights: themes, texts, the fitted vocabulary, signals, alerts, follow-ups and opt-outs.

Revision ID: insights_0001
Revises:
Create Date: 2026-12-05 00:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = "insights_0001"
down_revision = None
branch_labels = ("insights",)
depends_on = "core_0001"


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], ondelete=ondelete,
                                   name=f"fk_{table}_{column}_{target}")


def upgrade() -> None:
    op.create_table(
        "insights_themes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("named_by_hand", sa.Boolean(), nullable=False),
        sa.Column("key_phrases", sa.JSON(), nullable=False),
        sa.Column("centroid", sa.JSON(), nullable=False),
        sa.Column("hidden", sa.Boolean(), nullable=False),
        sa.Column("merged_into_id", sa.Integer(), nullable=True),
        sa.Column("pinned_tag", sa.String(50), nullable=True),
        sa.Column("action", sa.String(500), nullable=True),
        sa.Column("action_by_id", sa.Integer(), nullable=True),
        sa.Column("action_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        _fk("insights_themes", "merged_into_id", "insights_themes", "SET NULL"),
        _fk("insights_themes", "action_by_id", "users", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name="pk_insights_themes"),
    )
    op.create_table(
        "insights_texts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(120), nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(40), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("sentiment", sa.Float(), nullable=False),
        sa.Column("complaint", sa.Boolean(), nullable=False),
        sa.Column("theme_id", sa.Integer(), nullable=True),
        sa.Column("similarity", sa.Float(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        _fk("insights_texts", "ticket_id", "tickets", "SET NULL"),
        _fk("insights_texts", "customer_id", "users", "CASCADE"),
        _fk("insights_texts", "team_id", "teams", "SET NULL"),
        _fk("insights_texts", "theme_id", "insights_themes", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name="pk_insights_texts"),
        sa.UniqueConstraint("reference", name="uq_insights_texts_reference"),
    )
    op.create_index("ix_insights_texts_theme_created", "insights_texts", ["theme_id", "created_at"])
    op.create_index("ix_insights_texts_customer", "insights_texts", ["customer_id"])
    op.create_table(
        "insights_models",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("idf", sa.JSON(), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("texts", sa.Integer(), nullable=False),
        sa.Column("themes", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_insights_models"),
    )
    op.create_table(
        "insights_signals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(120), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("detail", sa.String(300), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        _fk("insights_signals", "customer_id", "users", "CASCADE"),
        _fk("insights_signals", "ticket_id", "tickets", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name="pk_insights_signals"),
        sa.UniqueConstraint("reference", name="uq_insights_signals_reference"),
    )
    op.create_index("ix_insights_signals_customer_created", "insights_signals", ["customer_id", "created_at"])
    op.create_table(
        "insights_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("theme_id", sa.Integer(), nullable=False),
        sa.Column("week", sa.String(10), nullable=False),
        sa.Column("recent", sa.Integer(), nullable=False),
        sa.Column("baseline", sa.Float(), nullable=False),
        sa.Column("notified", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        _fk("insights_alerts", "theme_id", "insights_themes", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_insights_alerts"),
        sa.UniqueConstraint("theme_id", "week", name="uq_insights_alerts_theme_week"),
    )
    op.create_table(
        "insights_followups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("theme_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(40), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("reason", sa.String(300), nullable=True),
        sa.Column("action", sa.String(500), nullable=False),
        sa.Column("sent_by_id", sa.Integer(), nullable=True),
        sa.Column("sent_at", sa.DateTime(), nullable=False),
        sa.Column("answered_at", sa.DateTime(), nullable=True),
        _fk("insights_followups", "theme_id", "insights_themes", "CASCADE"),
        _fk("insights_followups", "customer_id", "users", "CASCADE"),
        _fk("insights_followups", "ticket_id", "tickets", "SET NULL"),
        _fk("insights_followups", "sent_by_id", "users", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name="pk_insights_followups"),
        sa.UniqueConstraint("theme_id", "customer_id", name="uq_insights_followups_theme_customer"),
    )
    op.create_table(
        "insights_optouts",
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        _fk("insights_optouts", "customer_id", "users", "CASCADE"),
        sa.PrimaryKeyConstraint("customer_id", name="pk_insights_optouts"),
    )


def downgrade() -> None:
    for table in ("insights_optouts", "insights_followups", "insights_alerts", "insights_signals",
                  "insights_models", "insights_texts", "insights_themes"):
        op.drop_table(table)
