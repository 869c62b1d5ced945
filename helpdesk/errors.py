"""The errors services raise. A leaf module: it imports nothing from ``helpdesk``, so any
layer (settings validation, forms, services, plugins) can use them without a cycle."""


class ServiceError(ValueError):
    """Input a service refuses, with a message to show to the person who sent it."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class PermissionDenied(ServiceError):
    """The actor may not make this change."""
