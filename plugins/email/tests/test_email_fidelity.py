"""Faithful content: HTML behind a text stub, undeclared and mislabelled charsets, RFC 2047 edge
cases, Unicode attachment names, a damaged header block. One fixture mail (data/fidelity/) each."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from helpdesk_email.ingest import ingest_message
from helpdesk_email.mime import decode_bytes, decode_header_value
from helpdesk_email.models import EmailQuarantine
from pagetext import text, texts
from sqlalchemy import func, select

from helpdesk.plugin_api import Message, Ticket, db_session, services

pytestmark = pytest.mark.plugins("email")
FIDELITY = Path(__file__).parent / "data" / "fidelity"


def fixture_mail(name: str) -> bytes:
    return (FIDELITY / name).read_bytes()


def ingest_cli(app, raw: bytes) -> str:
    result = app.test_cli_runner().invoke(args=["mail", "ingest"], input=raw)
    assert result.exit_code == 0, result.output
    return result.output


def agent_page(client, login, agent, reference: str) -> str:
    login(client, agent)
    page = client.get(f"/tickets/{reference}")
    assert page.status_code == 200
    return page.text


def frame_src(page: str) -> str:
    [frame] = re.findall(r"<iframe[^>]*>", page)
    assert re.search(r'sandbox="([^"]*)"', frame).group(1) == "allow-popups allow-popups-to-escape-sandbox"
    return re.search(r'src="([^"]+)"', frame).group(1)


# ------------------------------------------------------------------ HTML behind a text stub


def test_html_behind_a_text_stub_is_shown_sanitised_in_a_sandboxed_frame(app, client, login, agent):
    assert ingest_cli(app, fixture_mail("html-behind-a-text-stub.eml")).startswith("ticket HD-1")
    message = db_session().scalars(select(Message)).one()
    # The text version is the HTML's text (search, notices), not the stub.
    assert "the credit note for the returned chairs is missing" in message.body
    assert "This message is in HTML." not in message.body

    page = agent_page(client, login, agent, "HD-1")
    src = frame_src(page)
    assert "the credit note" in text(page, cls="message-plain")  # "Show as plain text"
    frame = client.get(src)
    assert frame.status_code == 200 and frame.mimetype == "text/html"
    csp = frame.headers["Content-Security-Policy"]
    assert csp.startswith("default-src 'none'; img-src http://localhost/attachments/; style-src 'sha256-")
    assert "sandbox allow-popups allow-popups-to-escape-sandbox" in csp and "frame-ancestors 'self'" in csp
    assert frame.headers["X-Frame-Options"] == "SAMEORIGIN"
    body = frame.text
    assert "<b>April to June</b>" in body and "<td>Order 4711</td>" in body
    for forbidden in ("<script", "owned", "display:none", "tracker.evil.example", "onclick", "<img"):
        assert forbidden not in body, forbidden


def test_a_full_text_alternative_is_shown_as_text_without_a_frame(app, client, login, agent):
    from email_mailmaker import make_mail

    result = ingest_message(make_mail(body="The scanner jams on every page, since Monday.\n",
                                      html="<p>The scanner jams on <b>every</b> page, since Monday.</p>"))
    page = agent_page(client, login, agent, result.reference)
    assert "<iframe" not in page
    assert text(page, cls="message-body") == "The scanner jams on every page, since Monday."


def test_the_html_frame_is_scoped_like_the_ticket(app, client, login, agent, customer, other_customer):
    ticket = services.create_ticket(customer, "Formatted", "Formatted text",
                                    body_html="<p>Formatted <b>text</b></p>")
    public = ticket.messages[0]
    note = services.add_message(ticket, agent, "Internal", internal=True, body_html="<p>Agents only</p>")
    public_url, note_url = f"/messages/{public.id}/html", f"/messages/{note.id}/html"

    assert client.get(public_url).status_code == 302  # signed out: to the sign-in page
    login(client, other_customer)
    assert client.get(public_url).status_code == 404
    login(client, customer)
    assert "Formatted <b>text</b>" in client.get(public_url).text
    assert client.get(note_url).status_code == 404  # customers never see internal notes
    portal = client.get(f"/portal/tickets/{ticket.reference}").text
    assert frame_src(portal) == public_url
    login(client, agent)
    assert "Agents only" in client.get(note_url).text
    plain = services.add_message(ticket, agent, "No HTML here")
    assert client.get(f"/messages/{plain.id}/html").status_code == 404


def test_hostile_html_stored_by_anything_is_cleaned_again_when_served(app, client, login, agent, ticket):
    # Whatever wrote the row (an old version, another plugin), the frame decides now.
    message = ticket.messages[0]
    message.body_html = ('<p>Hi</p><script>alert(1)</script><style>p{}</style>'
                         '<img src="https://tracker.example/p.png"><img src="/attachments/abc">')
    db_session().commit()
    login(client, agent)
    body = client.get(f"/messages/{message.id}/html").text
    assert "<p>Hi</p>" in body and '<img src="/attachments/abc">' in body
    assert "<script" not in body and "p{}" not in body and "tracker.example" not in body


# ------------------------------------------------------------------ charsets


@pytest.mark.parametrize(("name", "expected"), [
    ("undeclared-chinese-gb18030.eml", "我们公司的打印机从昨天开始无法正常工作，每次打印都会卡纸。"),
    ("undeclared-japanese-shift-jis.eml", "昨日から弊社のプリンターが正常に動作しておりません。"),
    ("undeclared-cyrillic-cp1251.eml", "С вчерашнего дня наш принтер не работает нормально"),
    ("utf8-labelled-latin1.eml", "Grüße aus München, der Drucker im Büro streikt schon wieder."),
])
def test_undeclared_and_mislabelled_charsets_are_detected(app, client, login, agent, name, expected):
    output = ingest_cli(app, fixture_mail(name))
    reference = output.split()[1].rstrip(":")
    conversation = text(agent_page(client, login, agent, reference), id="conversation")
    assert expected in conversation
    assert "\ufffd" not in conversation


def test_the_mislabelled_subject_is_read_as_utf8_too(app):
    ingest_message(fixture_mail("utf8-labelled-latin1.eml"))
    assert db_session().get(Ticket, 1).subject == "Grüße aus München"


def test_ascii_and_valid_declared_text_is_decoded_as_declared_without_detection():
    assert decode_bytes(b"plain ascii", None) == "plain ascii"
    assert decode_bytes("Schöne Grüße".encode("iso-8859-1"), "iso-8859-1") == "Schöne Grüße"
    assert decode_bytes("Привет".encode("koi8-r"), "koi8-r") == "Привет"
    # Too short to guess from: the old lossless single-byte reading, not a wild guess.
    assert decode_bytes("Grüße".encode("cp1252"), None) == "Grüße"


def test_a_declared_charset_the_text_is_not_in_is_detected_and_said(app):
    notes: list[str] = []
    text_ = decode_bytes("Здравствуйте! С вчерашнего дня наш принтер не работает.".encode("cp1251"), "utf-8",
                         notes, "message text")
    assert text_ == "Здравствуйте! С вчерашнего дня наш принтер не работает."
    assert notes == ["The message text was not valid utf-8; read as cp1251 (detected)."]


# ------------------------------------------------------------------ RFC 2047


def test_rfc2047_edge_cases_decode(app):
    ingest_message(fixture_mail("rfc2047-edge-cases.eml"))
    ticket = db_session().get(Ticket, 1)
    # spaces inside an encoded word; whitespace between adjacent words dropped; four charsets;
    # a character split across two words.
    assert ticket.subject == "Grüße aus München und Köln, Привет 日 (Tokyo)"
    assert ticket.customer.name == "Jürgen Müller"


@pytest.mark.parametrize(("raw", "expected"), [
    ("=?utf-8?q?a?= =?utf-8?q?b?=", "ab"),
    ("=?utf-8?q?a?= plain =?utf-8?q?b?=", "a plain b"),
    ("=?utf-8*de?q?Hallo_Welt?=", "Hallo Welt"),
    ("=?utf-8?b?!!!?= stays", "=?utf-8?b?!!!?= stays"),
    ("Re: =?utf-8?B?w7w=?==?utf-8?B?w7w=?=", "Re: üü"),
    ("=?iso-8859-1?q?Gr=C3=BC=C3=9Fe?=", "Grüße"),  # UTF-8 in a Latin-1 word
])
def test_encoded_word_forms(raw, expected):
    assert decode_header_value(raw) == expected


# ------------------------------------------------------------------ attachment names


def test_attachment_names_keep_their_unicode_and_lose_what_could_mislead(app, client, login, agent):
    from helpdesk.services.tickets import attachment_path

    ingest_cli(app, fixture_mail("unicode-attachment-names.eml"))
    page = agent_page(client, login, agent, "HD-1")
    names = [t.rsplit(" (", 1)[0] for t in texts(page, cls="attachment")]
    # RFC 2231 and RFC 2047 names; a bidi override and a zero-width space removed; no path.
    assert names == ["Mängelliste.pdf", "見積書.xlsx", "invoicefdp.exe", "passwd.txt"]
    message = db_session().scalars(select(Message)).one()
    first = message.attachments[0]
    assert "Mängelliste" not in first.token and attachment_path(first.token).read_bytes() == b"%PDF-1.4 list"
    download = client.get(f"/attachments/{first.token}")
    assert "filename*=UTF-8''M%C3%A4ngelliste.pdf" in download.headers["Content-Disposition"]


def test_the_core_keeps_unicode_names_of_uploaded_files_too():
    from helpdesk.plugin_api import safe_filename

    assert safe_filename("Ma\u0308ngelliste.pdf") == "Mängelliste.pdf"  # NFC
    assert safe_filename("C:\\Users\\me\\報告書.docx") == "報告書.docx"
    assert safe_filename(" ..\u200bhidden\u202e.txt ") == "hidden.txt"
    assert safe_filename("con.txt") == "_con.txt"
    assert safe_filename("\x00\x07") == "attachment"
    long = safe_filename("ä" * 400 + ".pdf")
    assert len(long) == 200 and long.endswith("ä.pdf")


# ------------------------------------------------------------------ damaged header block


def test_a_damaged_header_block_still_yields_the_sender_when_return_path_and_reply_to_agree(
        app, client, login, agent):
    output = ingest_cli(app, fixture_mail("damaged-header-block.eml"))
    assert output.startswith("ticket HD-1: New ticket HD-1 from olga@example.test.")
    page = agent_page(client, login, agent, "HD-1")
    assert "The From header could not be read; the sender is taken from From, Reply-To, Return-Path, " \
           "which agree." in text(page, id="conversation")
    assert "The printer still does not print." in text(page, id="conversation")


def test_a_damaged_header_block_whose_senders_disagree_is_quarantined(app):
    output = ingest_cli(app, fixture_mail("damaged-header-block-disagreeing.eml"))
    assert output.startswith("quarantined: No usable sender")
    assert db_session().scalar(select(func.count()).select_from(Ticket)) == 0
    assert db_session().scalars(select(EmailQuarantine)).one().subject == "Broken headers"
