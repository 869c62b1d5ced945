"""Writing articles: the editor right, Markdown made safe, revisions, the workflow, last
reviewed, translations, categories and sections; bad input keeps what was typed."""
from __future__ import annotations

from html.parser import HTMLParser

import pytest
from knowledge_testkit import set_settings
from pagetext import alerts, body, text, texts

pytestmark = pytest.mark.plugins("knowledge")


def _new(client, **fields):
    data = {"title": "Change your email address", "body": "Go to **Profile**.", "section_id": "",
            "language": "en", "translation_of": "", "note": ""}
    data.update(fields)
    return client.post("/knowledge/articles/new", data=data)


def test_editor_writes_reviews_and_publishes_an_article(client, login, agent, kb, db):
    login(client, agent)
    created = _new(client, section_id=str(kb["signing"].id), note="First version")
    assert created.status_code == 302
    page = client.get(created.headers["Location"]).get_data(as_text=True)
    assert text(page, id="knowledge-status") == "Draft"
    assert "Profile" in text(page, id="knowledge-article")
    article_id = int(created.headers["Location"].rstrip("/").split("/")[-1])
    assert client.get(f"/help/articles/{article_id}").status_code == 404  # not published yet

    client.post(f"/knowledge/articles/{article_id}/status", data={"action": "submit"})
    page = client.get(f"/knowledge/articles/{article_id}").get_data(as_text=True)
    assert text(page, id="knowledge-status") == "In review"
    client.post(f"/knowledge/articles/{article_id}/edit", data={
        "title": "Change your email address", "body": "Go to **Profile** and choose *Email*.",
        "section_id": str(kb["signing"].id), "language": "en", "note": "Mention the Email field"})
    done = client.post(f"/knowledge/articles/{article_id}/status", data={"action": "publish"}, follow_redirects=True)
    page = done.get_data(as_text=True)
    assert "Published." in alerts(page)
    assert "last reviewed never" not in body(page)

    public = client.get(f"/help/articles/{article_id}").get_data(as_text=True)
    assert "choose Email" in body(public) and "last reviewed" in body(public)

    history = client.get(f"/knowledge/articles/{article_id}/revisions").get_data(as_text=True)
    rows = texts(history, id="knowledge-revisions")[0]
    assert "First version" in rows and "Sent for review" in rows and "Mention the Email field" in rows
    first = client.get(f"/knowledge/articles/{article_id}/revisions?n=1").get_data(as_text=True)
    assert "Go to **Profile**." in body(first)  # the text as it was, in Markdown


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def _tags(page: str) -> list[tuple[str, dict]]:
    parser = _Tags()
    parser.feed(page)
    return parser.tags


def test_markdown_xss_attempts_render_inert(client, login, agent, kb):
    login(client, agent)
    evil = ('<script>alert(1)</script>\n\n[click](javascript:alert(2))\n\n<img src=x onerror=alert(3)>\n\n'
            '![x](https://evil.test/p.png)\n\n<a href="#" onclick="alert(4)">a</a>')
    created = _new(client, title='<b>Bold</b> "title"', body=evil)
    article_id = int(created.headers["Location"].split("/")[-1])
    client.post(f"/knowledge/articles/{article_id}/status", data={"action": "publish"})
    for url in (f"/help/articles/{article_id}", f"/knowledge/articles/{article_id}", "/knowledge",
                "/help/search?q=click", f"/knowledge/articles/{article_id}/edit"):
        page = client.get(url).get_data(as_text=True)
        for tag, attrs in _tags(page):
            assert not any(name.startswith("on") for name in attrs), (url, tag, attrs)
            assert not (attrs.get("href") or "").startswith("javascript"), (url, tag, attrs)
            assert "evil.test" not in (attrs.get("src") or ""), (url, tag, attrs)
            assert tag != "script" or attrs.get("src"), url  # only our own script files
            assert tag != "b", url
    page = client.get(f"/help/articles/{article_id}").get_data(as_text=True)
    assert "<script>alert(1)</script>" in body(page)  # shown as text
    assert '<b>Bold</b> "title"' in text(page, tag="h1")


def test_bad_input_is_refused_and_what_was_typed_is_kept(client, login, agent, kb):
    login(client, agent)
    response = _new(client, title="", body="My careful text")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert text(page, id="knowledge-error") == "Give the article a title."
    assert "My careful text" in page
    response = _new(client, language="<script>", body="x")
    assert text(response.get_data(as_text=True), id="knowledge-error").startswith("Give the language")
    response = _new(client, translation_of="999999")
    assert "another article" in text(response.get_data(as_text=True), id="knowledge-error")


