"""Helpers for the surveys plugin's tests: links from real mail bodies, page text, time."""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from email.message import EmailMessage

from pagetext import alerts, attributes, field_errors, text, texts

__all__ = ["alerts", "attributes", "field_errors", "text", "texts"]

LINK = re.compile(r"https?://[^\s<>\"]+/s/[A-Za-z0-9_\-.]+\?score=\d+")


def set_setting(monkeypatch, name: str, value) -> None:
    monkeypatch.setenv(f"HELPDESK_PLUGIN_SURVEYS_{name.upper()}", str(value))


def resolve(ticket, actor) -> None:
    from helpdesk.plugin_api import services

    services.update_ticket(ticket, actor, status="resolved")


def after_delay(minutes: int = 61) -> datetime:
    from helpdesk.plugin_api import utcnow

    return utcnow() + timedelta(minutes=minutes)


def text_part(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")


def html_part(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("html",)).get_content()


def survey_links(message: EmailMessage) -> list[str]:
    """Every one-click score link in the mail's text part, in order."""
    return LINK.findall(text_part(message))


def score_link(message: EmailMessage, score: int) -> str:
    """The one-click link for ``score`` from the HTML part (the buttons)."""
    hrefs = re.findall(r'href="([^"]+\?score=(\d+))"', html_part(message))
    return next(url.replace("&amp;", "&") for url, n in hrefs if int(n) == score)


def page_path(message: EmailMessage) -> str:
    """The survey page (no score) as a path for the test client."""
    return local_path(re.search(r"https?://\S+/s/[A-Za-z0-9_\-.]+", text_part(message)).group(0))


def local_path(url: str) -> str:
    """``https://support.acme.test/s/x?score=4`` → ``/s/x?score=4`` for the test client."""
    return re.sub(r"^https?://[^/]+", "", url)


def invitation_mails(smtp_server) -> list[EmailMessage]:
    return [m for m in smtp_server.sink.messages() if "/s/" in text_part(m)]
