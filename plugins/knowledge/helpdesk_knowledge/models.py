"""The knowledge plugin's tables, all prefixed ``knowledge_``.

An article is Markdown (``body``) kept beside its sanitised HTML and plain text (what
search indexes). Its ``status`` moves draft → review → published (and back to draft);
every save writes a revision. ``internal`` articles are for agents only. Translations of
one article share a ``translation_group`` (the id of the first article of the group).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.plugin_api import Model, User, lazy_gettext, utcnow

STATUSES = ("draft", "review", "published")
STATUS_LABELS = {"draft": lazy_gettext("Draft"), "review": lazy_gettext("In review"),
                 "published": lazy_gettext("Published")}  # shown; the keys are stored


class KnowledgeCategory(Model):
    __tablename__ = "knowledge_categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    sections: Mapped[list[KnowledgeSection]] = relationship(
        back_populates="category", order_by="(KnowledgeSection.position, KnowledgeSection.id)",
        cascade="all, delete-orphan")


class KnowledgeSection(Model):
    __tablename__ = "knowledge_sections"

    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("knowledge_categories.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    position: Mapped[int] = mapped_column(default=0)

    category: Mapped[KnowledgeCategory] = relationship(back_populates="sections")


class KnowledgeArticle(Model):
    __tablename__ = "knowledge_articles"
    __table_args__ = (Index("ix_knowledge_articles_status", "status", "internal"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    section_id: Mapped[int | None] = mapped_column(ForeignKey("knowledge_sections.id", ondelete="SET NULL"),
                                                   index=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")  # Markdown source
    body_html: Mapped[str] = mapped_column(Text, default="")  # sanitised (richtext)
    body_text: Mapped[str] = mapped_column(Text, default="")  # plain text, what search indexes
    status: Mapped[str] = mapped_column(String(20), default="draft")
    internal: Mapped[bool] = mapped_column(Boolean, default=False)
    language: Mapped[str] = mapped_column(String(12), default="en")
    translation_group: Mapped[int | None] = mapped_column(index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column()
    reviewed_at: Mapped[datetime | None] = mapped_column()
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    views: Mapped[int] = mapped_column(default=0)

    section: Mapped[KnowledgeSection | None] = relationship()
    author: Mapped[User | None] = relationship(foreign_keys=[author_id])
    reviewed_by: Mapped[User | None] = relationship(foreign_keys=[reviewed_by_id])

    @property
    def is_public(self) -> bool:
        return self.status == "published" and not self.internal


class KnowledgeRevision(Model):
    __tablename__ = "knowledge_revisions"
    __table_args__ = (UniqueConstraint("article_id", "number", name="uq_knowledge_revisions_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("knowledge_articles.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column()
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(String(200), default="")
    editor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    editor: Mapped[User | None] = relationship()


class KnowledgeVote(Model):
    """One "was this helpful?" answer (a visitor may vote without signing in)."""

    __tablename__ = "knowledge_votes"

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("knowledge_articles.id", ondelete="CASCADE"), index=True)
    helpful: Mapped[bool] = mapped_column(Boolean)
    comment: Mapped[str] = mapped_column(Text, default="")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class KnowledgeDeflection(Model):
    """A customer about to open a ticket said an article solved it. One per attempt."""

    __tablename__ = "knowledge_deflections"

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt: Mapped[str] = mapped_column(String(64), unique=True)
    article_id: Mapped[int | None] = mapped_column(ForeignKey("knowledge_articles.id", ondelete="SET NULL"),
                                                   index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    query: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class KnowledgeSearch(Model):
    """One help-centre search, kept to show what customers look for and do not find."""

    __tablename__ = "knowledge_searches"

    id: Mapped[int] = mapped_column(primary_key=True)
    query: Mapped[str] = mapped_column(String(200))
    results: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class KnowledgeImage(Model):
    """An image uploaded into an article: the bytes in the core's attachment storage under
    ``token``; readable by whoever may read the article (``views.article_image``)."""

    __tablename__ = "knowledge_images"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("knowledge_articles.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column()
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
