"""Every word a person reads on a page goes through gettext (issue 24: "no hard-coded strings left").

The agent pages' catalogue may stay English, but a translator must be able to reach every
string. Three kinds of leak are found here:

- text between tags, or in a visible attribute (``placeholder``, ``title``, ``aria-label``,
  ``alt``, a button's ``value``), that is not inside ``{{ _(...) }}`` or ``{% trans %}``;
- a string literal in a template expression that reads as words (``m.button("Save")``)
  and is not an argument of ``_``/``gettext``/``ngettext``;
- in Python, ``flash("...")``, ``ValidationError("...")`` and WTForms field labels given as
  plain literals (not through ``_``/``lazy_gettext``).

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
PROSE_LITERAL = re.compile(r"^[A-Z][a-z']+(?:[\s,.:!?…]|$)")

JINJA_COMMENT = re.compile(r"\{#.*?#\}", re.S)
JINJA_TRANS = re.compile(r"\{%-?\s*trans\b.*?\{%-?\s*endtrans\s*-?%\}", re.S)
JINJA_RAW = re.compile(r"\{%-?\s*raw\s*-?%\}.*?\{%-?\s*endraw\s*-?%\}", re.S)
JINJA_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.S)


def _words_to_translate(text: str) -> list[str]:
    return [w for w in WORD.findall(text) if w not in SAME_IN_EVERY_LANGUAGE]


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
    paths += sorted(p for p in ROOT.glob("plugins/*/helpdesk_*/**/*.py") if "migrations" not in p.parts)
    return paths


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


# Not converted yet (issue 24). The core's pages:
PENDING_CORE: set[str] = {
    "helpdesk/web/admin.py",
    "helpdesk/web/agent.py",
    "helpdesk/web/announcements.py",
    "helpdesk/web/api_tokens.py",
    "helpdesk/web/auth.py",
    "helpdesk/web/availability.py",
    "helpdesk/web/customers.py",
    "helpdesk/web/forms.py",
    "helpdesk/web/macros.py",
    "helpdesk/web/notifications.py",
    "helpdesk/web/profile.py",
    "helpdesk/web/queue_tools.py",
    "helpdesk/web/reply_checks.py",
    "helpdesk/web/webhooks.py",
    "templates/_language_texts.html",
    "templates/_macros.html",
    "templates/admin/_nav.html",
    "templates/admin/audit.html",
    "templates/admin/canned.html",
    "templates/admin/canned_form.html",
    "templates/admin/index.html",
    "templates/admin/outbox.html",
    "templates/admin/outbox_mail.html",
    "templates/admin/plugin_settings.html",
    "templates/admin/plugins.html",
    "templates/admin/reply_checks.html",
    "templates/admin/reports.html",
    "templates/admin/settings.html",
    "templates/admin/tags.html",
    "templates/admin/team_form.html",
    "templates/admin/teams.html",
    "templates/admin/user_form.html",
    "templates/admin/users.html",
    "templates/admin/webhook_deliveries.html",
    "templates/admin/webhooks.html",
    "templates/agent/_reply_news.html",
    "templates/agent/customer.html",
    "templates/agent/customers.html",
    "templates/agent/dashboard.html",
    "templates/agent/queue.html",
    "templates/agent/ticket.html",
    "templates/agent/ticket_stale.html",
    "templates/announcements/detail.html",
    "templates/announcements/index.html",
    "templates/api/docs.html",
    "templates/auth/api_tokens.html",
    "templates/auth/magic_invalid.html",
    "templates/auth/profile.html",
    "templates/auth/signup.html",
    "templates/availability/toggle.html",
    "templates/base.html",
    "templates/customers/fields.html",
    "templates/customers/organisation.html",
    "templates/customers/organisations.html",
    "templates/customers/profile_card.html",
    "templates/customers/ticket_fields.html",
    "templates/customers/ticket_fields_lazy.html",
    "templates/customers/timeline.html",
    "templates/error.html",
    "templates/home.html",
    "templates/macros/card.html",
    "templates/macros/form.html",
    "templates/macros/index.html",
    "templates/notifications/_follow.html",
    "templates/notifications/index.html",
    "templates/notifications/preferences.html",
    "templates/portal/ticket.html",
    "templates/reports/index.html",
    "templates/sla/hours_form.html",
    "templates/sla/index.html",
    "templates/sla/policy_form.html",
    "templates/sla/sidebar.html",
}

# Not converted yet (issue 24). The plugins' pages:
PENDING_PLUGINS: set[str] = {
    "plugins/coaching/helpdesk_coaching/templates/coaching/sidebar.html",
    "plugins/complaints/helpdesk_complaints/detector_views.py",
    "plugins/complaints/helpdesk_complaints/forms.py",
    "plugins/complaints/helpdesk_complaints/templates/complaints/alerts.html",
    "plugins/complaints/helpdesk_complaints/templates/complaints/badge.html",
    "plugins/complaints/helpdesk_complaints/templates/complaints/dashboard.html",
    "plugins/complaints/helpdesk_complaints/templates/complaints/detector.html",
    "plugins/complaints/helpdesk_complaints/templates/complaints/explain.html",
    "plugins/complaints/helpdesk_complaints/templates/complaints/followup.html",
    "plugins/complaints/helpdesk_complaints/templates/complaints/followup_invalid.html",
    "plugins/complaints/helpdesk_complaints/templates/complaints/panel.html",
    "plugins/complaints/helpdesk_complaints/templates/complaints/portal_ack.html",
    "plugins/complaints/helpdesk_complaints/templates/complaints/rule_form.html",
    "plugins/complaints/helpdesk_complaints/templates/complaints/rules.html",
    "plugins/complaints/helpdesk_complaints/views.py",
    "plugins/email/helpdesk_email/forms.py",
    "plugins/email/helpdesk_email/templates/email/_subnav.html",
    "plugins/email/helpdesk_email/templates/email/admin_card.html",
    "plugins/email/helpdesk_email/templates/email/bouncing_badge.html",
    "plugins/email/helpdesk_email/templates/email/mailbox_form.html",
    "plugins/email/helpdesk_email/templates/email/mailboxes.html",
    "plugins/email/helpdesk_email/templates/email/message_extras.html",
    "plugins/email/helpdesk_email/templates/email/quarantine.html",
    "plugins/email/helpdesk_email/templates/email/quarantine_detail.html",
    "plugins/email/helpdesk_email/views.py",
    "plugins/knowledge/helpdesk_knowledge/templates/knowledge/_from_reply.html",
    "plugins/knowledge/helpdesk_knowledge/templates/knowledge/_ticket_panel.html",
    "plugins/messaging/helpdesk_messaging/contacts.py",
    "plugins/messaging/helpdesk_messaging/templates/messaging/call.html",
    "plugins/messaging/helpdesk_messaging/templates/messaging/link.html",
    "plugins/messaging/helpdesk_messaging/templates/messaging/read.html",
    "plugins/messaging/helpdesk_messaging/templates/messaging/sidebar.html",
    "plugins/recognition/helpdesk_recognition/templates/recognition/sidebar.html",
    "plugins/surveys/helpdesk_surveys/forms.py",
    "plugins/surveys/helpdesk_surveys/templates/surveys/_nav.html",
    "plugins/surveys/helpdesk_surveys/templates/surveys/admin.html",
    "plugins/surveys/helpdesk_surveys/templates/surveys/answer.html",
    "plugins/surveys/helpdesk_surveys/templates/surveys/case.html",
    "plugins/surveys/helpdesk_surveys/templates/surveys/cases.html",
    "plugins/surveys/helpdesk_surveys/templates/surveys/dashboard.html",
    "plugins/surveys/helpdesk_surveys/templates/surveys/feedback.html",
    "plugins/surveys/helpdesk_surveys/templates/surveys/problem.html",
    "plugins/surveys/helpdesk_surveys/templates/surveys/report.html",
    "plugins/surveys/helpdesk_surveys/templates/surveys/report_section.html",
    "plugins/surveys/helpdesk_surveys/templates/surveys/sidebar.html",
    "plugins/surveys/helpdesk_surveys/templates/surveys/type_form.html",
    "plugins/surveys/helpdesk_surveys/templates/surveys/unsubscribe.html",
    "plugins/surveys/helpdesk_surveys/views_public.py",
    "plugins/surveys/helpdesk_surveys/views_staff.py",
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
                    '<span class="text-body-secondary">{{ ticket.reference }}</span>{% endblock %}')
    assert template_leaks(page) == ["'Save changes'", "Nothing here", 'input placeholder="Search tickets"']
    module = tmp_path / "views.py"
    module.write_text('flash("Saved.")\nflash(_("Saved."))\nflash(f"Saved {n}.")\n'
                      'name = StringField("Name", validators=[DataRequired(message="Say it")])\n'
                      'other = StringField(_l("Name"))\n')
    assert python_leaks(module) == ['line 1: flash(\'Saved.\')', "line 3: flash(f'Saved {n}.')",
                                    "line 4: StringField('Name')", "line 4: DataRequired(message='Say it')"]
