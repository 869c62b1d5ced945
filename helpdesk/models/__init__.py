"""The core's tables. Plugins add their own (prefixed with the plugin name)."""
from helpdesk.models.platform import CustomerNotice, OutboxMail, PluginError, PluginState, SiteSetting
from helpdesk.models.sla import BusinessHours, SlaPolicy, SlaTarget
from helpdesk.models.tickets import (
    Attachment,
    AuditEvent,
    CannedReply,
    Message,
    SavedView,
    Tag,
    Ticket,
    ticket_tags,
)
from helpdesk.models.users import ContactIdentity, LoginToken, Team, User, team_members

__all__ = [
    "Attachment", "AuditEvent", "BusinessHours", "CannedReply", "ContactIdentity", "CustomerNotice", "LoginToken",
    "Message",
    "OutboxMail", "PluginError", "PluginState", "SavedView", "SiteSetting", "SlaPolicy", "SlaTarget", "Tag",
    "Team", "Ticket", "User", "team_members", "ticket_tags",
]
