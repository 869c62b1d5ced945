"""Upload limits in the portal: said before uploading, and an oversized upload that reaches
the server answers the form again with the typed text (issue 17, broken 5)."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from helpdesk.models import Ticket

PASSWORD = "long-password-1"  # the sign_in fixture's default


@pytest.fixture
def carla(make_user):
    return make_user("customer", name="Carla Customer", email="carla@example.com", password=PASSWORD)


def test_a_file_over_the_limit_is_refused_before_upload_and_the_text_stays(
        app, db, live_server, sign_in, browser_problems, carla):
    app.config.update(MAX_ATTACHMENT_BYTES=1000, MAX_CONTENT_LENGTH=5000)
    page = sign_in(carla)
    page.goto(f"{live_server}/portal/new")
    expect(page.locator("#attachments-help")).to_contain_text("at most 1 kB each")
    page.get_by_label("Subject").fill("Scanner jams")
    page.get_by_label("Message").fill("It jams on every second page.")
    files = page.get_by_label("Attachments")
    files.set_input_files([{"name": "scan.pdf", "mimeType": "application/pdf", "buffer": b"\0" * 3000}])
    expect(page.locator(".upload-limit-error")).to_contain_text("“scan.pdf” (3 kB) is too large")
    page.get_by_role("button", name="Send").click()
    expect(page).to_have_url(f"{live_server}/portal/new")  # not sent: the script held it back
    expect(page.get_by_label("Subject")).to_have_value("Scanner jams")

    # Past the script (a page without it, an old tab): the server answers the form again.
    page.evaluate("document.querySelector('#attachments').removeAttribute('data-max-bytes')")
    page.evaluate("document.querySelector('#attachments').removeAttribute('data-max-total')")
    files.set_input_files([{"name": "scan.pdf", "mimeType": "application/pdf", "buffer": b"\0" * 8000}])
    page.get_by_role("button", name="Send").click()
    expect(page.locator(".invalid-feedback")).to_contain_text("'scan.pdf' (8 kB)")
    expect(page.get_by_label("Subject")).to_have_value("Scanner jams")
    expect(page.get_by_label("Message")).to_have_value("It jams on every second page.")
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Ticket)) == 0
    browser_problems.check()
