"""Scorecards and conversation reviews: who reviews, what is checked, who reads, replies and disputes."""
from __future__ import annotations

import pytest
from coaching_testkit import review_form
from pagetext import alerts, text, texts
from sqlalchemy import select

pytestmark = pytest.mark.plugins("coaching")


def _items():
    from helpdesk_coaching import reviews

    return reviews.active_items()


def _reviews():
    from helpdesk_coaching.models import Review

    from helpdesk.plugin_api import db_session

    db_session().expire_all()
    return list(db_session().scalars(select(Review).order_by(Review.id)))


def _notifications(user, kind):
    from helpdesk.models import Notification
    from helpdesk.plugin_api import db_session

    return [n.text for n in db_session().scalars(select(Notification).where(
        Notification.recipient_id == user.id, Notification.kind == kind).order_by(Notification.id))]


# ------------------------------------------------------------------ scorecard


def test_the_default_scorecard_and_its_editing(as_user, admin):
    boss = as_user(admin)
    page = boss.get("/coaching/scorecard")
    assert page.status_code == 200
    rows = texts(page.text, cls="scorecard-item")
    assert len(rows) == 6
    labels = [i.label for i in _items()]
    assert labels[0] == "Greeting and personalisation" and "Follow-up offered" in labels

    empty = boss.post("/coaching/scorecard", data={"label": "  ", "description": "x"})
    assert empty.status_code == 400
    assert "Give the item a name" in text(empty.text, cls="field-error")
    assert len(_items()) == 6
    too_long = boss.post("/coaching/scorecard", data={"label": "x" * 121})
    assert too_long.status_code == 400 and "under 120 characters" in text(too_long.text, cls="field-error")

    added = boss.post("/coaching/scorecard", data={"label": "Tone <b>matches</b>", "description": "Calm"},
                      follow_redirects=True)
    assert "Added “Tone <b>matches</b>”." in alerts(added.text)
    assert "<b>matches</b>" not in added.text  # escaped
    new = _items()[-1]
    assert new.key == "tone_b_matches_b" and new.label == "Tone <b>matches</b>"

    renamed = boss.post(f"/coaching/scorecard/{new.id}", data={"label": "Tone", "description": "Calm", "active": "1"},
                        follow_redirects=True)
    assert "Saved “Tone”." in alerts(renamed.text)
    boss.post(f"/coaching/scorecard/{new.id}", data={"action": "up"})
    assert [i.label for i in _items()][-2] == "Tone"
    archived = boss.post(f"/coaching/scorecard/{new.id}", data={"label": "Tone", "description": "Calm"})
    assert archived.status_code == 302
    assert "Tone" not in [i.label for i in _items()]


def test_the_last_item_cannot_be_archived(as_user, admin):
    boss = as_user(admin)
    items = _items()
    for item in items[1:]:
        boss.post(f"/coaching/scorecard/{item.id}", data={"label": item.label})
    refused = boss.post(f"/coaching/scorecard/{items[0].id}", data={"label": items[0].label})
    assert refused.status_code == 400
    assert "needs at least one item" in text(refused.text, cls="field-error")
    assert [i.label for i in _items()] == [items[0].label]


def test_agents_cannot_change_the_scorecard(as_user, people):
    assert as_user(people["lee"]).get("/coaching/scorecard").status_code == 403
    assert as_user(people["lee"]).post(f"/coaching/scorecard/{_items()[0].id}", data={"label": "x"}).status_code == 403


# ------------------------------------------------------------------ reviewing


def test_a_lead_reviews_and_the_agent_is_notified(as_user, people, solve):
    ticket = solve()
    lee = as_user(people["lee"])
    page = lee.get(f"/coaching/tickets/{ticket.id}/review")
    assert page.status_code == 200
    assert text(page.text, id="review-agent") == "Ana Agent"
    assert len(texts(page.text, cls="coaching-item")) == 6
    items = _items()
    message_id = ticket.messages[-1].id
    data = review_form(items, **{f"score_{items[2].id}": "1", f"comment_{items[2].id}": "Split the long sentence.",
                                 f"message_{items[2].id}": str(message_id), f"score_{items[5].id}": ""})
    sent = lee.post(f"/coaching/tickets/{ticket.id}/review", data=data, follow_redirects=True)
    assert "Review sent to Ana Agent." in alerts(sent.text)
    (review,) = _reviews()
    assert (review.agent_id, review.reviewer_id) == (people["ana"].id, people["lee"].id)
    assert text(sent.text, id="review-percent") == "90%"  # 2+2+1+2+2 of 10, one not applicable
    assert "Split the long sentence." in sent.text
    assert "Hi Carla, unplug it please." in text(sent.text, cls="review-message-quote")
    assert _notifications(people["ana"], "coaching.review") == [
        f"Lee Lead reviewed your work on {ticket.reference}. Open Coaching to read it."]


