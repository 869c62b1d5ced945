"""Every word a person reads on a page goes through gettext (issue 24: "no hard-coded strings left").

The agent pages' catalogue may stay English, but a translator must be able to reach every
string. Three kinds of leak are found here:

- text between tags, or in a visible attribute (``placeholder``, ``title``, ``aria-label``,
  ``alt``, a button's ``value``), that is not inside ``{{ _(...) }}`` or ``{% trans %}``;
- a string literal in a template expression that reads as words (``m.button("Save")``)
  and is not an argument of ``_``/``gettext``/``ngettext``;
- in Python, ``flash("...")``, ``ValidationError("...")``, ``ServiceError("...")``,
  ``PermissionDenied("...")`` and WTForms field labels given as plain literals or f-strings
  (not through ``_``/``gettext``/``lazy_gettext``).

``PENDING_*`` list the files not yet converted; a file leaves the list when it is clean.
"""
from __future__ import annotations

import ast
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from jinja2 import Environment, nodes

ROOT = Path(__file__).resolve().parent.parent

# Words that read the same in every language (names, acronyms, units).
SAME_IN_EVERY_LANGUAGE = {
    "Helpdesk", "CSV", "JSON", "API", "URL", "ID", "SMTP", "IMAP", "CSAT", "NPS", "SLA", "SMS",
    "HTML", "UTC", "OK", "Markdown", "RSS", "IP", "TLS", "DKIM", "SPF", "DMARC", "MX", "PNG",
    "JPEG", "GIF", "WebP", "Telegram", "WhatsApp", "Twilio", "Slack", "PDF", "KB", "MB", "GB",
    "ms", "px", "Esc", "Ctrl", "Enter", "Alt", "Shift", "Tab", "Prometheus", "PostgreSQL", "SQLite",
    "Redis", "huey", "gunicorn", "VADER", "F1", "AUC", "TF", "IDF", "BM25", "QR", "XSS", "CSRF",
}
VISIBLE_ATTRIBUTES = {"placeholder", "title", "aria-label", "alt", "label", "data-confirm"}
TRANSLATING_CALLS = {"_", "gettext", "ngettext", "pgettext", "npgettext", "lazy_gettext", "_l"}
WORD = re.compile(r"[A-Za-z][A-Za-z']+")
# A placeholder key or dotted name (purchase_date, customer.fields.KEY) is typed as it is, not translated.
IDENTIFIER = re.compile(r"\b\w+(?:_\w+)+\b|\b\w+(?:\.\w+){2,}\b")
PROSE_LITERAL = re.compile(r"^[A-Z][a-z']+(?:[\s,.:!?…]|$)")

JINJA_COMMENT = re.compile(r"\{#.*?#\}", re.S)
JINJA_TRANS = re.compile(r"\{%-?\s*trans\b.*?\{%-?\s*endtrans\s*-?%\}", re.S)
JINJA_RAW = re.compile(r"\{%-?\s*raw\s*-?%\}.*?\{%-?\s*endraw\s*-?%\}", re.S)
# A tag ends at the first closing delimiter outside a string literal, so that
# ``_("placeholders such as {{ customer.name }} ...")`` is read as one tag.
_JINJA_STRING = r"'(?:\\.|[^'\\])*'" + r'|"(?:\\.|[^"\\])*"'
JINJA_TAG = re.compile(rf"\{{\{{(?:{_JINJA_STRING}|[^'\"])*?\}}\}}|\{{%(?:{_JINJA_STRING}|[^'\"])*?%\}}", re.S)
TAG_THEN_JINJA = re.compile(r"(<[A-Za-z][\w-]*)\x00")


def _words_to_translate(text: str) -> list[str]:
    return [w for w in WORD.findall(IDENTIFIER.sub(" ", text)) if w not in SAME_IN_EVERY_LANGUAGE]


