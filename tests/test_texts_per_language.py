"""One text per language (canned replies, macros' replies, announcements) chosen by the
customer's language, placeholders filled in the sandbox per language; announcements sent by a
durable job (once per consenting customer, resumed after a crash, progress on the page); the
incident banner with its placeholders filled."""
from __future__ import annotations

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.request import Request, urlopen

import pytest
from smtp_sink import MailToSink, SMTPServer
from sqlalchemy import func, select

from helpdesk import services
from helpdesk.extensions import db
from helpdesk.models import Announcement, AnnouncementRecipient, CannedReply, TextTranslation
from helpdesk.models.base import utcnow
from helpdesk.plugin_api import Channel
from helpdesk.plugin_manager import manager
from helpdesk.services import ServiceError
from helpdesk.services.announcements import create_announcement, resume_stalled, send_announcement
from helpdesk.services.canned_replies import delete_canned_reply, save_canned_reply
from helpdesk.services.macros import apply_macro, save_macro
from helpdesk.services.organisations import save_organisation
from helpdesk.services.profiles import update_preferences
from helpdesk.testing import make_plugin

GERMAN = "Hallo {{ customer.greeting_name }}, Ihr Ticket {{ ticket.reference }} ist vom {{ ticket.created }}."
ENGLISH = "Hi {{ customer.greeting_name }}, your ticket {{ ticket.reference }} is from {{ ticket.created }}."


def test_a_canned_reply_is_filled_in_the_customers_language(app, client, login, admin, agent, customer,
                                                            other_customer):
    reply = save_canned_reply(None, title="Status", body=ENGLISH, translations={"de": ("", GERMAN)})
    update_preferences(customer, agent, language="de", preferred_name="Carlita")
    german = services.create_ticket(customer, "Drucker", "Hilfe")
    english = services.create_ticket(other_customer, "Printer", "Help")
    login(client, agent)
    de = client.post(f"/tickets/{german.reference}/canned/{reply.id}").json["body"]
    en = client.post(f"/tickets/{english.reference}/canned/{reply.id}").json["body"]
    assert de.startswith(f"Hallo Carlita, Ihr Ticket {german.reference} ist vom ")
    assert "." in de.split("vom ")[1] and "Dec" not in de  # the date as German writes it (05.12.2026)
    assert en.startswith(f"Hi Otto, your ticket {english.reference} is from ")
    # Without a JavaScript composer too.
    assert "Hallo Carlita" in client.get(f"/tickets/{german.reference}/canned/{reply.id}").text
    # The sandbox holds in every language's text.
    with pytest.raises(ServiceError, match="Deutsch: Template error"):
        save_canned_reply(reply, title="Status", body=ENGLISH, translations={"de": ("", "{{ oops")})
    db.session.rollback()
    save_canned_reply(reply, title="Status", body=ENGLISH, translations={"de": ("", "{{ ''.__class__.__mro__ }}")})
    assert "could not be rendered" in client.post(f"/tickets/{german.reference}/canned/{reply.id}").json["body"]
    # An empty text removes the language: the customer gets the default text again.
    save_canned_reply(reply, title="Status", body=ENGLISH, translations={"de": ("", "  ")})
    assert client.post(f"/tickets/{german.reference}/canned/{reply.id}").json["body"].startswith("Hi Carlita")
    delete_canned_reply(reply)
    assert db.session.scalar(select(func.count()).select_from(TextTranslation)) == 0


def test_existing_if_language_texts_keep_working(app, client, login, agent, customer):
    reply = save_canned_reply(None, title="Old style", body='{% if customer.language == "de" %}Guten Tag{% else %}'
                                                            'Good day{% endif %} {{ customer.first_name }}')
    update_preferences(customer, agent, language="de")
    ticket = services.create_ticket(customer, "Drucker", "Hilfe")
    login(client, agent)
    assert client.post(f"/tickets/{ticket.reference}/canned/{reply.id}").json["body"] == "Guten Tag Carla"


