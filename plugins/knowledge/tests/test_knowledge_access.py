"""Who sees what: drafts, articles in review and internal articles never reach customers or
visitors (pages, search, suggestions, category lists); the private help centre needs sign-in."""
from __future__ import annotations

import pytest
from knowledge_testkit import set_settings
from pagetext import body, texts

pytestmark = pytest.mark.plugins("knowledge")

HIDDEN = ("internal", "draft", "review")


@pytest.fixture
def outsiders(login, app, customer):
    """An anonymous client and a signed-in customer's client."""
    from helpdesk.testing import CSRFClient

    app.test_client_class = CSRFClient
    anonymous = app.test_client()
    signed_in = login(app.test_client(), customer)
    return {"anonymous": anonymous, "customer": signed_in}


@pytest.mark.parametrize("who", ["anonymous", "customer"])
def test_hidden_articles_never_reach_customers_or_visitors(outsiders, kb, who):
    client = outsiders[who]
    for name in HIDDEN:
        assert client.get(f"/help/articles/{kb[name].id}").status_code == 404, name
    home = client.get("/help").get_data(as_text=True)
    category = client.get(f"/help/categories/{kb['account'].id}").get_data(as_text=True)
    search = client.get("/help/search?q=password").get_data(as_text=True)
    suggest = client.get("/help/suggest?q=password locked account unlock policy invoice").get_json()
    titles = [a["title"] for a in suggest["articles"]]
    for name in HIDDEN:
        title = kb[name].title
        assert title not in body(home) and title not in body(category) and title not in body(search)
        assert title not in titles
    assert texts(search, cls="help-result")[0].startswith("Reset your password")
    assert "Reset your password" in body(category)


def test_hidden_articles_cannot_be_voted_on_or_used_for_a_deflection(outsiders, kb, db):
    from helpdesk_knowledge.models import KnowledgeDeflection, KnowledgeVote

    client = outsiders["customer"]
    for name in HIDDEN:
        assert client.post(f"/help/articles/{kb[name].id}/feedback", data={"helpful": "yes"}).status_code == 404
        response = client.post("/help/deflect", data={"attempt": "a" * 24, "article_id": kb[name].id},
                               headers={"Accept": "application/json"})
        assert response.status_code == 400
    assert db.session.query(KnowledgeVote).count() == 0
    assert db.session.query(KnowledgeDeflection).count() == 0


def test_agents_read_internal_articles_but_not_drafts_in_the_help_centre(client, login, agent, kb):
    login(client, agent)
    assert client.get(f"/help/articles/{kb['internal'].id}").status_code == 200
    assert client.get(f"/help/articles/{kb['draft'].id}").status_code == 404
    page = client.get(f"/knowledge/articles/{kb['draft'].id}")  # the staff page shows every status
    assert page.status_code == 200 and "Draft" in body(page.get_data(as_text=True))


def test_private_help_centre_asks_visitors_to_sign_in(app, outsiders, kb):
    set_settings(app, public=False)
    for url in ("/help", f"/help/articles/{kb['public'].id}", "/help/search?q=password", "/help/suggest?q=password",
                f"/help/categories/{kb['account'].id}"):
        response = outsiders["anonymous"].get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"], url
        assert outsiders["customer"].get(url).status_code == 200, url


def test_public_help_centre_needs_no_sign_in(outsiders, kb):
    page = outsiders["anonymous"].get(f"/help/articles/{kb['public'].id}")
    assert page.status_code == 200
    assert "Forgot password" in body(page.get_data(as_text=True))