def test_a_review_needs_a_rating_an_overall_comment_and_a_suggestion(as_user, people, solve):
    ticket = solve()
    lee = as_user(people["lee"])
    items = _items()
    empty = lee.post(f"/coaching/tickets/{ticket.id}/review", data=review_form(items, score="", overall="",
                                                                              suggestion=""))
    assert empty.status_code == 400
    assert "Nothing was sent" in text(empty.text, id="review-errors")
    assert "Rate at least one item of the scorecard." in text(empty.text, id="review-errors")
    errors = texts(empty.text, cls="field-error")
    assert "Write an overall comment: what went well, what to keep." in errors
    assert "Give one suggestion for next time." in errors
    bad = lee.post(f"/coaching/tickets/{ticket.id}/review", data=review_form(
        items, overall="Kept text", **{f"score_{items[0].id}": "7", f"message_{items[1].id}": "999999"}))
    assert bad.status_code == 400
    assert "Choose met, partly, missed or not applicable." in texts(bad.text, cls="field-error")
    assert "Point at a message of this ticket." in texts(bad.text, cls="field-error")
    assert "Kept text" in bad.text  # what was typed is kept
    assert _reviews() == []
    lee.post(f"/coaching/tickets/{ticket.id}/review", data=review_form(items))
    again = lee.post(f"/coaching/tickets/{ticket.id}/review", data=review_form(items), follow_redirects=True)
    assert f"You reviewed {ticket.reference} already: here is your review." in alerts(again.text)
    assert len(_reviews()) == 1


def test_who_may_review(as_user, people, solve, customer, plugins):
    from helpdesk.plugin_api import services

    solved = solve()
    open_ticket = services.create_ticket(customer, "Still open", "Help")
    services.update_ticket(open_ticket, None, assignee_id=people["ana"].id)
    lee, bo, cy, ana = (as_user(people[n]) for n in ("lee", "bo", "cy", "ana"))
    still_open = lee.get(f"/coaching/tickets/{open_ticket.id}/review")
    assert still_open.status_code == 403 and "still open" in text(still_open.text, id="review-refusal")
    assert "your own ticket" in text(ana.get(f"/coaching/tickets/{solved.id}/review").text, id="review-refusal")
    assert bo.get(f"/coaching/tickets/{solved.id}/review").status_code == 404  # a peer, peer reviews off
    assert cy.get(f"/coaching/tickets/{solved.id}/review").status_code == 404
    assert bo.post(f"/coaching/tickets/{solved.id}/review", data=review_form(_items())).status_code == 404
    assert lee.get("/coaching/tickets/2147483647/review").status_code == 404
    from helpdesk.plugin_manager import manager

    manager().save_settings("coaching", {"peer_reviews": True})
    assert bo.get(f"/coaching/tickets/{solved.id}/review").status_code == 200
    sent = bo.post(f"/coaching/tickets/{solved.id}/review", data=review_form(_items()), follow_redirects=True)
    assert "Review sent to Ana Agent." in alerts(sent.text)


def test_reviews_are_private_to_the_agent_the_reviewer_and_leads(as_user, people, solve, admin, make_user):
    ticket = solve()
    as_user(people["lee"]).post(f"/coaching/tickets/{ticket.id}/review", data=review_form(_items()))
    (review,) = _reviews()
    url = f"/coaching/reviews/{review.id}"
    for who in ("ana", "lee"):
        assert as_user(people[who]).get(url).status_code == 200, who
    assert as_user(admin).get(url).status_code == 200
    for who in ("bo", "cy"):  # a teammate and another agent: as if it did not exist
        client = as_user(people[who])
        assert client.get(url).status_code == 404, who
        assert client.post(f"{url}/reply", data={"body": "peek"}).status_code == 404
        assert client.post(f"{url}/read").status_code == 404
        assert client.get(f"/coaching/agents/{people['ana'].id}").status_code == 404
    light = make_user("light_agent", name="Lou Light")
    assert as_user(light).get(url).status_code == 404
    assert as_user(people["bo"]).get("/coaching/").status_code == 200
    assert "Printer on fire" not in as_user(people["bo"]).get("/coaching/").text
    assert "Printer on fire" in as_user(people["ana"]).get("/coaching/").text