def test_the_admin_writes_each_language_in_the_same_form(app, client, login, admin):
    login(client, admin)
    form = client.get("/admin/canned/new").text
    assert 'name="body_de"' in form and "Deutsch" in form
    bad = client.post("/admin/canned/new", data={"title": "Thanks", "body": "Thanks!", "body_de": "Danke {{ x"})
    assert bad.status_code == 422
    assert "Deutsch: Template error" in bad.text and "Danke {{ x</textarea>" in bad.text  # kept as typed
    assert 'value="Thanks"' in bad.text
    client.post("/admin/canned/new", data={"title": "Thanks", "body": "Thanks!", "body_de": "Danke!"})
    reply = db.session.scalar(select(CannedReply).where(CannedReply.title == "Thanks"))
    assert "Danke!</textarea>" in client.get(f"/admin/canned/{reply.id}").text
    # Macros: a German row in the macro form too.
    assert 'name="body_de"' in client.get("/macros/new").text
    # Announcements: subject and text per language.
    page = client.get("/announcements").text
    assert 'name="subject_de"' in page and 'name="body_de"' in page


class TestMailInTheCustomersLanguage(MailToSink):
    def test_a_macro_replies_in_the_customers_language(self, app, smtp, admin, agent, customer, other_customer):
        macro = save_macro(admin, None, name="Solved", body="Hi {{ customer.first_name }}, solved.", status="resolved",
                           scope="everyone", translations={"de": ("", "Hallo {{ customer.first_name }}, gelöst.")})
        update_preferences(customer, agent, language="de")
        german = services.create_ticket(customer, "Drucker", "Hilfe")
        english = services.create_ticket(other_customer, "Printer", "Help")
        apply_macro(macro, german, agent)
        apply_macro(macro, english, agent)
        mails = {m["To"]: m.get_body(("plain",)).get_content() for m in smtp.sink.messages()}
        assert "Hallo Carla, gelöst." in mails["carla@example.test"] and "solved" not in mails["carla@example.test"]
        assert "Hi Otto, solved." in mails["otto@example.test"]

    def test_a_german_customer_gets_the_german_announcement(self, app, smtp, admin, agent, client, login):
        org = save_organisation(admin, name="Acme", domains="acme.test")
        anna = services.find_or_create_customer("email", "anna@acme.test", name="Anna Andersen")
        bernd = services.find_or_create_customer("email", "bernd@acme.test", name="Bernd Berger")
        update_preferences(bernd, agent, language="de", preferred_name="Bernie")
        login(client, admin)
        shown = client.post("/announcements", data={
            "action": "preview", "subject": "Maintenance", "body": "Hi {{ customer.greeting_name }}.",
            "subject_de": "Wartung", "body_de": "Hallo {{ customer.greeting_name }}, {{ customer.fields.x }}",
            "segment_kind": "organisation", "organisation_id": str(org.id)})
        assert "Deutsch: The notice could not be filled in" not in shown.text  # the preview renders, not checks
        saved = client.post("/announcements", data={
            "action": "save", "subject": "Maintenance", "body": "Hi {{ customer.greeting_name }}.",
            "subject_de": "Wartung", "body_de": "Hallo {{ customer.greeting_name }}, am Sonntag ist Wartung.",
            "segment_kind": "organisation", "organisation_id": str(org.id)}, follow_redirects=True)
        assert "am Sonntag ist Wartung." in saved.text  # the announcement's page shows each language
        announcement = db.session.scalar(select(Announcement))
        client.post(f"/announcements/{announcement.id}/send", data={})
        mails = {m["To"]: m for m in smtp.sink.messages()}
        assert mails["bernd@acme.test"]["Subject"] == f"Wartung [Announcement #{announcement.id}]"
        assert mails["bernd@acme.test"].get_content().startswith("Hallo Bernie, am Sonntag ist Wartung.")
        assert "Keine Ankündigungen mehr" in mails["bernd@acme.test"].get_content()
        assert mails["anna@acme.test"]["Subject"] == f"Maintenance [Announcement #{announcement.id}]"
        assert mails["anna@acme.test"].get_content().startswith("Hi Anna.")
        assert anna.id != bernd.id


class Provider(BaseHTTPRequestHandler):
    """A messaging provider on loopback: keeps what it was asked to send."""

    received: list[dict] = []

    def do_POST(self):  # noqa: N802 - http.server's name
        length = int(self.headers["Content-Length"])
        Provider.received.append(json.loads(self.rfile.read(length)))
        self.send_response(202)
        self.end_headers()

    def log_message(self, *args):
        pass


class WorkerKilled(BaseException):
    """What a killed worker leaves behind: the process stops in the middle of a send."""


