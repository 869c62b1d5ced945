"""The services' errors; they live in the leaf module ``helpdesk.errors``."""
from helpdesk.errors import PermissionDenied, ServiceError, StaleTicket

__all__ = ["PermissionDenied", "ServiceError", "StaleTicket"]
