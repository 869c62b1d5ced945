"""Colleagues' kudos: from a ticket or a profile, refused input explained next to the field, reactions."""
from __future__ import annotations

import pytest
from recognition_testkit import alerts, attributes, field_errors, kudos_rows, nav_labels, text, texts

pytestmark = pytest.mark.plugins("recognition")


def give(client, **fields):
    data = {"kudos_recipient": "", "kudos_message": "", "kudos_value": "", "kudos_ticket": ""}
    data.update({f"kudos_{k}": v for k, v in fields.items()})
    return client.post("/recognition/kudos/new", data=data)


def test_kudos_from_a_ticket_reaches_the_colleague(db, client, login, people, worked_ticket):
    ana, bo = people["ana"], people["bo"]
    login(client, ana)
    page = client.get(f"/tickets/{worked_ticket.reference}").text
    sidebar = text(page, id="recognition-sidebar")
    assert f"Thank a colleague for their work on {worked_ticket.reference}." in sidebar
    options = texts(page, id="kudos-recipient")[0]
    assert "Bo Bright" in options and "Ana Agent" not in options and "Carla" not in options

    answer = give(client, recipient=str(bo.id), message="You calmed Carla down in minutes.", value="empathy",
                  ticket=worked_ticket.reference)
    assert answer.status_code == 302 and answer.headers["Location"] == f"/tickets/{worked_ticket.reference}"
    page = client.get(answer.headers["Location"]).text
    assert alerts(page) == ["Kudos sent to Bo Bright."]
    assert texts(page, cls="ticket-kudos") == ["Bo Bright from Ana Agent · empathy “You calmed Carla down in minutes.”"]
    [row] = kudos_rows()
    assert (row.recipient_id, row.giver_id, row.source, row.ticket_id, row.value_tag) == (
        bo.id, ana.id, "peer", worked_ticket.id, "empathy")

    login(client, bo)
    dashboard = client.get("/dashboard").text
    assert [label for label in nav_labels(dashboard) if label.startswith("Kudos")] == ["Kudos (1)"]
    assert texts(dashboard, cls="kudos-notification") == [
        f"Ana Agent gave you kudos for empathy on {worked_ticket.reference}. “You calmed Carla down in minutes.” "
        "just now"]
    done = client.post("/recognition/notifications/read", follow_redirects=True)
    assert alerts(done.text) == ["1 notification marked as read."]
    assert [label for label in nav_labels(done.text) if label.startswith("Kudos")] == ["Kudos"]
    assert "No new kudos." in text(done.text, id="recognition-dashboard")

    feed = client.get("/recognition/").text
    [entry] = texts(feed, cls="kudos-item")
    assert entry.startswith("Bo Bright received kudos from Ana Agent colleague empathy")
    assert "You calmed Carla down in minutes." in entry


def test_kudos_from_a_profile(db, client, login, people):
    login(client, people["cy"])
    profile = client.get(f"/recognition/agents/{people['ana'].id}").text
    assert attributes(profile, id="kudos-recipient")[0]["name"] == "kudos_recipient"
    selected = [a for a in attributes(profile, tag="option") if "selected" in a]
    assert selected[0]["value"] == str(people["ana"].id)

    answer = give(client, recipient=str(people["ana"].id), message="Thanks for the macro you wrote.")
    assert answer.headers["Location"] == f"/recognition/agents/{people['ana'].id}"
    page = client.get(answer.headers["Location"]).text
    assert "Thanks for the macro you wrote." in text(page, id="profile-feed")
    assert text(page, id="profile-stats").startswith("1 kudos (0 from customers, 1 from colleagues)")


BAD_INPUT = [  # (fields, the field the message is shown next to, the message)
    ({"recipient": "self", "message": "Me!"}, "kudos-recipient",
     "You cannot give kudos to yourself: pick a colleague."),
    ({"recipient": "customer", "message": "Nice"}, "kudos-recipient",
     "Kudos are for colleagues; Carla Customer is a customer."),
    ({"recipient": "inactive", "message": "Nice"}, "kudos-recipient",
     "Ina Inactive's account is inactive: kudos go to active colleagues."),
    ({"recipient": "", "message": "Nice"}, "kudos-recipient", "Choose the colleague you want to thank."),
    ({"recipient": "99999", "message": "Nice"}, "kudos-recipient", "Choose the colleague you want to thank."),
    ({"recipient": "bo", "message": "   "}, "kudos-message", "Write a few words: what did they do well?"),
    ({"recipient": "bo", "message": "x" * 501}, "kudos-message", "Keep it short: 501 characters, at most 500."),
    ({"recipient": "bo", "message": "Nice", "value": "speed demon"}, "kudos-value",
     "Unknown value “speed demon”: choose one of empathy, fast fix, went the extra mile, teamwork, clear writing, "
     "or none."),
]


def test_bad_input_is_refused_with_a_clear_message_next_to_the_field(db, client, login, people, customer,
                                                                     make_user):
    inactive = make_user("agent", name="Ina Inactive", active=False)
    ids = {"self": people["ana"].id, "customer": customer.id, "inactive": inactive.id, "bo": people["bo"].id}
    login(client, people["ana"])
    for fields, field_id, message in BAD_INPUT:
        fields = {**fields, "recipient": str(ids.get(fields["recipient"], fields["recipient"]))}
        answer = give(client, **fields)
        assert answer.status_code == 422, message
        assert message in field_errors(answer.text)
        assert "The kudos was not sent: see what to fix below." in alerts(answer.text)
        assert "is-invalid" in attributes(answer.text, id=field_id)[0]["class"], message
    assert kudos_rows() == []

    # The limits themselves are fine: exactly 500 characters, a known value in any case.
    answer = give(client, recipient=str(people["bo"].id), message="y" * 500, value="Fast Fix")
    assert answer.status_code == 302
    [row] = kudos_rows()
    assert (len(row.message), row.value_tag) == (500, "fast fix")