class CrashingSMS(Channel):
    """A text-message channel whose first send kills the worker, later ones reach the provider."""

    def __init__(self, url: str) -> None:
        super().__init__(name="sms", label="SMS")
        self.url, self.crashes = url, 1

    def deliver(self, ticket, message) -> None:
        pass

    def notify(self, customer, subject, text, *, ticket=None, html=None, headers=None) -> bool:
        if self.crashes:
            self.crashes -= 1
            raise WorkerKilled
        phone = next(i.value for i in customer.identities if i.kind == "phone")
        body = json.dumps({"to": phone, "text": text}).encode()
        with urlopen(Request(self.url, data=body, headers={"Content-Type": "application/json"})) as response:
            return response.status == 202


class TestAnnouncementJob(MailToSink):
    @pytest.fixture
    def provider(self):
        Provider.received = []
        server = ThreadingHTTPServer(("127.0.0.1", 0), Provider)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        yield f"http://127.0.0.1:{server.server_address[1]}/messages"
        server.shutdown()
        server.server_close()

    def test_a_crash_mid_send_resumes_without_writing_to_anyone_twice(self, app, smtp, provider, admin, agent,
                                                                       client, login):
        sms = CrashingSMS(provider)
        manager(app).register(make_plugin("sms", helpdesk_channels=lambda: [sms]), "sms")
        org = save_organisation(admin, name="Acme", domains="acme.test")
        people = [services.find_or_create_customer("email", f"c{n:02d}@acme.test", name=f"Cust {n:02d}")
                  for n in range(12)]
        texter = people[5]
        services.users.add_identity(texter, "phone", "+15550100")
        update_preferences(texter, agent, preferred_channel="sms")
        update_preferences(people[7], agent, consent={"updates": False})  # unsubscribed
        announcement = create_announcement(admin, subject="News", body="Hi {{ customer.first_name }}.",
                                           segment={"organisation_id": org.id})
        announcement_id = announcement.id
        login(client, admin)
        with pytest.raises(WorkerKilled):  # the job, run by the worker, dies at the sixth customer
            client.post(f"/announcements/{announcement_id}/send", data={})
        db.session.rollback()
        statuses = dict(db.session.execute(select(AnnouncementRecipient.customer_id,
                                                  AnnouncementRecipient.status)).all())
        # The batch was claimed in one commit and its mail is committed together: nobody was
        # written to, everyone of the batch waits "sending".
        assert statuses == {p.id: "sending" for p in people}
        page = client.get(f"/announcements/{announcement_id}").text
        assert "Sending: 0 of 12 customers." in page

        # The job runs again (the queue's retry): the rows left "sending" may still be in a live
        # worker's hands, so they wait for their lease.
        counts = send_announcement(db.session.get(Announcement, announcement_id))
        assert counts == {}
        assert resume_stalled() == []  # the claim is recent
        assert "Sending: 0 of 12 customers." in client.get(f"/announcements/{announcement_id}").text
        # Later the sweeper finds the stalled send and takes the rows over.
        assert resume_stalled(now=utcnow() + timedelta(minutes=6)) == [announcement_id]
        assert "Done: 12 of 12 customers." in client.get(f"/announcements/{announcement_id}").text

        mails = smtp.sink.messages()
        expected = {p.email for p in people} - {texter.email, people[7].email}
        assert sorted(m["To"] for m in mails) == sorted(expected)  # once each, the unsubscribed skipped
        assert {m["Message-ID"] for m in mails} == {f"<announcement-{announcement_id}-{p.id}@acme.test>"
                                                    for p in people if p.email in expected}
        [text] = Provider.received
        assert text["to"] == "+15550100" and text["text"].startswith("Hi Cust.")
        # Sending again (or the sweeper) writes to nobody.
        assert send_announcement(db.session.get(Announcement, announcement_id)) == {}
        assert len(smtp.sink.messages()) == 10 and len(Provider.received) == 1


def test_the_banner_fills_its_placeholders_in_the_readers_language(app, client, login, admin, agent, customer):
    create_announcement(admin, subject="Login problems", body="{{ customer.greeting_name or 'Hello' }}: we are on it "
                        "({{ helpdesk.name }}).", segment={"open_tickets": True}, banner=True,
                        translations={"de": ("Anmeldeprobleme", "Hallo {{ customer.greeting_name }}, wir sind dran.")})
    login(client, customer)
    page = client.get("/portal/").text
    assert "Carla: we are on it (" in page and "{{" not in page
    update_preferences(customer, agent, language="de")
    page = client.get("/portal/").text
    assert "Anmeldeprobleme" in page and "Hallo Carla, wir sind dran." in page
    client.post("/logout", data={})
    visitor = client.get("/login", headers={"Accept-Language": "de"}).text  # no one to greet by name
    assert "Anmeldeprobleme" in visitor and "Hallo , wir sind dran." in visitor and "{{" not in visitor


