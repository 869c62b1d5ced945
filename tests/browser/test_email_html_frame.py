"""An HTML mail in Chromium: shown as written, but its script, style and remote images never run or load."""
from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import expect

PASSWORD = "long-password-1"

pytestmark = [pytest.mark.browser, pytest.mark.plugins("email")]


class RemoteHost:
    """A stand-in for the tracker's server: counts every request it gets."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        host = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                host.paths.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "image/gif")
                self.end_headers()
                self.wfile.write(b"GIF89a")

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def remote_host():
    host = RemoteHost()
    yield host
    host.stop()


def hostile_mail(remote: str) -> bytes:
    html = (f"<html><head><style>body{{background:rgb(255,0,0)}}</style>"
            f"<link rel=stylesheet href='{remote}/style.css'>"
            f"<script>top.document.title='owned'; new Image().src='{remote}/script-ran';</script></head>"
            f"<body><h1>Quarterly statement</h1><p>Order <b>4711</b> is listed twice.</p>"
            f"<img src='{remote}/pixel.gif' width=1 height=1>"
            f"<p style=\"background:url({remote}/inline-style.gif)\">Kind regards, Frieda</p></body></html>")
    return (b"From: Frieda Finance <frieda@example.com>\r\nTo: support@helpdesk.test\r\n"
            b"Subject: Statement Q2\r\nMessage-ID: <statement@example.com>\r\nMIME-Version: 1.0\r\n"
            b"Content-Type: multipart/mixed; boundary=mix\r\n\r\n"
            b"--mix\r\nContent-Type: text/plain\r\n\r\nThis message is in HTML.\r\n"
            b"--mix\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + html.encode() + b"\r\n--mix--\r\n")


def test_an_html_mail_is_shown_but_nothing_in_it_runs_or_loads(live_server, sign_in, screenshot, browser_problems,
                                                              make_user, remote_host):
    from helpdesk_email.ingest import ingest_message

    alex = make_user("agent", name="Alex Agent", email="alex@example.com", password=PASSWORD)
    result = ingest_message(hostile_mail(remote_host.url))
    assert result.outcome == "ticket"

    agent = sign_in(alex)
    agent.goto(f"{live_server}/tickets/{result.reference}")
    frame = agent.frame_locator("iframe.message-html")
    expect(frame.locator("h1")).to_have_text("Quarterly statement")
    expect(frame.locator("b")).to_have_text("4711")
    expect(frame.locator("body")).to_contain_text("Kind regards, Frieda")
    # The mail's style sheet did not apply; ours (allowed by hash) did.
    assert frame.locator("body").evaluate("b => getComputedStyle(b).backgroundColor") != "rgb(255, 0, 0)"
    assert "system-ui" in frame.locator("body").evaluate("b => getComputedStyle(b).fontFamily")
    agent.wait_for_load_state("networkidle")
    assert agent.title() != "owned"  # the script's side effect is absent
    assert remote_host.paths == []  # no image, style sheet or script request reached the remote host
    screenshot(agent, "email-html-frame")
    browser_problems.check()
