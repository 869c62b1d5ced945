"""The admin's custom fields (text, number, date, choice) for customers, tickets and organisations.

Definitions are rows of ``custom_fields``; values are JSON on the customer's, ticket's or
organisation's row, keyed by the field's ``key`` (also its placeholder name:
``{{ customer.fields.plan }}``, ``{{ ticket.fields.order_number }}``). Numbers are kept as
numbers, dates as ``YYYY-MM-DD``; an empty value removes the key.
"""
from __future__ import annotations

import re
from datetime import date
from typing import Any

from flask_babel import gettext, lazy_gettext
from sqlalchemy import select

import helpdesk.services.admin_audit as admin_audit
from helpdesk.extensions import db
from helpdesk.models import CustomField, Ticket, User
from helpdesk.models.customers import FIELD_KINDS, FIELD_TARGET_NAMES, FIELD_TARGETS
from helpdesk.services.errors import PermissionDenied, ServiceError
from helpdesk.services.tickets import audit

KEY = re.compile(r"^[a-z][a-z0-9_]{0,59}$")


def fields_for(applies_to: str) -> list[CustomField]:
    return list(db.session.scalars(select(CustomField).where(CustomField.applies_to == applies_to)
                                   .order_by(CustomField.position, CustomField.id)))


def _field_snapshot(field: CustomField) -> dict[str, Any]:
    return {"applies_to": field.applies_to, "key": field.key, "label": field.label, "kind": field.kind,
            "choices": list(field.choices or []), "position": field.position}


def save_field(actor: User, field: CustomField | None = None, *, applies_to: str, key: str, label: str,
               kind: str, choices: str | list[str] = "", position: int = 0) -> CustomField:
    """Create or change a field definition (admins)."""
    if not actor.is_admin:
        raise PermissionDenied(gettext('Only admins define custom fields.'))
    if applies_to not in FIELD_TARGETS:
        raise ServiceError(
            gettext('Custom fields apply to %(value)s.', value=', '.join(FIELD_TARGETS)), field="applies_to")
    key = (key or "").strip().lower()
    if not KEY.match(key):
        raise ServiceError(
            gettext("The key is the placeholder's name: lower-case letters, digits and _, starting with a letter (e.g. plan, purchase_date)."), field="key")  # noqa: E501 - one msgid
    if kind not in FIELD_KINDS:
        raise ServiceError(gettext('The kind is one of %(value)s.', value=', '.join(FIELD_KINDS)), field="kind")
    label = (label or "").strip()
    if not label or len(label) > 120:
        raise ServiceError(gettext('Enter a label (120 characters at most).'), field="label")
    options = [c.strip() for c in (choices.split(",") if isinstance(choices, str) else choices) if c.strip()]
    if kind == "choice" and not options:
        raise ServiceError(gettext('A choice field needs its choices (separated by commas).'), field="choices")
    clash = db.session.scalar(select(CustomField.id).where(CustomField.applies_to == applies_to,
                                                           CustomField.key == key))
    if clash is not None and (field is None or clash != field.id):
        raise ServiceError(
            gettext('There is already a %(applies_to)s field with the key %(key)s.',
                    applies_to=applies_to, key=key), field="key")
    before = _field_snapshot(field) if field is not None else None
    field = field or CustomField()
    field.applies_to, field.key, field.label, field.kind = applies_to, key, label, kind
    field.choices, field.position = options if kind == "choice" else [], int(position or 0)
    db.session.add(field)
    db.session.flush()
    audit_target = lazy_gettext("%(applies_to)s field %(key)s (#%(id)s)", key=key, id=field.id,
                                applies_to=FIELD_TARGET_NAMES.get(applies_to, applies_to))
    admin_audit.record_change("custom_field", audit_target, before,
                              _field_snapshot(field), actor=actor)
    db.session.commit()
    return field


def delete_field(actor: User, field: CustomField) -> None:
    """The definition goes; values already stored stay on their rows (and stop showing)."""
    if not actor.is_admin:
        raise PermissionDenied(gettext('Only admins define custom fields.'))
    audit_target = lazy_gettext("%(applies_to)s field %(key)s (#%(id)s)", key=field.key, id=field.id,
                                applies_to=FIELD_TARGET_NAMES.get(field.applies_to, field.applies_to))
    admin_audit.record_change("custom_field", audit_target,
                              _field_snapshot(field), None, actor=actor)
    db.session.delete(field)
    db.session.commit()


def clean_value(field: CustomField, raw: Any) -> Any:
    """A form's text → the stored value (``None``: empty); a ``ServiceError`` naming the field."""
    text = "" if raw is None else str(raw).strip()
    if not text:
        return None
    if field.kind == "number":
        try:
            number = float(text.replace(",", "."))
        except ValueError:
            raise ServiceError(
                gettext('%(label)s: enter a number.', label=field.label), field=f"cf_{field.key}") from None
        return int(number) if number.is_integer() and abs(number) < 2**53 else number
    if field.kind == "date":
        try:
            return date.fromisoformat(text).isoformat()
        except ValueError:
            raise ServiceError(
                gettext('%(label)s: enter a date as YYYY-MM-DD.', label=field.label), field=f"cf_{field.key}") from None
    if field.kind == "choice":
        if text not in (field.choices or []):
            raise ServiceError(
                gettext('%(label)s: choose one of %(value)s.', label=field.label, value=', '.join(field.choices)),
                               field=f"cf_{field.key}")
        return text
    if len(text) > 500:
        raise ServiceError(gettext('%(label)s: 500 characters at most.', label=field.label), field=f"cf_{field.key}")
    return text


def clean_values(applies_to: str, values: dict[str, Any], old: dict | None = None) -> dict[str, Any]:
    """Merge ``values`` (key → raw text) into ``old`` for the defined fields; unknown keys are refused."""
    fields = {f.key: f for f in fields_for(applies_to)}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise ServiceError(
            gettext('Unknown %(applies_to)s field(s): %(value)s.', applies_to=applies_to, value=', '.join(unknown)))
    result = dict(old or {})
    for key, raw in values.items():
        value = clean_value(fields[key], raw)
        if value is None:
            result.pop(key, None)
        else:
            result[key] = value
    return result


def set_ticket_fields(ticket: Ticket, actor: User, values: dict[str, Any]) -> dict[str, Any]:
    """An agent fills in a ticket's custom fields; each change is in the ticket's history."""
    if not actor.is_staff:
        raise PermissionDenied(gettext("Only agents change a ticket's fields."))
    old = dict(ticket.custom_fields or {})
    new = clean_values("ticket", values, old)
    for key in sorted(set(old) | set(new)):
        if old.get(key) != new.get(key):
            audit(ticket, actor, "changed", f"field:{key}"[:40], _text(old.get(key)), _text(new.get(key)))
    ticket.custom_fields = new
    db.session.commit()
    return new


def _text(value: Any) -> str | None:
    return None if value is None else str(value)[:200]
