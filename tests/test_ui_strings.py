"""Every word a person reads on a page goes through gettext (issue 24: "no hard-coded strings left").

The agent pages' catalogue may stay English, but a translator must be able to reach every
string. Three kinds of leak are found here:

- text between tags, or in a visible attribute (``placeholder``, ``title``, ``aria-label``,
  ``alt``, a button's ``value``), that is not inside ``{{ _(...) }}`` or ``{% trans %}``;
- a string literal in a template expression that reads as words (``m.button("Save")``)
  and is not an argument of ``_``/``gettext``/``ngettext``;
- in Python, ``flash("...")``, ``ValidationError("...")``, ``ServiceError("...")``,
  ``PermissionDenied("...")``, ``SettingError("...")`` (a plugin setting's error) and WTForms
  field labels given as plain literals or f-strings (not through ``_``/``gettext``/``lazy_gettext``);
- the plugin contract's words given as plain literals: ``label``/``help`` of ``Setting`` and
  ``NotificationKind`` (whose label is also its 2nd argument), ``ReplyWarning``'s text and
  label, a ``Channel`` subclass's ``label`` (class attribute or ``__init__`` argument); and
  the values of module-level ``*_LABELS``/``*_NAMES`` dicts (``N_``/``lazy_gettext`` them).

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


# The contract's value types: the arguments people read, by position and by keyword.
CONTRACT_WORDS = {
    "Setting": ({3: "help", 4: "label"}, ("help", "label")),
    "NotificationKind": ({1: "label", 3: "help"}, ("label", "help")),
    "ReplyWarning": ({1: "text", 2: "label"}, ("text", "label")),
    "Channel": ({1: "label"}, ("label",)),
}
LABEL_DICT = re.compile(r"^[A-Z][A-Z0-9_]*_(LABELS|NAMES)$")


def _contract_leaks(tree: ast.Module) -> list[str]:
    """Contract labels and module-level ``*_LABELS``/``*_NAMES`` dict values given as plain literals."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _call_name(node) in CONTRACT_WORDS:
            name = _call_name(node)
            positions, keywords = CONTRACT_WORDS[name]
            args = [(positions[i], a) for i, a in enumerate(node.args) if i in positions]
            args += [(k.arg, k.value) for k in node.keywords if k.arg in keywords]
            found += [f"line {node.lineno}: {name}({what}={ast.unparse(a)[:60]})" for what, a in args if _is_words(a)]
        bases = [b.id if isinstance(b, ast.Name) else b.attr if isinstance(b, ast.Attribute) else ""
                 for b in getattr(node, "bases", [])]
        if isinstance(node, ast.ClassDef) and any(b.endswith("Channel") for b in bases):
            for item in ast.walk(node):
                target = item.targets[0] if isinstance(item, ast.Assign) and len(item.targets) == 1 else \
                    item.target if isinstance(item, ast.AnnAssign) else None
                if isinstance(target, ast.Name) and target.id == "label" and item.value is not None \
                        and _is_words(item.value):
                    found.append(f"line {item.lineno}: {node.name}.label = {ast.unparse(item.value)[:60]}")
                if isinstance(item, ast.Call) and _call_name(item) == "__init__":
                    found += [f"line {item.lineno}: {node.name}(label={ast.unparse(k.value)[:60]})"
                              for k in item.keywords if k.arg == "label" and _is_words(k.value)]
    for node in tree.body:
        target = node.targets[0] if isinstance(node, ast.Assign) and len(node.targets) == 1 else \
            node.target if isinstance(node, ast.AnnAssign) else None
        if isinstance(target, ast.Name) and LABEL_DICT.match(target.id) and isinstance(node.value, ast.Dict):
            found += [f"line {v.lineno}: {target.id}[{ast.unparse(k)[:30] if k else '**'}] = {ast.unparse(v)[:60]}"
                      for k, v in zip(node.value.keys, node.value.values, strict=True) if _is_words(v)]
    return found


