"""The widget speaks the visitor's language (issue 24): its words come with its config, chosen
by the browser's Accept-Language (the API carries no cookies), else the site's language."""
from __future__ import annotations

import pytest
from chat_testkit import SITE

pytestmark = pytest.mark.plugins("chat")


def _config(client, language: str | None) -> dict:
    headers = {"Origin": SITE}
    if language:
        headers["Accept-Language"] = language
    answer = client.get("/chat/api/config", headers=headers)
    assert answer.status_code == 200
    return answer.json["texts"]


def test_a_german_browser_gets_the_widget_in_german(client):
    texts = _config(client, "de-DE,de;q=0.9,en;q=0.5")
    assert texts["launch"] == "Chatten Sie mit uns"
    assert texts["send"] == "Senden"
    assert texts["placeholder"] == "Nachricht schreiben…"
    assert texts["rate"] == "Mit {score} von 5 bewerten"  # the script fills in the score
    assert texts["too_large"] == "{name} ist zu groß."


def test_an_english_or_unknown_browser_gets_english(client):
    for language in ("en-GB", "fr-FR", None):
        texts = _config(client, language)
        assert texts["launch"] == "Chat with us"
        assert texts["how"] == "How did we do?"
        assert texts["offered"] == "Maybe one of these answers your question. If not, a person will help you."


def test_errors_of_the_api_come_in_the_visitors_language(client):
    answer = client.post("/chat/api/messages", json={"body": "Hallo"}, csrf=False,
                         headers={"Origin": SITE, "Accept-Language": "de", "X-Chat-Token": "not-a-token"})
    assert answer.status_code == 401
    assert answer.json["error"] == "Ihr Chat ist abgelaufen: Laden Sie die Seite neu."


def test_the_mail_to_a_visitor_who_left_is_in_the_customers_language(db, widget, agent):
    """Whoever replies (an English-speaking agent here), the footer is in the customer's language."""
    from datetime import timedelta

    from helpdesk_chat.models import ChatVisitor
    from sqlalchemy import select

    from helpdesk.models import OutboxMail
    from helpdesk.plugin_api import Ticket, User, services

    widget.start(email="besucher@example.test")
    widget.say("Rufen Sie mich bitte zurück")
    ticket = db.session.scalar(select(Ticket))
    visitor = db.session.scalar(select(ChatVisitor))
    db.session.get(User, visitor.customer_id).language = "de"
    visitor.last_seen_at -= timedelta(minutes=5)
    db.session.commit()
    services.add_message(ticket, agent, "Hier ist die Antwort.")
    [mail] = db.session.scalars(select(OutboxMail)).all()
    assert "Hier ist die Antwort." in mail.body_text
    assert (f"Sie haben uns im Chat auf {SITE} geschrieben ({ticket.reference}). Öffnen Sie dort den Chat "
            "erneut, um zu antworten, oder antworten Sie auf diese E-Mail.") in mail.body_text
