"""A customer's profile and preferences: preferred name, language, time zone, preferred
channel, consent per kind (service, surveys, updates) and custom field values.

Agents change them on the customer page; customers their own on the portal's profile.
"""
from __future__ import annotations

from typing import Any
from zoneinfo import available_timezones

from flask_babel import gettext

from helpdesk.extensions import db
from helpdesk.languages import LANGUAGES
from helpdesk.models import User
from helpdesk.models.customers import CONSENT_KINDS
from helpdesk.plugin_manager import manager
from helpdesk.services.custom_fields import clean_values
from helpdesk.services.errors import PermissionDenied, ServiceError

UNCHANGED: Any = object()


def channel_names() -> list[str]:
    """The channels a customer may prefer (those of the installed, enabled plugins and the web)."""
    return sorted(manager().channels())


def channel_labels() -> dict[str, str]:
    """Channel name → what a person reads (the channel's label, translated at display)."""
    channels = manager().channels()
    return {name: str(channels[name].label or name) for name in sorted(channels)}


def update_preferences(customer: User, actor: User, *, preferred_name: Any = UNCHANGED, language: Any = UNCHANGED,
                       timezone: Any = UNCHANGED, preferred_channel: Any = UNCHANGED,
                       consent: dict[str, bool] | None = None,
                       custom_fields: dict[str, Any] | None = None) -> User:
    """Change what is given (``UNCHANGED`` leaves a value); "" clears a text preference."""
    if customer.role != "customer":
        raise ServiceError(gettext('Preferences are kept for customers.'))
    if not (actor.is_staff or actor.id == customer.id):
        raise PermissionDenied(gettext("You cannot change this customer's preferences."))
    if custom_fields is not None and not actor.is_staff:
        raise PermissionDenied(gettext('Only agents fill in custom fields.'))
    if preferred_name is not UNCHANGED:
        preferred_name = (preferred_name or "").strip()
        if len(preferred_name) > 200:
            raise ServiceError(gettext('The preferred name is limited to 200 characters.'), field="preferred_name")
        customer.preferred_name = preferred_name or None
    if language is not UNCHANGED:
        if language and language not in LANGUAGES:
            raise ServiceError(
                gettext('Choose one of the languages: %(value)s.',
                        value=', '.join(LANGUAGES.values())), field="language")
        customer.language = language or None
    if timezone is not UNCHANGED:
        if timezone and timezone not in available_timezones():
            raise ServiceError(gettext('Unknown time zone %(timezone)s.', timezone=repr(timezone)), field="timezone")
        customer.timezone = timezone or None
    if preferred_channel is not UNCHANGED:
        if preferred_channel and preferred_channel not in channel_names():
            raise ServiceError(
                gettext('Unknown channel %(preferred_channel)s.',
                        preferred_channel=repr(preferred_channel)), field="preferred_channel")
        customer.preferred_channel = preferred_channel or None
    if consent is not None:
        unknown = set(consent) - set(CONSENT_KINDS)
        if unknown:
            raise ServiceError(gettext('Unknown kind(s) of message: %(value)s.', value=', '.join(sorted(unknown))))
        customer.consent = {**(customer.consent or {}), **{k: bool(v) for k, v in consent.items()}}
    if custom_fields is not None:
        customer.custom_fields = clean_values("customer", custom_fields, customer.custom_fields)
    db.session.commit()
    return customer


def withdraw_consent(customer: User, kind: str) -> None:
    """The customer's "unsubscribe": no more messages of ``kind`` (from a signed link)."""
    if kind not in CONSENT_KINDS:
        raise ServiceError(gettext('Unknown kind of message %(kind)s.', kind=repr(kind)))
    customer.consent = {**(customer.consent or {}), kind: False}
    db.session.commit()
