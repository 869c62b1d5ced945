"""Survey links: expired, tampered, replayed, wrong-customer and withdrawn links record nothing."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from helpdesk_surveys.models import SurveyContact, SurveyFollowUp, SurveyInvitation, SurveyResponse
from helpdesk_surveys.sending import send_due
from helpdesk_surveys.tokens import make_token
from sqlalchemy import func, select
from surveys_testkit import after_delay, alerts, resolve, text

from helpdesk.plugin_api import services, utcnow
from helpdesk.plugin_manager import manager
from helpdesk.testing import make_plugin

pytestmark = pytest.mark.plugins("surveys")


@pytest.fixture
def heard(app):
    events = []
    manager(app).register(make_plugin("spy", helpdesk_feedback_received=lambda feedback: events.append(
        feedback["score"])), "spy")
    return events


@pytest.fixture
def invitation(db, ticket, agent):
    resolve(ticket, agent)
    assert send_due(now=after_delay()) == {"sent": 1}  # no SMTP here: the mail is kept in the outbox
    return db.session.scalars(select(SurveyInvitation)).one()


def responses(db) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(SurveyResponse))


def problem(page) -> str:
    return text(page.text, id="survey-problem")


def test_a_valid_link_shows_the_page(client, invitation):
    page = client.get(f"/s/{make_token(invitation.id, invitation.customer_id)}?score=3")
    assert page.status_code == 200 and text(page.text, id="survey-about") == "About your request HD-1: Printer on fire"


@pytest.mark.parametrize("odd", ["²", "٣", "-1", "99"])
def test_a_link_with_an_odd_score_shows_the_page_with_nothing_chosen(client, invitation, odd):
    page = client.get(f"/s/{make_token(invitation.id, invitation.customer_id)}?score={odd}")
    assert page.status_code == 200 and text(page.text, id="survey-about") == "About your request HD-1: Printer on fire"
    assert page.text.count('name="score"') >= 5  # every score offered, none of them checked
    assert re.search(r'<input[^>]*\bchecked\b', page.text) is None


def test_an_expired_link_is_refused_with_a_clear_page(db, client, invitation, heard):
    old = make_token(invitation.id, invitation.customer_id, at=utcnow() - timedelta(days=15))  # validity: 14 days
    for answer in (client.get(f"/s/{old}?score=5"), client.post(f"/s/{old}", data={"score": "5"})):
        assert answer.status_code == 410
        assert problem(answer).startswith("This survey has closed")
        assert "Nothing was recorded." in problem(answer)
    # The database's expiry counts too (a fresh signature does not revive an old survey).
    invitation.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    fresh = make_token(invitation.id, invitation.customer_id)
    assert client.post(f"/s/{fresh}", data={"score": "5"}).status_code == 410
    assert responses(db) == 0 and heard == []


@pytest.mark.parametrize("mangle", [
    lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),  # signature changed
    lambda t: "WzIsMV0" + t[t.index("."):],  # payload changed to another invitation
    lambda t: t.split(".")[0],  # cut short
    lambda t: "nonsense",
])
def test_a_tampered_link_is_refused(db, client, invitation, heard, mangle):
    token = mangle(make_token(invitation.id, invitation.customer_id))
    for answer in (client.get(f"/s/{token}?score=1"), client.post(f"/s/{token}", data={"score": "1"}),
                   client.post(f"/s/{token}/unsubscribe")):
        assert answer.status_code == 400
        assert problem(answer).startswith("This survey link is not valid")
    assert responses(db) == 0 and heard == []
    assert db.session.get(SurveyContact, invitation.customer_id).unsubscribed_at is None


def test_a_link_signed_with_another_salt_is_refused(app, db, client, invitation):
    from itsdangerous import URLSafeTimedSerializer

    forged = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="wtf-csrf-token").dumps(
        [invitation.id, invitation.customer_id])
    assert client.post(f"/s/{forged}", data={"score": "5"}).status_code == 400
    assert responses(db) == 0


def test_a_replayed_answer_records_nothing_new(db, client, invitation, heard):
    token = make_token(invitation.id, invitation.customer_id)
    client.post(f"/s/{token}", data={"score": "2"})
    replay = client.post(f"/s/{token}", data={"score": "2"}, follow_redirects=True)
    assert "Your answer was already recorded. Thank you!" in alerts(replay.text)
    assert responses(db) == 1 and heard == [2]
    assert db.session.scalar(select(func.count()).select_from(SurveyFollowUp)) == 1  # one case, not two


def test_another_signed_in_customer_cannot_use_the_link(db, client, login, invitation, other_customer, heard):
    token = make_token(invitation.id, invitation.customer_id)
    login(client, other_customer)
    for answer in (client.get(f"/s/{token}?score=5"), client.post(f"/s/{token}", data={"score": "5"}),
                   client.post(f"/s/{token}/comment", data={"comment": "hi"}),
                   client.post(f"/s/{token}/unsubscribe")):
        assert answer.status_code == 403
        assert problem(answer).startswith("This survey is for someone else")
    assert responses(db) == 0 and heard == []
    assert db.session.get(SurveyContact, invitation.customer_id).unsubscribed_at is None


def test_the_invited_customer_signed_in_and_staff_may_answer(db, client, login, invitation, customer, agent):
    token = make_token(invitation.id, invitation.customer_id)
    login(client, customer)
    assert client.post(f"/s/{token}", data={"score": "4"}).status_code == 302
    login(client, agent)
    assert client.get(f"/s/{token}").status_code == 200


def test_a_reopened_ticket_withdraws_its_survey(db, client, invitation, ticket, customer, heard):
    token = make_token(invitation.id, invitation.customer_id)
    services.add_message(ticket, customer, "It is smoking again!")  # the customer's reply reopens it
    db.session.expire_all()
    assert db.session.get(SurveyInvitation, invitation.id).status == "invalidated"
    for answer in (client.get(f"/s/{token}?score=5"), client.post(f"/s/{token}", data={"score": "5"})):
        assert answer.status_code == 410
        assert problem(answer).startswith("This survey was withdrawn")
    assert responses(db) == 0 and heard == []


def test_a_token_for_a_deleted_or_foreign_invitation_is_unknown(db, client, invitation, other_customer):
    assert client.get(f"/s/{make_token(invitation.id + 50, invitation.customer_id)}").status_code == 404
    assert client.get(f"/s/{make_token(invitation.id, other_customer.id)}").status_code == 404


def test_score_out_of_range_or_missing_csrf_records_nothing(app, db, client, invitation):
    token = make_token(invitation.id, invitation.customer_id)
    out_of_range = client.post(f"/s/{token}", data={"score": "9"})
    assert out_of_range.status_code == 422
    assert "Choose a score from 1 to 5." in text(out_of_range.text, cls="invalid-feedback")
    assert client.post(f"/s/{token}", data={"score": "4"}, csrf=False).status_code == 400
    assert responses(db) == 0


def test_a_comment_needs_an_answer_first(db, client, invitation):
    token = make_token(invitation.id, invitation.customer_id)
    early = client.post(f"/s/{token}/comment", data={"comment": "Great"})
    assert early.status_code == 409
    assert "Choose a score first" in text(early.text, cls="invalid-feedback")
    assert responses(db) == 0


def test_unsubscribe_page_needs_the_button(db, client, invitation, ticket, agent):
    token = make_token(invitation.id, invitation.customer_id)
    page = client.get(f"/s/{token}/unsubscribe")
    assert page.status_code == 200 and "Unsubscribe from surveys" in text(page.text, id="unsubscribe-form")
    assert db.session.scalar(select(func.count()).select_from(SurveyContact).where(
        SurveyContact.unsubscribed_at.is_not(None))) == 0
    done = client.post(f"/s/{token}/unsubscribe", follow_redirects=True)
    assert "You are unsubscribed" in alerts(done.text)[0]
    assert text(done.text, id="unsubscribed").startswith("We will not send you satisfaction surveys any more.")
    # An old link still unsubscribes (a link older than the validity is fine for that).
    old = make_token(invitation.id, invitation.customer_id, at=utcnow() - timedelta(days=400))
    assert client.get(f"/s/{old}/unsubscribe").status_code == 200
    # The next resolution is not surveyed.
    services.update_ticket(ticket, agent, status="open")
    resolve(ticket, agent)
    db.session.expire_all()
    latest = db.session.scalars(select(SurveyInvitation).order_by(SurveyInvitation.id.desc())).first()
    assert (latest.status, latest.reason) == ("skipped", "the customer unsubscribed from surveys")


def test_a_changed_answer_and_a_comment_are_told_as_updates_of_one_answer(app, db, client, invitation):
    told = []
    manager(app).register(make_plugin("counter", helpdesk_feedback_received=lambda feedback: told.append(
        (feedback["reference"], feedback["score"], feedback["comment"], feedback["updated"]))), "counter")
    token = make_token(invitation.id, invitation.customer_id)
    client.post(f"/s/{token}", data={"score": "4"})
    client.post(f"/s/{token}", data={"score": "5"})
    client.post(f"/s/{token}/comment", data={"comment": "Lovely"})
    ref = f"survey:{invitation.id}"
    assert told == [(ref, 4, "", False), (ref, 5, "", True), (ref, 5, "Lovely", True)]
    assert responses(db) == 1


def test_rapid_answers_to_one_link_are_throttled(app, db, client, invitation, heard, caplog):
    """20 quick posts with changing scores: the first few count, then the link is paused (429)."""
    import logging

    from helpdesk_surveys.views_public import ANSWERS_PER_LINK

    token = make_token(invitation.id, invitation.customer_id)
    with caplog.at_level(logging.WARNING, logger="helpdesk.throttle"):
        codes = [client.post(f"/s/{token}", data={"score": str(1 + i % 5)}).status_code for i in range(20)]
    allowed = ANSWERS_PER_LINK.attempts
    assert codes == [302] * allowed + [429] * (20 - allowed)
    paused = client.post(f"/s/{token}", data={"score": "5"})
    assert "Too many answers to this survey. Try again in 5 minutes." in paused.text
    assert "survey-answer" in " ".join(r.getMessage() for r in caplog.records)
    db.session.expire_all()
    # The answer is the last one accepted; nothing after the pause changed it.
    assert db.session.scalars(select(SurveyResponse)).one().score == 1 + (allowed - 1) % 5
    assert len(heard) == allowed
    # Comments through the same link are paused too; the page itself still opens.
    assert client.post(f"/s/{token}/comment", data={"comment": "hello"}).status_code == 429
    assert client.get(f"/s/{token}").status_code == 200


def test_a_withdrawn_survey_says_what_it_kept_from_the_earlier_answer(db, client, invitation, ticket, customer):
    """Issue 17, broken 6: the answer given before the ticket was reopened is kept (and its
    follow-up case stays open); the page says so rather than "Nothing was recorded"."""
    token = make_token(invitation.id, invitation.customer_id)
    client.post(f"/s/{token}", data={"score": "1"})
    client.post(f"/s/{token}/comment", data={"comment": "Nobody came."})
    services.add_message(ticket, customer, "It is smoking again!")  # the customer's reply reopens it
    answer = client.get(f"/s/{token}?score=5")
    assert answer.status_code == 410
    page = problem(answer)
    assert page.startswith("This survey was withdrawn") and "Nothing was recorded" not in page
    kept = text(answer.text, id="survey-kept")
    assert "Your earlier answer is kept: 1 (Very unsatisfied)" in kept
    assert "Your comment: “Nobody came.”" in kept and "someone is following it up with you" in kept
    assert responses(db) == 1
    assert db.session.scalar(select(SurveyResponse.score)) == 1  # the click on 5 changed nothing
