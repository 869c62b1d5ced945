"""A ticket's trail gives the reasons of automatic changes in the reader's language, while the
stored reason stays English for search, exports and the API (issue 24)."""
from __future__ import annotations

from flask_babel import force_locale, lazy_gettext, lazy_pgettext
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


def test_a_reason_built_of_several_texts_is_read_whole_in_each_language(app, db, ticket, agent):
    """Parameters that are texts themselves, and lists of texts, are stored nested: a German
    reader reads every part in German, not only the outer sentence."""
    from helpdesk.plugin_api import joined

    reason = joined([lazy_gettext("via %(channel)s", channel=lazy_pgettext("agent", "pending")),
                     lazy_gettext("via %(channel)s", channel="Lea <b>")])
    audit(ticket, agent, "changed", "status", "open", "pending", reason=reason)
    db.session.commit()
    [row] = reasons(db, ticket)[-1:]
    assert row.reason == "via pending; via Lea <b>"
    assert row.reason_words == {"join": "; ", "parts": [
        {"msgid": "via %(channel)s", "params": {"channel": {"context": "agent", "msgid": "pending", "params": {}}}},
        {"msgid": "via %(channel)s", "params": {"channel": "Lea <b>"}}]}
    with app.test_request_context(), force_locale("de"):
        assert row.reason_text == "über wartend; über Lea <b>"