class _VisibleText(HTMLParser):
    """Collects text and visible attribute values outside <script>/<style>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "svg", "code", "pre"):
            self._hidden += 1
        attributes = dict(attrs)
        for name, value in attrs:
            # A <button>'s value is sent with the form, never shown (its text is its content).
            visible = name in VISIBLE_ATTRIBUTES or (
                name == "value" and tag == "input"
                and (attributes.get("type") or "") in ("submit", "button", "reset"))
            if visible and value and _words_to_translate(value):
                self.found.append(f'{tag} {name}="{value.strip()}"')

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "svg", "code", "pre") and self._hidden:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden and _words_to_translate(data):
            self.found.append(" ".join(data.split()))


def _literal_words(template: nodes.Template) -> list[str]:
    """String constants in expressions that read as words and are not being translated."""
    found: list[str] = []

    def walk(node: nodes.Node, translated: bool) -> None:
        if isinstance(node, nodes.Call) and isinstance(node.node, nodes.Name) \
                and node.node.name in TRANSLATING_CALLS:
            translated = True
        if isinstance(node, nodes.Const) and isinstance(node.value, str) and not translated \
                and PROSE_LITERAL.match(node.value) and _words_to_translate(node.value):
            found.append(repr(node.value))
        if isinstance(node, nodes.TemplateData):
            return  # the HTML pass reads the text between tags
        for child in node.iter_child_nodes():
            walk(child, translated)

    walk(template, False)
    return found


_ENV = Environment(extensions=["jinja2.ext.i18n", "jinja2.ext.loopcontrols", "jinja2.ext.do"])


def template_leaks(path: Path) -> list[str]:
    """What a reader of this template would see untranslated."""
    source = path.read_text(encoding="utf-8")
    leaks = _literal_words(_ENV.parse(source))
    markup = JINJA_TAG.sub("\x00", JINJA_TRANS.sub("\x00", JINJA_RAW.sub("\x00", JINJA_COMMENT.sub("", source))))
    # "<option{% if ... %} selected{% endif %}>": keep the tag a tag (not text) for the parser.
    markup = TAG_THEN_JINJA.sub("\\1 \x00", markup)
    parser = _VisibleText()
    parser.feed(markup)
    parser.close()
    return leaks + parser.found


def _call_name(call: ast.Call) -> str:
    func = call.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def _is_words(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return bool(_words_to_translate(node.value))
    if isinstance(node, ast.JoinedStr):
        return any(_is_words(v) for v in node.values if isinstance(v, ast.Constant))
    return False


def python_leaks(path: Path) -> list[str]:
    """flash/ValidationError messages and WTForms labels given as plain literals."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        name = _call_name(node)
        if name in ("flash", "ValidationError") or (name.endswith("Field") and name[0].isupper()):
            candidates = list(node.args[:1]) + [k.value for k in node.keywords if k.arg in ("label", "message")]
            found += [f"line {node.lineno}: {name}({ast.unparse(c)[:60]})" for c in candidates if _is_words(c)]
        if name in ("ServiceError", "PermissionDenied") and node.args and _is_words(node.args[0]):
            found.append(f"line {node.lineno}: {name}({ast.unparse(node.args[0])[:60]})")
        if name in ("DataRequired", "InputRequired", "Length", "Email", "NumberRange", "Optional", "Regexp",
                    "AnyOf", "NoneOf", "URL", "EqualTo"):
            found += [f"line {node.lineno}: {name}(message={ast.unparse(k.value)[:60]})"
                      for k in node.keywords if k.arg == "message" and _is_words(k.value)]
    return found


def _templates() -> list[Path]:
    paths = sorted((ROOT / "templates").rglob("*.html"))
    paths += sorted(ROOT.glob("plugins/*/helpdesk_*/templates/**/*.html"))
    return paths


def _python_files() -> list[Path]:
    paths = sorted((ROOT / "helpdesk" / "web").rglob("*.py"))
    paths += sorted((ROOT / "helpdesk" / "services").glob("*.py"))
    # helpdesk/cli.py prints to a terminal (not an agent's page); scaffold writes code.
    paths += sorted(p for p in (ROOT / "helpdesk").glob("*.py") if p.name not in ("cli.py", "scaffold.py"))
    paths += sorted(p for p in ROOT.glob("plugins/*/helpdesk_*/**/*.py") if "migrations" not in p.parts)
    return paths


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


# Not converted yet (issue 24). The core's pages:
PENDING_CORE: set[str] = {
}

# Not converted yet (issue 24). The plugins' pages:
PENDING_PLUGINS: set[str] = {
}


@pytest.mark.parametrize("path", _templates(), ids=_rel)
def test_template_has_no_untranslated_words(path: Path) -> None:
    if _rel(path) in PENDING_CORE | PENDING_PLUGINS:
        pytest.skip("not converted yet")
    assert template_leaks(path) == [], f"{_rel(path)}: wrap these in _(...)"


@pytest.mark.parametrize("path", _python_files(), ids=_rel)
def test_python_messages_are_translatable(path: Path) -> None:
    if _rel(path) in PENDING_CORE | PENDING_PLUGINS:
        pytest.skip("not converted yet")
    assert python_leaks(path) == [], f"{_rel(path)}: wrap these in _(...) / lazy_gettext(...)"


def test_the_checker_finds_each_kind_of_leak(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text('{% extends "base.html" %}{% block content %}<h1>{{ _("Queue") }}</h1>'
                    '<p>Nothing here</p><input placeholder="Search tickets">'
                    '{{ m.button("Save changes") }}{{ _("Fine %(n)s", n="x") }}'
                    '<script>var s = "Not shown";</script>{% trans %}Also fine{% endtrans %}'
                    '<span class="text-body-secondary">{{ ticket.reference }}</span>'
                    '<input placeholder="purchase_date"><code>x</code> customer.fields.KEY{% endblock %}')
    assert template_leaks(page) == ["'Save changes'", "Nothing here", 'input placeholder="Search tickets"']
    module = tmp_path / "views.py"
    module.write_text('flash("Saved.")\nflash(_("Saved."))\nflash(f"Saved {n}.")\n'
                      'name = StringField("Name", validators=[DataRequired(message="Say it")])\n'
                      'other = StringField(_l("Name"))\n'
                      'raise ServiceError(f"No ticket {n}.", field="x")\nraise PermissionDenied(gettext("No."))\n')
    assert python_leaks(module) == ['line 1: flash(\'Saved.\')', "line 3: flash(f'Saved {n}.')",
                                    "line 4: StringField('Name')", "line 6: ServiceError(f'No ticket {n}.')",
                                    "line 4: DataRequired(message='Say it')"]
