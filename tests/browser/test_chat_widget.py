"""The chat widget (issue 20) embedded in a page of another origin: the visitor chats, an
agent answers from the ticket page in a second browser, the visitor sees it live; a page
on an origin the admin did not allow cannot use the widget."""
from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import expect

from helpdesk.models import Message, Ticket

PASSWORD = "long-password-1"

pytestmark = [pytest.mark.browser, pytest.mark.plugins("chat")]


@pytest.fixture
def app_config():
    return {"LIVE_POLL_MS": 150, "LIVE_PRESENCE_SECONDS": 4, "LIVE_STREAM_SECONDS": 30}


@pytest.fixture
def shop(live_server: str) -> Iterator[Callable[[str], str]]:
    """``shop(host)``: a loopback web server playing a customer's website whose page embeds
    the widget from the helpdesk (another origin); returns the page's URL on ``host``."""
    page = (f'<!doctype html><html><head><title>Kettle shop</title></head><body><h1>Kettles</h1>'
            f'<script src="{live_server}/chat/widget.js" data-team="Sales" '
            f'data-greeting="Questions about kettles?"></script></body></html>').encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield lambda host: f"http://{host}:{server.server_port}/"
    server.shutdown()


def test_visitor_chats_and_sees_the_agents_reply_live(live_server, shop, open_page, sign_in, db, make_user,
                                                       monkeypatch, screenshot):
    shop_url = shop("localhost")
    monkeypatch.setenv("HELPDESK_PLUGIN_CHAT_ALLOWED_ORIGINS", shop_url.rstrip("/"))
    agent = make_user("agent", name="Sam Stone", email="sam@example.test", password=PASSWORD)

    visitor = open_page()
    visitor.goto(shop_url)
    launcher = visitor.get_by_role("button", name="Chat with us")
    launcher.click()
    expect(visitor.get_by_text("Questions about kettles?")).to_be_visible()
    visitor.get_by_label("Your name").fill("Vera <b>V</b>")
    visitor.get_by_label("Message").fill("Is the blue kettle <i>in stock</i>?")
    visitor.get_by_role("button", name="Send").click()
    expect(visitor.locator(".msg.visitor")).to_have_text("Is the blue kettle <i>in stock</i>?")

    db.session.expire_all()
    ticket = db.session.query(Ticket).one()
    assert ticket.channel == "chat"

    staff = sign_in(agent)
    staff.goto(f"{live_server}/tickets/{ticket.reference}")
    expect(staff.locator("#conversation")).to_contain_text("Is the blue kettle <i>in stock</i>?")
    staff.locator("#reply-body").fill("Hi Vera, yes: three left.")
    expect(visitor.get_by_text("Support is typing…")).to_be_visible(timeout=8_000)
    staff.locator("#reply-submit").click()
    expect(staff.locator("#flash-messages")).to_contain_text("Reply sent.")
    # Live, without reloading the shop's page (two seconds, the bound).
    expect(visitor.locator(".msg.agent")).to_contain_text("Hi Vera, yes: three left.", timeout=2_000)
    screenshot(visitor, "chat-widget-reply")

    # A reload keeps the conversation (the signed token in the shop page's storage).
    visitor.reload()
    visitor.get_by_role("button", name="Chat with us").click()
    expect(visitor.locator(".msg")).to_have_count(2)
    expect(visitor.locator(".msg.agent")).to_contain_text("three left")

    # The visitor types: the agent sees it as presence on the ticket page.
    visitor.get_by_label("Message").fill("Great, I")
    expect(staff.locator("#live-presence")).to_contain_text("is typing", timeout=8_000)
    visitor.get_by_role("button", name="Send").click()
    expect(staff.locator("#conversation")).to_contain_text("Great, I", timeout=8_000)
    db.session.expire_all()
    assert db.session.query(Message).filter_by(ticket_id=ticket.id).count() == 3


def test_a_page_on_another_origin_cannot_use_the_widget(live_server, shop, open_page, db, monkeypatch):
    monkeypatch.setenv("HELPDESK_PLUGIN_CHAT_ALLOWED_ORIGINS", "https://shop.example.test")
    page = open_page()
    with page.expect_console_message(lambda m: "chat is not available" in m.text):  # the widget gave up
        page.goto(shop("localhost"))
    expect(page.get_by_role("heading", name="Kettles")).to_be_visible()
    expect(page.get_by_role("button", name="Chat with us")).to_have_count(0)
    # Even a hand-written request from that page is refused, and it cannot read the answer.
    status = page.evaluate(f"""() => fetch("{live_server}/chat/api/session", {{method: "POST",
        headers: {{"Content-Type": "application/json"}}, body: "{{}}"}}).then(r => r.status, e => "blocked")""")
    assert status == "blocked"
    db.session.expire_all()
    assert db.session.query(Ticket).count() == 0


# ------------------------------------------------------------------ answer bot (knowledge base, issue 23)


