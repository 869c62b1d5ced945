"""The acknowledgement of a new ticket offers help-centre articles when the knowledge base is
confident they answer it (through the hook ``helpdesk_suggest_answers``), with links in the
customer's language; captured by a real SMTP server."""
from __future__ import annotations

import pytest
from email_mailmaker import make_mail
from helpdesk_email.ingest import ingest_message

pytestmark = pytest.mark.plugins("email", "knowledge")


@pytest.fixture
def app_config(smtp_port):
    return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": smtp_port, "MAIL_FROM": "help@acme.test",
            "EXTERNAL_URL": "https://help.acme.test"}


@pytest.fixture
def articles(app, admin):
    from helpdesk_knowledge.articles import change_status, save_article

    made = {}
    for key, title, body, language, of in (
            ("en", "Reset your password", "Choose *Forgot password* on the sign-in page and follow the link "
                                          "we email you.", "en", None),
            ("de", "Passwort zurücksetzen", "Wählen Sie *Passwort vergessen* auf der Anmeldeseite.", "de", "en"),
            ("refund", "How long a refund takes", "Refunds reach your card in 5 to 10 working days.", "en", None),
            ("internal", "Reset a password for a customer (agents)", "Admin, Users, reset password link.",
             "en", None)):
        article = save_article(None, admin, title=title, body=body, section_id=None, internal=key == "internal",
                               language=language, translation_of=made[of].id if of else None)
        change_status(article, admin, "publish")
        made[key] = article
    return {key: a.id for key, a in made.items()}


def test_the_acknowledgement_offers_a_confident_article(app, db, smtp, articles):
    result = ingest_message(make_mail(subject="Forgot password", body="I forgot my password and cannot sign in.\n"))
    [ack] = smtp.sink.messages()
    body = ack.get_content().replace("\r\n", "\n")
    assert ack["Subject"] == f"[{result.reference}] Re: Forgot password"
    assert "this may already answer your question:\n- Reset your password\n" in body
    assert f"https://help.acme.test/help/articles/{articles['en']}" in body
    assert "agents" not in body and f"/help/articles/{articles['internal']}" not in body  # internal: never
    assert "a person will answer you" in body


def test_the_article_link_is_in_the_customers_language(app, db, smtp, customer, articles):
    customer.language = "de"
    db.session.commit()
    ingest_message(make_mail(subject="Forgot password", body="I forgot my password and cannot sign in.\n"))
    body = smtp.sink.messages()[0].get_content().replace("\r\n", "\n")
    assert "- Passwort zurücksetzen\n" in body
    assert f"https://help.acme.test/help/articles/{articles['de']}" in body
    assert f"/help/articles/{articles['en']}\n" not in body


def test_no_articles_when_none_is_a_confident_answer(app, db, smtp, articles, monkeypatch):
    ingest_message(make_mail(subject="Printer on fire", body="The printer in room 4 is smoking.\n"))
    body = smtp.sink.messages()[0].get_content().replace("\r\n", "\n")
    assert "We received your message" in body and "/help/articles/" not in body

    monkeypatch.setenv("HELPDESK_PLUGIN_EMAIL_ACK_ARTICLES", "false")  # the admin switched it off
    ingest_message(make_mail(subject="Forgot password", body="I forgot my password.\n", sender="otto@example.test"))
    assert "/help/articles/" not in smtp.sink.messages()[-1].get_content()


@pytest.mark.plugins("email")
def test_no_articles_without_a_knowledge_base(app, db, smtp):
    ingest_message(make_mail(subject="Forgot password", body="I forgot my password and cannot sign in.\n"))
    body = smtp.sink.messages()[0].get_content().replace("\r\n", "\n")
    assert "We received your message" in body and "/help/" not in body
