"""The answer bot: help-centre articles offered before the first message becomes a chat.

Everything it offers comes from a knowledge base plugin through the hook
``helpdesk_suggest_answers`` (``plugin_api.suggest_answers``): retrieval, never generated
text. A visitor who asks for a person (the widget's *Talk to a human* button, or words
such as "human", "agent", "real person" in the message) is handed over at once, and so is
one who answers the offered articles with anything but *This solved it*.
"""
from __future__ import annotations

import re
from typing import Any

from helpdesk.plugin_api import answer_accepted, suggest_answers
from helpdesk_chat import config

OFFERED = 2  # articles the bot offers at most
SUGGESTED = 3  # articles listed while typing
HUMAN = re.compile(
    r"\b(human|humans|person|people|agent|agents|operator|representative|someone|somebody|staff|"
    r"mensch|mitarbeiter\w*|menschen)\b|talk to (a|an|some)|speak to (a|an|some)", re.IGNORECASE)
LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})?$")


def clean_language(raw: Any) -> str:
    return raw if isinstance(raw, str) and LANGUAGE.match(raw) else "en"


def wants_human(text: str) -> bool:
    return bool(HUMAN.search(text or ""))


def _public(answer: dict[str, Any]) -> dict[str, Any]:
    """What the widget receives of an answer (no scores)."""
    return {"id": answer.get("id"), "title": str(answer.get("title") or ""), "url": str(answer.get("url") or ""),
            "excerpt": str(answer.get("excerpt") or "")}


def offer(text: str, language: str) -> list[dict[str, Any]]:
    """Articles to offer before a first message opens a chat: confident ones only, and none
    when the bot is off or the visitor asked for a person."""
    if not config.setting("answer_bot") or wants_human(text):
        return []
    return [_public(a) for a in suggest_answers(text, language, OFFERED) if a.get("confident")][:OFFERED]


def suggestions(text: str, language: str) -> list[dict[str, Any]]:
    """Articles matching what the visitor is typing (any confidence), while typing the first message."""
    if not config.setting("suggestions") or len((text or "").strip()) < 3:
        return []
    return [_public(a) for a in suggest_answers(text, language, SUGGESTED)]


def solved(visitor_id: int, article_id: Any, attempt: Any, text: str) -> bool:
    """The visitor said an article solved it: counted once per attempt (by the knowledge base)."""
    if not isinstance(article_id, int) or not isinstance(attempt, str) or not re.fullmatch(r"[A-Za-z0-9_-]{8,40}",
                                                                                             attempt):
        return False
    return answer_accepted(article_id, f"{visitor_id}.{attempt}", "chat", text)
