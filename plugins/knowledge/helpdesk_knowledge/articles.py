"""Articles: who sees which (the one scoping function), saving with revisions, the workflow.

``visible_articles(user)`` is the only place deciding what a reader may see: customers and
visitors get published public articles; agents (light agents too) also get internal ones;
only the staff pages (``staff_articles``) list drafts and articles in review, to agents.
"""
from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Select, func, select

from helpdesk.plugin_api import N_, ServiceError, User, db_session, gettext, html_to_text, utcnow
from helpdesk_knowledge import images, search
from helpdesk_knowledge.config import MAX_BODY, MAX_TITLE
from helpdesk_knowledge.models import STATUSES, KnowledgeArticle, KnowledgeRevision, KnowledgeSection

LANGUAGE_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-")


def _backoffice(user: Any) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.is_backoffice)


def visible_articles(user: Any) -> Select:
    """Published articles this reader may see (internal ones for agents only)."""
    stmt = select(KnowledgeArticle).where(KnowledgeArticle.status == "published")
    if not _backoffice(user):
        stmt = stmt.where(KnowledgeArticle.internal.is_(False))
    return stmt


def staff_articles(user: Any) -> Select:
    """Every article, whatever its status, for agents; nothing for anyone else."""
    stmt = select(KnowledgeArticle)
    return stmt if _backoffice(user) else stmt.where(KnowledgeArticle.id.is_(None))


def visible_article(user: Any, article_id: int | None) -> KnowledgeArticle | None:
    if article_id is None:
        return None
    return db_session().scalar(visible_articles(user).where(KnowledgeArticle.id == article_id))


def translations(article: KnowledgeArticle, user: Any) -> list[KnowledgeArticle]:
    """The other language versions of ``article`` this reader may see."""
    if article.translation_group is None:
        return []
    return list(db_session().scalars(visible_articles(user).where(
        KnowledgeArticle.translation_group == article.translation_group, KnowledgeArticle.id != article.id)
        .order_by(KnowledgeArticle.language)))


def _clean_language(raw: str) -> str:
    language = (raw or "").strip() or "en"
    if len(language) > 12 or not set(language) <= LANGUAGE_CHARS:
        raise ServiceError(gettext("Give the language as a short code such as en, de or pt-BR."), field="language")
    return language


def save_article(article: KnowledgeArticle | None, editor: User, *, title: str, body: str,
                 section_id: int | None, internal: bool, language: str = "en",
                 translation_of: int | None = None, note: str = "") -> KnowledgeArticle:
    """Create or change an article and write a revision; commits. Bad input raises ServiceError."""
    title = (title or "").strip()
    body = (body or "").replace("\r\n", "\n")
    if not title:
        raise ServiceError(gettext("Give the article a title."), field="title")
    if len(title) > MAX_TITLE:
        raise ServiceError(gettext("The title is too long (%(most)s characters at most).", most=MAX_TITLE),
                           field="title")
    if not body.strip():
        raise ServiceError(gettext("The article is empty: write its text."), field="body")
    if len(body) > MAX_BODY:
        raise ServiceError(gettext("The text is too long (%(most)s characters at most).", most=format(MAX_BODY, ",")),
                           field="body")
    language = _clean_language(language)
    if section_id is not None and db_session().get(KnowledgeSection, section_id) is None:
        raise ServiceError(gettext("That section no longer exists: choose another."), field="section_id")
    partner = None
    if translation_of is not None:
        partner = db_session().get(KnowledgeArticle, translation_of)
        if partner is None or (article is not None and partner.id == article.id):
            raise ServiceError(gettext("Choose another article to link this translation to."), field="translation_of")
    if article is None:
        article = KnowledgeArticle(author_id=editor.id, status="draft", views=0)
        db_session().add(article)
    article.title, article.body, article.section_id = title, body, section_id
    article.internal, article.language = bool(internal), language
    article.updated_at = utcnow()
    db_session().flush()
    article.body_html = images.render(article.id, body)
    article.body_text = html_to_text(article.body_html)
    if partner is not None:
        if partner.translation_group is None:
            partner.translation_group = partner.id
        article.translation_group = partner.translation_group
    _revision(article, editor, note or EDITED)
    search.index_article(article)
    db_session().commit()
    return article


def _revision(article: KnowledgeArticle, editor: User, note: str) -> None:
    number = (db_session().scalar(select(func.max(KnowledgeRevision.number))
                                  .where(KnowledgeRevision.article_id == article.id)) or 0) + 1
    db_session().add(KnowledgeRevision(article_id=article.id, number=number, title=article.title, body=article.body,
                                       status=article.status, note=note[:200], editor_id=editor.id))


EDITED, CREATED = N_("Edited"), N_("Created")
FROM_REPLY = N_("From a reply on %(reference)s")
ACTIONS = {
    "submit": ("review", N_("Sent for review")),
    "publish": ("published", N_("Published")),
    "unpublish": ("draft", N_("Back to draft")),
    "reviewed": (None, N_("Marked as reviewed")),
}
_OWN_NOTES = {EDITED, CREATED, *(said for _, said in ACTIONS.values())}
_FROM_REPLY = re.compile(re.escape(FROM_REPLY).replace(re.escape("%(reference)s"), r"(\S+)"))


def from_reply_note(reference: str) -> str:
    """The note an article written from a reply starts with, in English (it is stored)."""
    return FROM_REPLY % {"reference": reference}


def note_label(note: str) -> str:
    """A stored revision note in the reader's language: the notes this plugin writes are
    translated; an editor's own words are shown as they wrote them."""
    if note in _OWN_NOTES:
        return gettext(note)
    if (match := _FROM_REPLY.fullmatch(note)) is not None:
        return gettext(FROM_REPLY, reference=match.group(1))
    return note



def change_status(article: KnowledgeArticle, editor: User, action: str) -> str:
    """Move an article through draft → review → published; returns what happened. Commits."""
    if action not in ACTIONS:
        raise ServiceError(gettext("Unknown action."), field="action")
    status, said = ACTIONS[action]
    now = utcnow()
    if status is not None:
        if status == article.status:
            raise ServiceError(gettext("The article is already %(status)s.", status=status), field="action")
        assert status in STATUSES
        article.status = status
        if status == "published":
            article.published_at = now
            article.reviewed_at, article.reviewed_by_id = now, editor.id
    else:
        article.reviewed_at, article.reviewed_by_id = now, editor.id
    article.updated_at = now
    _revision(article, editor, said)
    db_session().commit()
    return said
