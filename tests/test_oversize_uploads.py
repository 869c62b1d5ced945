"""An upload over MAX_CONTENT_LENGTH answers the form again, with what was typed and which
file was too large, instead of a bare 413 page (issue 17, broken 5)."""
from __future__ import annotations

import io

import pytest
from pagetext import field_errors, text
from sqlalchemy import func, select

from helpdesk.models import Message, Ticket

BIG = 30 * 1024 * 1024  # the 30 MB: over MAX_CONTENT_LENGTH (26 MB), not just the per-file limit


@pytest.fixture
def portal(client, login, customer):
    return login(client, customer)


def count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_a_new_portal_ticket_with_a_30_mb_file_keeps_the_subject_and_message(app, db, portal):
    assert BIG > app.config["MAX_CONTENT_LENGTH"]
    answer = portal.post("/portal/new", data={
        "subject": "Scanner jams", "body": "It jams on every second page.\nModel X200.",
        "attachments": (io.BytesIO(b"\0" * BIG), "scan.pdf")}, content_type="multipart/form-data")
    assert answer.status_code == 422
    [error] = field_errors(answer.text)
    assert "Your message was not sent" in error and "'scan.pdf' (31.5 MB)" in error and "at most 10.5 MB" in error
    assert text(answer.text, id="subject") == "" and 'value="Scanner jams"' in answer.text
    assert text(answer.text, id="body") == "It jams on every second page. Model X200."  # text() squashes the newline
    assert count(db, Ticket) == 0
    # Sent again without the file, as the page suggests: it goes through.
    again = portal.post("/portal/new", data={"subject": "Scanner jams", "body": "It jams."})
    assert again.status_code == 302 and count(db, Ticket) == 1


def test_a_portal_reply_with_a_30_mb_file_keeps_the_reply(app, db, portal, ticket):
    answer = portal.post(f"/portal/tickets/{ticket.reference}", data={
        "body": "Here is the log.", "attachments": (io.BytesIO(b"\0" * BIG), "log.zip")},
        content_type="multipart/form-data")
    assert answer.status_code == 422
    assert any("'log.zip'" in e for e in field_errors(answer.text))
    assert text(answer.text, id="reply-body") == "Here is the log."
    assert count(db, Message) == 1


def test_far_too_large_or_forged_requests_still_get_the_413_page(app, db, portal, ticket):
    app.config["MAX_CONTENT_LENGTH"] = 1000
    huge = portal.post("/portal/new", data={"subject": "x", "body": "y",
                                            "attachments": (io.BytesIO(b"\0" * 5000), "a.bin")},
                       content_type="multipart/form-data")
    assert huge.status_code == 413 and "larger than we accept" in huge.text
    no_token = portal.post("/portal/new", data={"subject": "x", "body": "y", "csrf_token": "forged",
                                                "attachments": (io.BytesIO(b"\0" * 2000), "a.bin")},
                           content_type="multipart/form-data")
    assert no_token.status_code in (400, 422) and count(db, Ticket) == 1  # only the fixture's ticket
