"""Macros and the Markdown composer in Chromium: one click applies a macro; pasted and dropped
files are attached and sent; the preview renders Markdown; a draft survives a reload."""
from __future__ import annotations

import base64

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from helpdesk import services
from helpdesk.models import Message
from helpdesk.services.macros import save_macro

PASSWORD = "long-password-1"
pytestmark = pytest.mark.browser
# A 1×1 PNG: what a screenshot pasted from the clipboard looks like to the page.
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAA"
                       "AABJRU5ErkJggg==")


@pytest.fixture
def app_config():
    return {"MAX_ATTACHMENT_BYTES": 50_000}


@pytest.fixture
def carla(make_user):
    return make_user("customer", name="Carla Customer", email="carla@example.com", password=PASSWORD)


@pytest.fixture
def alex(make_user):
    return make_user("agent", name="Alex Agent", email="alex@example.com", password=PASSWORD)


def send_files(page: Page, event: str, files: list[tuple[str, str, str]]) -> None:
    """Dispatch a paste (on the text) or drop (on the composer) carrying (name, type, base64) files."""
    page.evaluate("""([event, files]) => {
        const transfer = new DataTransfer();
        for (const [name, type, data] of files) {
            const bytes = Uint8Array.from(atob(data), c => c.charCodeAt(0));
            transfer.items.add(new File([bytes], name, {type}));
        }
        if (event === "paste") {
            document.getElementById("reply-body").dispatchEvent(
                new ClipboardEvent("paste", {clipboardData: transfer, bubbles: true, cancelable: true}));
        } else {
            document.getElementById("composer").dispatchEvent(
                new DragEvent("drop", {dataTransfer: transfer, bubbles: true, cancelable: true}));
        }
    }""", [event, files])


def test_macro_replies_resolves_tags_and_assigns_in_one_click(live_server, sign_in, db, carla, alex):
    ticket = services.create_ticket(carla, "Printer jam", "Paper stuck in tray 2.")
    macro = save_macro(alex, None, name="Jam fixed", status="resolved", add_tags="printer", assignee="me",
                       body="Hi {{ customer.first_name }},\n\nthe jam in **{{ ticket.reference }}** is cleared.")
    page = sign_in(alex)
    page.goto(f"{live_server}/tickets/{ticket.reference}")
    card = page.locator("#macros-card")
    card.locator("summary", has_text="Jam fixed").click()
    preview = card.locator(".macro-preview")
    expect(preview).to_contain_text("Hi Carla,")
    expect(preview.locator("strong")).to_have_text(ticket.reference)
    expect(card.locator(".macro-steps")).to_contain_text("Set the status to resolved")

    card.get_by_role("button", name="Apply “Jam fixed”").click()
    expect(page.locator("#flash-messages")).to_contain_text("Applied the macro “Jam fixed”")
    expect(page.locator("#ticket-status")).to_contain_text("resolved")
    expect(page.locator("#ticket-header")).to_contain_text("assigned to Alex Agent")
    expect(page.locator("#fields-form input[name=tags]")).to_have_value("printer")
    last = page.locator("#conversation article.message").last
    expect(last.locator(".message-markdown strong")).to_have_text(ticket.reference)
    db.session.expire_all()
    assert macro.usage_count == 1


def test_composer_preview_draft_paste_and_drop(live_server, sign_in, db, carla, alex):
    ticket = services.create_ticket(carla, "Screen flickers", "Since the update.")
    page = sign_in(alex)
    url = f"{live_server}/tickets/{ticket.reference}"
    page.goto(url)
    expect(page.locator("#reply-attachments-help")).to_contain_text("Up to 10 files, 48.8 KB each.")
    body = page.locator("#reply-body")
    body.fill(f"Hi Carla,\n\nabout {ticket.reference}: please **update the driver**.\n")

    # The draft survives a reload.
    page.wait_for_timeout(400)  # let the debounced save run (not a timing assertion)
    page.reload()
    expect(body).to_have_value(f"Hi Carla,\n\nabout {ticket.reference}: please **update the driver**.\n")
    expect(page.locator("#composer-draft-note")).to_contain_text("Your unsent draft was restored")

    # Preview renders the Markdown on the server.
    page.locator("#composer-preview-tab").click()
    expect(page.locator("#composer-preview strong")).to_have_text("update the driver")
    page.locator("#composer-write-tab").click()

    # A pasted screenshot and a dropped log file are attached; too large a file is refused, said why.
    body.press("End")
    send_files(page, "paste", [("image.png", "image/png", base64.b64encode(PNG).decode())])
    send_files(page, "drop", [("driver.log", "text/plain", base64.b64encode(b"flicker at 60Hz").decode()),
                              ("huge.bin", "application/octet-stream", base64.b64encode(b"x" * 60_000).decode())])
    files = page.locator("#composer-files li")
    expect(files).to_have_count(2)
    expect(files.first).to_contain_text("pasted-image-1.png")
    expect(files.last).to_contain_text("driver.log")
    expect(page.locator("#composer-file-error")).to_contain_text("“huge.bin” is 58.6 KB; files may be at most 48.8 KB.")
    expect(body).to_have_value(
        f"Hi Carla,\n\nabout {ticket.reference}: please **update the driver**.\n"
        "![pasted-image-1.png](<attachment:pasted-image-1.png>)\n")
    page.locator("#composer-preview-tab").click()
    # Before sending, the pasted image shows from the file itself.
    expect(page.locator("#composer-preview img")).to_have_attribute(
        "src", "data:image/png;base64," + base64.b64encode(PNG).decode())
    page.locator("#composer-write-tab").click()

    page.get_by_role("button", name="Send reply").click()
    expect(page.locator("#flash-messages")).to_contain_text("Reply sent.")
    last = page.locator("#conversation article.message").last
    expect(last.locator(".message-markdown strong")).to_have_text("update the driver")
    expect(last.locator(".attachment")).to_have_count(2)
    image = last.locator(".message-markdown img")
    expect(image).to_have_attribute("alt", "pasted-image-1.png")
    assert image.evaluate("img => img.complete && img.naturalWidth") == 1  # the inline image loads

    # Sent: the draft is gone, also after another reload.
    expect(body).to_have_value("")
    page.reload()
    expect(body).to_have_value("")
    expect(page.locator("#composer-draft-note")).to_have_count(0)
    db.session.expire_all()
    message = db.session.scalars(select(Message).where(Message.ticket_id == ticket.id).order_by(Message.id)).all()[-1]
    assert sorted(a.filename for a in message.attachments) == ["driver.log", "pasted-image-1.png"]
