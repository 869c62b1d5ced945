"""Email addresses in their one canonical form. A leaf module (nothing from ``helpdesk``
but the leaf ``errors``): settings validation, forms and services all use it."""
from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext

from helpdesk.errors import ServiceError


def normalise_email(address: str) -> str:
    """A valid address, lower-cased. Intranet and test domains are fine for a helpdesk."""
    try:
        return validate_email((address or "").strip(), check_deliverability=False,
                              globally_deliverable=False, test_environment=True).normalized.lower()
    except EmailNotValidError as exc:
        raise ServiceError(gettext('Not a valid email address: %(exc)s', exc=exc), field="email") from None
