"""The help centre is part of the portal (issue 24): a customer who reads German, by preference
or by the browser's Accept-Language, finds, reads and rates articles in German; the suggestion
box on the new-ticket page speaks German too. The catalogue shipped is the compiled one."""
from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from pagetext import alerts, attributes, text, texts

from helpdesk.services.profiles import update_preferences

pytestmark = pytest.mark.plugins("knowledge")

CATALOGUE = Path(__file__).resolve().parents[1] / "helpdesk_knowledge" / "translations" / "de" / "LC_MESSAGES"


def test_a_browser_asking_for_german_gets_the_help_centre_in_german(client, kb):
    german = {"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"}
    home = client.get("/help", headers=german).get_data(as_text=True)
    assert '<html lang="de">' in home
    assert text(home, tag="h1") == "Hilfe-Center" and "Beliebte Artikel" in home
    assert attributes(home, id="help-q")[0]["placeholder"] == "Nach Antworten suchen, z. B. „Passwort zurücksetzen“"
    assert texts(home, cls="help-category")[0].endswith("2 Artikel")
    found = client.get("/help/search?q=password", headers=german).get_data(as_text=True)
    assert text(found, id="help-result-note") == "1 Artikel zu „password“."
    nothing = client.get("/help/search?q=lighthouse", headers=german).get_data(as_text=True)
    assert text(nothing, id="help-no-results") == "Keine Artikel passen zu „lighthouse“. Versuchen Sie andere Wörter."
    article = client.get(f"/help/articles/{kb['public'].id}", headers=german).get_data(as_text=True)
    assert text(article, id="help-vote-heading") == "War das hilfreich?"
    assert [b for b in texts(article, tag="button") if b in ("Ja", "Nein")] == ["Ja", "Nein"]
    voted = client.post(f"/help/articles/{kb['public'].id}/feedback", data={"helpful": "yes"}, headers=german,
                        follow_redirects=True).get_data(as_text=True)
    assert alerts(voted) == ["Vielen Dank für Ihre Rückmeldung."]
    assert "Hilfe-Center" not in client.get("/help", headers={"Accept-Language": "en"}).get_data(as_text=True)


def test_a_customer_who_prefers_german_reads_it_and_is_offered_articles_in_german(client, login, customer, kb):
    update_preferences(customer, customer, language="de")
    login(client, customer)
    english = {"Accept-Language": "en"}  # the preference wins over the browser
    article = client.get(f"/help/articles/{kb['public'].id}", headers=english).get_data(as_text=True)
    assert "Keine Antwort gefunden?" in article and "Eröffnen Sie ein Ticket" in article
    assert client.post(f"/help/articles/{kb['public'].id}/feedback", data={"helpful": "maybe"}, headers=english,
                       follow_redirects=True).get_data(as_text=True).count("Wählen Sie Ja oder Nein.") == 1
    new_ticket = client.get("/portal/new", headers=english).get_data(as_text=True)
    assert "Hilfe-Center" in [link for link in texts(new_ticket, tag="a")]  # the portal's menu
    assert text(new_ticket, id="knowledge-suggest-heading") == "Diese Artikel beantworten vielleicht Ihre Frage"
    (box,) = attributes(new_ticket, id="knowledge-suggest")
    assert box["data-solved-label"] == "Das hat geholfen"
    assert box["data-read-again"] == "„{title}“ noch einmal lesen"


def test_the_compiled_german_catalogue_matches_its_source():
    """The committed .mo is what `make translations` compiles from the .po (agent-only strings may stay
    untranslated: the compiled file then carries the English, which is what the page shows anyway)."""
    def plain(string: str | tuple | list) -> tuple[str, ...]:
        return (string,) if isinstance(string, str) else tuple(string)

    with open(CATALOGUE / "messages.po", "rb") as po, open(CATALOGUE / "messages.mo", "rb") as mo:
        source, compiled = read_po(po), read_mo(mo)
    translated = {plain(m.id): plain(m.string) for m in source if m.id and all(plain(m.string))}
    shipped = {plain(m.id): plain(m.string) for m in compiled if m.id}
    assert {k: shipped.get(k) for k in translated} == translated
    assert translated[("Was this helpful?",)] == ("War das hilfreich?",)
