"""Threading: our HMAC-signed Message-IDs, received ids, the reference in the subject, strangers, agents."""
from __future__ import annotations

import pytest
from email_mailmaker import make_mail
from helpdesk_email.ingest import ingest_message
from helpdesk_email.msgids import make_message_id, verified_ticket_id
from pagetext import attributes, text, texts
from sqlalchemy import func, select

from helpdesk.models import OutboxMail
from helpdesk.plugin_api import Message, Ticket, db_session, services
from helpdesk.services.settings import save_site_settings

pytestmark = pytest.mark.plugins("email")

REPLY = ("Thanks, it works again!\n\nOn Mon, 2 Jun 2025 at 10:00, Support <support@helpdesk.test> wrote:\n"
         "> Please restart it.\n> Alex\n")


def opened(**kwargs) -> tuple[Ticket, str]:
    """A ticket opened by mail, and the Message-ID of its acknowledgement (what the customer replies to)."""
    result = ingest_message(make_mail(**kwargs))
    ack = db_session().scalars(select(OutboxMail).where(OutboxMail.ticket_id == result.ticket_id)
                             .order_by(OutboxMail.id.desc())).first()
    return db_session().get(Ticket, result.ticket_id), ack.headers["Message-ID"]


def messages_of(ticket: Ticket) -> list[Message]:
    db_session().expire_all()
    return list(db_session().scalars(select(Message).where(Message.ticket_id == ticket.id).order_by(Message.id)))


def test_a_reply_to_our_mail_lands_on_its_ticket_with_the_quote_folded(app, client, login, agent):
    ticket, ack_id = opened()
    assert verified_ticket_id(ack_id.strip("<>")) == ticket.id
    result = ingest_message(make_mail(subject="Re: [HD-1] Printer on fire", body=REPLY, in_reply_to=ack_id))
    assert (result.outcome, result.ticket_id) == ("message", ticket.id)
    assert result.reason == "Added to HD-1 (threaded by message-id)."
    assert messages_of(ticket)[-1].body == "Thanks, it works again!"

    login(client, agent)
    page = client.get(f"/tickets/{ticket.reference}").text
    reply = texts(page, cls="message")[-1]
    assert "Thanks, it works again!" in reply
    assert "Show quoted text On Mon, 2 Jun 2025 at 10:00, Support <support@helpdesk.test> wrote: > Please restart it." \
        in text(page, id=f"message-{result.message_id}")
    link = attributes(page, cls="email-original")[-1]["href"]
    original = client.get(link)
    assert original.status_code == 200 and b"Thanks, it works again!" in original.data
    assert original.headers["Content-Disposition"] == f'attachment; filename="HD-1-message-{result.message_id}.eml"'


def test_a_guessed_or_forged_message_id_threads_nowhere(app, other_customer):
    ticket, ack_id = opened()
    local, domain = ack_id.strip("<>").split("@")
    forged = f"<{local[:-16]}{'0' * 16}@{domain}>"  # right shape, wrong HMAC
    guessed = f"<t{ticket.id}.m1.0123456789abcdef@{domain}>"
    for fake in (forged, guessed):
        result = ingest_message(make_mail(sender=other_customer.email, subject="Re: Printer on fire",
                                          in_reply_to=fake))
        assert result.outcome == "ticket" and result.ticket_id != ticket.id
    assert len(messages_of(ticket)) == 1


def test_a_reply_to_a_mail_we_received_threads_too(app):
    first = ingest_message(make_mail(message_id="<question@client.example.test>"))
    followup = ingest_message(make_mail(subject="Forgot the photo", in_reply_to="<question@client.example.test>",
                                        references="<unknown@elsewhere.test> <question@client.example.test>"))
    assert (followup.outcome, followup.ticket_id) == ("message", first.ticket_id)


def test_in_reply_to_wins_over_older_references(app):
    one = ingest_message(make_mail(message_id="<one@client.example.test>", subject="First"))
    two = ingest_message(make_mail(message_id="<two@client.example.test>", subject="Second"))
    reply = ingest_message(make_mail(in_reply_to="<two@client.example.test>",
                                     references="<one@client.example.test> <two@client.example.test>"))
    assert reply.ticket_id == two.ticket_id != one.ticket_id


def test_the_reference_in_the_subject_threads_only_for_people_on_the_ticket(app, other_customer):
    ticket, _ = opened()
    mine = ingest_message(make_mail(subject=f"Re: [{ticket.reference}] Printer on fire", body="Still smoking."))
    assert (mine.outcome, mine.ticket_id, mine.reason) == ("message", ticket.id, "Added to HD-1 (threaded by subject).")
    stranger = ingest_message(make_mail(sender=other_customer.email, subject=f"About {ticket.reference}",
                                        body="I read about your ticket."))
    assert stranger.outcome == "ticket" and stranger.ticket_id != ticket.id
    assert [m.body for m in messages_of(ticket)] == ["The printer in room 4 is smoking.", "Still smoking."]


