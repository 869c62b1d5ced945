"""The customer portal, driven through its pages: sign-up, sign-in, tickets, replies, reopening."""
from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from pagetext import alerts, body, field_errors, text, texts
from sqlalchemy import func, select

from helpdesk import services
from helpdesk.models import Attachment, LoginToken, Message, OutboxMail, Ticket, User


def count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# ------------------------------------------------------------------ sign-up


def test_sign_up_creates_a_customer_who_confirms_by_mail(client, db):
    page = client.get("/signup")
    assert page.status_code == 200 and "Create an account" in body(page.text)

    answer = client.post("/signup", data={"name": "Nina Neu", "email": "Nina@Example.org",
                                          "password": "long enough"}, follow_redirects=True)
    assert answer.request.path == "/login"
    [said] = alerts(answer.text)
    assert said.startswith("Check your inbox: we sent a link to nina@example.org. Open it to finish signing in.")
    user = db.session.scalar(select(User).where(User.email == "nina@example.org"))
    assert user.role == "customer" and user.check_password("long enough")
    assert [(i.kind, i.value, i.verified) for i in user.identities] == [("email", "nina@example.org", False)]

    mail = db.session.scalar(select(OutboxMail).where(OutboxMail.to_addr == "nina@example.org"))
    assert mail.subject == "Confirm your address to finish signing up"
    link = re.search(r"http://helpdesk\.test(/magic/\S+)", mail.body_text).group(1)
    confirmed = client.post(link, follow_redirects=True)
    assert confirmed.request.path == "/portal/"
    assert text(confirmed.text, id="current-user") == "Nina Neu"
    db.session.refresh(user.identities[0])
    assert user.identities[0].verified is True


@pytest.mark.parametrize("form,error", [
    ({"name": "", "email": "n@example.org", "password": "long enough"}, "This field is required."),
    ({"name": "Nina", "email": "not-an-address", "password": "long enough"}, "Not a valid email address"),
    ({"name": "Nina", "email": "n@example.org", "password": "short"},
     "Field must be between 8 and 200 characters long."),
    ({"name": "N" * 201, "email": "n@example.org", "password": "long enough"}, "longer than 200 characters"),
])
def test_sign_up_errors_are_shown_and_create_nobody(client, db, customer, form, error):
    before = count(db, User)
    answer = client.post("/signup", data=form)
    assert answer.request.path == "/signup"
    assert any(error in e for e in field_errors(answer.text)), field_errors(answer.text)
    assert "current-user" not in answer.text  # still signed out
    assert count(db, User) == before


# ------------------------------------------------------------------ sign-in


def test_password_sign_in_through_the_form(client, make_user):
    make_user("customer", name="Pia Pass", email="pia@example.test", password="correct horse")
    wrong = client.post("/login", data={"email": "pia@example.test", "password": "wrong password"})
    assert wrong.status_code == 401
    assert "Wrong email or password." in alerts(wrong.text)
    assert client.get("/portal/").status_code == 302  # not signed in

    answer = client.post("/login", data={"email": "PIA@example.test", "password": "correct horse"},
                         follow_redirects=True)
    assert answer.request.path == "/portal/"
    assert text(answer.text, id="current-user") == "Pia Pass"
    assert "You have no tickets yet." in body(answer.text)


def test_sign_in_returns_to_the_page_asked_for_but_never_off_site(client, db, customer, ticket):
    customer.set_password("correct horse")
    db.session.commit()
    asked = f"/portal/tickets/{ticket.reference}"
    first = client.get(asked)
    assert first.status_code == 302 and "/login" in first.location
    answer = client.post(f"/login?next={asked}", data={"email": customer.email, "password": "correct horse"})
    assert answer.location.endswith(asked)

    client.post("/logout", data={})
    evil = client.post("/login?next=//evil.example/x",
                       data={"email": customer.email, "password": "correct horse"})
    assert evil.location.endswith("/portal/")


def test_magic_link_request_mail_confirm_page_then_sign_in(client, db, customer):
    answer = client.post("/magic", data={"email": "Carla@Example.test"}, follow_redirects=True)
    assert "If we know this address, a sign-in link is on its way." in " ".join(alerts(answer.text))

    mail = db.session.scalar(select(OutboxMail))
    assert mail.to_addr == "carla@example.test" and mail.subject == "Your sign-in link"
    assert mail.body_text.startswith("Hello Carla,")
    link = re.search(r"http://helpdesk\.test(/magic/\S+)", mail.body_text).group(1)

    confirm = client.get(link)
    assert confirm.status_code == 200
    assert "Sign in as Carla Customer" in body(confirm.text)
    assert "current-user" not in confirm.text  # a GET (a mail scanner) signs nobody in
    assert client.get("/portal/").status_code == 302

    signed_in = client.post(link, data={}, follow_redirects=True)
    assert signed_in.request.path == "/portal/"
    assert text(signed_in.text, id="current-user") == "Carla Customer"

    client.post("/logout", data={})
    reused = client.get(link)
    assert reused.status_code == 400
    assert "This sign-in link cannot be used" in body(reused.text)


