"""A ticket's trail gives the reasons of automatic changes in the reader's language, while the
stored reason stays English for search, exports and the API (issue 24)."""
from __future__ import annotations

from flask_babel import force_locale, lazy_gettext
from sqlalchemy import select

from helpdesk import services
from helpdesk.models import AuditEvent
from helpdesk.services.tickets import audit


def reasons(db, ticket):
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.ticket_id == ticket.id)
                                   .order_by(AuditEvent.id)))


def test_a_lazy_reason_is_stored_in_english_and_read_in_each_language(app, db, client, login, agent, customer):
    with force_locale("de"):  # a German-speaking customer opens it: the stored reason is still English
        ticket = services.create_ticket(customer, "Drucker", "Er brennt.")
    [created] = reasons(db, ticket)
    assert created.reason == "via web"
    assert created.reason_words == {"msgid": "via %(channel)s", "params": {"channel": "web"}}
    services.add_message(ticket, customer, "Noch etwas.")
    login(client, agent)
    assert "via web" in client.get(f"/tickets/{ticket.reference}").text
    agent.language = "de"
    db.session.commit()
    page = client.get(f"/tickets/{ticket.reference}").text
    assert "über web" in page and "via web" not in page


def test_a_plain_reason_is_shown_as_stored_and_a_broken_one_falls_back(app, db, ticket, agent):
    audit(ticket, agent, "changed", "priority", "normal", "high", reason="the customer's own words")
    audit(ticket, agent, "changed", "priority", "high", "urgent",
          reason=lazy_gettext("escalated by %(who)s", who="Lea"))
    db.session.commit()
    plain, lazy = reasons(db, ticket)[-2:]
    assert plain.reason_words is None and plain.reason_text == "the customer's own words"
    assert lazy.reason == "escalated by Lea" and lazy.reason_text == "escalated by Lea"
    lazy.reason_words = {"msgid": "escalated by %(who)s", "params": {}}  # a parameter gone missing
    with app.test_request_context():
        assert lazy.reason_text == "escalated by Lea"
