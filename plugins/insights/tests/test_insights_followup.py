""""You said, we did": previewed with a count, sent once per customer through their own channel
(a real SMTP server for email), personalised, opted-out customers skipped, the core's notice
cap respected, and a record of who got it and who answered."""
from __future__ import annotations

import re

import pytest
from helpdesk_insights import followups, store
from helpdesk_insights.models import InsightsFollowUp, InsightsOptOut
from insights_testkit import corpus, seed_texts, theme_of
from pagetext import alerts, text, texts

from helpdesk.contract import Channel
from helpdesk.plugin_api import db_session, services
from helpdesk.plugin_manager import manager
from helpdesk.testing import make_plugin

pytestmark = pytest.mark.plugins("insights")
REFUND = "Where is my refund? I returned the item three weeks ago and the refund never reached my bank."
ACTION = "Refunds now reach your bank within 3 days: we changed payment provider."


def body(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


@pytest.fixture
def sms(app):
    sent = []

    class Sms(Channel):
        def deliver(self, ticket, message):
            pass

        def notify(self, customer, subject, text, *, ticket=None, html=None, headers=None):
            sent.append((customer.name, text))
            return True

    manager(app).register(make_plugin("sms", helpdesk_channels=lambda: [Sms(name="sms", label="SMS")]), "sms")
    return sent


@pytest.fixture
def raised(app, make_user, sms):
    """Themes from the corpus, and four customers who wrote about refunds (one by SMS, one opted out)."""
    seed_texts([], corpus())
    store.recompute()
    people = {}
    for name, channel in (("Ann Archer", "web"), ("Bob Baker", "email"), ("Cleo Cole", "sms"), ("Dan Dunn", "web")):
        customer = make_user("customer", name=name, email=f"{name.split()[0].lower()}@example.com")
        ticket = services.create_ticket(customer, "Refund", REFUND, channel=channel)
        people[name.split()[0]] = (customer, ticket)
    db_session().add(InsightsOptOut(customer_id=people["Dan"][0].id))
    db_session().commit()
    theme = theme_of("refund not received")
    return theme, people


def test_preview_counts_then_send_once_to_each_customer_by_their_channel(raised, smtp, client, login, admin, sms):
    theme, people = raised
    login(client, admin)
    page = client.post(f"/insights/themes/{theme.id}/action", data={"action": ACTION}, follow_redirects=True)
    page = page.get_data(as_text=True)
    assert text(page, id="followup-count").startswith("3 customers will get this follow-up; 1 will not")
    rows = texts(page, cls="recipient")
    assert any("Dan Dunn" in r and "skipped: opted out" in r for r in rows)
    assert ACTION in text(page, id="sample-text")
    assert smtp.sink.messages() == []  # a preview sends nothing

    page = client.post(f"/insights/themes/{theme.id}/follow-up", data={"expected": "3"}, follow_redirects=True)
    assert "Follow-up sent to 3 customers." in alerts(page.get_data(as_text=True))
    mails = {m["To"]: m for m in smtp.sink.messages()}
    assert set(mails) == {"ann@example.com", "bob@example.com"}
    ann = body(mails["ann@example.com"])
    assert "Hello Ann," in ann and people["Ann"][1].reference in ann and ACTION in ann
    assert people["Bob"][1].reference in body(mails["bob@example.com"])
    assert people["Ann"][1].reference not in body(mails["bob@example.com"])
    assert [name for name, _ in sms] == ["Cleo Cole"]
    assert people["Cleo"][1].reference in sms[0][1]

    # Sent once: a second send has nobody to write to.
    page = client.get(f"/insights/themes/{theme.id}/follow-up").get_data(as_text=True)
    assert "Nobody is due a follow-up" in text(page, id="nobody-due")
    assert followups.send(theme, admin) == {"sent": 0, "held": 0}
    assert len(smtp.sink.messages()) == 2 and len(sms) == 1
    record = text(client.get(f"/insights/themes/{theme.id}").get_data(as_text=True), id="followup-record")
    assert "Ann Archer" in record and "Cleo Cole" in record and "Dan Dunn" not in record


def test_the_notice_cap_holds_a_follow_up_back_and_it_can_go_later(raised, smtp, admin):
    theme, people = raised
    ann = people["Ann"][0]
    for n in range(5):  # the core's default: 5 automatic notices an hour
        services.notify_customer(ann, f"Notice {n}", "text")
    followups.set_action(theme, ACTION, admin)
    assert followups.send(theme, admin) == {"sent": 2, "held": 1}
    row = db_session().query(InsightsFollowUp).filter_by(customer_id=ann.id).one()
    assert row.status == "held" and "notice rules" in row.reason
    assert [r.status for r in followups.recipients(theme) if r.customer.id == ann.id] == ["send"]


def test_a_reply_on_the_ticket_marks_the_follow_up_answered(raised, smtp, admin, client, login):
    theme, people = raised
    followups.set_action(theme, ACTION, admin)
    followups.send(theme, admin)
    customer, ticket = people["Bob"]
    services.add_message(ticket, customer, "Thank you, it arrived!")
    row = db_session().query(InsightsFollowUp).filter_by(customer_id=customer.id).one()
    assert row.answered_at is not None
    login(client, admin)
    record = texts(client.get(f"/insights/themes/{theme.id}").get_data(as_text=True), tag="tr")
    assert not any("Bob Baker" in r and r.endswith("—") for r in record)


def test_the_opt_out_link_in_the_mail_stops_the_next_follow_ups(raised, smtp, admin, client):
    theme, people = raised
    followups.set_action(theme, ACTION, admin)
    followups.send(theme, admin)
    mail = next(m for m in smtp.sink.messages() if m["To"] == "ann@example.com")
    link = re.search(r"https?://\S+/insights/optout/\S+", body(mail)).group(0)
    path = re.sub(r"^https?://[^/]+", "", link)
    page = client.get(path).get_data(as_text=True)
    assert "Stop these messages" in page and db_session().get(InsightsOptOut, people["Ann"][0].id) is None
    page = client.post(path).get_data(as_text=True)
    assert "no more" in text(page, id="optout")
    assert db_session().get(InsightsOptOut, people["Ann"][0].id) is not None
    assert client.get(path[:-3] + "xyz").status_code == 400


def test_sending_more_than_the_preview_showed_is_refused(raised, admin):
    theme, _people = raised
    followups.set_action(theme, ACTION, admin)
    with pytest.raises(services.ServiceError, match="not the 1 you previewed"):
        followups.send(theme, admin, expected=1)


def test_no_action_no_follow_up(raised, admin, client, login):
    theme, _people = raised
    login(client, admin)
    page = client.post(f"/insights/themes/{theme.id}/action", data={"action": " "}, follow_redirects=True)
    assert "Say what you did" in " ".join(alerts(page.get_data(as_text=True)))
    with pytest.raises(services.ServiceError, match="Say first"):
        followups.send(theme, admin)


def test_the_opt_out_page_speaks_german_to_a_german_customer(make_user, client):
    """The link in the mail is opened without signing in: the browser's language decides."""
    customer = make_user("customer", name="Greta Graf", email="greta@example.com")
    path = f"/insights/optout/{followups.optout_token(customer.id)}"
    german = {"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"}
    page = text(client.get(path, headers=german).get_data(as_text=True), id="optout")
    assert "Keine „Sie haben gesagt, wir haben gehandelt“-Nachrichten mehr?" in page
    assert "Diese Nachrichten abbestellen" in page and "Stop these messages" not in page
    page = text(client.post(path, headers=german).get_data(as_text=True), id="optout")
    assert page.startswith("Erledigt") and "Antworten auf Ihre Tickets erreichen Sie weiterhin." in page
    broken = client.get(path[:-3] + "xyz", headers=german)
    assert broken.status_code == 400
    assert "Dieser Link funktioniert nicht" in text(broken.get_data(as_text=True), id="optout")
