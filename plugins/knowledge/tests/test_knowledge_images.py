"""Images in articles: uploaded while editing (the core's storage and size limit), written
into the Markdown as ``attachment:NAME``, served to whoever may read the article; anything
that is not a PNG/JPEG/GIF/WebP (an SVG with script, HTML named .png) is refused, and image
Markdown pointing elsewhere renders inert."""
from __future__ import annotations

import io
from html.parser import HTMLParser

import pytest
from helpdesk_knowledge.access_rules import PNG

pytestmark = pytest.mark.plugins("knowledge")


class _Images(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[dict] = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.found.append(dict(attrs))


def _images(page: str) -> list[dict]:
    parser = _Images()
    parser.feed(page)
    return parser.found


def _upload(client, article_id: int, name: str, content: bytes, json: bool = True):
    return client.post(f"/knowledge/articles/{article_id}/images", data={"file": (io.BytesIO(content), name)},
                       content_type="multipart/form-data",
                       headers={"Accept": "application/json"} if json else {})


def _edit(client, article, body: str):
    return client.post(f"/knowledge/articles/{article.id}/edit", data={
        "title": article.title, "body": body, "section_id": "", "language": article.language,
        "translation_of": "", "note": "image"})


def test_an_editor_uploads_an_image_and_readers_see_it(app, client, login, agent, customer, kb):
    login(client, agent)
    article = kb["public"]
    assert "Upload an image" in client.get(f"/knowledge/articles/{article.id}/edit").text
    uploaded = _upload(client, article.id, "sign in (page).png", PNG)
    assert uploaded.status_code == 200, uploaded.text
    assert uploaded.json["markdown"] == "![sign-in-page-](attachment:sign-in-page-.png)"
    saved = _edit(client, article, "Open **Sign in**.\n\n" + uploaded.json["markdown"])
    assert saved.status_code == 302
    [img] = _images(client.get(f"/help/articles/{article.id}").text)
    assert img["src"] == uploaded.json["url"] and img["src"].startswith("/attachments/knowledge/")
    assert img["alt"] == "sign-in-page-"

    for who in (None, customer):  # a visitor and a customer read the published public article's image
        reader = app.test_client()
        if who is not None:
            login(reader, who)
        image = reader.get(img["src"])
        assert image.status_code == 200 and image.data == PNG
        assert image.headers["Content-Type"] == "image/png"
        assert image.headers["X-Content-Type-Options"] == "nosniff"
    # Without scripts: the form posts, the page says what to write.
    page = client.get(f"/knowledge/articles/{article.id}/edit?x=1")
    assert "attachment:sign-in-page-.png" in page.text
    classic = _upload(client, article.id, "second.png", PNG, json=False)
    assert classic.status_code == 302
    assert "![second](attachment:second.png)" in client.get(classic.headers["Location"]).text


def test_an_internal_articles_image_never_reaches_customers(app, client, login, agent, customer, kb):
    login(client, agent)
    url = _upload(client, kb["internal"].id, "admin.png", PNG).json["url"]
    assert client.get(url).status_code == 200
    assert app.test_client().get(url).status_code == 404
    reader = app.test_client()
    login(reader, customer)
    assert reader.get(url).status_code == 404


@pytest.mark.parametrize(("name", "content", "said"), [
    ("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
     "logo.svg is not a PNG, JPEG, GIF or WebP image."),
    ("page.png", b"<html><script>alert(1)</script></html>", "page.png is not a PNG, JPEG, GIF or WebP image."),
    ("empty.png", b"", "Choose an image file."),
])
def test_what_is_not_an_image_is_refused(client, login, agent, kb, name, content, said):
    login(client, agent)
    refused = _upload(client, kb["public"].id, name, content)
    assert refused.status_code == 400 and refused.json["error"] == said
    page = client.get(client.post(f"/knowledge/articles/{kb['public'].id}/images", data={
        "file": (io.BytesIO(content), name)}, content_type="multipart/form-data").headers["Location"]).text
    assert said in page  # without scripts: the edit page says it


def test_too_large_an_image_is_refused_by_the_core_limit(app, client, login, agent, kb):
    app.config["MAX_ATTACHMENT_BYTES"] = 100
    login(client, agent)
    refused = _upload(client, kb["public"].id, "big.png", PNG + b"\0" * 200)
    assert refused.status_code == 400 and refused.json["error"].startswith("big.png is too large")


def test_image_markdown_pointing_elsewhere_renders_inert(client, login, agent, kb):
    login(client, agent)
    article = kb["public"]
    _upload(client, article.id, "ok.png", PNG)
    _edit(client, article, '![a](attachment:missing.png)\n\n![b](javascript:alert(1))\n\n'
                           '![c](https://evil.test/track.png)\n\n![d](attachment:ok.png "t\\" onerror=\\"alert(1)")\n\n'
                           '<img src="/attachments/knowledge/x" onerror="alert(2)">')
    images = _images(client.get(f"/help/articles/{article.id}").text)
    for img in images:
        assert not any(name.startswith("on") for name in img), img
        assert (img.get("src") or "") == "" or img["src"].startswith("/attachments/knowledge/"), img
    assert [i["alt"] for i in images if i.get("src")] == ["d"]


def test_only_editors_upload(client, login, light_agent, customer, kb):
    login(client, light_agent)
    assert _upload(client, kb["public"].id, "x.png", PNG).status_code == 403
    login(client, customer)
    assert _upload(client, kb["public"].id, "x.png", PNG).status_code in (403, 404)


def test_an_editor_deletes_an_image_the_text_no_longer_shows(app, db, client, login, agent, kb):
    """Each image on the edit page has a Delete button (a CSRF-protected POST, asked for
    confirmation); an image the saved text still shows is refused with what to do, since its
    readers would find it gone; once out of the text it goes: its URL answers 404 and its
    file is removed from the storage."""
    from helpdesk_knowledge.models import KnowledgeImage
    from pagetext import alerts, attributes, texts
    from sqlalchemy import select

    from helpdesk.plugin_api import stored_file

    login(client, agent)
    article = kb["public"]
    shown = _upload(client, article.id, "shown.png", PNG).json
    spare = _upload(client, article.id, "spare.png", PNG).json
    assert _edit(client, article, "Look:\n\n" + shown["markdown"]).status_code == 302
    rows = db.session.scalars(select(KnowledgeImage)).all()
    tokens, ids = {row.filename: row.token for row in rows}, {row.filename: row.id for row in rows}

    page = client.get(f"/knowledge/articles/{article.id}/edit").text
    assert texts(page, cls="knowledge-image") == ["![shown](attachment:shown.png) Delete",
                                                  "![spare](attachment:spare.png) Delete"]
    buttons = attributes(page, tag="button", cls="knowledge-image-delete")
    assert [b["data-confirm"] for b in buttons] == [
        f"Delete the image {name}? This cannot be undone. The page reloads: save your changes to the text first."
        for name in ("shown.png", "spare.png")]
    forms = [f for f in attributes(page, tag="form") if "/delete" in (f.get("action") or "")]
    assert [f["action"] for f in forms] == [f"/knowledge/articles/{article.id}/images/{ids[n]}/delete"
                                            for n in ("shown.png", "spare.png")]
    delete = forms[1]["action"]

    # Without the form's token nothing is deleted.
    assert client.post(delete, data={}, csrf=False).status_code == 400
    assert client.get(spare["url"]).status_code == 200

    done = client.post(delete, data={}, follow_redirects=True)
    assert done.request.path == f"/knowledge/articles/{article.id}/edit"
    assert "Image spare.png deleted." in alerts(done.text)
    assert texts(done.text, cls="knowledge-image") == ["![shown](attachment:shown.png) Delete"]
    assert client.get(spare["url"]).status_code == 404
    assert app.test_client().get(spare["url"]).status_code == 404
    assert not stored_file(tokens["spare.png"]).exists()
    assert client.post(delete, data={}).status_code == 404  # gone: nothing to delete twice

    # The published article still shows this one: refused, and it stays.
    refused = client.post(forms[0]["action"], data={}, follow_redirects=True)
    assert ("shown.png is still shown in the article's text: take ![shown](attachment:shown.png) out of the "
            "text and save, then delete the image.") in alerts(refused.text)
    assert [img["src"] for img in _images(app.test_client().get(f"/help/articles/{article.id}").text)] == [
        shown["url"]]
    assert app.test_client().get(shown["url"]).status_code == 200

    # Out of the text, it may go.
    assert _edit(client, article, "Look: no picture now.").status_code == 302
    gone = client.post(forms[0]["action"], data={}, follow_redirects=True)
    assert "Image shown.png deleted." in alerts(gone.text)
    assert app.test_client().get(shown["url"]).status_code == 404
    assert not stored_file(tokens["shown.png"]).exists()
    assert "knowledge-image-list" not in gone.text


def test_only_editors_delete_images_and_only_their_articles(db, client, login, agent, light_agent, customer, kb):
    from helpdesk_knowledge.models import KnowledgeImage
    from sqlalchemy import select

    login(client, agent)
    image = _upload(client, kb["public"].id, "x.png", PNG).json
    image_id = db.session.scalar(select(KnowledgeImage.id).where(KnowledgeImage.filename == "x.png"))
    # Another article's URL with this image's id finds nothing.
    assert client.post(f"/knowledge/articles/{kb['internal'].id}/images/{image_id}/delete",
                       data={}).status_code == 404
    url = f"/knowledge/articles/{kb['public'].id}/images/{image_id}/delete"
    login(client, light_agent)
    assert client.post(url, data={}).status_code == 403
    login(client, customer)
    assert client.post(url, data={}).status_code in (403, 404)
    login(client, agent)
    assert client.get(image["url"]).status_code == 200
