"""Customers' praise: a top rating with words, or a thank-you, becomes kudos for the agents who worked the ticket."""
from __future__ import annotations

import pytest
from recognition_testkit import kudos_rows, nav_labels, set_private, text, texts

from helpdesk.plugin_api import services

pytestmark = pytest.mark.plugins("recognition")


def test_five_star_rating_with_comment_credits_assignee_and_public_repliers(
        db, client, login, people, customer, worked_ticket):
    services.record_feedback(customer, "csat", score=5, comment="Bo talked me through it calmly. Brilliant!",
                             ticket=worked_ticket, source="survey")

    rows = kudos_rows()
    # Ana (assignee) and Bo (public reply); Cy only wrote an internal note.
    assert sorted(k.recipient.name for k in rows) == ["Ana Agent", "Bo Bright"]
    assert {(k.source, k.score, k.giver_id, k.ticket_id) for k in rows} == {
        ("rating", 5, customer.id, worked_ticket.id)}

    login(client, people["bo"])
    dashboard = client.get("/dashboard").text
    badge, note = texts(dashboard, cls="kudos-notification")  # newest first: the first five-star badge
    assert note.startswith(f"Carla Customer rated your help on {worked_ticket.reference}.")
    assert "“Bo talked me through it calmly. Brilliant!”" in note
    assert badge.startswith("You earned the “Five stars” badge: your first five-star rating.")
    assert [label for label in nav_labels(dashboard) if label.startswith("Kudos")] == ["Kudos (2)"]

    feed = client.get("/recognition/").text
    entries = texts(feed, cls="kudos-item")
    assert len(entries) == 2
    assert all("Bo talked me through it calmly. Brilliant!" in e for e in entries)
    assert all(f"On {worked_ticket.reference} Printer on fire" in e for e in entries)
    assert "customer rating (5★)" in entries[0]
    assert f'href="/tickets/{worked_ticket.reference}"' in feed


def test_only_top_ratings_with_words_are_praise_but_every_rating_counts(db, client, login, people, customer,
                                                                        worked_ticket):
    services.record_feedback(customer, "csat", score=5, ticket=worked_ticket)  # no comment
    services.record_feedback(customer, "csat", score=4, comment="Good, a bit slow.", ticket=worked_ticket)
    services.record_feedback(customer, "nps", score=8, comment="Fine.", ticket=worked_ticket)
    assert kudos_rows() == []

    login(client, people["cy"])
    profile = client.get(f"/recognition/agents/{people['ana'].id}").text
    # The second CSAT replaced the first: one rating per ticket and agent.
    assert text(profile, id="profile-stats").startswith("0 kudos (0 from customers, 0 from colleagues) 4.0 "
                                                        "CSAT average from 1 rating 0 five-star ratings")

    # An NPS promoter with words is praise too.
    services.record_feedback(customer, "nps", score=10, comment="Best support I've had.", ticket=worked_ticket)
    assert sorted((k.recipient.name, k.score) for k in kudos_rows()) == [("Ana Agent", 10), ("Bo Bright", 10)]


def test_a_customer_kudos_counts_once_per_ticket_and_agent(db, people, customer, worked_ticket):
    services.record_feedback(customer, "csat", score=5, comment="Great help!", ticket=worked_ticket)
    services.record_feedback(customer, "csat", score=5, comment="Really, great help!", ticket=worked_ticket)
    services.add_message(worked_ticket, customer, "Thank you so much, it is fixed.")
    assert len(kudos_rows()) == 2  # Ana and Bo, once each

    other = services.create_ticket(customer, "Scanner jam", "Paper stuck.")
    services.add_message(other, people["bo"], "Hi Carla, fixed.")
    services.add_message(other, customer, "Many thanks!")
    assert [(k.recipient.name, k.ticket_id) for k in kudos_rows()][-1] == ("Bo Bright", other.id)


THANKS = [  # (message, the sentence quoted)
    ("It works again. Thank you so much for your patience! See you.", "Thank you so much for your patience!"),
    ("Merci beaucoup pour votre aide.", "Merci beaucoup pour votre aide."),
    ("Vielen Dank!\nGruß, Carla", "Vielen Dank!"),
    ("muchas gracias, todo funciona", "muchas gracias, todo funciona"),
]
NOT_THANKS = [
    "Thanks in advance for looking into it.",
    "Thanks a lot, but it is still broken.",
    "Thanks for nothing.",
    "thanks",  # too weak on its own
    "I said thank you so muchly",  # phrases match whole words only
]