def test_a_stranger_replying_to_our_mail_is_kept_for_review_and_changes_nothing(app, client, login, agent):
    ticket, ack_id = opened()
    services.update_ticket(ticket, agent, status="pending")
    result = ingest_message(make_mail(sender="Colleague <boss@example.test>", subject="Re: Printer on fire",
                                      body="Please fix it fast.", in_reply_to=ack_id))
    assert (result.outcome, result.ticket_id) == ("message", ticket.id)
    assert result.reason == ("Added to HD-1 and flagged for review: boss@example.test is not the ticket's "
                             "customer or an agent.")
    last = messages_of(ticket)[-1]
    assert last.needs_review and last.author.email == "boss@example.test"
    assert db_session().get(Ticket, ticket.id).status == "pending"  # a stranger does not reopen it
    login(client, agent)
    page = client.get(f"/tickets/{ticket.reference}").text
    assert "Needs review" in text(page, id=f"message-{result.message_id}")


def test_an_agents_mail_reply_becomes_an_agent_reply_sent_to_the_customer(app, agent):
    ticket, ack_id = opened()
    services.update_ticket(ticket, agent, assignee_id=agent.id)
    ingest_message(make_mail(subject="Re: [HD-1] Printer on fire", body="It smokes more now.", in_reply_to=ack_id))
    notice = db_session().scalars(select(OutboxMail).where(OutboxMail.to_addr == agent.email)).one()
    assert notice.subject == "[HD-1] Carla Customer: Printer on fire" and "It smokes more now." in notice.body_text
    result = ingest_message(make_mail(sender=f"Alex Agent <{agent.email}>", subject="Re: [HD-1] Printer on fire",
                                      body="Hi Carla, a technician is on the way.\n\n> The printer is smoking.",
                                      in_reply_to=notice.headers["Message-ID"]))
    assert result.outcome == "message"
    reply = messages_of(ticket)[-1]
    assert (reply.author_id, reply.internal, reply.body) == (agent.id, False, "Hi Carla, a technician is on the way.")
    mails = list(db_session().scalars(select(OutboxMail).where(OutboxMail.ticket_id == ticket.id)
                                    .order_by(OutboxMail.id)))
    assert mails[-1].to_addr == "carla@example.test"
    assert mails[-1].body_text.startswith("Hi Carla, a technician is on the way.")
    assert db_session().get(Ticket, ticket.id).status == "open"


def test_a_reply_to_a_closed_ticket_opens_a_new_linked_ticket(app, agent):
    ticket, ack_id = opened()
    services.update_ticket(ticket, agent, status="closed")
    result = ingest_message(make_mail(subject="Re: Printer on fire", body="It is smoking again.", in_reply_to=ack_id))
    assert result.outcome == "ticket" and result.ticket_id != ticket.id
    new = db_session().get(Ticket, result.ticket_id)
    assert new.linked_ticket_id == ticket.id and new.messages[0].body == "It is smoking again."
    assert "HD-1 is closed" in result.reason


def test_closed_means_closed_links_the_follow_up_ticket(app, agent):
    save_site_settings({"closed_means_closed": True})
    ticket, ack_id = opened()
    services.update_ticket(ticket, agent, status="closed")
    result = ingest_message(make_mail(body="Again.", in_reply_to=ack_id))
    assert result.outcome == "ticket" and result.reason == "New ticket HD-2, linked to closed HD-1."
    assert db_session().scalar(select(func.count()).select_from(Ticket)) == 2


def test_our_agent_reply_message_id_threads_the_customers_answer(app, agent):
    ticket, _ = opened()
    reply = services.add_message(ticket, agent, "Hi Carla, please restart it (HD-1).")
    mail = db_session().scalars(select(OutboxMail).order_by(OutboxMail.id.desc())).first()
    assert mail.headers["Message-ID"] == f"<{make_message_id(ticket.id, reply.id)}>"
    answer = ingest_message(make_mail(body="Done, thanks.", in_reply_to=mail.headers["Message-ID"]))
    assert answer.ticket_id == ticket.id and answer.outcome == "message"


def test_a_huge_number_after_the_prefix_is_just_text(app):
    result = ingest_message(make_mail(subject="Order HD-99999999999 and HD-2147483648 are late"))
    assert result.outcome == "ticket" and result.reference == "HD-1"
