"""The email plugin's pages: webhook, quarantine, mailboxes, originals, and who may use them."""
from __future__ import annotations

import hashlib
import hmac

import pytest
from email_mailmaker import make_mail
from helpdesk_email.ingest import ingest_message
from helpdesk_email.models import EmailMailbox, EmailQuarantine
from pagetext import alerts, attributes, field_errors, text, texts
from smtp_sink import free_port
from sqlalchemy import func, select

from helpdesk.models import AdminAuditEntry
from helpdesk.plugin_api import Ticket, db_session, decrypt_secret
from helpdesk.plugin_manager import manager
from helpdesk.testing import make_plugin

pytestmark = pytest.mark.plugins("email")
SECRET = "s3cret-for-the-webhook"


def sign(body: bytes, secret: str = SECRET) -> dict[str, str]:
    return {"X-Helpdesk-Signature": "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()}


def tickets() -> int:
    return db_session().scalar(select(func.count()).select_from(Ticket))


@pytest.fixture
def webhook_secret(app):
    manager(app).save_settings("email", {"webhook_secret": SECRET})


# ------------------------------------------------------------------ webhook


def test_a_signed_mail_posted_to_the_webhook_becomes_a_ticket(app, client, webhook_secret):
    raw = make_mail(subject="Sent through the webhook")
    answer = client.post("/email/inbound", data=raw, headers={**sign(raw), "Content-Type": "message/rfc822"})
    assert answer.status_code == 202
    assert answer.json["outcome"] == "ticket" and answer.json["ticket"] == "HD-1"
    assert db_session().get(Ticket, 1).subject == "Sent through the webhook"
    again = client.post("/email/inbound", data=raw, headers=sign(raw))
    assert (again.status_code, again.json["outcome"], again.json["ticket"]) == (202, "duplicate", "HD-1")


@pytest.mark.parametrize("headers", [{}, {"X-Helpdesk-Signature": "sha256=" + "0" * 64},
                                     sign(b"other body"), sign(make_mail(), secret="wrong")],
                         ids=["missing", "zeros", "other body", "wrong secret"])
def test_a_bad_signature_is_refused_and_nothing_is_recorded(app, client, webhook_secret, headers):
    raw = make_mail()
    answer = client.post("/email/inbound", data=raw, headers=headers)
    assert answer.status_code == 401 and "Bad signature" in answer.json["error"]
    assert tickets() == 0 and db_session().scalar(select(func.count()).select_from(EmailQuarantine)) == 0


def test_the_webhook_is_off_without_a_secret(app, client):
    raw = make_mail()
    answer = client.post("/email/inbound", data=raw, headers=sign(raw, secret=""))
    assert answer.status_code == 403 and "webhook is off" in answer.json["error"] and tickets() == 0


@pytest.mark.parametrize("app_config", [{"WEBHOOK_RATE_LIMIT": "2 per minute"}])
def test_the_webhook_is_rate_limited(app, client, webhook_secret):
    codes = []
    for n in range(3):
        raw = make_mail(subject=f"Mail {n}")
        codes.append(client.post("/email/inbound", data=raw, headers=sign(raw)).status_code)
    assert codes == [202, 202, 429] and tickets() == 2


# ------------------------------------------------------------------ quarantine


def test_the_quarantine_lists_each_mail_with_its_reason(app, client, login, admin):
    login(client, admin)
    assert "Nothing here" in text(client.get("/admin/email/quarantine").text, cls="empty-state")
    ingest_message(make_mail(sender="away@example.test", subject="Out of office",
                             headers={"Auto-Submitted": "auto-replied"}))
    ingest_message(b"Subject: nobody\r\nMessage-ID: <n@example.test>\r\n\r\nhi\r\n")
    page = client.get("/admin/email/quarantine").text
    rows = texts(page, cls="quarantine-row")
    assert len(rows) == 2
    assert rows[0].startswith("2 quarantined (no sender) nobody No usable sender")
    assert rows[1].startswith("1 auto reply away@example.test Out of office Auto-Submitted: auto-replied.")
    only = texts(client.get("/admin/email/quarantine?kind=auto_reply").text, cls="quarantine-row")
    assert len(only) == 1 and "Out of office" in only[0]


def test_the_quarantine_pages_through_many_entries(app, client, login, admin):
    for n in range(51):
        ingest_message(f"Subject: lost {n}\r\nMessage-ID: <lost-{n}@example.test>\r\n\r\nhi\r\n".encode())
    login(client, admin)
    first = client.get("/admin/email/quarantine").text
    assert len(texts(first, cls="quarantine-row")) == 50
    assert attributes(first, tag="a", cls="page-link")[-1]["rel"] == "next"
    second = client.get("/admin/email/quarantine?state=open&page=2").text
    assert [r.split()[0] for r in texts(second, cls="quarantine-row")] == ["1"]


def test_an_admin_downloads_the_raw_mail_and_creates_a_ticket_anyway(app, client, login, admin):
    raw = make_mail(sender="Robot <robot@example.test>", subject="Automatic reply: hello",
                    headers={"Auto-Submitted": "auto-replied"})
    row_id = ingest_message(raw).quarantine_id
    login(client, admin)
    detail = client.get(f"/admin/email/quarantine/{row_id}").text
    assert text(detail, id="quarantine-reason") == "auto reply Auto-Submitted: auto-replied."
    assert "Automatic reply: hello" in text(detail, id="quarantine-headers")
    download = client.get(f"/admin/email/quarantine/{row_id}/raw")
    assert download.data == raw and "attachment" in download.headers["Content-Disposition"]

    refused = client.post(f"/admin/email/quarantine/{row_id}/ticket", data={"sender": "not an address", "subject": "x"})
    assert refused.status_code == 422 and field_errors(refused.text)
    staff = client.post(f"/admin/email/quarantine/{row_id}/ticket", data={"sender": admin.email, "subject": "x"})
    assert staff.status_code == 422
    assert field_errors(staff.text) == ["This is an agent's address: tickets are opened for customers."]
    created = client.post(f"/admin/email/quarantine/{row_id}/ticket",
                          data={"sender": "real.person@example.test", "subject": "Robot says hello"},
                          follow_redirects=True)
    assert "Created HD-1 from the quarantined mail." in " ".join(alerts(created.text))
    ticket = db_session().get(Ticket, 1)
    assert (ticket.subject, ticket.customer.email, ticket.channel) == ("Robot says hello", "real.person@example.test",
                                                                       "email")
    assert ticket.messages[0].meta["auto_reply"] is True  # no plugin acknowledges or surveys it
    again = client.get(f"/admin/email/quarantine/{row_id}").text
    assert "ticket created" in text(again, id="quarantine-resolution") and text(again, id="quarantine-ticket") == "HD-1"
    assert client.get("/admin/email/quarantine").text.count("quarantine-row") == 0  # waiting list is empty


def test_retry_after_the_cause_is_fixed_makes_the_ticket(app, client, login, admin):
    refusing = make_plugin("blocklist", helpdesk_inbound_filter=lambda sender: "sender is blocklisted")
    manager(app).register(refusing, "blocklist")
    result = ingest_message(make_mail(subject="Let me in"))
    assert (result.outcome, result.reason) == (
        "quarantined", "Refused by the helpdesk: Your message was not accepted: sender is blocklisted")
    login(client, admin)
    still = client.post(f"/admin/email/quarantine/{result.quarantine_id}/retry", follow_redirects=True)
    assert "Still not a ticket (quarantined)" in " ".join(alerts(still.text))
    manager(app).unregister("blocklist")
    retried = client.post(f"/admin/email/quarantine/{result.quarantine_id}/retry", follow_redirects=True)
    assert "Retried: New ticket HD-1 from carla@example.test." in " ".join(alerts(retried.text))
    row = db_session().get(EmailQuarantine, result.quarantine_id)
    assert (row.resolution, row.ticket_id) == ("retried", 1)
    assert db_session().scalar(select(func.count()).select_from(EmailQuarantine)) == 1  # updated, not copied


def test_quarantine_and_mailboxes_are_for_admins_only(app, client, login, agent, customer):
    row_id = ingest_message(b"Subject: x\r\n\r\nhi\r\n").quarantine_id
    for user, code in ((agent, 403), (customer, 404)):
        login(client, user)
        for url in ("/admin/email/quarantine", f"/admin/email/quarantine/{row_id}",
                    f"/admin/email/quarantine/{row_id}/raw", "/admin/email/mailboxes"):
            assert client.get(url).status_code == code, (user.role, url)
    client.get("/logout")
    anonymous = app.test_client().get(f"/admin/email/quarantine/{row_id}/raw")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]


