"""A customer's profile and preferences: preferred name, language, time zone, preferred
channel, consent per kind (service, surveys, updates) and custom field values.

Agents change them on the customer page; customers their own on the portal's profile.
"""
from __future__ import annotations

from typing import Any
from zoneinfo import available_timezones

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


def update_preferences(customer: User, actor: User, *, preferred_name: Any = UNCHANGED, language: Any = UNCHANGED,
                       timezone: Any = UNCHANGED, preferred_channel: Any = UNCHANGED,
                       consent: dict[str, bool] | None = None,
                       custom_fields: dict[str, Any] | None = None) -> User:
    """Change what is given (``UNCHANGED`` leaves a value); "" clears a text preference."""
    if customer.role != "customer":
        raise ServiceError("Preferences are kept for customers.")
    if not (actor.is_staff or actor.id == customer.id):
        raise PermissionDenied("You cannot change this customer's preferences.")
    if custom_fields is not None and not actor.is_staff:
        raise PermissionDenied("Only agents fill in custom fields.")
    if preferred_name is not UNCHANGED:
        preferred_name = (preferred_name or "").strip()
        if len(preferred_name) > 200:
            raise ServiceError("The preferred name is limited to 200 characters.", field="preferred_name")
        customer.preferred_name = preferred_name or None
    if language is not UNCHANGED:
        if language and language not in LANGUAGES:
            raise ServiceError(f"Choose one of the languages: {', '.join(LANGUAGES.values())}.", field="language")
        customer.language = language or None
    if timezone is not UNCHANGED:
        if timezone and timezone not in available_timezones():
            raise ServiceError(f"Unknown time zone {timezone!r}.", field="timezone")
        customer.timezone = timezone or None
    if preferred_channel is not UNCHANGED:
        if preferred_channel and preferred_channel not in channel_names():
            raise ServiceError(f"Unknown channel {preferred_channel!r}.", field="preferred_channel")
        customer.preferred_channel = preferred_channel or None
    if consent is not None:
        unknown = set(consent) - set(CONSENT_KINDS)
        if unknown:
            raise ServiceError(f"Unknown kind(s) of message: {', '.join(sorted(unknown))}.")
        customer.consent = {**(customer.consent or {}), **{k: bool(v) for k, v in consent.items()}}
    if custom_fields is not None:
        customer.custom_fields = clean_values("customer", custom_fields, customer.custom_fields)
    db.session.commit()
    return customer


def withdraw_consent(customer: User, kind: str) -> None:
    """The customer's "unsubscribe": no more messages of ``kind`` (from a signed link)."""
    if kind not in CONSENT_KINDS:
        raise ServiceError(f"Unknown kind of message {kind!r}.")
    customer.consent = {**(customer.consent or {}), kind: False}
    db.session.commit()
