"""coaching: scorecard items, reviews, scores, replies, focus, ratings, reopens.

Revision ID: coaching_0001
Revises:
Create Date: 2026-12-05 00:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = "coaching_0001"
down_revision = None
branch_labels = ("coaching",)
depends_on = "core_0001"


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    referred = target.split(".")[0]
    return sa.ForeignKeyConstraint([column], [target], ondelete=ondelete, name=f"fk_{table}_{column}_{referred}")


def upgrade() -> None:
    op.create_table(
        "coaching_scorecard_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(40), nullable=False),
        sa.Column("label", sa.String(120), nullable=False),
        sa.Column("description", sa.String(500), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_coaching_scorecard_items"),
        sa.UniqueConstraint("key", name="uq_coaching_scorecard_items_key"),
    )
    op.create_table(
        "coaching_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=True),
        sa.Column("overall", sa.Text(), nullable=False),
        sa.Column("suggestion", sa.Text(), nullable=False),
        sa.Column("focus_text", sa.String(700), nullable=False),
        sa.Column("disputed", sa.Boolean(), nullable=False),
        sa.Column("read_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        _fk("coaching_reviews", "ticket_id", "tickets.id", "CASCADE"),
        _fk("coaching_reviews", "agent_id", "users.id", "CASCADE"),
        _fk("coaching_reviews", "reviewer_id", "users.id", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name="pk_coaching_reviews"),
        sa.UniqueConstraint("ticket_id", "reviewer_id", "agent_id", name="uq_coaching_reviews_once"),
    )
    op.create_index("ix_coaching_reviews_agent", "coaching_reviews", ["agent_id", "created_at"])
    op.create_index("ix_coaching_reviews_reviewer", "coaching_reviews", ["reviewer_id", "created_at"])
    op.create_table(
        "coaching_review_scores",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=True),
        _fk("coaching_review_scores", "review_id", "coaching_reviews.id", "CASCADE"),
        _fk("coaching_review_scores", "item_id", "coaching_scorecard_items.id", "CASCADE"),
        _fk("coaching_review_scores", "message_id", "messages.id", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name="pk_coaching_review_scores"),
        sa.UniqueConstraint("review_id", "item_id", name="uq_coaching_review_scores_item"),
    )
    op.create_table(
        "coaching_review_replies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("dispute", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        _fk("coaching_review_replies", "review_id", "coaching_reviews.id", "CASCADE"),
        _fk("coaching_review_replies", "author_id", "users.id", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name="pk_coaching_review_replies"),
    )
    op.create_index("ix_coaching_review_replies_review_id", "coaching_review_replies", ["review_id"])
    op.create_table(
        "coaching_focus",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=True),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.String(500), nullable=False),
        sa.Column("checkin_on", sa.Date(), nullable=True),
        sa.Column("reminded_at", sa.DateTime(), nullable=True),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        _fk("coaching_focus", "agent_id", "users.id", "CASCADE"),
        _fk("coaching_focus", "lead_id", "users.id", "SET NULL"),
        _fk("coaching_focus", "item_id", "coaching_scorecard_items.id", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name="pk_coaching_focus"),
    )
    op.create_index("ix_coaching_focus_agent", "coaching_focus", ["agent_id", "closed_at"])
    op.create_index("ix_coaching_focus_checkin", "coaching_focus", ["checkin_on", "reminded_at"])
    op.create_table(
        "coaching_ratings",
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        _fk("coaching_ratings", "ticket_id", "tickets.id", "CASCADE"),
        _fk("coaching_ratings", "agent_id", "users.id", "SET NULL"),
        sa.PrimaryKeyConstraint("ticket_id", name="pk_coaching_ratings"),
    )
    op.create_index("ix_coaching_ratings_agent_id", "coaching_ratings", ["agent_id"])
    op.create_table(
        "coaching_reopens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        _fk("coaching_reopens", "ticket_id", "tickets.id", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_coaching_reopens"),
    )
    op.create_index("ix_coaching_reopens_ticket_id", "coaching_reopens", ["ticket_id"])


def downgrade() -> None:
    for table in ("coaching_reopens", "coaching_ratings", "coaching_focus", "coaching_review_replies",
                  "coaching_review_scores", "coaching_reviews", "coaching_scorecard_items"):
        op.drop_table(table)
