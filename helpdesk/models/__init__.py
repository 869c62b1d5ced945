"""The core's tables. Plugins add their own (prefixed with the plugin name)."""
from helpdesk.models.live import LiveEvent, LivePresence
from helpdesk.models.macros import Macro
from helpdesk.models.notifications import Notification, NotificationPreference, TicketFollower
from helpdesk.models.platform import AdminAuditEntry, CustomerNotice, OutboxMail, PluginError, PluginState, SiteSetting
from helpdesk.models.reads import TicketRead
from helpdesk.models.reports import TicketFacts
from helpdesk.models.sessions import RateLimitCounter, ThrottleCounter, UserSession
from helpdesk.models.sla import BusinessHours, SlaPolicy, SlaTarget
from helpdesk.models.tickets import (
    Attachment,
    AuditEvent,
    CannedReply,
    Delivery,
    Message,
    SavedView,
    Tag,
    Ticket,
    ticket_tags,
)
from helpdesk.models.users import ContactIdentity, LoginToken, Team, User, team_members

__all__ = [
    "AdminAuditEntry", "Attachment", "AuditEvent", "BusinessHours", "CannedReply", "ContactIdentity", "CustomerNotice",
    "Delivery", "LoginToken", "Message", "OutboxMail", "PluginError", "PluginState", "RateLimitCounter", "SavedView",
    "SiteSetting", "SlaPolicy", "SlaTarget", "Tag", "Team", "ThrottleCounter", "Ticket", "User", "UserSession",
    "team_members", "ticket_tags", "LiveEvent", "LivePresence",
    "team_members", "ticket_tags",
    "Macro",
    "SiteSetting", "SlaPolicy", "SlaTarget", "Tag", "Team", "ThrottleCounter", "Ticket", "TicketRead", "User",
    "UserSession", "team_members", "ticket_tags",
]
__all__ += ["Notification", "NotificationPreference", "TicketFollower"]
__all__ += ["TicketFacts"]  # the core reports' per-ticket facts
from helpdesk.models.api import ApiToken, WebhookDelivery, WebhookEndpoint  # noqa: E402  (the REST API's tables)

__all__ += ["ApiToken", "WebhookDelivery", "WebhookEndpoint"]
from helpdesk.models.customers import (  # noqa: E402 - after users, which they point at
    Announcement,
    AnnouncementRecipient,
    CustomField,
    Organisation,
    OrganisationDomain,
    TextTranslation,
)

__all__ += ["Announcement", "AnnouncementRecipient", "CustomField", "Organisation", "OrganisationDomain",
            "TextTranslation"]
