"""Themes: the generated corpus is recovered, new tickets join a theme as they arrive, and an
admin's rename, merge, split, hide and pinned tag hold."""
from __future__ import annotations

from collections import Counter

import pytest
from helpdesk_insights import engine, quality, store
from helpdesk_insights.corpus import generate
from helpdesk_insights.models import InsightsText, InsightsTheme
from insights_testkit import corpus, seed_texts, theme_of
from pagetext import alerts, text, texts
from sqlalchemy import select

from helpdesk.plugin_api import db_session, services

pytestmark = pytest.mark.plugins("insights")


def test_the_corpus_has_500_messages_with_known_themes():
    rows = corpus()
    assert len(rows) >= 500
    assert len({theme for theme, _ in rows}) >= 10


def test_themes_recover_the_generated_corpus():
    rows = corpus()
    truth = [t for t, _ in rows]
    fit = engine.fit([x for _, x in rows])
    ari, purity = quality.adjusted_rand(truth, fit.labels), quality.purity(truth, fit.labels)
    print(f"corpus: {len(fit.centroids)} themes, ARI {ari:.3f}, purity {purity:.3f}")
    assert ari >= 0.8
    assert purity >= 0.9


def test_themes_hold_on_a_corpus_generated_with_another_seed():
    rows = generate(seed=7, per_theme=30)
    fit = engine.fit([x for _, x in rows])
    assert quality.adjusted_rand([t for t, _ in rows], fit.labels) >= 0.7


def test_a_theme_is_named_by_its_key_phrases():
    rows = corpus()
    fit = engine.fit([x for _, x in rows])
    mine = Counter(label for (theme, _), label in zip(rows, fit.labels, strict=True) if theme == "charged twice")
    assert "charged twice" in " ".join(engine.key_phrases(fit.centroids[mine.most_common(1)[0][0]]))


def test_too_few_texts_make_no_themes_and_no_error():
    assert engine.fit(["hello", "refund please"]).centroids == []


@pytest.fixture
def themed(make_user):
    """The corpus in the plugin's table from 30 customers, grouped into themes."""
    customers = [make_user("customer") for _ in range(30)]
    seed_texts(customers, corpus())
    store.recompute()
    return customers


def test_a_new_ticket_joins_its_theme_when_it_arrives(themed, customer):
    ticket = services.create_ticket(customer, "Parcel still not here",
                                    "The courier never came and tracking has not moved for 6 days.")
    row = db_session().scalar(select(InsightsText).where(InsightsText.ticket_id == ticket.id))
    assert row is not None and row.theme is not None
    assert row.theme.id == theme_of("late delivery").id


def test_the_themes_page_lists_themes_with_counts(themed, client, login, agent):
    login(client, agent)
    page = client.get("/insights/").get_data(as_text=True)
    rows = texts(page, cls="theme-row")
    assert len(rows) >= 10
    assert any("refund" in r.lower() for r in rows)
    theme = theme_of("refund not received")
    page = client.get(f"/insights/themes/{theme.id}").get_data(as_text=True)
    assert "Customers" in text(page, id="theme-numbers")
    assert "refund" in text(page, id="quotes").lower()
    assert "texts per week" in page


def test_a_pinned_theme_tags_new_tickets(themed, client, login, admin, customer):
    theme = theme_of("refund not received")
    login(client, admin)
    page = client.post(f"/insights/themes/{theme.id}/pin", data={"tag": "refunds"}, follow_redirects=True)
    assert "get the tag refunds" in " ".join(alerts(page.get_data(as_text=True)))
    ticket = services.create_ticket(customer, "Where is my refund?",
                                    "I returned the item three weeks ago and the refund never reached my bank.")
    db_session().refresh(ticket)
    assert "refunds" in [t.name for t in ticket.tags]


def test_a_bad_tag_is_refused_with_a_reason(themed, client, login, admin):
    theme = theme_of("refund not received")
    login(client, admin)
    page = client.post(f"/insights/themes/{theme.id}/pin", data={"tag": "no spaces!"}, follow_redirects=True)
    assert "letters, digits" in " ".join(alerts(page.get_data(as_text=True)))
    db_session().refresh(theme)
    assert theme.pinned_tag is None


