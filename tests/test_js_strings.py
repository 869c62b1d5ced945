"""No English words written into pages by the scripts (issue 24): every text a script puts
into a page comes from the server, rendered in the reader's language (base.html's
``#helpdesk-texts`` element, a plugin template's ``data-*`` attributes, or the chat widget's
config). This checker reads the scripts' string literals and fails on words in them.

A heuristic, on purpose simple: a double- or single-quoted literal with two or more words
of letters, or one capitalised word, is a sentence someone reads — unless it is plainly
something else (CSS classes and selectors, URLs and paths, event and header names, data
keys, HTTP methods, MIME types, messages to the console or to ``Error`` that nobody sees).
"""
from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = sorted([*ROOT.glob("helpdesk/static/*.js"), *ROOT.glob("plugins/*/helpdesk_*/static/*.js")])

LITERAL = re.compile(r'"((?:[^"\\\n]|\\.)*)"|\'((?:[^\'\\\n]|\\.)*)\'')
WORD = re.compile(r"(?<![\w\-:])[A-Za-z][a-z]+(?![\w\-:])")  # not parts of csrf_token, a-b, x:y
# Literals that are not read by a person (see the module's docstring).
NOT_WORDS = [
    re.compile(r"^ ?(?=.*-)[a-z0-9_\-]+( [a-z0-9_\-]+)*$"),  # class lists ("btn btn-sm"), ids
    re.compile(r"^use strict$"),
    re.compile(r"^(ArrowDown|ArrowUp|ArrowLeft|ArrowRight|Enter|Tab|Escape|DOMContentLoaded|Files)$"),  # DOM names
    re.compile(r"^[#.\[]|^\w+[.#\[]|\[\w|#\w| > |:checked|:hover"),  # selectors
    re.compile(r"^(https?:|/|\.\./|\?|&|#)"),  # URLs, paths, query strings
    re.compile(r"^[a-z]+/[\w.+\-*]+"),  # MIME types
    re.compile(r"^(GET|POST|PUT|PATCH|DELETE|OPTIONS|HEAD)$"),
    re.compile(r"^(Accept|Content-Type|X-[\w-]+|Last-Event-ID)$"),  # header names
    re.compile(r"^HTTP $|^HTTP$"),  # "HTTP " + status in an Error (not shown)
    re.compile(r"[{};]|^:host"),  # style sheets (the chat widget's shadow root)
]
# Lines whose literals are not shown: the console, thrown errors.
QUIET = re.compile(r"console\.\w+\(|new Error\(")
# Lines setting class names or link relations: their lowercase literals are tokens, not words.
TOKENS = re.compile(r"className|classList|\"class\"|\"rel\"|\.rel\b")
BLOCK_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
LINE_COMMENT = re.compile(r"(^|\s)//.*$", re.MULTILINE)


def _literals(path: Path) -> list[tuple[int, str]]:
    source = BLOCK_COMMENT.sub(lambda m: "\n" * m.group(0).count("\n"), path.read_text(encoding="utf-8"))
    source = LINE_COMMENT.sub(r"\1", source)
    found = []
    for number, line in enumerate(source.splitlines(), 1):
        if QUIET.search(line):
            continue
        for match in LITERAL.finditer(line):
            text = match.group(1) if match.group(1) is not None else match.group(2)
            if TOKENS.search(line) and text == text.lower():
                continue
            found.append((number, text))
    return found


def _is_words(text: str) -> bool:
    if any(rule.search(text) for rule in NOT_WORDS):
        return False
    words = WORD.findall(text)
    return len(words) >= 2 or any(w[0].isupper() for w in words)


# Literals that may stay (path relative to the repository, the literal): keep this empty;
# a word here is a word a German reader sees in English.
ALLOWED: set[tuple[str, str]] = set()


def test_the_checker_sees_english_in_a_script(tmp_path):
    script = tmp_path / "sample.js"
    script.write_text('box.textContent = "No problems found.";\n'
                      'item.className = "live-banner-item me-2";\n'
                      'fetch(url, { headers: { "Accept": "application/json" } });\n'
                      'label.textContent = T.show;\n', encoding="utf-8")
    assert [text for _n, text in _literals(script) if _is_words(text)] == ["No problems found."]


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_english_words_in_scripts(path):
    relative = str(path.relative_to(ROOT))
    words = [f"{relative}:{number}: {text!r}" for number, text in _literals(path)
             if _is_words(text) and (relative, text) not in ALLOWED]
    assert not words, "words a reader sees, written in the script:\n" + "\n".join(words)


def test_the_scripts_are_all_checked():
    names = {p.name for p in SCRIPTS}
    assert {"live.js", "app.js", "composer.js", "widget.js", "portal_suggest.js"} <= names


def test_pages_carry_the_scripts_words_with_placeholders_for_the_scripts(client, login, agent):
    login(client, agent)
    page = client.get("/queue").get_data(as_text=True)
    found = re.search(r"id=\"helpdesk-texts\" hidden data-texts='([^']*)'", page)
    assert found, "base.html renders the scripts' words"
    texts = json.loads(html.unescape(found.group(1)))
    assert texts["live"]["bell"] == {"one": "Notifications, {num} unread", "other": "Notifications, {num} unread"}
    assert texts["live"]["replied"] == "{name} replied {ago}."
    assert texts["live"]["statuses"]["open"] == "open"
    assert texts["app"]["no_problems"] == "No problems found."
    flat = json.dumps(texts, ensure_ascii=False)
    assert "%(" not in flat  # every placeholder in the form the scripts fill in