def test_thank_you_in_a_message_is_quoted(db, people, customer):
    for body, quote in THANKS:
        ticket = services.create_ticket(customer, "Printer", "Smoke")
        services.update_ticket(ticket, None, assignee_id=people["ana"].id)
        services.add_message(ticket, people["bo"], "Hi Carla, fixed.")
        services.add_message(ticket, customer, body)
        rows = [k for k in kudos_rows() if k.ticket_id == ticket.id]
        assert [(k.recipient.name, k.source, k.message) for k in rows] == [
            ("Ana Agent", "thanks", quote), ("Bo Bright", "thanks", quote)], body


def test_no_thanks_without_an_unmistakable_phrase(db, people, customer, worked_ticket):
    for body in NOT_THANKS:
        services.add_message(worked_ticket, customer, body)
        assert kudos_rows() == [], body
    from helpdesk_recognition.kudos import find_thanks

    assert [find_thanks(body) for body in NOT_THANKS] == [None] * len(NOT_THANKS)


def test_thanks_before_any_agent_reply_or_from_an_auto_reply_gives_nothing(db, people, customer, other_customer):
    fresh = services.create_ticket(customer, "Login", "Cannot sign in.")
    services.update_ticket(fresh, None, assignee_id=people["ana"].id)
    services.add_message(fresh, customer, "Thank you so much for any help.")
    assert kudos_rows() == []  # nobody answered yet

    services.add_message(fresh, people["ana"], "Hi Carla, reset link sent.")
    services.add_message(fresh, customer, "Thank you so much! I'm out of office.", meta={"auto_reply": True})
    services.add_message(fresh, customer, "Many thanks!", meta={"email": {"auto_reply": True}})
    services.add_message(fresh, other_customer, "Thank you so much from Otto", needs_review=True)
    assert kudos_rows() == []

    auto = services.create_ticket(customer, "Out of office", "Away", meta={"auto_reply": True})
    services.add_message(auto, people["ana"], "Hi Carla")
    services.add_message(auto, customer, "Thank you so much!")
    assert kudos_rows() == []


def test_thanks_after_closing_credit_the_closed_tickets_agents(db, people, customer, worked_ticket):
    from helpdesk.services.settings import save_site_settings  # the admin's "closed means closed" switch

    save_site_settings({"closed_means_closed": True})
    services.update_ticket(worked_ticket, people["ana"], status="closed")
    message = services.add_message(worked_ticket, customer, "Many thanks, all good now!")
    assert message.ticket.linked_ticket_id == worked_ticket.id  # a new ticket, linked to the closed one
    assert [(k.recipient.name, k.ticket_id, k.message) for k in kudos_rows()] == [
        ("Ana Agent", worked_ticket.id, "Many thanks, all good now!"),
        ("Bo Bright", worked_ticket.id, "Many thanks, all good now!")]


def test_the_agent_who_opted_in_gets_an_email(db, smtp, people, customer, worked_ticket):
    set_private(people["bo"], private=False, email_notifications=True)
    services.record_feedback(customer, "csat", score=5, comment="Quick and kind.", ticket=worked_ticket)

    # Not the reply notices, nor the core's agent notifications (the assignment of the ticket).
    to_agents = [m for m in smtp.sink.messages() if m["Subject"].startswith("Recognition:")]
    mail, badge = to_agents  # Bo's kudos, then his first five-star badge; Ana did not opt in
    assert mail["To"] == badge["To"] == "bo@acme.test"
    assert badge["Subject"] == "Recognition: You earned the “Five stars” badge: your first five-star rating."
    assert mail["Subject"] == f"Recognition: Carla Customer rated your help on {worked_ticket.reference}."
    body = mail.get_content()
    assert "“Quick and kind.”" in body
    assert f"https://support.acme.test/tickets/{worked_ticket.reference}" in body
    assert "https://support.acme.test/recognition/preferences" in body


@pytest.mark.plugins()
def test_disabled_plugin_records_nothing(db, client, login, people, customer, worked_ticket):
    services.record_feedback(customer, "csat", score=5, comment="Great", ticket=worked_ticket)
    assert kudos_rows() == []
    login(client, people["ana"])
    assert client.get("/recognition/").status_code == 404
    assert "Kudos" not in nav_labels(client.get("/dashboard").text)