def test_a_renamed_theme_keeps_its_name_when_themes_are_grouped_again(themed, client, login, admin):
    theme = theme_of("refund not received")
    login(client, admin)
    client.post(f"/insights/themes/{theme.id}/rename", data={"name": "Refunds are slow"})
    store.recompute()
    db_session().expire_all()
    assert db_session().get(InsightsTheme, theme.id).name == "Refunds are slow"
    assert store.size(theme.id) >= 30  # the same group found its old theme again


def test_an_empty_name_is_refused(themed, client, login, admin):
    theme = theme_of("refund not received")
    login(client, admin)
    page = client.post(f"/insights/themes/{theme.id}/rename", data={"name": "  "}, follow_redirects=True)
    assert "Give the theme a name." in alerts(page.get_data(as_text=True))


def test_a_merged_theme_sends_its_texts_and_new_ones_to_the_other(themed, client, login, admin, customer):
    source, target = theme_of("wrong size exchange"), theme_of("change address")
    before = store.size(source.id) + store.size(target.id)
    login(client, admin)
    page = client.post(f"/insights/themes/{source.id}/merge", data={"target": target.id}, follow_redirects=True)
    assert "merged into" in " ".join(alerts(page.get_data(as_text=True)))
    assert store.size(target.id) == before and store.size(source.id) == 0
    ticket = services.create_ticket(customer, "Size swap",
                                    "These shoes are too small, can I exchange for a bigger size?")
    row = db_session().scalar(select(InsightsText).where(InsightsText.ticket_id == ticket.id))
    assert row.theme_id == target.id
    # Grouped again: the merge holds (the size group finds the merged theme, which points to its target).
    store.recompute()
    db_session().expire_all()
    assert store.size(source.id) == 0
    assert client.get(f"/insights/themes/{source.id}").status_code == 302


def test_a_split_theme_divides_its_texts(themed, client, login, admin):
    theme = theme_of("refund not received")
    size = store.size(theme.id)
    count = db_session().scalar(select(InsightsTheme.id).order_by(InsightsTheme.id.desc()).limit(1))
    login(client, admin)
    page = client.post(f"/insights/themes/{theme.id}/split", follow_redirects=True)
    assert "split" in " ".join(alerts(page.get_data(as_text=True)))
    other = db_session().scalar(select(InsightsTheme).order_by(InsightsTheme.id.desc()).limit(1))
    assert other.id > count
    assert store.size(theme.id) + store.size(other.id) == size
    assert store.size(other.id) > 0 and store.size(theme.id) > 0


def test_a_hidden_theme_leaves_the_agents_list(themed, client, login, admin, agent):
    theme = theme_of("refund not received")
    login(client, admin)
    client.post(f"/insights/themes/{theme.id}/hide", data={"hidden": "1"})
    login(client, agent)
    page = client.get("/insights/").get_data(as_text=True)
    assert theme.name not in " ".join(texts(page, cls="theme-row"))


def test_the_csv_has_one_row_per_theme(themed, client, login, agent):
    login(client, agent)
    response = client.get("/insights/themes.csv")
    lines = response.get_data(as_text=True).strip().splitlines()
    assert lines[0].startswith("theme,texts,tickets,customers")
    assert len(lines) - 1 == len(store.live_centroids())


def test_a_team_scoped_agent_is_refused(themed, client, login, make_user):
    scoped = make_user("agent", team_scoped=True)
    login(client, scoped)
    assert client.get("/insights/").status_code == 403


def test_themes_by_channel_team_and_csat_band(themed, client, login, agent, customer):
    from helpdesk.plugin_api import Team

    team = Team(name="Returns")
    db_session().add(team)
    db_session().commit()
    ticket = services.create_ticket(customer, "Refund missing", "The refund has not reached my bank account yet.",
                                    channel="email", team_id=team.id)
    services.record_feedback(customer, "csat", score=1, ticket=ticket, reference="s:1",
                             comment="Still no refund in my bank account, you confirmed it weeks ago.")
    login(client, agent)
    page = client.get(f"/insights/?channel=email&team={team.id}").get_data(as_text=True)
    rows = texts(page, cls="theme-row")
    assert len(rows) == 1 and theme_of("refund not received").name in rows[0]
    page = client.get("/insights/?csat=unhappy").get_data(as_text=True)
    assert len(texts(page, cls="theme-row")) == 1
    page = client.get("/insights/?csat=happy").get_data(as_text=True)
    assert "No theme has texts with these filters." in page
    csv = client.get("/insights/themes.csv?csat=unhappy").get_data(as_text=True).strip().splitlines()
    assert len(csv) == 2
