"""The portal speaks in the right voice (issue 17, broken 7): a ticket the customer marked
solved says so in their words; signing up with an address they wrote from before points
them to the sign-in link their mail holds (the same page for every address: no probing)."""
from __future__ import annotations

import re

from pagetext import alerts, text
from sqlalchemy import select

from helpdesk import services
from helpdesk.models import OutboxMail


def test_the_customer_who_marked_it_solved_reads_it_in_their_words(app, db, client, login, customer, agent, ticket):
    login(client, customer)
    done = client.post(f"/portal/tickets/{ticket.reference}/solved", data={}, follow_redirects=True)
    assert "Marked as solved. Thank you!" in alerts(done.text)
    assert text(done.text, cls="status-hint") == "You marked this as solved. Reply or reopen if you need more help."
    assert "We think" not in done.text
    # Solved by the agent: "we think" is then the right voice.
    services.update_ticket(ticket, agent, status="open")
    services.update_ticket(ticket, agent, status="resolved")
    page = client.get(f"/portal/tickets/{ticket.reference}")
    assert text(page.text, cls="status-hint") == "We think this is solved. Reply or reopen if it is not."


def test_signing_up_with_an_address_we_know_points_to_the_sign_in_link(app, db, client):
    # Carla wrote to us by email before: a customer without a password.
    carla = services.find_or_create_customer("email", "carla@example.test", "Carla Customer")
    services.create_ticket(carla, "Printer on fire", "Room 4.")
    answers = {}
    for address in ("carla@example.test", "nobody-yet@example.test"):
        answer = client.post("/signup", data={"name": "Carla", "email": address, "password": "long enough"},
                             follow_redirects=True)
        assert answer.request.path == "/login"
        answers[address] = alerts(answer.text)
    known, unknown = answers.values()
    assert known == [m.replace("nobody-yet@", "carla@") for m in unknown]  # the same answer: no probing
    assert "already exists" not in " ".join(known)
    assert "written to us from this address before? Then you already have an account" in known[0]
    assert "the mail holds a sign-in link to it" in known[0]

    mail = db.session.scalar(select(OutboxMail).where(OutboxMail.to_addr == "carla@example.test"))
    assert mail.subject == "You already have an account"
    link = re.search(r"http://helpdesk\.test(/magic/\S+)", mail.body_text).group(1)
    signed_in = client.post(link, follow_redirects=True)
    assert signed_in.request.path == "/portal/" and "Printer on fire" in signed_in.text