def test_translations_are_linked_both_ways(client, login, agent, kb):
    page = client.get(f"/help/articles/{kb['public'].id}").get_data(as_text=True)
    assert text(page, id="help-translations") == "Also in: de: Passwort zurücksetzen"
    page = client.get(f"/help/articles/{kb['german'].id}").get_data(as_text=True)
    assert text(page, id="help-translations") == "Also in: en: Reset your password"
    login(client, agent)
    form = client.get(f"/knowledge/articles/new?translation_of={kb['public'].id}").get_data(as_text=True)
    assert f'value="{kb["public"].id}"' in form  # the link is prefilled


def test_only_editor_roles_write(app, client, login, agent, admin, light_agent, kb):
    set_settings(app, editor_roles="admin")
    login(client, agent)
    assert _new(client).status_code == 403
    assert client.post(f"/knowledge/articles/{kb['draft'].id}/status", data={"action": "publish"}).status_code == 403
    assert client.get("/knowledge").status_code == 200  # still reads
    assert "New article" not in body(client.get("/knowledge").get_data(as_text=True))
    login(client, light_agent)
    assert _new(client).status_code == 403
    login(client, admin)
    assert _new(client).status_code == 302


def test_categories_and_sections(client, login, agent, kb):
    login(client, agent)
    client.post("/knowledge/categories", data={"kind": "category", "name": "Shipping", "description": "Parcels"})
    page = client.get("/knowledge/categories").get_data(as_text=True)
    assert "Shipping" in body(page)
    response = client.post("/knowledge/categories", data={"kind": "category", "name": ""}, follow_redirects=True)
    assert "Give a name" in alerts(response.get_data(as_text=True))[0]
    from helpdesk_knowledge.models import KnowledgeCategory
    from sqlalchemy import select

    from helpdesk.plugin_api import db_session

    shipping = db_session().scalar(select(KnowledgeCategory).where(KnowledgeCategory.name == "Shipping"))
    client.post("/knowledge/categories", data={"kind": "section", "name": "Delivery", "category_id": shipping.id})
    assert "Delivery" in body(client.get("/knowledge/categories").get_data(as_text=True))
    home = client.get("/help").get_data(as_text=True)
    assert "Shipping" not in body(home)  # no published article in it yet
    assert "Account" in text(home, id="help-categories")


def test_create_an_article_from_a_reply(client, login, agent, customer, kb):
    from helpdesk.plugin_api import services

    ticket = services.create_ticket(customer, "How do I export invoices?", "Where is the export?")
    reply = services.add_message(ticket, agent, "Open **Billing** and choose *Export*.")
    login(client, agent)
    page = client.get(f"/tickets/{ticket.reference}").get_data(as_text=True)
    links = texts(page, cls="knowledge-from-reply")
    assert links == ["Create an article from this reply"]  # on the agent's reply, not the customer's message
    form = client.get(f"/knowledge/articles/new?message={reply.id}").get_data(as_text=True)
    assert "How do I export invoices?" in form and "Open **Billing** and choose *Export*." in form


def test_revision_notes_are_stored_in_english_and_translated_when_shown(client, login, agent, customer, kb, db):
    """A German-speaking editor's workflow writes the same English notes (the history is read
    by colleagues in other languages); the history page translates them for its reader."""
    from helpdesk_knowledge.models import KnowledgeRevision
    from sqlalchemy import select

    from helpdesk.plugin_api import services

    ticket = services.create_ticket(customer, "How do I export invoices?", "Where is the export?")
    reply = services.add_message(ticket, agent, "Open **Billing** and choose *Export*.")
    agent.language = "de"  # the agent's own setting (the profile page)
    db.session.commit()
    login(client, agent)
    form = client.get(f"/knowledge/articles/new?message={reply.id}").get_data(as_text=True)
    assert f"From a reply on {ticket.reference}" in form  # prefilled as it will be stored
    created = _new(client, note=f"From a reply on {ticket.reference}")
    article_id = int(created.headers["Location"].rstrip("/").split("/")[-1])
    client.post(f"/knowledge/articles/{article_id}/status", data={"action": "submit"})
    client.post(f"/knowledge/articles/{article_id}/status", data={"action": "publish"})
    notes = db.session.scalars(select(KnowledgeRevision.note).where(KnowledgeRevision.article_id == article_id)
                               .order_by(KnowledgeRevision.number)).all()
    assert notes == [f"From a reply on {ticket.reference}", "Sent for review", "Published"]

    agent.language = "en"
    db.session.commit()
    history = client.get(f"/knowledge/articles/{article_id}/revisions").get_data(as_text=True)
    rows = texts(history, id="knowledge-revisions")[0]
    assert f"From a reply on {ticket.reference}" in rows and "Sent for review" in rows and "Published" in rows
