"""The answer bot's side in this plugin: articles for a customer's words, with a confidence.

Other plugins reach it only through the hooks ``helpdesk_suggest_answers`` and
``helpdesk_answer_accepted`` (``plugin_api.suggest_answers`` / ``answer_accepted``): the chat
widget offers the articles before a person answers, the email plugin lists them in the
acknowledgement of a new ticket. Retrieval only (the help centre's search); no text is made up.

**Confidence** is measured, not guessed from a rank: the share of the customer's distinctive
words (stop words dropped, crudely stemmed as the search does) that the article contains,
title words counting double. An answer is *confident* when at least two distinctive words
were asked and the best article covers ``CONFIDENT`` of them; bots offer only confident
answers (see the plugin's README for what that gives on the relevance set).
"""
from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from helpdesk.plugin_api import db_session, external_url
from helpdesk_knowledge import search
from helpdesk_knowledge.articles import visible_articles
from helpdesk_knowledge.config import is_public
from helpdesk_knowledge.models import KnowledgeArticle, KnowledgeDeflection

CONFIDENT = 0.6
_PLACEHOLDER = 987654321
ATTEMPT = re.compile(r"^[A-Za-z0-9_:.-]{8,64}$")
_WORD = re.compile(r"\w+", re.UNICODE)


def _coverage(terms: list[str], article: KnowledgeArticle) -> float:
    """Share of ``terms`` found in the article, a title hit weighing twice a text hit."""
    if not terms:
        return 0.0
    title = {w.lower() for w in _WORD.findall(article.title or "")}
    body = {w.lower() for w in _WORD.findall(article.body_text or "")}
    score = 0.0
    for term in terms:
        root, prefix = search._stem(term)

        def hit(vocabulary: set[str], root: str = root, prefix: bool = prefix) -> bool:
            return any(w.startswith(root) for w in vocabulary) if prefix else root in vocabulary

        score += 1.0 if hit(title) else 0.5 if hit(body) else 0.0
    return score / len(terms)


def _same_language(a: str, b: str) -> bool:
    return (a or "en").lower().split("-")[0] == (b or "en").lower().split("-")[0]


def _in_language(article: KnowledgeArticle, language: str) -> KnowledgeArticle:
    """The reader's language version of ``article`` when a published public one exists."""
    if _same_language(article.language, language) or article.translation_group is None:
        return article
    for other in db_session().scalars(visible_articles(None).where(
            KnowledgeArticle.translation_group == article.translation_group).order_by(KnowledgeArticle.id)):
        if (other.language or "").lower() == (language or "").lower():
            return other
    for other in db_session().scalars(visible_articles(None).where(
            KnowledgeArticle.translation_group == article.translation_group).order_by(KnowledgeArticle.id)):
        if _same_language(other.language, language):
            return other
    return article


def excerpt(text: str, length: int = 160) -> str:
    flat = " ".join((text or "").split())
    return flat if len(flat) <= length else flat[:length].rsplit(" ", 1)[0] + "…"


def suggest_answers(text: str, language: str, limit: int) -> list[dict[str, Any]]:
    """Public, published articles for ``text`` (a customer's words), best first; none while
    the help centre is private (the callers' readers are not signed in to it).

    Each answer: ``id``, ``title``, ``url`` (absolute, in ``language`` when a translation
    exists), ``excerpt``, ``language``, ``confidence`` (0–1) and ``confident``.
    """
    limit = max(1, min(10, int(limit or 3)))
    terms = search.words(text or "", "any")
    if not terms or not is_public():  # a private help centre's articles are for signed-in readers
        return []
    found = search.search(visible_articles(None), text[:2000], mode="any", limit=limit)
    if not found:
        return []
    # One absolute URL built (external_url makes a request context each time), the others from it.
    template = external_url("knowledge.article", article_id=_PLACEHOLDER)
    answers, seen = [], set()
    for article in found:
        confidence = round(_coverage(terms, article), 3)
        shown = _in_language(article, language)
        if shown.id in seen:
            continue
        seen.add(shown.id)
        answers.append({"id": shown.id, "title": shown.title, "language": shown.language,
                        "url": template.replace(f"/{_PLACEHOLDER}", f"/{shown.id}"),
                        "excerpt": excerpt(shown.body_text), "confidence": confidence,
                        "confident": len(terms) >= 2 and confidence >= CONFIDENT})
    return answers


def answer_accepted(article_id: int, attempt: str, channel: str, text: str = "") -> bool | None:
    """Count a deflection: the customer said ``article_id`` solved it. Once per ``attempt``
    (prefixed with the channel); returns True when counted, False when already counted, None
    for an article the public may not read or a malformed attempt."""
    if not isinstance(article_id, int) or not ATTEMPT.match(attempt or "") or not re.match(r"^\w{1,20}$", channel):
        return None
    if not is_public():
        return None
    article = db_session().scalar(visible_articles(None).where(KnowledgeArticle.id == article_id))
    if article is None:
        return None
    key = f"{channel}:{attempt}"[:64]
    if db_session().scalar(select(KnowledgeDeflection.id).where(KnowledgeDeflection.attempt == key)) is not None:
        return False
    db_session().add(KnowledgeDeflection(attempt=key, article_id=article.id, user_id=None, query=(text or "")[:500]))
    try:
        db_session().commit()
    except IntegrityError:  # the same attempt at the same moment (two clicks): counted once
        db_session().rollback()
        return False
    return True
