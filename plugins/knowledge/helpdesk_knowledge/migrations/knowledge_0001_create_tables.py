"""knowledge: categories, sections, articles, revisions, votes, deflections, searches; search index.

SQLite: an FTS5 table ``search_index_knowledge`` (rowid = article id; title and text), kept
by the plugin on every save. PostgreSQL: a GIN expression index on the article's
``to_tsvector('simple', title || ' ' || body_text)``.

Revision ID: knowledge_0001
Revises:
Create Date: 2026-12-05 00:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = "knowledge_0001"
down_revision = None
branch_labels = ("knowledge",)
depends_on = "core_0001"

TOKENIZE = "tokenize='unicode61 remove_diacritics 2'"


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    referred = target.split(".")[0]
    return sa.ForeignKeyConstraint([column], [target], ondelete=ondelete, name=f"fk_{table}_{column}_{referred}")


def upgrade() -> None:
    op.create_table(
        "knowledge_categories",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_knowledge_categories"),
    )
    op.create_table(
        "knowledge_sections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        _fk("knowledge_sections", "category_id", "knowledge_categories.id", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_knowledge_sections"),
    )
    op.create_index("ix_knowledge_sections_category_id", "knowledge_sections", ["category_id"])
    op.create_table(
        "knowledge_articles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("section_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("body_text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("internal", sa.Boolean(), nullable=False),
        sa.Column("language", sa.String(12), nullable=False),
        sa.Column("translation_group", sa.Integer(), nullable=True),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("published_at", sa.DateTime(), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(), nullable=True),
        sa.Column("reviewed_by_id", sa.Integer(), nullable=True),
        sa.Column("views", sa.Integer(), nullable=False),
        _fk("knowledge_articles", "section_id", "knowledge_sections.id", "SET NULL"),
        _fk("knowledge_articles", "author_id", "users.id", "SET NULL"),
        _fk("knowledge_articles", "reviewed_by_id", "users.id", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name="pk_knowledge_articles"),
    )
    op.create_index("ix_knowledge_articles_section_id", "knowledge_articles", ["section_id"])
    op.create_index("ix_knowledge_articles_status", "knowledge_articles", ["status", "internal"])
    op.create_index("ix_knowledge_articles_translation_group", "knowledge_articles", ["translation_group"])
    op.create_table(
        "knowledge_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("note", sa.String(200), nullable=False),
        sa.Column("editor_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        _fk("knowledge_revisions", "article_id", "knowledge_articles.id", "CASCADE"),
        _fk("knowledge_revisions", "editor_id", "users.id", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name="pk_knowledge_revisions"),
        sa.UniqueConstraint("article_id", "number", name="uq_knowledge_revisions_number"),
    )
    op.create_table(
        "knowledge_votes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("helpful", sa.Boolean(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        _fk("knowledge_votes", "article_id", "knowledge_articles.id", "CASCADE"),
        _fk("knowledge_votes", "user_id", "users.id", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name="pk_knowledge_votes"),
    )
    op.create_index("ix_knowledge_votes_article_id", "knowledge_votes", ["article_id"])
    op.create_index("ix_knowledge_votes_created_at", "knowledge_votes", ["created_at"])
    op.create_table(
        "knowledge_deflections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("attempt", sa.String(64), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("query", sa.String(500), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        _fk("knowledge_deflections", "article_id", "knowledge_articles.id", "SET NULL"),
        _fk("knowledge_deflections", "user_id", "users.id", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name="pk_knowledge_deflections"),
        sa.UniqueConstraint("attempt", name="uq_knowledge_deflections_attempt"),
    )
    op.create_index("ix_knowledge_deflections_article_id", "knowledge_deflections", ["article_id"])
    op.create_index("ix_knowledge_deflections_created_at", "knowledge_deflections", ["created_at"])
    op.create_table(
        "knowledge_searches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("query", sa.String(200), nullable=False),
        sa.Column("results", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_knowledge_searches"),
    )
    op.create_index("ix_knowledge_searches_created_at", "knowledge_searches", ["created_at"])

    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"CREATE VIRTUAL TABLE search_index_knowledge USING fts5(title, body, {TOKENIZE})")
    else:
        op.execute("CREATE INDEX ix_knowledge_articles_fts ON knowledge_articles "
                   "USING gin (to_tsvector('simple', title || ' ' || body_text))")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS search_index_knowledge")
    else:
        op.execute("DROP INDEX IF EXISTS ix_knowledge_articles_fts")
    for table in ("knowledge_searches", "knowledge_deflections", "knowledge_votes", "knowledge_revisions",
                  "knowledge_articles", "knowledge_sections", "knowledge_categories"):
        op.drop_table(table)
