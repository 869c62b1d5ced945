"""Agents' notifications are written in each recipient's language, whoever triggered them:
the bell's text, the mail and the digest (issue 24)."""
from __future__ import annotations

from datetime import datetime

import pytest
from flask_babel import force_locale
from smtp_sink import SMTPServer, free_port
from sqlalchemy import select, update

from helpdesk import services
from helpdesk.models import Notification
from helpdesk.services import notifications as notes


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def app_config(smtp_port):
    return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": smtp_port, "MAIL_FROM": "help@acme.test",
            "EXTERNAL_URL": "https://support.acme.test/"}


@pytest.fixture
def smtp(smtp_port):
    server = SMTPServer(smtp_port).start()
    yield server
    server.stop()


def test_each_agent_reads_the_assignment_in_their_own_language(db, smtp, ticket, admin, make_user):
    jonas = make_user("agent", name="Jonas Weber", email="jonas@acme.test")
    jonas.language = "de"
    lea = make_user("agent", name="Lea Park", email="lea@acme.test")
    db.session.commit()
    with force_locale("en"):  # the admin works in English
        services.update_ticket(ticket, admin, assignee_id=jonas.id)
        services.update_ticket(ticket, admin, assignee_id=lea.id)
    texts = {n.recipient_id: n.text for n in db.session.scalars(select(Notification))}
    assert texts[jonas.id] == f"{admin.name} hat Ihnen {ticket.reference} zugewiesen: Printer on fire"
    assert texts[lea.id] == f"{admin.name} assigned {ticket.reference} to you: Printer on fire"
    [german] = [m for m in smtp.sink.messages() if m["To"] == "jonas@acme.test"]
    body = german.get_content()
    assert body.startswith("Hallo Jonas,")
    assert "Ihre Benachrichtigungen: https://support.acme.test/notifications" in body
    [english] = [m for m in smtp.sink.messages() if m["To"] == "lea@acme.test"]
    assert english.get_content().startswith("Hi Lea,")


def test_the_digest_is_in_the_agents_language(db, smtp, ticket, customer, make_user):
    jonas = make_user("agent", name="Jonas Weber", email="jonas@acme.test")
    jonas.language = "de"
    db.session.commit()
    notes.save_preferences(jonas, {"customer_replied": "digest"})
    assert notes.follow(jonas, ticket)
    services.add_message(ticket, customer, "Eins")
    db.session.execute(update(Notification).where(Notification.recipient_id == jonas.id)
                       .values(created_at=datetime(2030, 1, 1, 7, 30)))
    db.session.commit()
    assert notes.send_digests(datetime(2030, 1, 1, 8, 0)) == 1
    [digest] = [m for m in smtp.sink.messages() if m["To"] == "jonas@acme.test"]
    assert digest["Subject"] == "Ihre tägliche Zusammenfassung: 1 Benachrichtigung"
    assert f"{customer.name} hat auf {ticket.reference} geantwortet" in digest.get_content()