def test_the_agent_reads_replies_and_disputes(as_user, people, solve):
    ticket = solve()
    as_user(people["lee"]).post(f"/coaching/tickets/{ticket.id}/review", data=review_form(_items()))
    (review,) = _reviews()
    url = f"/coaching/reviews/{review.id}"
    ana = as_user(people["ana"])
    assert "Lee Lead" in text(as_user(people["lee"]).get(url).text, id="review-meta")
    assert "Ana Agent has not read it yet." in as_user(people["lee"]).get(url).text
    read = ana.post(f"{url}/read", follow_redirects=True)
    assert "Marked as read." in alerts(read.text) and "You marked this read" in text(read.text, id="review-read")
    empty = ana.post(f"{url}/reply", data={"body": "  "})
    assert empty.status_code == 400 and "Write your reply first." in text(empty.text, cls="field-error")
    disputed = ana.post(f"{url}/reply", data={"body": "The customer asked for <b>that</b> wording.", "dispute": "1"},
                        follow_redirects=True)
    assert "Your reply was added." in alerts(disputed.text)
    assert text(disputed.text, id="review-disputed") == "disputed"
    assert "The customer asked for <b>that</b> wording." in texts(disputed.text, cls="reply-body")
    assert _notifications(people["lee"], "coaching.reply") == [f"Ana Agent disputes the review of {ticket.reference}."]
    lee_reply = as_user(people["lee"]).post(f"{url}/reply", data={"body": "Fair point.", "dispute": "1"},
                                            follow_redirects=True)
    assert texts(lee_reply.text, cls="reply-body")[-1] == "Fair point."
    assert _notifications(people["ana"], "coaching.reply") == [f"Lee Lead replied to the review of {ticket.reference}."]
    assert _reviews()[0].read_at is not None


def test_the_focus_shows_on_the_next_review(as_user, people, solve):
    ticket = solve()
    items = _items()
    lee = as_user(people["lee"])
    refused = lee.post(f"/coaching/agents/{people['ana'].id}/focus", data={"focus_checkin": "next week"})
    assert refused.status_code == 400
    assert "Choose an item or describe the focus in a few words." in texts(refused.text, cls="field-error")
    assert "Give the check-in date as YYYY-MM-DD." in texts(refused.text, cls="field-error")
    agreed = lee.post(f"/coaching/agents/{people['ana'].id}/focus", follow_redirects=True, data={
        "focus_item": str(items[2].id), "focus_note": "numbered steps", "focus_checkin": "2030-01-15"})
    assert "Focus agreed with Ana Agent." in alerts(agreed.text)
    assert "Clear language — numbered steps" in text(agreed.text, id="growth-focus")
    form = lee.get(f"/coaching/tickets/{ticket.id}/review")
    assert "Clear language — numbered steps" in text(form.text, id="coaching-focus")
    sent = lee.post(f"/coaching/tickets/{ticket.id}/review", data=review_form(items), follow_redirects=True)
    assert "Clear language — numbered steps" in text(sent.text, id="coaching-focus")
    # Only leads set a focus: not the agent, not a teammate.
    assert as_user(people["ana"]).post(f"/coaching/agents/{people['ana'].id}/focus",
                                       data={"focus_note": "x"}).status_code == 404
    assert as_user(people["bo"]).post(f"/coaching/agents/{people['ana'].id}/focus",
                                      data={"focus_note": "x"}).status_code == 404


def test_reviewing_again_opens_ones_own_review(as_user, people, solve):
    ticket = solve()
    lee = as_user(people["lee"])
    lee.post(f"/coaching/tickets/{ticket.id}/review", data=review_form(_items()))
    again = lee.get(f"/coaching/tickets/{ticket.id}/review", follow_redirects=True)
    assert f"You reviewed {ticket.reference} already: here is your review." in alerts(again.text)
    assert "Friendly and correct." in text(again.text, id="review-overall")


def test_the_review_queue_tab_only_for_those_who_may_review(as_user, people, plugins):
    from helpdesk.plugin_manager import manager

    assert "What to review" in text(as_user(people["lee"]).get("/coaching/").text, id="coaching-nav")
    assert "What to review" not in text(as_user(people["bo"]).get("/coaching/").text, id="coaching-nav")
    manager().save_settings("coaching", {"peer_reviews": True})
    assert "What to review" in text(as_user(people["bo"]).get("/coaching/").text, id="coaching-nav")
    assert as_user(people["bo"]).get("/coaching/suggestions").status_code == 200
