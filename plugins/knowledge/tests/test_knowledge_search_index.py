"""The search index of knowledge_0003 (SQLite: FTS5 with prefix indexes; PostgreSQL: a stored
``search_vector`` column) and the suggestions' cut of very common words on both databases."""
from __future__ import annotations

import flask_migrate
import pytest
import sqlalchemy as sa

pytestmark = pytest.mark.plugins("knowledge")


def _found(query: str, mode: str = "all") -> list[str]:
    from helpdesk_knowledge import search
    from helpdesk_knowledge.articles import visible_articles

    return [a.title for a in search.search(visible_articles(None), query, mode=mode)]


def test_the_index_goes_down_and_up_with_every_article_still_found(app, db, kb):
    sqlite = db.engine.dialect.name == "sqlite"
    count = "SELECT count(*) FROM search_index_knowledge" if sqlite else \
        "SELECT count(search_vector) FROM knowledge_articles"
    before = db.session.scalar(sa.text(count))
    assert before == 5
    assert _found("for") == ["Reset your password"]  # a 3-letter prefix of "Forgot"
    db.session.remove()
    flask_migrate.downgrade(revision="knowledge_0002")
    if sqlite:  # the rows are copied into the table without prefix indexes
        assert db.session.scalar(sa.text(count)) == before
    else:
        assert "search_vector" not in {c["name"] for c in sa.inspect(db.engine).get_columns("knowledge_articles")}
    db.session.remove()
    flask_migrate.upgrade(revision="heads")
    assert db.session.scalar(sa.text(count)) == before
    if sqlite:
        created = db.session.scalar(sa.text("SELECT sql FROM sqlite_master WHERE name = 'search_index_knowledge'"))
        assert "prefix='2 3'" in created
    assert _found("for") == ["Reset your password"]
    assert _found("password forgot") == ["Reset your password"]


def test_suggestions_leave_out_words_in_more_than_a_third_of_the_articles(app, db, admin):
    from helpdesk_knowledge import search
    from helpdesk_knowledge.models import KnowledgeArticle

    sqlite = db.engine.dialect.name == "sqlite"
    articles = [KnowledgeArticle(title=f"Note {n}", body="", body_html="",
                                 body_text=f"account settings {'printer' if n % 2 else 'scanner'} number {n}",
                                 status="published") for n in range(search.MIN_ARTICLES + 20)]
    articles.append(KnowledgeArticle(title="Printer jams on glossy paper", body="", body_html="",
                                     body_text="Use the rear tray for glossy paper.", status="published"))
    db.session.add_all(articles)
    db.session.flush()
    for article in articles:
        search.index_article(article)
    db.session.commit()
    if not sqlite:  # what autovacuum does after so many new rows: the lexeme frequencies
        db.session.execute(sa.text("ANALYZE knowledge_articles"))
    cut = search._without_common_words if sqlite else search._without_common_words_postgres
    # "account" and "settings" are in every article, "printer" in half: only "glossy" stays
    assert cut(["account", "printer", "glossy", "settings"]) == ["glossy"]
    # every word common: the rarest stays
    assert cut(["account", "printer"]) == ["printer"]
    assert _found("my account printer settings show glossy stripes", "any")[0] == "Printer jams on glossy paper"
