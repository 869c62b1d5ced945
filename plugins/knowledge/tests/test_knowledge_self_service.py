"""Finding and deflecting: search (the core's full-text way, SQLite FTS5 or PostgreSQL),
"was this helpful?" flowing as feedback, suggestions while a ticket is written, a
deflection counted once, the deflection rate in the reports; the agent's lazy panel."""
from __future__ import annotations

import pytest
from pagetext import alerts, attributes, body, text, texts
from sqlalchemy import select

pytestmark = pytest.mark.plugins("knowledge")


def test_search_finds_by_title_and_text_and_prefix(client, kb):
    page = client.get("/help/search?q=forgot passw").get_data(as_text=True)
    assert texts(page, cls="help-result")[0].startswith("Reset your password")
    page = client.get("/help/search?q=invoice").get_data(as_text=True)  # only the article in review says it
    assert text(page, id="help-no-results").startswith("No articles match “invoice”.")
    page = client.get('/help/search?q=password " OR * NEAR(').get_data(as_text=True)  # FTS syntax is inert
    assert texts(page, cls="help-result")[0].startswith("Reset your password")
    page = client.get("/help/search?q=password email lighthouse").get_data(as_text=True)
    assert "related" in text(page, id="help-result-note")  # no article has every word: related ones


def test_searches_with_no_result_are_reported(client, login, agent, kb):
    client.get("/help/search?q=lighthouse")
    client.get("/help/search?q=Lighthouse")
    login(client, agent)
    page = client.get("/knowledge").get_data(as_text=True)
    assert text(page, id="knowledge-no-result") == "lighthouse (2)"


def test_helpful_vote_with_comment_flows_as_feedback(app, plugins, client, login, customer, kb, db):
    from helpdesk_knowledge.models import KnowledgeVote
    from helpdesk_surveys.models import SurveyResponse

    plugins.enable("surveys")
    login(client, customer)
    url = f"/help/articles/{kb['public'].id}"
    response = client.post(f"{url}/feedback", data={"helpful": "no", "comment": "The link had expired."},
                           follow_redirects=True)
    page = response.get_data(as_text=True)
    assert alerts(page) == ["Thank you for your feedback."]
    assert text(page, id="help-vote-thanks") == "Thank you for your feedback."
    vote = db.session.scalar(select(KnowledgeVote))
    assert vote.helpful is False and vote.comment == "The link had expired."
    stored = db.session.scalar(select(SurveyResponse).where(SurveyResponse.source == "knowledge"))
    assert stored.kind == "comment" and "The link had expired." in stored.comment
    assert "Reset your password" in stored.comment and stored.customer_id == customer.id


def test_anonymous_vote_counts_and_bad_votes_save_nothing(client, kb, db):
    from helpdesk_knowledge.models import KnowledgeVote

    url = f"/help/articles/{kb['public'].id}/feedback"
    assert alerts(client.post(url, data={"helpful": "maybe"}, follow_redirects=True).get_data(as_text=True)) == [
        "Choose Yes or No."]
    page = client.post(url, data={"helpful": "yes", "comment": "x" * 2001}, follow_redirects=True)
    assert "too long" in alerts(page.get_data(as_text=True))[0]
    client.post(url, data={"helpful": "yes"})
    assert [v.helpful for v in db.session.scalars(select(KnowledgeVote))] == [True]


def test_portal_new_ticket_page_has_the_suggestion_box(client, login, customer, kb):
    login(client, customer)
    page = client.get("/portal/new").get_data(as_text=True)
    (box,) = attributes(page, id="knowledge-suggest")
    assert box["data-suggest-url"] == "/help/suggest" and len(box["data-attempt"]) >= 16
    found = client.get("/help/suggest?q=I forgot my password and cannot sign in").get_json()["articles"]
    assert found[0]["title"] == "Reset your password" and found[0]["url"] == f"/help/articles/{kb['public'].id}"
    assert client.get("/help/suggest?q=the and of").get_json() == {"articles": []}


def test_deflection_is_counted_once_per_attempt_and_reported(client, login, customer, agent, admin, kb, db):
    from helpdesk_knowledge.models import KnowledgeDeflection

    from helpdesk.plugin_api import services

    login(client, customer)
    attempt = "attempt-0123456789abcdef"
    for _ in range(2):  # a double click, a second tab
        response = client.post("/help/deflect", data={"attempt": attempt, "article_id": kb["public"].id,
                                                      "query": "forgot password"},
                               headers={"Accept": "application/json"})
        assert response.status_code == 200
    assert db.session.query(KnowledgeDeflection).count() == 1
    assert client.post("/help/deflect", data={"attempt": "short", "article_id": kb["public"].id}).status_code == 400
    services.create_ticket(customer, "Invoice wrong", "Please fix it.")  # one portal ticket: rate 1 / 2

    login(client, admin)
    page = client.get("/reports").get_data(as_text=True)
    assert text(page, id="knowledge-deflection-rate") == "50%"
    assert "Reset your password (1)" in text(page, id="knowledge-top-deflections")
    login(client, agent)
    page = client.get("/knowledge").get_data(as_text=True)
    assert text(page, id="knowledge-deflection-rate") == "50%"
    staff = client.get(f"/knowledge/articles/{kb['public'].id}").get_data(as_text=True)
    assert "1 ticket avoided" in body(staff)


def test_ticket_page_gets_a_lazy_panel_and_no_extra_queries(app, plugins, client, login, agent, customer, kb, db,
                                                            statements):
    from helpdesk.plugin_api import services

    public_id = kb["public"].id
    ticket = services.create_ticket(customer, "Cannot sign in", "I forgot my password, please help.")
    services.add_message(ticket, agent, "Hello, try the reset link.")
    login(client, agent)
    url = f"/tickets/{ticket.reference}"
    client.get(url)  # warm caches the same way for both runs
    with statements:
        page = client.get(url).get_data(as_text=True)
    with_plugin = statements.count
    (panel,) = attributes(page, id="knowledge-panel")
    assert panel["data-url"] == f"/knowledge/tickets/{ticket.id}/suggestions"
    plugins.disable("knowledge")
    client.get(url)
    with statements:
        client.get(url)
    without = statements.count
    assert with_plugin == without

    plugins.enable("knowledge")
    found = client.get(panel["data-url"]).get_json()["articles"]
    titles = [a["title"] for a in found]
    assert titles[0] == "Reset your password"
    assert "Unlock a locked account (agents)" in titles  # internal articles help agents
    assert "Password rules draft" not in titles
    public = next(a for a in found if a["title"] == "Reset your password")
    assert public["url"] == f"http://helpdesk.test/help/articles/{public_id}"
    assert public["body"].startswith("Open **Sign in**")


def test_ticket_suggestions_follow_the_ticket_scope(app, client, login, make_user, customer, kb):
    from helpdesk.plugin_api import services

    ticket = services.create_ticket(customer, "Cannot sign in", "password")
    team_agent = make_user("agent", name="Tess Team", team_scoped=True)
    login(client, team_agent)
    assert client.get(f"/knowledge/tickets/{ticket.id}/suggestions").status_code == 404
    login(client, customer)
    assert client.get(f"/knowledge/tickets/{ticket.id}/suggestions").status_code in (302, 404)
