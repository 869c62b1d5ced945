"""Images in articles: uploaded while editing, kept in the core's attachment storage
(``plugin_api.store_file``: its size limit, its backups), written into the Markdown as
``![what it shows](attachment:NAME)`` and served by ``/attachments/knowledge/<token>`` to
whoever may read the article (``views.article_image``). An editor deletes an image the
article's text no longer shows (``delete_image``); one it still shows is refused, so
deleting never breaks a published article behind its readers' backs.

Only PNG, JPEG, GIF and WebP, recognised by their first bytes (what the browser would sniff),
never by the name or the declared type: no SVG (it can carry script), no HTML posing as an image.
"""
from __future__ import annotations

import re

from sqlalchemy import select

from helpdesk.plugin_api import (
    ServiceError,
    User,
    db_session,
    delete_stored_file,
    gettext,
    render_markdown,
    safe_filename,
    store_file,
)
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


def markdown_of(image: KnowledgeImage) -> str:
    """What to write in the article's text to show ``image``."""
    return f"![{image.filename.rsplit('.', 1)[0]}](attachment:{image.filename})"


def delete_image(article: KnowledgeArticle, image: KnowledgeImage) -> None:
    """Delete ``image`` of ``article`` and its stored file; commits.

    Refused while the article's saved text shows it (its name is in the text and it is the
    latest upload of that name): readers would find the picture gone, so the editor takes it
    out of the text first. An older upload of a name that a newer one replaced is not shown
    and may go.
    """
    if image.article_id != article.id:
        raise ServiceError(gettext("That image belongs to another article."))
    if f'src="/attachments/knowledge/{image.token}"' in render(article.id, article.body):
        raise ServiceError(gettext(
            "%(name)s is still shown in the article's text: take %(markdown)s out of the text and save, "
            "then delete the image.", name=image.filename, markdown=markdown_of(image)))
    token = image.token
    db_session().delete(image)
    db_session().flush()
    article.body_html = render(article.id, article.body)
    db_session().commit()
    delete_stored_file(token)  # after the commit: a crash leaves a stray file, never a row without one
