"""Admin → Settings on a fresh install: the form as pre-filled saves (issue 17, broken 1)."""
from __future__ import annotations

from html.parser import HTMLParser

import pytest
from pagetext import alerts, field_errors, text

from helpdesk.config import DEFAULTS
from helpdesk.services.settings import site_setting


@pytest.fixture
def app_config() -> dict:
    return {"MAIL_FROM": DEFAULTS["MAIL_FROM"]}  # a fresh install's own default, not the tests'


class _FormValues(HTMLParser):
    """What a browser would submit from ``<form id=...>``: its inputs' names and values."""

    def __init__(self, form_id: str) -> None:
        super().__init__()
        self.form_id, self.inside, self.values = form_id, False, {}

    def handle_starttag(self, tag, attrs) -> None:
        a = dict(attrs)
        if tag == "form":
            self.inside = a.get("id") == self.form_id
        elif self.inside and tag == "input" and a.get("name"):
            if a.get("type") == "checkbox":
                if "checked" in a:
                    self.values[a["name"]] = a.get("value") or "y"
            else:
                self.values[a["name"]] = a.get("value") or ""

    def handle_endtag(self, tag) -> None:
        if tag == "form":
            self.inside = False


def form_values(page: str, form_id: str) -> dict[str, str]:
    parser = _FormValues(form_id)
    parser.feed(page)
    return parser.values


def test_the_prefilled_settings_of_a_fresh_install_save(app, db, client, login, admin):
    login(client, admin)
    page = client.get("/admin/settings")
    values = form_values(page.text, "settings-form")
    assert values["mail_from"] == "support@helpdesk.invalid"
    # The page says the placeholder reaches nobody, without refusing it.
    assert "no reply to it arrives anywhere" in text(page.text, id="mail_from-help")
    values["helpdesk_name"] = "Acme Support"  # change one field, keep the rest as shown
    saved = client.post("/admin/settings", data=values, follow_redirects=True)
    assert saved.status_code == 200, field_errors(saved.text)
    assert "Settings saved." in alerts(saved.text)
    assert site_setting("helpdesk_name") == "Acme Support"
    assert site_setting("mail_from") == "support@helpdesk.invalid"


def test_another_reserved_address_is_refused_with_a_reason_and_the_input_kept(app, db, client, login, admin):
    login(client, admin)
    values = form_values(client.get("/admin/settings").text, "settings-form")
    values.update(helpdesk_name="Acme Support", mail_from="help@acme.invalid")
    refused = client.post("/admin/settings", data=values)
    assert refused.status_code == 422
    assert any("special-use or reserved" in e for e in field_errors(refused.text)), field_errors(refused.text)
    kept = form_values(refused.text, "settings-form")
    assert (kept["helpdesk_name"], kept["mail_from"]) == ("Acme Support", "help@acme.invalid")
    values["mail_from"] = "help@acme.example.com"
    assert client.post("/admin/settings", data=values).status_code == 302
    assert site_setting("mail_from") == "help@acme.example.com"
