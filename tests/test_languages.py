"""The customer's language: portal and mail in German for a customer who prefers it, the
browser's Accept-Language otherwise, dates per locale, compiled catalogues in step."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from smtp_sink import MailToSink

from helpdesk import services
from helpdesk.i18n import customer_locale, local_date, local_number
from helpdesk.services.profiles import update_preferences

CATALOGUES = Path(__file__).resolve().parents[1] / "helpdesk" / "translations"


def test_a_german_speaking_customer_reads_the_portal_in_german(client, login, customer, agent):
    update_preferences(customer, agent, language="de")
    ticket = services.create_ticket(customer, "Drucker brennt", "Bitte helfen.")
    login(client, customer)
    listing = client.get("/portal/", headers={"Accept-Language": "en"}).text  # the preference wins
    assert '<html lang="de">' in listing
    assert "Meine Tickets" in listing and "Ticket eröffnen" in listing and ">neu<" in listing
    page = client.get(f"/portal/tickets/{ticket.reference}").text
    assert "Antwort senden" in page and "Statusverlauf" in page and "Wir haben Ihre Anfrage erhalten" in page
    assert "Abmelden" in page
    flash = client.post(f"/portal/tickets/{ticket.reference}", data={"body": "Noch da?"}, follow_redirects=True)
    assert "Ihre Antwort wurde hinzugefügt." in flash.text


def test_without_a_preference_the_browser_decides_then_the_site(app, client, login, customer):
    assert "Anmelden" in client.get("/login", headers={"Accept-Language": "de-AT,de;q=0.9,en;q=0.5"}).text
    assert ">Sign in<" in client.get("/login", headers={"Accept-Language": "fr"}).text  # no French: the site's
    app.config["DEFAULT_LANGUAGE"] = "de"
    assert "Anmelden" in client.get("/login", headers={"Accept-Language": "fr"}).text
    update_preferences(customer, customer, language="en")  # customers choose for themselves too
    login(client, customer)
    assert "My tickets" in client.get("/portal/", headers={"Accept-Language": "de"}).text


def test_dates_and_numbers_follow_the_language(app):
    moment = datetime(2026, 12, 5, 14, 30)
    with app.test_request_context():
        with customer_locale(type("C", (), {"language": "de"})()):
            assert local_date(moment) == "05.12.2026" and local_number(1234.5) == "1.234,5"
        with customer_locale(type("C", (), {"language": None})()):
            assert local_date(moment) == "Dec 5, 2026" and local_number(1234.5) == "1,234.5"


def _key(value):
    return value if isinstance(value, str) else tuple(value)


def test_compiled_catalogues_match_their_sources():
    """The committed .mo files are what `make translations` compiles from the .po files."""
    for po_path in CATALOGUES.glob("*/LC_MESSAGES/messages.po"):
        with po_path.open("rb") as f:
            # a plural: its forms as a tuple; one not translated yet is no translation
            source = {_key(m.id): _key(m.string) for m in read_po(f)
                      if m.id and m.string and (isinstance(m.string, str) or any(m.string))}
        with po_path.with_suffix(".mo").open("rb") as f:  # which compiles it to the English forms
            compiled = {_key(m.id): _key(m.string) for m in read_mo(f)
                        if m.id and not (not isinstance(m.id, str) and _key(m.string) == _key(m.id))}
        assert compiled == source, f"{po_path.parent.parent.name}: run `make translations`"
        assert source, "an empty catalogue"


class TestMailInTheCustomersLanguage(MailToSink):
    def test_a_reply_notification_is_german_for_a_german_customer(self, db, smtp, customer, other_customer, agent):
        update_preferences(customer, agent, language="de")
        german = services.create_ticket(customer, "Drucker", "Hilfe")
        english = services.create_ticket(other_customer, "Printer", "Help")
        services.add_message(german, agent, "Hallo Carla, erledigt.")
        services.add_message(english, agent, "Hi Otto, done.")
        by_recipient = {m["To"]: m.get_content() for m in smtp.sink.messages()}
        assert f"Antworten oder {german.reference} verfolgen: https://support.acme.test/portal/tickets/" \
               in by_recipient["carla@example.test"]
        assert f"Reply or follow {english.reference} here:" in by_recipient["otto@example.test"]

    def test_the_sign_in_link_mail_is_in_the_customers_language(self, db, smtp, client, customer, agent):
        update_preferences(customer, agent, language="de")
        client.post("/magic", data={"email": customer.email})
        [msg] = smtp.sink.messages()
        assert msg["Subject"] == "Ihr Anmeldelink" and msg.get_content().startswith("Hallo Carla,")


def test_customers_choose_their_language_and_announcements_on_their_profile(client, login, customer):
    login(client, customer)
    page = client.get("/profile/").text
    assert 'name="language"' in page and 'name="updates"' in page
    saved = client.post("/profile/", data={"name": customer.name, "timezone": "", "language": "de"},
                        follow_redirects=True)
    assert "Ihr Profil ist gespeichert." in saved.text
    assert customer.language == "de" and not customer.consents_to("updates")  # the box was left unticked
    assert "Meine Tickets" in saved.text


def test_a_lazy_text_with_a_name_in_it_is_escaped_in_pages_and_form_labels(app):
    """flask_babel's lazy text claims to be HTML already; a name typed by a user inside one would
    reach the page as markup. It is escaped like any other text (helpdesk/i18n.py)."""
    from flask import render_template_string
    from flask_babel import lazy_gettext
    from wtforms import Form, StringField

    name = '<img src=x onerror="alert(1)">'
    text = lazy_gettext("team %(name)s (#%(id)s)", name=name, id=3)

    class TeamForm(Form):
        title = StringField(label=lazy_gettext("settings of %(name)s", name=name))

    with app.test_request_context():
        page = render_template_string("<p>{{ text }}</p>{{ form.title.label }}", text=text, form=TeamForm())
    assert "<img" not in page
    assert "<p>team &lt;img src=x onerror=&#34;alert(1)&#34;&gt; (#3)</p>" in page
    assert "settings of &lt;img" in page


def test_no_translatable_text_is_markup():
    """Texts from Python (lazy ones among them) are escaped when printed (above): a msgid written
    as HTML would show its tags."""
    import re

    root = CATALOGUES.parents[1]
    catalogues = [CATALOGUES / "messages.pot", *(root / "plugins").glob("*/*/translations/messages.pot")]
    for catalogue in catalogues:
        for message in read_po(catalogue.open("rb")):
            if not any(path.endswith(".py") for path, _line in message.locations):
                continue  # a template's own words: Jinja's gettext marks them safe itself
            ids = message.id if isinstance(message.id, tuple) else (message.id,)
            for text in ids:
                assert not re.search(r"<(a|b|i|em|strong|span|code|br|p)\b", text or ""), (catalogue, text)
