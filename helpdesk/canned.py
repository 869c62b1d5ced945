"""Rendering canned replies with personal placeholders, in a sandboxed Jinja environment.

Templates are written by admins, so they get plain values only (no model objects) and
the sandbox refuses attribute tricks such as ``{{ ''.__class__ }}``.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.i18n import customer_language, customer_locale, default_language, local_date
from helpdesk.models import TextTranslation, Ticket, User
from helpdesk.plugin_manager import manager
from helpdesk.services.settings import site_setting
from helpdesk.timezones import user_zone

_env = ImmutableSandboxedEnvironment(autoescape=False, undefined=StrictUndefined)


@lru_cache(maxsize=512)
def _compiled(source: str) -> Template:
    """Compiling a text costs more than rendering it: once per text (an announcement to
    thousands of customers, a canned reply used all day)."""
    return _env.from_string(source)
CORE_KEYS = ("customer", "ticket", "agent", "helpdesk", "organisation")


def customer_placeholders(customer: User, ticket: Ticket | None = None) -> dict[str, Any]:
    """The plain values about a customer (and their ticket) that admins' templates may use.

    ``customer``: ``name``, ``first_name``, ``preferred_name``, ``greeting_name`` (the preferred
    name, else the first name), ``email``, ``language`` (``en``, ``de``; an item may have a text of
    its own per language, ``text_for``; ``{% if customer.language == "de" %}…{% endif %}``
    inside one text works too), ``timezone``,
    ``preferred_channel``, ``organisation`` (its name) and ``fields`` (custom fields by key);
    ``organisation``: ``name`` and ``fields``; ``ticket`` (when given): ``reference``,
    ``subject``, ``status``, ``priority``, ``created`` (the date in the customer's language)
    and ``fields``.
    """
    # getattr: plugins pass stand-ins for previews (a sample customer with a name and an address)
    org = getattr(customer, "organisation", None)
    values: dict[str, Any] = {
        "customer": {"name": customer.name, "first_name": customer.first_name,
                     "email": getattr(customer, "email", None) or "",
                     "preferred_name": getattr(customer, "preferred_name", None) or "",
                     "greeting_name": getattr(customer, "address_name", None) or customer.first_name,
                     "language": customer_language(customer), "timezone": str(user_zone(customer)),
                     "preferred_channel": getattr(customer, "preferred_channel", None) or "",
                     "organisation": org.name if org else "",
                     "fields": dict(getattr(customer, "custom_fields", None) or {})},
        "organisation": {"name": org.name if org else "", "fields": dict(org.custom_fields or {}) if org else {}},
    }
    if ticket is not None:
        with customer_locale(customer):
            created = local_date(getattr(ticket, "created_at", None))
        values["ticket"] = {"reference": ticket.reference, "subject": ticket.subject, "status": ticket.status,
                            "priority": getattr(ticket, "priority", ""), "created": created,
                            "fields": dict(getattr(ticket, "custom_fields", None) or {})}
    return values


def translations_for(kind: str, owner_id: int | None) -> dict[str, TextTranslation]:
    """An item's texts in other languages than the site's, by language code."""
    if not owner_id:
        return {}
    return {row.language: row for row in db.session.scalars(select(TextTranslation).where(
        TextTranslation.kind == kind, TextTranslation.owner_id == owner_id))}


def text_for(kind: str, owner_id: int | None, body: str, person: Any, subject: str = "",
             language: str | None = None) -> tuple[str, str]:
    """``(subject, body)`` in ``person``'s language (or ``language``): the item's text in that
    language when it has one, else its own text (the site's default language). ``kind``:
    canned_reply, macro, announcement."""
    language = language or (customer_language(person) if person is not None else default_language())
    if language != default_language() and owner_id:
        row = db.session.scalar(select(TextTranslation).where(
            TextTranslation.kind == kind, TextTranslation.owner_id == owner_id, TextTranslation.language == language))
        if row is not None and row.body.strip():
            return (row.subject or subject), row.body
    return subject, body


def reply_variables(ticket: Ticket, agent: User | None) -> dict[str, Any]:
    customer = ticket.customer
    values: dict[str, Any] = {
        **customer_placeholders(customer, ticket),
        "agent": {"name": agent.name if agent else "", "first_name": agent.first_name if agent else ""},
        "helpdesk": {"name": site_setting("helpdesk_name")},
    }
    for _plugin, extra in manager().call_collect(
            "helpdesk_reply_variables", ticket=ticket, customer=customer, agent=agent):
        if isinstance(extra, dict):
            values.update({k: v for k, v in extra.items() if k not in CORE_KEYS})
    return values


def check_template(source: str) -> str | None:
    """None if ``source`` compiles, else the error to show in the form."""
    try:
        _env.from_string(source)
    except TemplateError as exc:
        return f"Template error: {exc}"
    return None


def render_reply(source: str, ticket: Ticket, agent: User | None) -> str:
    """Render a canned reply; a broken template renders as an explanation, not a crash."""
    try:
        return _compiled(source).render(reply_variables(ticket, agent))
    except Exception as exc:  # SecurityError, UndefinedError, syntax errors from admins
        return f"[This canned reply could not be rendered: {exc}]"


def render_strict(source: str, ticket: Ticket, agent: User | None) -> str:
    """Render like :func:`render_reply`, but raise ``ValueError`` (with the reason) instead of
    returning an explanation: for macros, whose text goes out without an agent reading it first."""
    try:
        return _compiled(source).render(reply_variables(ticket, agent))
    except Exception as exc:  # SecurityError, UndefinedError, syntax errors
        raise ValueError(f"The reply could not be filled in: {exc}") from exc


def render_notice(source: str, customer: User, ticket: Ticket | None = None,
                  extra: dict[str, Any] | None = None) -> str:
    """Render an admin's notice text for ``customer`` in the sandbox, with ``customer_placeholders``
    plus ``helpdesk.name`` and ``extra``; raises ``ValueError`` with the reason when it cannot."""
    values = {**customer_placeholders(customer, ticket), "helpdesk": {"name": site_setting("helpdesk_name")},
              **(extra or {})}
    try:
        return _compiled(source).render(values)
    except Exception as exc:  # SecurityError, UndefinedError, syntax errors
        raise ValueError(f"The notice could not be filled in: {exc}") from exc
