"""The errors services raise. A leaf module: it imports nothing from ``helpdesk``, so any
layer (settings validation, forms, services, plugins) can use them without a cycle."""
from __future__ import annotations

from typing import Any


class ServiceError(ValueError):
    """Input a service refuses, with a message to show to the person who sent it."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class PermissionDenied(ServiceError):
    """The actor may not make this change."""


class StaleTicket(ServiceError):
    """The ticket changed since the form was shown (``update_ticket(expected_version=)``)."""

    def __init__(self, ticket: Any, expected_version: int) -> None:
        super().__init__(f"{ticket.reference} was changed by someone else while you had it open. "
                         "Nothing was saved: check what changed, then save your change again.")
        self.ticket, self.expected_version = ticket, expected_version
