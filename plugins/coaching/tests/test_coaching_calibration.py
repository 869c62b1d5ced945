"""Calibration: two leads review the same ticket blind; the compare page shows where they disagree."""
from __future__ import annotations

import pytest
from coaching_testkit import review_form
from pagetext import text, texts

pytestmark = pytest.mark.plugins("coaching")


def reviews_of(ticket):
    from helpdesk_coaching.models import Review
    from sqlalchemy import select

    from helpdesk.plugin_api import db_session

    return list(db_session().scalars(select(Review).where(Review.ticket_id == ticket.id).order_by(Review.id)))


@pytest.fixture
def dee(people, make_user, db):
    """Dee leads the night team, which Ana is also in: a second lead of Ana's."""
    from helpdesk.plugin_api import Team

    dee = make_user("agent", name="Dee Nights", email="dee@acme.test")
    team = Team(name="Nights", lead_id=dee.id)
    team.members = [dee, people["ana"]]
    db.session.add(team)
    db.session.commit()
    return dee


def test_two_leads_review_blind_and_compare(as_user, people, solve, dee, admin):
    from helpdesk_coaching import reviews

    ticket = solve()
    items = reviews.active_items()
    lee, second = as_user(people["lee"]), as_user(dee)
    lee.post(f"/coaching/tickets/{ticket.id}/review", data=review_form(
        items, **{f"score_{items[0].id}": "0", f"score_{items[3].id}": "1"}))
    (first,) = reviews_of(ticket)
    lee_review = f"/coaching/reviews/{first.id}"
    panel = second.get(f"/coaching/tickets/{ticket.id}/panel").text
    assert texts(panel, cls="coaching-hidden") == [
        "A review by Lee Lead: hidden until you send yours (blind calibration)"]
    assert "Review this conversation" in panel
    hidden = second.get(lee_review)
    assert hidden.status_code == 200
    assert "stays hidden until you send your own review" in text(hidden.text, id="review-hidden")
    assert "Friendly and correct." not in hidden.text
    assert second.post(f"{lee_review}/reply", data={"body": "peek"}).status_code == 404
    assert second.get(f"/coaching/tickets/{ticket.id}/compare").status_code == 404
    growth = second.get(f"/coaching/agents/{people['ana'].id}").text
    assert "hidden until you review it" in growth
    # Admins oversee: never blind.
    assert "Friendly and correct." in as_user(admin).get(lee_review).text

    second.post(f"/coaching/tickets/{ticket.id}/review", data=review_form(items, **{f"score_{items[3].id}": "1"}))
    assert "Friendly and correct." in second.get(lee_review).text
    page = second.get(f"/coaching/tickets/{ticket.id}/compare")
    assert page.status_code == 200
    rows = {row.split(" Met")[0].split(" Missed")[0].split(" Partly")[0]: row for row in
            texts(page.text, cls="compare-row")}
    assert rows["Greeting and personalisation"].endswith("Missed Met Disagree (met vs missed)")
    assert rows["Empathy and apology where due"].endswith("Partly Partly Agree")
    assert text(page.text, id="compare-summary") == "The reviewers disagree on 1 of 6 items."
    assert "Compare the reviews" in second.get(f"/coaching/tickets/{ticket.id}/panel").text
    # The agent sees both reviews and the comparison; a teammate sees none of it.
    assert as_user(people["ana"]).get(f"/coaching/tickets/{ticket.id}/compare").status_code == 200
    assert as_user(people["bo"]).get(f"/coaching/tickets/{ticket.id}/compare").status_code == 404