@pytest.fixture
def help_articles(app, db, admin):
    from helpdesk_knowledge.articles import change_status, save_article

    made = {}
    for key, title, body in (
            ("password", 'Reset your password <img src=x onerror="window.pwned=1">',
             "Choose *Forgot password* on the sign-in page and follow the link we email you."),
            ("kettle", "Descale your kettle", "Boil water with a spoon of citric acid, then rinse twice.")):
        article = save_article(None, admin, title=title, body=body, section_id=None, internal=False)
        change_status(article, admin, "publish")
        made[key] = article.id
    return made


def _deflections(db) -> int:
    from helpdesk_knowledge.models import KnowledgeDeflection

    db.session.expire_all()
    return db.session.query(KnowledgeDeflection).count()


@pytest.mark.plugins("chat", "knowledge")
def test_visitor_sees_articles_while_typing_and_this_solved_it_opens_no_chat(
        live_server, shop, open_page, db, help_articles, monkeypatch, screenshot):
    shop_url = shop("localhost")
    monkeypatch.setenv("HELPDESK_PLUGIN_CHAT_ALLOWED_ORIGINS", shop_url.rstrip("/"))
    visitor = open_page()
    visitor.goto(shop_url)
    visitor.get_by_role("button", name="Chat with us").click()
    visitor.get_by_label("Message").fill("My kettle is full of limescale, how do I clean it")
    expect(visitor.get_by_text("These articles may help:")).to_be_visible()
    link = visitor.get_by_role("link", name="Descale your kettle")
    # The help centre's public address (EXTERNAL_URL), so it works from the shop's page.
    expect(link).to_have_attribute("href", re.compile(rf"^https?://[^/]+/help/articles/{help_articles['kettle']}$"))
    expect(link).to_have_attribute("target", "_blank")
    screenshot(visitor, "chat-widget-suggestions")
    visitor.locator(".answer", has_text="Descale your kettle").get_by_role("button", name="This solved it").click()
    expect(visitor.get_by_text("Glad that helped. No conversation was opened.")).to_be_visible()
    expect(visitor.get_by_label("Message")).to_have_value("")
    db.session.expire_all()
    assert db.session.query(Ticket).count() == 0
    assert _deflections(db) == 1


@pytest.mark.plugins("chat", "knowledge")
def test_the_answer_bot_offers_an_article_first_and_hands_over_to_a_human(
        live_server, shop, open_page, db, help_articles, monkeypatch, screenshot):
    shop_url = shop("localhost")
    monkeypatch.setenv("HELPDESK_PLUGIN_CHAT_ALLOWED_ORIGINS", shop_url.rstrip("/"))
    visitor = open_page()
    visitor.goto(shop_url)
    visitor.get_by_role("button", name="Chat with us").click()
    visitor.get_by_label("Message").fill("I forgot my password, how do I reset it?")
    visitor.get_by_role("button", name="Send").click()
    expect(visitor.get_by_text("Maybe one of these answers your question.", exact=False)).to_be_visible()
    # The article's title is text, never markup.
    expect(visitor.get_by_role("link", name='Reset your password <img src=x onerror="window.pwned=1">')) \
        .to_be_visible()
    assert visitor.evaluate("() => window.pwned") is None
    expect(visitor.locator(".msg")).to_have_count(0)
    db.session.expire_all()
    assert db.session.query(Ticket).count() == 0  # nothing sent to a person yet
    screenshot(visitor, "chat-widget-answer-bot")

    visitor.get_by_role("button", name="No, talk to a human").click()
    expect(visitor.locator(".msg.visitor")).to_have_text("I forgot my password, how do I reset it?")
    expect(visitor.locator(".answers")).to_be_hidden()
    db.session.expire_all()
    ticket = db.session.query(Ticket).one()
    assert ticket.channel == "chat" and ticket.messages[0].body == "I forgot my password, how do I reset it?"
    assert _deflections(db) == 0
    # The conversation goes on without the bot.
    visitor.get_by_label("Message").fill("Also, I forgot my password for the app")
    visitor.get_by_role("button", name="Send").click()
    expect(visitor.locator(".msg.visitor")).to_have_count(2)
    expect(visitor.locator(".answers")).to_be_hidden()


def test_the_widget_speaks_the_visitors_language(live_server, shop, new_context, browser_problems, monkeypatch):
    """A German browser (Accept-Language de) on the shop's page: the widget's words come with its
    config in German, placeholders filled in by the script (issue 24)."""
    shop_url = shop("localhost")
    monkeypatch.setenv("HELPDESK_PLUGIN_CHAT_ALLOWED_ORIGINS", shop_url.rstrip("/"))
    visitor = browser_problems.watch(new_context(locale="de-DE").new_page())
    visitor.goto(shop_url)
    visitor.get_by_role("button", name="Chatten Sie mit uns").click()
    expect(visitor.get_by_role("dialog", name="Chat")).to_be_visible()
    expect(visitor.get_by_placeholder("Nachricht schreiben…")).to_be_visible()
    expect(visitor.get_by_role("button", name="Senden")).to_be_visible()
    expect(visitor.get_by_role("button", name="Chat with us")).to_have_count(0)
    browser_problems.check()