# ------------------------------------------------------------------ mailboxes


def test_an_admin_adds_a_mailbox_and_tests_an_unreachable_server(app, client, login, admin):
    login(client, admin)
    assert "No mailbox yet" in text(client.get("/admin/email/mailboxes").text, cls="empty-state")
    port = free_port()  # nothing listens there
    form = {"name": "Support", "host": "127.0.0.1", "port": str(port), "security": "none", "username": "support",
            "password": "imap-password", "folder": "INBOX", "poll_minutes": "5", "team_id": "", "active": "y"}
    tested = client.post("/admin/email/mailboxes/new", data={**form, "action": "test"})
    assert tested.status_code == 200
    assert text(tested.text, id="test-result") == (
        f"Connection failed. Could not connect to 127.0.0.1:{port}: connection refused "
        "(is the host and port right, and the server running?).")
    assert db_session().scalar(select(func.count()).select_from(EmailMailbox)) == 0  # testing saves nothing

    saved = client.post("/admin/email/mailboxes/new", data={**form, "action": "save"}, follow_redirects=True)
    assert "Saved mailbox Support." in " ".join(alerts(saved.text))
    box = db_session().scalars(select(EmailMailbox)).one()
    assert box.password_encrypted != "imap-password" and decrypt_secret(box.password_encrypted) == "imap-password"
    entry = db_session().scalars(select(AdminAuditEntry)).one()
    assert (entry.kind, entry.action, entry.after["host"]) == ("email.mailbox", "created", "127.0.0.1")
    assert entry.after["password"] == "••••••" and "imap-password" not in str(entry.after)
    row = text(saved.text, cls="mailbox-row")
    assert row.startswith(f"Support support · INBOX 127.0.0.1:{port} (no TLS) default never every 5 min")

    listed = client.post(f"/admin/email/mailboxes/{box.id}/test", follow_redirects=True)
    assert f"Support: Could not connect to 127.0.0.1:{port}: connection refused" in " ".join(alerts(listed.text))
    polled = client.post(f"/admin/email/mailboxes/{box.id}/poll", follow_redirects=True)
    assert "Support: fetched 0, then: Support: connection refused" in " ".join(alerts(polled.text))
    assert "connection refused" in text(polled.text, cls="mailbox-error")


