"""Images in articles: uploaded while editing, kept in the core's attachment storage
(``plugin_api.store_file``: its size limit, its backups), written into the Markdown as
``![what it shows](attachment:NAME)`` and served by ``/attachments/knowledge/<token>`` to
whoever may read the article (``views.article_image``).

Only PNG, JPEG, GIF and WebP, recognised by their first bytes (what the browser would sniff),
never by the name or the declared type: no SVG (it can carry script), no HTML posing as an image.
"""
from __future__ import annotations

import re

from sqlalchemy import select

from helpdesk.plugin_api import ServiceError, User, db_session, gettext, render_markdown, safe_filename, store_file
from helpdesk_knowledge.models import KnowledgeArticle, KnowledgeImage

PENDING = re.compile(r'src="/attachments/pending/(\d+)"')
MAX_IMAGES = 50  # per article


def image_type(content: bytes) -> str | None:
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if content.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if content[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp"
    return None


def images_of(article_id: int) -> list[KnowledgeImage]:
    return list(db_session().scalars(select(KnowledgeImage).where(KnowledgeImage.article_id == article_id)
                                     .order_by(KnowledgeImage.id)))


def render(article_id: int | None, body: str) -> str:
    """The article's Markdown as safe HTML, ``attachment:NAME`` images pointing at its uploads
    (the latest upload of a name wins; an unknown name shows no image)."""
    images = images_of(article_id) if article_id is not None else []
    by_name = {image.filename: image.token for image in images}
    names = list(by_name)
    html = render_markdown(body, names)
    return PENDING.sub(lambda m: f'src="/attachments/knowledge/{by_name[names[int(m.group(1))]]}"', html)


def add_image(article: KnowledgeArticle, editor: User, filename: str, content: bytes) -> KnowledgeImage:
    """Store an uploaded image for ``article`` and re-render the article; commits."""
    name = safe_filename(filename or "image")[:120] or "image"
    if not content:
        raise ServiceError(gettext("Choose an image file."), field="file")
    kind = image_type(content)
    if kind is None:
        raise ServiceError(gettext("%(name)s is not a PNG, JPEG, GIF or WebP image.", name=name), field="file")
    if len(images_of(article.id)) >= MAX_IMAGES:
        raise ServiceError(gettext("An article holds at most %(most)s images.", most=MAX_IMAGES), field="file")
    name = re.sub(r"[\s()\[\]<>]+", "-", name)  # so ![..](attachment:name) needs no escaping
    token = store_file(content, name)
    image = KnowledgeImage(token=token, article_id=article.id, filename=name, content_type=kind, size=len(content),
                           uploaded_by_id=editor.id)
    db_session().add(image)
    db_session().flush()
    article.body_html = render(article.id, article.body)
    db_session().commit()
    return image
