"""Real-browser tests: Debian's Chromium driven by Playwright against a live Helpdesk server.

Run:  .venv/bin/python -m pytest -q tests/browser -p no:logging

Never run ``playwright install``: the system Chromium at /usr/bin/chromium is used. Without
it, every test in this directory is skipped.

Each test gets its own app and database (the ``app`` fixture of ``helpdesk.testing``); the
``live_server`` fixture serves that app from a thread. The server's request threads have app
contexts of their own, so after the browser changed something call
``db.session.expire_all()`` before reading the database from the test.
"""
from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, ConsoleMessage, Page, expect
from werkzeug.serving import make_server

# How long a page action or an expectation may wait. CI runs the SQLite and the PostgreSQL suites
# at once on two cores: a page that answers in 1 s alone can take several then (a 5 s wait failed
# there). A passing test waits only as long as the page needs, so the margin costs nothing.
BROWSER_WAIT_MS = 15_000
expect.set_options(timeout=BROWSER_WAIT_MS)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu",
    "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
]
PASSWORD = "long-password-1"
HERE = Path(__file__).parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark this directory's tests ``browser``; skip them all when Chromium is missing."""
    skip = pytest.mark.skip(reason=f"{CHROMIUM} not found: install Debian's chromium package "
                                   "(never `playwright install`) to run the browser tests")
    for item in items:
        if HERE in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.browser)
            if not os.path.exists(CHROMIUM):
                item.add_marker(skip)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    # Overrides pytest-playwright's fixture: keep its CLI options (--headed, --slowmo),
    # point it at the system binary.
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture
def live_server(app) -> Iterator[str]:
    """The test's app served on a free local port; yields the base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


class BrowserProblems:
    """Console messages about the Content Security Policy, and uncaught page errors."""

    def __init__(self) -> None:
        self.csp: list[str] = []
        self.errors: list[str] = []

    def watch(self, page: Page) -> Page:
        def on_console(message: ConsoleMessage) -> None:
            if "Content Security Policy" in message.text:
                self.csp.append(f"{page.url}: {message.text}")

        page.on("console", on_console)
        page.on("pageerror", lambda error: self.errors.append(f"{page.url}: {error}"))
        return page

    def check(self) -> None:
        assert not self.csp, "CSP violations:\n" + "\n".join(self.csp)
        assert not self.errors, "JavaScript errors:\n" + "\n".join(self.errors)


@pytest.fixture
def browser_problems() -> BrowserProblems:
    return BrowserProblems()


@pytest.fixture
def open_page(live_server: str, new_context: Callable[..., BrowserContext],
              browser_problems: BrowserProblems) -> Iterator[Callable[[], Page]]:
    """``open_page()``: a page in a fresh browser context (its own cookies), watched for CSP
    violations and JavaScript errors. Any found fail the test at teardown as well."""
    def make() -> Page:
        page = new_context().new_page()
        page.set_default_timeout(BROWSER_WAIT_MS)
        return browser_problems.watch(page)

    yield make
    browser_problems.check()


@pytest.fixture
def sign_in(live_server: str, open_page: Callable[[], Page]) -> Callable[..., Page]:
    """``sign_in(user)``: a new browser context signed in as ``user`` through the login form.

    The user must have been created with ``password=PASSWORD``.
    """
    def do(user: Any, password: str = PASSWORD) -> Page:
        page = open_page()
        page.goto(f"{live_server}/login")
        form = page.locator("#login-form")
        form.get_by_label("Email").fill(user.email)
        form.get_by_label("Password").fill(password)
        form.get_by_role("button", name="Sign in").click()
        expect(page.locator("#current-user")).to_contain_text(user.name)
        return page

    return do


@pytest.fixture
def screenshot(tmp_path: Path) -> Callable[[Page, str], Path]:
    """``screenshot(page, "name")``: a full-page PNG in tmp_path, checked to be non-empty."""
    def take(page: Page, name: str) -> Path:
        path = tmp_path / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        assert path.stat().st_size > 0
        return path

    return take