def test_magic_link_for_an_unknown_address_answers_the_same_and_sends_nothing(client, db):
    answer = client.post("/magic", data={"email": "nobody@example.test"}, follow_redirects=True)
    assert "If we know this address, a sign-in link is on its way." in " ".join(alerts(answer.text))
    assert count(db, OutboxMail) == 0


def test_magic_link_expires(client, db, customer, app):
    client.post("/magic", data={"email": customer.email})
    link = re.search(r"(/magic/\S+)", db.session.scalar(select(OutboxMail.body_text))).group(1)
    token = db.session.scalar(select(LoginToken))
    token.expires_at -= timedelta(minutes=app.config["MAGIC_LINK_MINUTES"] + 1)
    db.session.commit()
    assert client.get(link).status_code == 400
    assert client.post(link, data={}).status_code == 400
    assert client.get("/portal/").status_code == 302


# ------------------------------------------------------------------ tickets


@pytest.fixture
def carla(client, login, customer):
    login(client, customer)
    return client


def open_ticket(client, subject="Router blinks red", body="Since this morning.", **extra):
    data = {"subject": subject, "body": body, **extra}
    return client.post("/portal/new", data=data, content_type="multipart/form-data", follow_redirects=True)


def test_open_a_ticket_with_an_attachment_and_see_it_listed(carla, db, customer, other_customer):
    services.create_ticket(other_customer, "Otto's secret", "Not for Carla")
    form = carla.get("/portal/new")
    assert form.status_code == 200 and "Open a ticket" in body(form.text)

    answer = open_ticket(carla, attachments=(io.BytesIO(b"router log line 1\n"), "router log.txt"))
    ticket = db.session.scalar(select(Ticket).where(Ticket.customer_id == customer.id))
    assert answer.request.path == f"/portal/tickets/{ticket.reference}"
    assert f"Thank you. Your ticket {ticket.reference} is open" in " ".join(alerts(answer.text))
    header = text(answer.text, id="ticket-header")
    assert ticket.reference in header and "Router blinks red" in header and "new" in header
    assert "Since this morning." in text(answer.text, id="conversation")
    assert texts(answer.text, cls="attachment") == ["router log.txt (18 B)"]  # the name as the customer gave it

    attachment = db.session.scalar(select(Attachment))
    download = carla.get(f"/attachments/{attachment.token}")
    assert download.status_code == 200 and download.data == b"router log line 1\n"
    assert "attachment" in download.headers["Content-Disposition"]

    listing = carla.get("/portal/")
    rows = texts(listing.text, cls="ticket-row")
    assert len(rows) == 1 and ticket.reference in rows[0] and "Router blinks red" in rows[0]
    assert "Otto's secret" not in body(listing.text)


@pytest.mark.parametrize("subject,message,error", [
    ("", "Body", "This field is required."),
    ("Subject", "", "This field is required."),
    ("   ", "Body", "This field is required."),
    ("S" * 251, "Body", "Field cannot be longer than 250 characters."),
    ("Subject", "B" * 100_001, "Field cannot be longer than 100000 characters."),
])
def test_new_ticket_with_empty_or_oversized_fields_shows_the_error_and_creates_nothing(
        carla, db, subject, message, error):
    answer = carla.post("/portal/new", data={"subject": subject, "body": message})
    assert answer.status_code == 422
    assert error in field_errors(answer.text)
    assert "Open a ticket" in body(answer.text)
    assert count(db, Ticket) == 0


def test_oversized_attachment_is_refused_and_nothing_is_created(carla, db, app):
    app.config["MAX_ATTACHMENT_BYTES"] = 1000
    answer = carla.post("/portal/new", data={
        "subject": "Screenshot", "body": "See the file",
        "attachments": (io.BytesIO(b"x" * 1001), "huge.png")}, content_type="multipart/form-data")
    assert answer.status_code == 422
    assert any("'huge.png' is too large" in e for e in field_errors(answer.text))
    assert count(db, Ticket) == 0 and count(db, Attachment) == 0
    assert carla.get("/portal/").text.count("ticket-row") == 0


@pytest.mark.parametrize("path", ["/portal/tickets/HD-999", "/portal/tickets/nonsense",
                                  "/portal/tickets/HD-999/solved"])
def test_unknown_reference_is_a_404_page(carla, path):
    answer = carla.get(path) if not path.endswith("solved") else carla.post(path, data={})
    assert answer.status_code == 404
    assert text(answer.text, id="error-page").startswith("Error 404 Not found")


def test_another_customers_ticket_is_a_404_and_cannot_be_answered(carla, db, other_customer):
    theirs = services.create_ticket(other_customer, "Otto's ticket", "Private")
    assert carla.get(f"/portal/tickets/{theirs.reference}").status_code == 404
    assert carla.post(f"/portal/tickets/{theirs.reference}", data={"body": "hi"}).status_code == 404
    assert carla.post(f"/portal/tickets/{theirs.reference}/solved", data={}).status_code == 404
    assert [m.body for m in theirs.messages] == ["Private"] and theirs.status == "new"


def history(page: str) -> list[str]:
    """The status history entries, without their "just now" / "2h ago" times."""
    return [re.sub(r"\s+(just now|-?\d+[dhm] ago)$", "", h) for h in texts(page, cls="history-event")]


