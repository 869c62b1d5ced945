"""Words of the plugin contract and the core's constants are read in the reader's language
(issue 24): ``wait_text`` through ngettext, lazy labels of settings, notification kinds,
reply checks and channels rendered and answered as JSON without a crash."""
from __future__ import annotations

from pathlib import Path

import pytest
from babel.support import Translations
from flask_babel import LazyString, force_locale, get_locale

from helpdesk import throttle
from helpdesk.contract import Text
from helpdesk.notification_hooks import helpdesk_notification_kinds
from helpdesk.plugin_api import NotificationKind, ReplyWarning, Setting
from helpdesk.plugin_manager import manager
from helpdesk.services import notifications as notes
from helpdesk.testing import make_plugin

GERMAN = Path(__file__).resolve().parent.parent / "helpdesk" / "translations"


def in_reader_language(word: str) -> LazyString:
    """A lazy string that says which language it was read in (the catalogues of the agent
    pages are English for now, so a real msgid reads the same in both)."""
    return LazyString(lambda: f"{word} ({get_locale()})")


@pytest.mark.parametrize(("seconds", "said"), [
    (1, "1 second"), (45, "45 seconds"), (46, "1 minute"), (89, "1 minute"), (90, "2 minutes"), (150, "3 minutes")])
def test_wait_text_in_english(app, seconds, said):
    with app.test_request_context():
        assert throttle.wait_text(seconds) == said


def test_wait_text_in_german_when_the_catalogue_has_it(app):
    catalogue = Translations.load(str(GERMAN), ["de"])
    german = catalogue.ungettext("%(num)d minute", "%(num)d minutes", 2)
    if german == "%(num)d minutes":
        pytest.skip("no German msgstr for the minutes yet")
    with app.test_request_context(), force_locale("de"):
        assert throttle.wait_text(120) == german % {"num": 2}


def test_core_kinds_are_lazy_and_read_per_reader():
    kinds = helpdesk_notification_kinds()
    assert all(isinstance(kind.label, LazyString) for kind in kinds)
    assert str(kinds[0].label) == "A ticket is assigned to me"  # outside a request: English


def test_lazy_labels_render_for_each_reader(app, db, client, login, agent, admin):
    manager(app).register(make_plugin(
        "lazy",
        helpdesk_notification_kinds=lambda: [NotificationKind("lazy.waved", in_reader_language("Waves"),
                                                              help=in_reader_language("At me"))],
        helpdesk_settings=lambda: [Setting("colour", "text", label=in_reader_language("Colour"),
                                           help=in_reader_language("Of the widget"))],
    ), "lazy")
    login(client, agent)
    page = client.get("/profile/notifications")
    assert page.status_code == 200
    assert "Waves (en)" in page.text and "At me (en)" in page.text
    assert "A ticket is assigned to me" in page.text
    agent.language = "de"
    db.session.commit()
    assert "Waves (de)" in client.get("/profile/notifications").text
    assert sorted(notes.kinds()["lazy.waved"].label for _ in range(2))  # sorts like a str
    login(client, admin)
    settings = client.get("/admin/plugins/lazy")
    assert settings.status_code == 200 and "Colour (en)" in settings.text and "Of the widget (en)" in settings.text


def test_lazy_reply_warning_is_answered_as_json(app, client, login, agent, ticket):
    manager(app).register(make_plugin("tone", helpdesk_reply_checks=lambda body: [
        ReplyWarning("asap", in_reader_language("Avoid ASAP"), label=in_reader_language("ASAP"))]), "tone")
    login(client, agent)
    answer = client.post(f"/tickets/{ticket.reference}/checks", data={"body": "asap"},
                         headers={"X-CSRFToken": client.csrf_token()})
    assert answer.status_code == 200 and "Avoid ASAP (en)" in answer.json["warnings"]


def test_text_alias_takes_both():
    label: Text = in_reader_language("x")
    assert isinstance(label, Text) and isinstance("plain", Text)


def test_choice_labels_name_the_stored_choices(app, db, client, login, admin):
    manager(app).register(make_plugin("moods", helpdesk_settings=lambda: [Setting(
        "mode", "choice", default="fast", choices=("fast", "careful"),
        choice_labels=(in_reader_language("Quickly"), in_reader_language("With care")))]), "moods")
    login(client, admin)
    page = client.get("/admin/plugins/moods").text
    assert '<option value="careful">With care (en)</option>' in page
    admin.language = "de"
    db.session.commit()
    assert '<option value="careful">With care (de)</option>' in client.get("/admin/plugins/moods").text
    with pytest.raises(ValueError, match="one choice label per choice"):
        Setting("mode", "choice", choices=("fast", "careful"), choice_labels=("Quickly",))