def test_plugins_ship_their_compiled_catalogues():
    """Each plugin catalogue's .mo is what `make translations` compiles, and the package ships it."""
    from pathlib import Path

    from babel.messages.mofile import read_mo
    from babel.messages.pofile import read_po

    def key(value):  # plural messages are tuples (or lists)
        return value if isinstance(value, str) else tuple(value)

    def compiled_form(message):  # pybabel compile writes an untranslated plural form as the English one
        if isinstance(message.string, str):
            return message.string
        return tuple(text or key(message.id)[min(index, 1)] for index, text in enumerate(message.string))

    plugins = Path(__file__).resolve().parents[1] / "plugins"
    catalogues = sorted(plugins.glob("*/helpdesk_*/translations/*/LC_MESSAGES/messages.po"))
    assert {p.parts[-6] for p in catalogues} >= {"surveys", "complaints", "email"}
    for po_path in catalogues:
        with po_path.open("rb") as f:
            source = {key(m.id): compiled_form(m) for m in read_po(f) if m.id and m.string}
        with po_path.with_suffix(".mo").open("rb") as f:
            compiled = {key(m.id): key(m.string) for m in read_mo(f) if m.id}
        assert source and compiled == source, f"{po_path}: run `make translations`"
        package_data = (po_path.parents[4] / "pyproject.toml").read_text()
        assert '"translations/*/LC_MESSAGES/*.mo"' in package_data, f"{po_path.parents[4].name}: package-data"


class TestAnnouncementMailRetries(MailToSink):
    def test_mail_refused_while_the_server_is_down_goes_out_once_when_it_is_back(self, app, admin):
        from helpdesk.models import OutboxMail
        from helpdesk.services.delivery import sweep

        org = save_organisation(admin, name="Acme", domains="acme.test")
        for n in range(3):
            services.find_or_create_customer("email", f"c{n}@acme.test", name=f"Cust {n}")
        announcement = create_announcement(admin, subject="News", body="Hi.", segment={"organisation_id": org.id})
        assert send_announcement(announcement) == {"sent": 3}  # recorded as sent: the mails wait in the outbox
        assert {m.status for m in db.session.scalars(select(OutboxMail))} != {"sent"}
        server = SMTPServer(self.port).start()
        try:
            sweep(now=utcnow() + timedelta(hours=2))
            sweep(now=utcnow() + timedelta(hours=4))
            mails = server.sink.messages()
        finally:
            server.stop()
        assert sorted(m["To"] for m in mails) == ["c0@acme.test", "c1@acme.test", "c2@acme.test"]
        assert all(m["Message-ID"].startswith(f"<announcement-{announcement.id}-") for m in mails)
        db.session.expire_all()
        assert {m.status for m in db.session.scalars(select(OutboxMail))} == {"sent"}


def test_plugins_keep_texts_per_language_under_a_kind_of_their_own(app, customer, agent):
    """plugin_api's text functions take any ``<plugin>.<what>`` kind; other kinds are refused, and a
    plugin's own check refuses a text with the language named."""
    from helpdesk import plugin_api
    from helpdesk.services.profiles import update_preferences

    plugin_api.save_translations("hello.greeting", 7, {"de": ("Betreff", "Hallo {{ customer.first_name }}")})
    db.session.commit()
    update_preferences(customer, agent, language="de")
    assert plugin_api.text_for("hello.greeting", 7, "Hi", customer, subject="Subject") == (
        "Betreff", "Hallo {{ customer.first_name }}")
    assert plugin_api.text_for("hello.greeting", 8, "Hi", customer, subject="Subject") == ("Subject", "Hi")
    [row] = [r for r in plugin_api.language_texts("hello.greeting", 7, True) if r["code"] == "de"]
    assert (row["subject"], row["body"]) == ("Betreff", "Hallo {{ customer.first_name }}")
    with pytest.raises(ValueError):
        plugin_api.save_translations("Not A Kind", 1, {"de": ("", "x")})
    with pytest.raises(ServiceError) as refused:
        plugin_api.save_translations("hello.greeting", 7, {"de": ("", "no")}, check=lambda text: "Say more.")
    assert (refused.value.field, str(refused.value)) == ("body_de", "Deutsch: Say more.")
    plugin_api.delete_translations("hello.greeting", 7)
    db.session.commit()
    assert plugin_api.text_for("hello.greeting", 7, "Hi", customer) == ("", "Hi")