def test_value_tags_come_from_the_setting(db, client, login, people, monkeypatch):
    monkeypatch.setenv("HELPDESK_PLUGIN_RECOGNITION_VALUES", "Courage, Calm")
    login(client, people["ana"])
    page = client.get("/recognition/kudos/new").text
    assert texts(page, id="kudos-value") == ["No value tag courage calm"]
    assert give(client, recipient=str(people["bo"].id), message="Hi", value="calm").status_code == 302
    assert give(client, recipient=str(people["bo"].id), message="Hi", value="empathy").status_code == 422


def test_reactions_toggle_one_per_person_and_emoji(db, client, login, people):
    login(client, people["ana"])
    give(client, recipient=str(people["bo"].id), message="Great pairing session.")
    [row] = kudos_rows()
    login(client, people["cy"])
    react = f"/recognition/kudos/{row.id}/react"

    answer = client.post(react, data={"emoji": "party", "back": "/recognition/"})
    assert answer.headers["Location"] == f"/recognition/#kudos-{row.id}"
    client.post(react, data={"emoji": "heart", "back": "/recognition/"})
    feed = client.get("/recognition/").text
    pressed = {a["data-emoji"]: a["aria-pressed"] for a in attributes(feed, cls="reaction-button")}
    assert pressed == {"thumbs": "false", "heart": "true", "party": "true", "clap": "false"}
    assert texts(feed, cls="reaction-count") == ["0", "1", "1", "0"]

    client.post(react, data={"emoji": "party", "back": "/recognition/"})  # again: taken back
    login(client, people["bo"])
    client.post(react, data={"emoji": "heart", "back": "https://evil.example/"})
    feed = client.get("/recognition/").text
    assert texts(feed, cls="reaction-count") == ["0", "2", "0", "0"]

    unknown = client.post(react, data={"emoji": "skull", "back": "//evil.example"}, follow_redirects=True)
    assert unknown.request.path == "/recognition/"  # never an open redirect
    assert alerts(unknown.text) == ["Choose one of the reactions shown under the kudos."]


def test_customers_and_visitors_cannot_give_kudos(db, client, login, people, customer):
    login(client, customer)
    assert give(client, recipient=str(people["bo"].id), message="Hi").status_code == 404
    assert kudos_rows() == []


def test_the_feed_is_paginated_and_filtered(db, client, login, people):
    from helpdesk_recognition.models import Kudos

    login(client, people["ana"])
    assert text(client.get("/recognition/").text, id="feed-empty").startswith("No recognition yet.")
    for i in range(23):
        db.session.add(Kudos(recipient_id=people["bo"].id, giver_id=people["ana"].id, source="peer",
                             message=f"Kudos number {i}", value_tag="teamwork" if i % 2 else None))
    db.session.add(Kudos(recipient_id=people["cy"].id, giver_id=people["ana"].id, source="peer",
                         message="Cy is in no team", value_tag="empathy"))
    db.session.commit()
    login(client, people["ana"])

    first = client.get("/recognition/").text
    assert len(texts(first, cls="kudos-item")) == 20
    assert attributes(first, tag="a", cls="page-link")[0]["href"] == "?page=2"
    second = client.get("/recognition/?page=2").text
    assert len(texts(second, cls="kudos-item")) == 4

    team = client.get(f"/recognition/?team={people['team'].id}").text
    assert len(texts(team, cls="kudos-item")) == 20 and "Cy is in no team" not in team
    tagged = client.get("/recognition/?value=teamwork").text
    assert len(texts(tagged, cls="kudos-item")) == 11
    assert "Cy is in no team" in client.get("/recognition/?value=empathy").text
    empty = client.get(f"/recognition/?team={people['team'].id}&value=empathy").text
    assert text(empty, id="feed-empty").startswith("Nothing matches these filters yet.")


def test_kudos_cannot_be_spammed(db, client, login, people, make_user):
    from helpdesk_recognition.kudos import PER_COLLEAGUE_PER_DAY, PER_GIVER_PER_DAY

    login(client, people["ana"])
    for n in range(PER_COLLEAGUE_PER_DAY):
        assert give(client, recipient=str(people["bo"].id), message=f"Thanks #{n}").status_code == 302
    fourth = give(client, recipient=str(people["bo"].id), message="And again")
    assert fourth.status_code == 422
    assert f"You have thanked Bo Bright {PER_COLLEAGUE_PER_DAY} times today" in " ".join(field_errors(fourth.text))
    assert len(kudos_rows()) == PER_COLLEAGUE_PER_DAY
    # Other colleagues can still be thanked, up to the day's limit for the giver.
    others = [make_user("agent", name=f"Helper {n}") for n in range(PER_GIVER_PER_DAY)]
    for other in others[:PER_GIVER_PER_DAY - PER_COLLEAGUE_PER_DAY]:
        assert give(client, recipient=str(other.id), message="Cheers").status_code == 302
    over = give(client, recipient=str(others[-1].id), message="One more")
    assert over.status_code == 422 and f"You have given {PER_GIVER_PER_DAY} kudos today" in over.text
