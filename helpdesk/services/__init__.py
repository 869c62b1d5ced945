"""Services: the only code that writes tickets, messages and users.

Views, the CLI, channels and plugins all call these functions. Each one validates its
input (raising ``ServiceError`` with a message a person can act on), asks the decision
hooks inside its transaction, commits, then fires the event hooks and enqueues jobs.
"""
from helpdesk.services.errors import PermissionDenied, ServiceError, StaleTicket
from helpdesk.services.feedback import record_feedback
from helpdesk.services.importing import importing
from helpdesk.services.merge import merge_tickets, split_message
from helpdesk.services.notices import notify_customer
from helpdesk.services.tickets import (
    add_message,
    apply_route_decision,
    bulk_update,
    create_ticket,
    reply_checks,
    update_ticket,
)
from helpdesk.services.users import (
    create_user,
    find_or_create_customer,
    merge_customers,
)

__all__ = [
    "PermissionDenied", "ServiceError", "StaleTicket", "add_message", "apply_route_decision", "bulk_update",
    "create_ticket",
    "create_user", "find_or_create_customer", "merge_customers", "importing", "merge_tickets", "notify_customer",
    "record_feedback",
    "reply_checks", "split_message", "update_ticket",
]
