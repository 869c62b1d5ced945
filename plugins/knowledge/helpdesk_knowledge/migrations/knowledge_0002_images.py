"""knowledge: images uploaded into articles (the bytes live in the core's attachment storage).

Revision ID: knowledge_0002
Revises: knowledge_0001
Create Date: 2026-12-06 00:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = "knowledge_0002"
down_revision = "knowledge_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "knowledge_images",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=40), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["article_id"], ["knowledge_articles.id"], ondelete="CASCADE",
                                name="fk_knowledge_images_article_id_knowledge_articles"),
        sa.ForeignKeyConstraint(["uploaded_by_id"], ["users.id"], ondelete="SET NULL",
                                name="fk_knowledge_images_uploaded_by_id_users"),
        sa.PrimaryKeyConstraint("id", name="pk_knowledge_images"),
        sa.UniqueConstraint("token", name="uq_knowledge_images_token"),
    )
    op.create_index("ix_knowledge_images_article_id", "knowledge_images", ["article_id"])


def downgrade() -> None:
    op.drop_index("ix_knowledge_images_article_id", table_name="knowledge_images")
    op.drop_table("knowledge_images")