def test_reply_mark_solved_reopen_and_status_history(carla, db, ticket, agent):
    services.add_message(ticket, agent, "Hi Carla, please unplug it.")
    services.add_message(ticket, agent, "Internal: she has a support contract", internal=True)
    page = carla.get(f"/portal/tickets/{ticket.reference}")
    conversation = text(page.text, id="conversation")
    assert "Hi Carla, please unplug it." in conversation and "Alex Agent" in conversation
    assert "support contract" not in page.text

    replied = carla.post(f"/portal/tickets/{ticket.reference}", data={"body": "Unplugged, still smoking."},
                         follow_redirects=True)
    assert "Your reply was added." in " ".join(alerts(replied.text))
    assert texts(replied.text, cls="message-author")[-1] == "You"
    assert "Unplugged, still smoking." in text(replied.text, id="conversation")

    solved = carla.post(f"/portal/tickets/{ticket.reference}/solved", data={}, follow_redirects=True)
    assert "Marked as solved. Thank you!" in " ".join(alerts(solved.text))
    assert text(solved.text, id="ticket-status") == "resolved"
    assert text(solved.text, id="ticket-actions") == "Reopen"

    reopened = carla.post(f"/portal/tickets/{ticket.reference}/reopen", data={}, follow_redirects=True)
    assert "Reopened: we will get back to you." in " ".join(alerts(reopened.text))
    assert text(reopened.text, id="ticket-status") == "open"
    assert text(reopened.text, id="ticket-actions") == "Mark as solved"
    assert history(reopened.text) == ["new → open", "open → resolved", "resolved → open"]


def test_status_changes_by_the_agent_show_in_the_history(carla, ticket, agent):
    services.update_ticket(ticket, agent, status="pending")
    page = carla.get(f"/portal/tickets/{ticket.reference}")
    assert text(page.text, id="ticket-status") == "pending"
    assert history(page.text) == ["new → pending"]


def test_reply_with_empty_message_shows_the_error_and_adds_nothing(carla, db, ticket):
    answer = carla.post(f"/portal/tickets/{ticket.reference}", data={"body": "   "})
    assert answer.status_code == 422
    assert "This field is required." in field_errors(answer.text)
    assert count(db, Message) == 1


def resolve_long_ago(db, ticket, agent, days):
    services.update_ticket(ticket, agent, status="resolved")
    ticket.resolved_at -= timedelta(days=days)
    db.session.commit()


def test_reopen_after_the_window_is_refused_with_a_clear_message_and_nothing_changes(carla, db, ticket, agent, app):
    resolve_long_ago(db, ticket, agent, app.config["REOPEN_WINDOW_DAYS"] + 1)
    answer = carla.post(f"/portal/tickets/{ticket.reference}/reopen", data={}, follow_redirects=True)
    assert f"{ticket.reference} can no longer be reopened; please open a new ticket." in alerts(answer.text)
    assert text(answer.text, id="ticket-status") == "resolved"
    db.session.refresh(ticket)
    assert ticket.status == "resolved"

    reply = carla.post(f"/portal/tickets/{ticket.reference}", data={"body": "It is back!"})
    assert reply.status_code == 422
    assert f"{ticket.reference} was resolved more than {app.config['REOPEN_WINDOW_DAYS']} days ago. " \
           "Please open a new ticket." in field_errors(reply.text)
    assert "It is back!" not in text(reply.text, id="conversation")
    db.session.refresh(ticket)
    assert ticket.status == "resolved" and ticket.message_count == 1
    assert count(db, Message) == 1


def test_reopen_within_the_window_by_replying(carla, db, ticket, agent, app):
    resolve_long_ago(db, ticket, agent, app.config["REOPEN_WINDOW_DAYS"] - 1)
    page = carla.get(f"/portal/tickets/{ticket.reference}")
    assert "replying lets us know you still need help" in text(page.text, id="composer")
    carla.post(f"/portal/tickets/{ticket.reference}", data={"body": "It is back!"})
    assert text(carla.get(f"/portal/tickets/{ticket.reference}").text, id="ticket-status") == "open"


def test_closed_ticket_offers_a_new_ticket_instead_of_a_reply(carla, ticket, agent):
    services.update_ticket(ticket, agent, status="closed")
    page = carla.get(f"/portal/tickets/{ticket.reference}")
    assert "This ticket is closed. If you need more help, open a new ticket." in text(page.text, id="ticket-closed")
    assert "reply-form" not in page.text and text(page.text, id="ticket-actions") == ""
    # A reply sent from a page opened before the ticket was closed:
    refused = carla.post(f"/portal/tickets/{ticket.reference}", data={"body": "hello?"})
    assert refused.status_code == 422
    assert "This ticket is closed." in text(refused.text, id="ticket-closed")
    assert "hello?" not in text(refused.text, id="conversation")
    assert len(ticket.messages) == 1


def test_staff_opening_the_portal_are_sent_to_the_queue(client, login, agent):
    login(client, agent)
    assert client.get("/portal/").location.endswith("/queue")
