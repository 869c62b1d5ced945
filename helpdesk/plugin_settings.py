"""Turning submitted text into typed plugin setting values, with clear errors."""
from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from flask_babel import gettext
from sqlalchemy import select

from helpdesk.addresses import normalise_email
from helpdesk.errors import ServiceError
from helpdesk.extensions import db
from helpdesk.models import Team, User
from helpdesk.numbers import parse_id, parse_int


class SettingError(ValueError):
    pass


def coerce(spec: Any, raw: Any) -> Any:
    """Convert ``raw`` (usually a form or environment string) for ``spec``; raise SettingError."""
    text = "" if raw is None else str(raw).strip()
    if spec.type == "bool":
        return text.lower() in {"1", "true", "yes", "on", "y"}
    if text == "":
        if spec.required and spec.type != "secret":
            raise SettingError(gettext("This setting is required."))
        return None if spec.type in {"int", "team", "agent"} else ""
    if spec.type == "int":
        value = parse_int(text)
        if value is None:
            raise SettingError(gettext("Enter a whole number."))
        if spec.min is not None and value < spec.min:
            raise SettingError(gettext("Must be at least %(min)s.", min=spec.min))
        if spec.max is not None and value > spec.max:
            raise SettingError(gettext("Must be at most %(max)s.", max=spec.max))
        return value
    if spec.type == "choice":
        if text not in spec.choices:
            raise SettingError(gettext("Choose one of: %(choices)s.", choices=", ".join(spec.choices)))
        return text
    if spec.type == "email":
        try:
            return normalise_email(text)
        except ServiceError as exc:
            raise SettingError(exc.message) from None
    if spec.type == "url":
        parsed = urlparse(text)
        if parsed.scheme not in {"http", "https"} or not parsed.netloc:
            raise SettingError(gettext("Enter a full http:// or https:// address."))
        return text
    if spec.type in {"team", "agent"}:
        value = parse_id(text)
        if value is None:
            raise SettingError(gettext("Choose a team.") if spec.type == "team" else gettext("Choose an agent."))
        if spec.type == "team" and db.session.get(Team, value) is None:
            raise SettingError(gettext("No such team."))
        if spec.type == "agent" and db.session.scalar(
                select(User.id).where(User.id == value, User.role.in_(("agent", "admin")))) is None:
            raise SettingError(gettext("No such agent."))
        return value
    if len(text) > 5000:
        raise SettingError(gettext("Too long (5,000 characters at most)."))
    if spec.type == "lines":  # one entry per line: tidy each, drop empty ones
        return "\n".join(line.strip() for line in text.splitlines() if line.strip())
    return text


def validate(specs: dict[str, Any], submitted: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Validate every declared setting; return (values, errors by setting name)."""
    values, errors = {}, {}
    for name, spec in specs.items():
        try:
            values[name] = coerce(spec, submitted.get(name))
        except SettingError as exc:
            errors[name] = str(exc)
    return values, errors
