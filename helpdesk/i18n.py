"""Languages (Flask-Babel): which language a page or a customer's mail is in.

- Pages: a signed-in customer's preference, else the browser's ``Accept-Language``, else the
  site's ``DEFAULT_LANGUAGE``. People behind the desk get their own preference or the
  site's language, not the browser's choice. The core catalogue (customer and agent pages,
  core messages) is German and English; a plugin's own catalogue may still be English only,
  so its parts of a German page stay English.
- Mail and notices to a customer: ``with customer_locale(customer):`` around building the
  text, so a German-speaking customer gets German mail whoever triggers it.
- Dates and numbers: ``format_date``/``format_number`` (Babel) in the current locale; times
  in the reader's zone as everywhere (``helpdesk.timezones``).

Catalogues: ``helpdesk/translations/<lang>/LC_MESSAGES/messages.po`` (``make translations``
extracts, updates and compiles; ``make`` builds the ``.mo`` files a clean checkout lacks).
A plugin package may ship its own ``translations/`` folder (same domain, ``messages``): it
is merged with the core's.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any

from flask import Flask, current_app, has_request_context, request
from flask_babel import (
    Babel,
    force_locale,
    format_date,
    format_datetime,
    format_decimal,
    format_timedelta,
    get_locale,
    gettext,
    lazy_gettext,
    lazy_pgettext,
    ngettext,
    refresh,
)
from flask_babel.speaklater import LazyString
from flask_login import current_user
from markupsafe import Markup, escape

from helpdesk.languages import DEFAULT_LANGUAGE, LANGUAGES, N_, supported  # noqa: F401 - N_ re-exported
from helpdesk.models.base import utcnow
from helpdesk.timezones import to_local


def _escaped_html(text: LazyString) -> Markup:
    return escape(str(text))


# flask_babel's lazy text tells Jinja and markupsafe that it is HTML already (its __html__ gives
# the raw text): a lazy text with a name or subject in it would be printed unescaped, in a page
# ({{ text }}) as in a form label. Escaped like any other text instead; no lazy text of ours is
# markup (tests/test_languages.py).
LazyString.__html__ = _escaped_html

# Ticket statuses by name (the stored values stay English). A customer's words ("wartet auf
# Sie": we wait for them) differ from an agent's ("wartend"): the agents' have the context "agent".
_CUSTOMER_STATUS_WORDS = {"new": lazy_gettext("new"), "open": lazy_gettext("open"),
                          "pending": lazy_gettext("pending"), "resolved": lazy_gettext("resolved"),
                          "closed": lazy_gettext("closed")}
_AGENT_STATUS_WORDS = {"new": lazy_pgettext("agent", "new"), "open": lazy_pgettext("agent", "open"),
                       "pending": lazy_pgettext("agent", "pending"),
                       "resolved": lazy_pgettext("agent", "resolved"), "closed": lazy_pgettext("agent", "closed")}


def _status_word(status: str) -> str:
    reader = current_user if has_request_context() else None
    words = _AGENT_STATUS_WORDS if getattr(reader, "is_backoffice", False) else _CUSTOMER_STATUS_WORDS
    return str(words[status])


STATUS_NAMES = {key: LazyString(_status_word, key) for key in _CUSTOMER_STATUS_WORDS}

# Ticket priorities as agents read them (the stored values stay English).
PRIORITY_NAMES = {"low": lazy_gettext("low"), "normal": lazy_gettext("normal"), "high": lazy_gettext("high"),
                  "urgent": lazy_gettext("urgent")}

# Roles as people read them (the stored values stay these keys).
ROLE_NAMES = {"admin": lazy_gettext("admin"), "agent": lazy_gettext("agent"),
              "light_agent": lazy_gettext("light agent"), "customer": lazy_gettext("customer")}

babel = Babel()


def default_language() -> str:
    return supported(current_app.config.get("DEFAULT_LANGUAGE")) or DEFAULT_LANGUAGE


def customer_language(person: Any) -> str:
    """The language to write to ``person`` in: their preference, else the site's."""
    return supported(getattr(person, "language", None)) or default_language()


def select_locale() -> str:
    if not has_request_context():
        return default_language()
    user = current_user
    if user is not None and getattr(user, "is_authenticated", False):
        own = supported(getattr(user, "language", None))
        if own:
            return own
        if getattr(user, "is_backoffice", False):
            return default_language()
    return request.accept_languages.best_match(list(LANGUAGES)) or default_language()


@contextmanager
def customer_locale(person: Any) -> Iterator[str]:
    """Build mail and notices for ``person`` in their language (see the module's docstring)."""
    language = customer_language(person)
    with force_locale(language):
        yield language


def current_language() -> str:
    locale = get_locale()
    return locale.language if locale is not None else default_language()


def local_date(value: date | datetime | None, fmt: str = "medium") -> str:
    """A date as the current language writes it (``5. Dez. 2026`` / ``Dec 5, 2026``)."""
    return format_date(value, fmt) if value is not None else ""


def local_number(value: float | int | None) -> str:
    """A number as the current language writes it (``1.234,5`` / ``1,234.5``)."""
    return format_decimal(value) if value is not None else ""


def status_name(status: str) -> str:
    return str(STATUS_NAMES.get(status, status))


def priority_name(priority: str) -> str:
    return str(PRIORITY_NAMES.get(priority, priority))


def role_name(role: str) -> str:
    name = ROLE_NAMES.get(role)
    return str(name) if name is not None else role.replace("_", " ")


def local_datetime(value: datetime | None, fmt: str = "medium") -> str:
    """A moment in the reader's zone, written as their language does (``05.12.2026, 14:03:00``)."""
    if value is None:
        return ""
    reader = current_user if has_request_context() else None
    return format_datetime(to_local(value, reader).replace(tzinfo=None), fmt, rebase=False)


def ago_local(value: datetime | None) -> str:
    """"3 minutes ago" / "vor 3 Minuten"; English keeps the pages' short form ("3m ago")."""
    if value is None:
        return ""
    if current_language() == "en":
        return current_app.jinja_env.filters["ago"](value)
    return format_timedelta(value - utcnow(), add_direction=True, threshold=1.0)


def init_app(app: Flask, plugin_modules: list[Any]) -> None:
    """Flask-Babel with the core's catalogues and each installed plugin's ``translations/``."""
    babel.init_app(app, locale_selector=select_locale, default_domain="messages",
                   default_translation_directories=str(Path(__file__).parent / "translations"))
    directories = app.extensions["babel"].translation_directories
    for module in plugin_modules:
        folder = Path(getattr(module, "__file__", "") or ".").parent / "translations"
        if getattr(module, "__file__", None) and folder.is_dir() and str(folder) not in directories:
            directories.append(str(folder))
    app.jinja_env.filters["local_date"] = local_date
    app.jinja_env.filters["local_number"] = local_number
    app.jinja_env.filters["local_datetime"] = local_datetime
    app.jinja_env.filters["ago_local"] = ago_local
    app.jinja_env.globals["status_name"] = status_name
    app.jinja_env.globals["priority_name"] = priority_name
    app.jinja_env.globals["role_name"] = role_name
    app.jinja_env.globals["current_language"] = current_language


__all__ = ["babel", "customer_language", "customer_locale", "current_language", "default_language", "gettext",
           "lazy_gettext", "local_date", "local_number", "ngettext", "refresh", "select_locale"]