def python_leaks(path: Path, *, contract: bool = True) -> list[str]:
    """flash/ValidationError messages, WTForms labels and (``contract``) the contract's labels
    and ``*_LABELS`` dicts given as plain literals."""
    found = []
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = _call_name(node)
        if name in ("flash", "ValidationError") or (name.endswith("Field") and name[0].isupper()):
            candidates = list(node.args[:1]) + [k.value for k in node.keywords if k.arg in ("label", "message")]
            found += [f"line {node.lineno}: {name}({ast.unparse(c)[:60]})" for c in candidates if _is_words(c)]
        if name in ("ServiceError", "PermissionDenied", "SettingError") and node.args and _is_words(node.args[0]):
            found.append(f"line {node.lineno}: {name}({ast.unparse(node.args[0])[:60]})")
        if name in ("DataRequired", "InputRequired", "Length", "Email", "NumberRange", "Optional", "Regexp",
                    "AnyOf", "NoneOf", "URL", "EqualTo"):
            found += [f"line {node.lineno}: {name}(message={ast.unparse(k.value)[:60]})"
                      for k in node.keywords if k.arg == "message" and _is_words(k.value)]
    return found + (_contract_leaks(tree) if contract else [])


def _templates() -> list[Path]:
    paths = sorted((ROOT / "templates").rglob("*.html"))
    paths += sorted(ROOT.glob("plugins/*/helpdesk_*/templates/**/*.html"))
    return paths


def _python_files() -> list[Path]:
    paths = sorted((ROOT / "helpdesk" / "web").rglob("*.py"))
    paths += sorted((ROOT / "helpdesk" / "services").glob("*.py"))
    # Labels pages show are also kept in the models, the reports and the SLA engine.
    for folder in ("models", "reports", "sla"):
        paths += sorted((ROOT / "helpdesk" / folder).glob("*.py"))
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


# The plugins' Setting/NotificationKind/ReplyWarning/Channel labels and *_LABELS dicts, not
# converted yet (issue 24): only the contract rule is skipped for them.
PENDING_CONTRACT: set[str] = set()


@pytest.mark.parametrize("path", _python_files(), ids=_rel)
def test_python_messages_are_translatable(path: Path) -> None:
    if _rel(path) in PENDING_CORE | PENDING_PLUGINS:
        pytest.skip("not converted yet")
    leaks = python_leaks(path, contract=_rel(path) not in PENDING_CONTRACT)
    assert leaks == [], f"{_rel(path)}: wrap these in _(...) / lazy_gettext(...)"


def test_pending_contract_files_still_have_leaks() -> None:
    """A converted file leaves PENDING_CONTRACT, so that the rule guards it from then on."""
    files = {_rel(p): p for p in _python_files()}
    done = sorted(name for name in PENDING_CONTRACT if name not in files or python_leaks(files[name]) == [])
    assert done == [], f"converted (or gone): remove from PENDING_CONTRACT: {done}"


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


def test_the_checker_finds_plain_contract_labels(tmp_path: Path) -> None:
    module = tmp_path / "plugin.py"
    module.write_text(
        'STATUS_LABELS = {"draft": "Draft", "live": N_("Published"), "key": "some_key"}\n'
        'WIDGETS = {"a": "Not a label dict"}\n'
        'def helpdesk_settings():\n'
        '    return [Setting("colour", "text", "#fff", "The colour", label="Colour"),\n'
        '            Setting("size", "int", label=lazy_gettext("Size"), help=lazy_gettext("In pixels"))]\n'
        'def helpdesk_notification_kinds():\n'
        '    return [NotificationKind("x.waved", "A colleague waves", help="At me"),\n'
        '            NotificationKind("x.ok", lazy_gettext("Fine"))]\n'
        'def helpdesk_reply_checks(body):\n'
        '    return [ReplyWarning("asap", f"Avoid {word}", label="ASAP check"), ReplyWarning("ok", gettext("Fine"))]\n'
        'class SmsChannel(Channel):\n'
        '    name = "sms"\n'
        '    label = "Text messages"\n'
        'class ChatChannel(Channel):\n'
        '    def __init__(self):\n'
        '        super().__init__(name="chat", label="Website chat")\n'
        'class Fine(Channel):\n'
        '    label = lazy_gettext("Fine")\n')
    assert sorted(python_leaks(module)) == sorted([
        "line 4: Setting(help='The colour')", "line 4: Setting(label='Colour')",
        "line 7: NotificationKind(label='A colleague waves')", "line 7: NotificationKind(help='At me')",
        "line 10: ReplyWarning(text=f'Avoid {word}')", "line 10: ReplyWarning(label='ASAP check')",
        "line 13: SmsChannel.label = 'Text messages'", "line 16: ChatChannel(label='Website chat')",
        "line 1: STATUS_LABELS['draft'] = 'Draft'"])
    assert python_leaks(module, contract=False) == []