def test_mailbox_form_errors_show_next_to_the_fields_and_the_password_is_kept(app, client, login, admin):
    login(client, admin)
    bad = client.post("/admin/email/mailboxes/new", data={"name": "", "host": "imap.example.test", "port": "70000",
                                                          "security": "ssl", "username": "u", "password": "",
                                                          "folder": "INBOX", "poll_minutes": "5"})
    assert bad.status_code == 422
    errors = field_errors(bad.text)
    assert "This field is required." in errors and "Number must be between 1 and 65535." in errors
    from helpdesk.plugin_api import encrypt_secret

    box = EmailMailbox(name="Sales", host="imap.example.test", username="sales",
                       password_encrypted=encrypt_secret("pw"))
    db_session().add(box)
    db_session().commit()
    form = client.get(f"/admin/email/mailboxes/{box.id}").text
    assert 'value="pw"' not in form and "Leave empty to keep the stored password." in form
    client.post(f"/admin/email/mailboxes/{box.id}", data={"name": "Sales", "host": "imap2.example.test", "port": "993",
                                                          "security": "ssl", "username": "sales", "password": "",
                                                          "folder": "INBOX", "poll_minutes": "10", "action": "save"})
    db_session().expire_all()
    box = db_session().get(EmailMailbox, box.id)
    assert (box.host, box.poll_minutes, decrypt_secret(box.password_encrypted)) == ("imap2.example.test", 10, "pw")
    deleted = client.post(f"/admin/email/mailboxes/{box.id}/delete", follow_redirects=True)
    assert "Deleted mailbox Sales." in " ".join(alerts(deleted.text))


# ------------------------------------------------------------------ originals, slots, disabled


def test_the_original_mail_is_for_staff_only(app, client, login, agent, customer):
    from helpdesk_email.models import EmailRawMessage

    raw = make_mail(sender=customer.email)
    result = ingest_message(raw)
    raw_id = db_session().scalar(select(EmailRawMessage.id).where(EmailRawMessage.message_id == result.message_id))
    login(client, customer)
    assert client.get(f"/email/originals/{raw_id}").status_code == 404
    assert "Original message" not in client.get(f"/portal/tickets/{result.reference}").text
    login(client, agent)
    assert client.get(f"/email/originals/{raw_id}").data == raw


def test_admins_see_the_quarantine_on_their_dashboard_and_in_the_navigation(app, client, login, admin):
    ingest_message(b"Subject: lost\r\n\r\nhi\r\n")
    login(client, admin)
    page = client.get("/admin/").text
    assert "1 mail(s) could not be turned into tickets" in text(page, id="email-admin-card")
    assert ("Email", "/admin/email/mailboxes") in [(t, a["href"]) for t, a in zip(
        texts(page, cls="nav-plugin-link"), attributes(page, cls="nav-plugin-link"), strict=True)]


@pytest.mark.plugins()
def test_a_disabled_plugin_has_no_pages_and_no_webhook(app, client, login, admin):
    manager(app).save_settings("email", {"webhook_secret": SECRET})
    login(client, admin)
    assert client.get("/admin/email/quarantine").status_code == 404
    raw = make_mail()
    assert client.post("/email/inbound", data=raw, headers=sign(raw)).status_code == 404
    assert tickets() == 0
