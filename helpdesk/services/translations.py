"""One text per language for canned replies, macros' replies, announcements and plugins' texts.

The item's own text is in the site's default language; ``save_translations`` keeps the
others (``text_translations``), one per language of ``helpdesk.languages.LANGUAGES``. An
empty text removes that language's: the customer then gets the default text.
``helpdesk.canned.text_for`` picks the one for a customer.

Plugins keep their own texts here too (``plugin_api``): their kind is ``<plugin>.<what>``
(``complaints.ack``, ``surveys.type``), so no plugin needs a table of its own for it.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from flask import has_request_context, request
from flask_babel import gettext
from sqlalchemy import delete, select

from helpdesk.canned import check_template
from helpdesk.extensions import db
from helpdesk.i18n import default_language
from helpdesk.languages import LANGUAGES
from helpdesk.models import TextTranslation
from helpdesk.models.customers import TRANSLATABLE_KINDS
from helpdesk.services.errors import ServiceError

PLUGIN_KIND = re.compile(r"[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*")


def is_translatable_kind(kind: str) -> bool:
    """The core's kinds, and any plugin's ``<plugin>.<what>``."""
    return kind in TRANSLATABLE_KINDS or bool(PLUGIN_KIND.fullmatch(kind))


def other_languages() -> dict[str, str]:
    """The languages an item may have a text of its own in (all but the site's default)."""
    default = default_language()
    return {code: name for code, name in LANGUAGES.items() if code != default}


def texts_from_form(form: Mapping[str, str], with_subject: bool = False) -> dict[str, tuple[str, str]]:
    """``body_<lang>`` (and ``subject_<lang>``) fields of a form, by language."""
    return {code: ((form.get(f"subject_{code}") or "").strip() if with_subject else "",
                   form.get(f"body_{code}") or "") for code in other_languages()}


def language_texts(kind: str, owner_id: int | None, with_subject: bool = False) -> list[dict[str, str]]:
    """For a form's language rows: each other language with what was typed (on a POST) or stored."""
    stored = {row.language: row for row in db.session.scalars(select(TextTranslation).where(
        TextTranslation.kind == kind, TextTranslation.owner_id == (owner_id or 0)))} if owner_id else {}
    typed = request.form if has_request_context() and request.method == "POST" else None
    rows = []
    for code, name in other_languages().items():
        row = stored.get(code)
        if typed is not None:
            subject, body = typed.get(f"subject_{code}", ""), typed.get(f"body_{code}", "")
        else:
            subject, body = (row.subject, row.body) if row is not None else ("", "")
        rows.append({"code": code, "name": name, "subject": subject, "body": body})
    return rows


def check_translations(texts: Mapping[str, tuple[str, str]], max_subject: int = 200,
                       check: Callable[[str], str | None] | None = None) -> None:
    """Raise ``ServiceError`` (field ``body_<lang>``) for a text that does not compile;
    ``check`` returns what is wrong with a text, or None (a plugin's own template rules;
    default: the canned replies' ``check_template``)."""
    check = check or check_template
    for code, (subject, body) in texts.items():
        if code not in other_languages():
            raise ServiceError(gettext('Unknown language.'), field=f"body_{code}")
        if len(subject) > max_subject:
            raise ServiceError(
                gettext('%(value)s: the subject is too long (%(max_subject)s characters at most).',
                        value=LANGUAGES[code], max_subject=max_subject),
                               field=f"subject_{code}")
        if len(body) > 20_000:
            raise ServiceError(
                gettext('%(value)s: 20,000 characters at most.', value=LANGUAGES[code]), field=f"body_{code}")
        error = check(body) if body.strip() else None
        if error:
            raise ServiceError(
                gettext('%(value)s: %(error)s', value=LANGUAGES[code], error=error), field=f"body_{code}")


def save_translations(kind: str, owner_id: int, texts: Mapping[str, tuple[str, str]],
                      check: Callable[[str], str | None] | None = None) -> None:
    """Store ``{language: (subject, body)}`` for the item (not committed: the caller's save does).
    Raises ``ServiceError`` (field ``body_<lang>``) when ``check`` finds a text wrong."""
    if not is_translatable_kind(kind):
        raise ValueError(f"{kind!r} is not a kind of text: use 'plugin.what' for a plugin's")
    check_translations(texts, check=check)
    existing = {row.language: row for row in db.session.scalars(select(TextTranslation).where(
        TextTranslation.kind == kind, TextTranslation.owner_id == owner_id))}
    for code, (subject, body) in texts.items():
        row = existing.get(code)
        if not body.strip():
            if row is not None:
                db.session.delete(row)
            continue
        if row is None:
            row = TextTranslation(kind=kind, owner_id=owner_id, language=code)
            db.session.add(row)
        row.subject, row.body = subject, body


def delete_translations(kind: str, owner_id: int) -> None:
    """The item is gone: so are its texts in other languages (not committed)."""
    db.session.execute(delete(TextTranslation).where(TextTranslation.kind == kind,
                                                     TextTranslation.owner_id == owner_id))


def translation_snapshot(kind: str, owner_id: int | None) -> dict[str, str]:
    """For the admin audit log: each language's text."""
    if not owner_id:
        return {}
    return {f"body_{row.language}": row.body for row in db.session.scalars(select(TextTranslation).where(
        TextTranslation.kind == kind, TextTranslation.owner_id == owner_id))}
