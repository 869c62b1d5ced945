"""Announcements: once per consenting customer, by their preferred channel (a real SMTP server
and a loopback messaging provider), in their language, unsubscribed skipped, the notice cap,
replies linked, the portal banner."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.request import Request, urlopen

import pytest
from smtp_sink import MailToSink
from sqlalchemy import select

from helpdesk import services
from helpdesk.extensions import db
from helpdesk.models import AnnouncementRecipient, Team, User
from helpdesk.plugin_api import Channel
from helpdesk.plugin_manager import manager
from helpdesk.services import ServiceError
from helpdesk.services.announcements import create_announcement, preview, send_announcement
from helpdesk.services.organisations import save_organisation
from helpdesk.services.profiles import update_preferences
from helpdesk.services.settings import save_site_settings
from helpdesk.testing import make_plugin


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


@pytest.fixture
def provider():
    Provider.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Provider)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/messages"
    server.shutdown()
    server.server_close()


class SMS(Channel):
    """A text-message channel whose notices go to the provider over HTTP."""

    def __init__(self, url: str) -> None:
        super().__init__(name="sms", label="SMS")
        self.url = url

    def deliver(self, ticket, message) -> None:
        pass

    def notify(self, customer, subject, text, *, ticket=None, html=None, headers=None) -> bool:
        phone = next((i.value for i in customer.identities if i.kind == "phone"), None)
        if phone is None:
            return False
        body = json.dumps({"to": phone, "text": text}).encode()
        with urlopen(Request(self.url, data=body, headers={"Content-Type": "application/json"})) as response:
            return response.status == 202


class TestAnnouncements(MailToSink):
    @pytest.fixture
    def people(self, app, admin, provider):
        manager(app).register(make_plugin("sms", helpdesk_channels=lambda: [SMS(provider)]), "sms")
        org = save_organisation(admin, name="Acme", domains="acme.test")
        anna = services.find_or_create_customer("email", "anna@acme.test", name="Anna Andersen")
        bernd = services.find_or_create_customer("email", "bernd@acme.test", name="Bernd Berger")
        carl = services.find_or_create_customer("email", "carl@acme.test", name="Carl Clark")
        dora = services.find_or_create_customer("email", "dora@acme.test", name="Dora Dunn")
        services.users.add_identity(dora, "phone", "+15550100")
        update_preferences(bernd, admin, language="de", preferred_name="Bernie")
        update_preferences(carl, admin, consent={"updates": False})  # said no
        update_preferences(dora, admin, preferred_channel="sms")
        services.find_or_create_customer("email", "eve@elsewhere.test")  # not in the segment
        return {"org": org, "anna": anna, "bernd": bernd, "carl": carl, "dora": dora}

    def test_sent_once_per_consenting_customer_by_their_channel_and_language(self, app, smtp, admin, people, client,
                                                                              login):
        announcement = create_announcement(
            admin, subject="Maintenance on Sunday",
            body='{% if customer.language == "de" %}Hallo {{ customer.greeting_name }}, am Sonntag ist Wartung.'
                 '{% else %}Hi {{ customer.greeting_name }}, maintenance on Sunday.{% endif %}',
            segment={"organisation_id": people["org"].id})
        seen = preview(announcement.segment, announcement.subject, announcement.body)
        assert (seen["total"], seen["consenting"], seen["without_consent"]) == (4, 3, 1)

        counts = send_announcement(announcement, admin)
        assert counts == {"sent": 3, "no_consent": 1}
        mails = {m["To"]: m for m in smtp.sink.messages()}
        assert set(mails) == {"anna@acme.test", "bernd@acme.test"}  # Carl said no, Dora by SMS
        anna, bernd = mails["anna@acme.test"], mails["bernd@acme.test"]
        assert anna["Subject"] == f"Maintenance on Sunday [Announcement #{announcement.id}]"
        assert anna.get_content().startswith("Hi Anna, maintenance on Sunday.")
        assert bernd.get_content().startswith("Hallo Bernie, am Sonntag ist Wartung.")
        assert "Keine Ankündigungen mehr: https://support.acme.test/unsubscribe/" in bernd.get_content()
        assert anna["List-Unsubscribe"].startswith("<https://support.acme.test/unsubscribe/")
        [sms] = Provider.received
        assert sms["to"] == "+15550100" and sms["text"].startswith("Hi Dora, maintenance on Sunday.")
        rows = {r.customer_id: (r.status, r.channel) for r in db.session.scalars(select(AnnouncementRecipient))}
        assert rows[people["carl"].id] == ("no_consent", "email") and rows[people["dora"].id] == ("sent", "sms")

        # Sending again writes to nobody twice; a newcomer to the organisation gets it.
        services.find_or_create_customer("email", "fred@acme.test")
        assert send_announcement(announcement, admin) == {"sent": 1}
        assert len(smtp.sink.messages()) == 3

        # The admin's page shows every outcome.
        login(client, admin)
        page = client.get(f"/announcements/{announcement.id}").text
        assert page.count('class="recipient"') == 5 and "no consent" in page

    def test_unsubscribe_link_stops_announcements(self, app, smtp, admin, people, client):
        announcement = create_announcement(admin, subject="News", body="Hello {{ customer.first_name }}.",
                                           segment={"organisation_id": people["org"].id})
        send_announcement(announcement, admin)
        link = next(m for m in smtp.sink.messages() if m["To"] == "anna@acme.test")["List-Unsubscribe"][1:-1]
        path = link.removeprefix("https://support.acme.test")
        page = client.get(path)
        assert page.status_code == 200 and "Stop announcements" in page.text
        assert people["anna"].consents_to("updates")  # nothing changes on GET
        client.post(path, data={})
        db.session.expire_all()
        assert not db.session.get(User, people["anna"].id).consents_to("updates")
        assert client.get(path[:-3] + "xyz").status_code == 404  # a tampered link
        later = create_announcement(admin, subject="More news", body="Hi.",
                                    segment={"organisation_id": people["org"].id})
        assert send_announcement(later, admin).get("no_consent") == 2  # Anna and Carl

    def test_the_notice_cap_holds_announcements_back_and_says_so(self, app, smtp, admin, people):
        save_site_settings({"notices_per_recipient_per_hour": 1})
        first = create_announcement(admin, subject="One", body="1", segment={"organisation_id": people["org"].id})
        second = create_announcement(admin, subject="Two", body="2", segment={"organisation_id": people["org"].id})
        send_announcement(first, admin)
        counts = send_announcement(second, admin)
        assert counts.get("held") == 3
        row = db.session.scalar(select(AnnouncementRecipient).where(
            AnnouncementRecipient.announcement_id == second.id, AnnouncementRecipient.customer_id == people["anna"].id))
        assert row.status == "held" and "limit is 1" in row.reason

    def test_a_reply_opens_a_ticket_linked_to_the_announcement(self, app, smtp, admin, people, client, login):
        announcement = create_announcement(admin, subject="New pricing", body="Prices change.",
                                           segment={"organisation_id": people["org"].id})
        send_announcement(announcement, admin)
        login(client, people["anna"])
        form = client.get(f"/portal/new?announcement={announcement.id}").text
        assert f"Re: New pricing [Announcement #{announcement.id}]" in form
        client.post("/portal/new", data={"subject": f"Re: New pricing [Announcement #{announcement.id}]",
                                         "body": "Does this apply to us?"})
        mail_reply = services.create_ticket(people["bernd"], f"AW: New pricing [Announcement #{announcement.id}]",
                                            "Gilt das für uns?")
        assert f"announcement-{announcement.id}" in [t.name for t in mail_reply.tags]
        login(client, admin)
        page = client.get(f"/announcements/{announcement.id}").text
        assert "Does this apply" not in page and page.count("New pricing [Announcement") >= 2

    def test_only_admins_and_team_leads_announce_and_the_segment_is_checked(self, app, admin, agent, people):
        with pytest.raises(ServiceError, match="Only admins and team leads"):
            create_announcement(agent, subject="Hi", body="Hi", segment={"open_tickets": True})
        db.session.add(Team(name="Care", lead_id=agent.id))
        db.session.commit()
        assert create_announcement(agent, subject="Hi", body="Hi", segment={"open_tickets": True}).id
        with pytest.raises(ServiceError, match="Choose who receives it"):
            create_announcement(admin, subject="Hi", body="Hi", segment={})
        with pytest.raises(ServiceError, match="could not be filled in"):
            create_announcement(admin, subject="Hi", body="{{ customer.nope.nope }}", segment={"open_tickets": True})


def test_segments_by_tag_open_tickets_and_custom_field(app, admin, agent, customer, other_customer, make_user):
    from helpdesk.services.announcements import segment_customers
    from helpdesk.services.custom_fields import save_field

    save_field(admin, applies_to="customer", key="bought", label="Bought on", kind="date")
    update_preferences(customer, agent, custom_fields={"bought": "2026-11-20"})
    update_preferences(other_customer, agent, custom_fields={"bought": "2025-01-02"})
    ticket = services.create_ticket(customer, "Billing", "Invoice wrong")
    services.update_ticket(ticket, agent, tags=["billing"])
    names = lambda segment: [u.name for u in segment_customers(segment)]  # noqa: E731
    assert names({"field": "bought", "since": "2026-11-01"}) == ["Carla Customer"]
    assert names({"tag": "billing", "open_only": True}) == ["Carla Customer"]
    assert names({"open_tickets": True}) == ["Carla Customer"]
    services.update_ticket(ticket, agent, status="closed")
    assert names({"tag": "billing", "open_only": True}) == [] and names({"tag": "billing"}) == ["Carla Customer"]


def test_the_portal_shows_the_incident_banner_until_it_ends(app, client, login, admin, customer, agent):
    from helpdesk.services.announcements import end_banner

    announcement = create_announcement(admin, subject="Login problems", body="We are on it.",
                                       segment={"open_tickets": True}, banner=True)
    login(client, customer)
    assert 'id="status-banner"' in client.get("/portal/").text and "Login problems" in client.get("/portal/").text
    login(client, agent)
    assert 'id="status-banner"' not in client.get("/queue").text  # agents' pages: no banner, no query
    end_banner(announcement, admin)
    login(client, customer)
    assert 'id="status-banner"' not in client.get("/portal/").text


def test_post_sale_check_in_goes_once_to_each_customer_as_they_become_due(app, admin, agent, make_user):
    from datetime import timedelta

    from helpdesk.models.base import utcnow
    from helpdesk.models.platform import OutboxMail
    from helpdesk.services.announcements import send_due_checkins
    from helpdesk.services.custom_fields import save_field

    save_field(admin, applies_to="customer", key="purchase_date", label="Purchase date", kind="date")
    today = utcnow().date()
    due = services.find_or_create_customer("email", "due@example.test", name="Dana Due")
    old = services.find_or_create_customer("email", "old@example.test", name="Olga Old")
    soon = services.find_or_create_customer("email", "soon@example.test", name="Sven Soon")
    for person, days in ((due, 14), (old, 60), (soon, 3)):
        update_preferences(person, agent, custom_fields={"purchase_date": (today - timedelta(days=days)).isoformat()})
    checkin = create_announcement(admin, subject="How is your new kettle?", body="Hi {{ customer.first_name }}.",
                                  segment={"field": "purchase_date", "days_after": "14"})
    assert send_announcement(checkin, admin) == {"sent": 1}  # started: Dana only (Olga's is long past)
    assert send_due_checkins() == 0
    update_preferences(soon, agent, custom_fields={"purchase_date": (today - timedelta(days=14)).isoformat()})
    assert send_due_checkins() == 1 and send_due_checkins() == 0
    to = sorted(db.session.scalars(select(OutboxMail.to_addr)))
    assert to == ["due@example.test", "soon@example.test"]
    with pytest.raises(ServiceError, match="Days after"):
        create_announcement(admin, subject="x", body="x", segment={"field": "purchase_date", "days_after": "-2"})
