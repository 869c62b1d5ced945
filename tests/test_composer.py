"""The Markdown composer: safe HTML, readable text, mail with an HTML part, pasted images, limits."""
from __future__ import annotations

import io
import re
from email import message_from_bytes

import pytest
from pagetext import alerts, field_errors
from sqlalchemy import select

from helpdesk.models import Message, OutboxMail
from helpdesk.richtext import clean, compose, html_to_text, render_markdown
from helpdesk.services.mail import build_message

HOSTILE = [  # (Markdown, what must not be in the HTML as markup)
    ("<script>alert(1)</script>", "<script"),
    ("[click](javascript:alert(1))", "<a"),
    ("[click](JaVaScRiPt:alert(1))", "<a"),
    ("[click](<javascript:alert(1)>)", "<a"),
    ("[click](&#106;avascript:alert(1))", "<a"),
    ("<img src=x onerror=alert(1)>", "<img"),
    ('<a href="javascript:alert(1)">x</a>', "<a "),
    ("![x](javascript:alert(1))", "src="),
    ("![tracker](https://evil.example/pixel.gif)", "src="),
    ("<iframe src=https://evil.example></iframe>", "<iframe"),
    ("<style>body{display:none}</style>", "<style"),
    ("[x](data:text/html;base64,PHNjcmlwdD4=)", "<a"),
    ("[x](vbscript:msgbox)", "<a"),
]


@pytest.mark.parametrize(("source", "forbidden"), HOSTILE)
def test_markdown_is_sanitised(source, forbidden):
    html = render_markdown(source)
    assert forbidden not in html.lower()
    assert not re.search(r"<[a-z][^>]*\son\w+=", html)  # no event handler on any tag
    assert not re.search(r"<[a-z][^>]*(href|src)=\"\s*(javascript|vbscript|data):", html, re.I)


def test_stored_html_is_sanitised_again_when_shown():
    hostile = '<p onclick="x()">hi<script>alert(1)</script><a href="javascript:x">a</a></p>'
    assert clean(hostile) == '<p>hi<a rel="noopener noreferrer nofollow">a</a></p>'


def test_markdown_renders_formatting_and_readable_text():
    composed = compose("Hi **Carla**,\n\nsee [the guide](https://example.com/guide)\n- one\n- two\n\n> quoted")
    assert "<strong>Carla</strong>" in composed["body_html"]
    assert 'href="https://example.com/guide"' in composed["body_html"]
    assert composed["body"] == ("Hi Carla,\n\nsee the guide (https://example.com/guide)\n\n- one\n- two\n\n> quoted")
    assert composed["meta"] == {"format": "markdown",
                                "markdown": "Hi **Carla**,\n\nsee [the guide](https://example.com/guide)\n"
                                            "- one\n- two\n\n> quoted"}
    assert html_to_text("<ol><li>a</li><li>b</li></ol>") == "1. a\n2. b"


@pytest.fixture
def staff(client, login, agent):
    login(client, agent)
    return client


def _send(staff, ticket, body, **extra):
    return staff.post(f"/tickets/{ticket.reference}", data={"body": body, "send_anyway": "y", **extra},
                      content_type="multipart/form-data")


def test_reply_mail_has_html_and_a_text_alternative(staff, db, ticket):
    answer = _send(staff, ticket, "Hi Carla,\n\nplease **restart** the [printer](https://example.com/p).\n"
                                  "<script>alert(1)</script>")
    assert answer.status_code == 302
    [mail] = db.session.scalars(select(OutboxMail).where(OutboxMail.to_addr == "carla@example.test"))
    assert "please restart the printer (https://example.com/p)." in mail.body_text
    assert "**" not in mail.body_text
    parsed = message_from_bytes(bytes(build_message(mail)))
    assert parsed.get_content_type() == "multipart/alternative"
    parts = {part.get_content_type(): part.get_payload(decode=True).decode() for part in parsed.walk()
             if not part.is_multipart()}
    assert "<strong>restart</strong>" in parts["text/html"]
    assert "<script" not in parts["text/html"] and "&lt;script&gt;" in parts["text/html"]
    assert "please restart the printer" in parts["text/plain"]


def test_customer_portal_shows_the_reply_rendered_and_safe(staff, client, app, db, ticket, login, customer):
    _send(staff, ticket, "Hi Carla, **fixed**. <img src=x onerror=alert(1)>")
    portal = app.test_client()
    login(portal, customer)
    page = portal.get(f"/portal/tickets/{ticket.reference}").text
    assert "<strong>fixed</strong>" in page
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page


def test_pasted_image_is_attached_and_shown_inline(staff, db, ticket):
    png = b"\x89PNG\r\n\x1a\n" + b"0" * 100
    answer = _send(staff, ticket, "Hi Carla, see:\n\n![shot](<attachment:pasted image 1.png>)",
                   attachments=[(io.BytesIO(png), "pasted image 1.png", "image/png")])
    assert answer.status_code == 302
    message = db.session.scalars(select(Message).order_by(Message.id.desc())).first()
    [attachment] = message.attachments
    assert f'<img src="/attachments/{attachment.token}" alt="shot">' in message.body_html
    assert "[image: shot]" in message.body
    page = staff.get(f"/tickets/{ticket.reference}").text
    assert f'src="/attachments/{attachment.token}"' in page


def test_too_many_files_are_refused_and_the_text_kept(staff, db, ticket, app):
    app.config["MAX_ATTACHMENTS_PER_MESSAGE"] = 2
    files = [(io.BytesIO(b"x"), f"f{i}.txt", "text/plain") for i in range(3)]
    answer = _send(staff, ticket, "Hi Carla, three files.", attachments=files)
    assert answer.status_code == 422
    assert "Attach at most 2 files to one message (3 chosen)." in field_errors(answer.text)
    assert "Hi Carla, three files." in answer.text
    assert db.session.scalar(select(Message).where(Message.body.contains("three files"))) is None


def test_ticket_page_shows_the_limits_before_upload(staff, ticket, app):
    page = staff.get(f"/tickets/{ticket.reference}").text
    assert "Up to 10 files, 10.0 MB each." in page
    assert f'data-max-bytes="{app.config["MAX_ATTACHMENT_BYTES"]}"' in page


def test_preview_renders_safely_for_agents_only(staff, client, ticket, app, login, customer):
    answer = staff.post(f"/tickets/{ticket.reference}/preview",
                        data={"body": "**hi** <script>x</script> [a](javascript:x)"})
    html = answer.get_json()["html"]
    assert "<strong>hi</strong>" in html and "<script" not in html and "<a " not in html
    other = app.test_client()
    other.__class__ = staff.__class__
    login(other, customer)
    assert other.post(f"/tickets/{ticket.reference}/preview", data={"body": "x"}).status_code == 404
    assert alerts(staff.get(f"/tickets/{ticket.reference}").text) == []


def test_internal_note_keeps_markdown_and_is_not_mailed(staff, db, ticket):
    _send(staff, ticket, "Checked the **logs**", internal="y")
    note = db.session.scalars(select(Message).where(Message.internal.is_(True))).one()
    assert "<strong>logs</strong>" in note.body_html and note.body == "Checked the logs"
    assert db.session.scalar(select(OutboxMail).where(OutboxMail.body_text.contains("logs"))) is None
    assert re.search(r"message-markdown[^>]*>\s*<p>Checked the <strong>logs", staff.get(
        f"/tickets/{ticket.reference}").text)
