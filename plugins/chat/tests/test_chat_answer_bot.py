"""The chat's answer bot and suggestions while typing, from the knowledge base through the hooks
(``helpdesk_suggest_answers``, ``helpdesk_answer_accepted``): confident articles first, a
person at once when asked, "this solved it" counted once and opening no chat."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from helpdesk.plugin_api import Ticket

pytestmark = pytest.mark.plugins("chat", "knowledge")


@pytest.fixture
def articles(app, admin):
    from helpdesk_knowledge.articles import change_status, save_article

    made = {}
    for key, title, body, internal in (
            ("password", "Reset your password", "Choose *Forgot password* on the sign-in page and follow the "
                                                "link we email you.", False),
            ("locked", "Unlock a customer's account (agents)", "Admin, Users, Unlock: forgot password cases.",
             True)):
        article = save_article(None, admin, title=title, body=body, section_id=None, internal=internal)
        change_status(article, admin, "publish")
        made[key] = article.id
    return made


def _tickets(db) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Ticket))


def _deflections(db) -> list[tuple[str, int]]:
    from helpdesk_knowledge.models import KnowledgeDeflection

    db.session.expire_all()
    return [(r.attempt, r.article_id) for r in db.session.scalars(select(KnowledgeDeflection))]


def test_a_confident_answer_comes_first_and_solved_opens_no_chat(db, widget, articles):
    widget.start()
    offered = widget.say("I forgot my password, how do I reset it?", language="en")
    assert offered.status_code == 200, offered.text
    assert [a["title"] for a in offered.json["answers"]] == ["Reset your password"]  # never the internal one
    assert offered.json["messages"] == [] and "confidence" not in offered.json["answers"][0]
    assert _tickets(db) == 0

    solved = widget.post("solved", json={"article_id": articles["password"], "attempt": "a1b2c3d4e5f6",
                                         "text": "I forgot my password"})
    assert solved.status_code == 200 and solved.json["counted"] is True
    again = widget.post("solved", json={"article_id": articles["password"], "attempt": "a1b2c3d4e5f6"})
    assert again.json["counted"] is False  # the same attempt: counted once
    assert len(_deflections(db)) == 1 and _deflections(db)[0][1] == articles["password"]
    assert _tickets(db) == 0


def test_asking_for_a_human_or_saying_it_did_not_help_hands_over_at_once(db, widget, articles):
    widget.start()
    handed = widget.say("I forgot my password, can I talk to a human please?")
    assert handed.status_code == 200 and handed.json.get("answers") is None
    assert [m["body"] for m in handed.json["messages"]] == ["I forgot my password, can I talk to a human please?"]
    assert _tickets(db) == 1


def test_the_talk_to_a_human_button_sends_the_question_to_a_person(db, client, articles):
    from chat_testkit import Widget

    widget = Widget(client)
    widget.start()
    assert widget.say("I forgot my password, how do I reset it?").json["answers"]
    sent = widget.say("I forgot my password, how do I reset it?", human=True)  # "No, talk to a human"
    assert [m["body"] for m in sent.json["messages"]] == ["I forgot my password, how do I reset it?"]
    assert _tickets(db) == 1
    # In a conversation the bot stays out of the way.
    more = widget.say("Also: I forgot my password for the shop app.")
    assert more.json.get("answers") is None and len(more.json["messages"]) == 2


def test_no_offer_when_nothing_is_a_confident_answer_or_the_bot_is_off(db, widget, articles, monkeypatch):
    widget.start()
    plain = widget.say("The blue kettle leaks at the bottom")
    assert plain.json.get("answers") is None and _tickets(db) == 1

    monkeypatch.setenv("HELPDESK_PLUGIN_CHAT_ANSWER_BOT", "false")
    other = type(widget)(widget.client)
    other.start()
    assert other.say("I forgot my password, how do I reset it?").json.get("answers") is None


def test_suggestions_while_typing(db, widget, articles):
    assert widget.get("suggest?q=forgot+password").status_code == 401  # no visitor yet
    widget.start()
    found = widget.get("suggest?q=forgot+passw&language=en")
    assert found.status_code == 200
    assert [a["title"] for a in found.json["answers"]] == ["Reset your password"]
    assert found.json["answers"][0]["url"].endswith(f"/help/articles/{articles['password']}")
    assert widget.get("suggest?q=xy").json["answers"] == []
    refused = widget.post("solved", json={"article_id": articles["locked"], "attempt": "zzzzzzzz1"})
    assert refused.json["counted"] is False  # an internal article is no answer for a visitor
    assert _deflections(db) == [] and _tickets(db) == 0


@pytest.mark.plugins("chat")
def test_without_a_knowledge_base_the_chat_works_as_before(db, widget):
    widget.start()
    sent = widget.say("I forgot my password, how do I reset it?")
    assert sent.json.get("answers") is None and _tickets(db) == 1
    assert widget.get("suggest?q=forgot+password").json["answers"] == []
