"""marshmallow schemas of the REST API: what it answers and what it accepts.

Input schemas refuse unknown fields (marshmallow's default ``RAISE``): a field that is not
listed, such as ``customer_id`` on a ticket update, is an error, never silently applied.
"""
from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from helpdesk.models.tickets import PRIORITIES, STATUSES


class UtcDateTime(fields.DateTime):
    """Stored times are naive UTC: written as ISO 8601 with a ``Z``."""

    def _serialize(self, value: Any, attr: Any, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else value.replace(microsecond=0).isoformat() + "Z"


class ErrorBody(Schema):
    code = fields.Str(required=True, metadata={"description": "machine-readable: not_found, invalid, …"})
    message = fields.Str(required=True, metadata={"description": "for people"})
    fields_ = fields.Dict(data_key="fields", keys=fields.Str(), metadata={"description": "field → messages"})


class ErrorSchema(Schema):
    error = fields.Nested(ErrorBody, required=True)


class PersonRef(Schema):
    id = fields.Int(required=True)
    name = fields.Str(required=True)


class AuthorRef(PersonRef):
    role = fields.Str(required=True)


class TeamRef(Schema):
    id = fields.Int(required=True)
    name = fields.Str(required=True)


class TicketSchema(Schema):
    id = fields.Int(required=True)
    reference = fields.Str(required=True, metadata={"example": "HD-42"})
    subject = fields.Str(required=True)
    status = fields.Str(required=True, metadata={"enum": list(STATUSES)})
    priority = fields.Str(required=True, metadata={"enum": list(PRIORITIES)})
    channel = fields.Str(required=True)
    customer = fields.Nested(PersonRef, required=True)
    assignee = fields.Nested(PersonRef, allow_none=True, metadata={"description": "null for customers"})
    team = fields.Nested(TeamRef, allow_none=True, metadata={"description": "null for customers"})
    tags = fields.List(fields.Str(), metadata={"description": "empty for customers"})
    message_count = fields.Int()
    version = fields.Int(metadata={"description": "send it back with an update to refuse stale changes"})
    merged_into = fields.Str(allow_none=True, metadata={"description": "reference of the ticket it was merged into"})
    sla_due_at = UtcDateTime(allow_none=True)
    created_at = UtcDateTime()
    updated_at = UtcDateTime()
    first_response_at = UtcDateTime(allow_none=True)
    resolved_at = UtcDateTime(allow_none=True)
    closed_at = UtcDateTime(allow_none=True)


class TicketPage(Schema):
    items = fields.List(fields.Nested(TicketSchema), required=True)
    next_cursor = fields.Str(allow_none=True,
                             metadata={"description": "pass as ?cursor= for the next page; null: last page"})


class TicketListArgs(Schema):
    status = fields.Str(metadata={"description": "new, open, pending, resolved, closed, active (default) or all"})
    priority = fields.Str(validate=validate.OneOf(PRIORITIES))
    team = fields.Int(metadata={"description": "team id"})
    assignee = fields.Str(metadata={"description": "me, none or an agent's id"})
    tag = fields.Str()
    channel = fields.Str()
    q = fields.Str(metadata={"description": "a reference (HD-42), a customer's name or address, or words"})
    limit = fields.Int(load_default=25, validate=validate.Range(1, 100))
    cursor = fields.Str()


class AttachmentSchema(Schema):
    token = fields.Str(required=True)
    filename = fields.Str(required=True)
    content_type = fields.Str(required=True)
    size = fields.Int(required=True)
    url = fields.Str(required=True, metadata={"description": "GET it with the same token"})


class MessageSchema(Schema):
    id = fields.Int(required=True)
    ticket = fields.Str(required=True, metadata={"description": "the reference of the ticket it is on"})
    author = fields.Nested(AuthorRef, allow_none=True)
    internal = fields.Bool(required=True)
    body = fields.Str(required=True)
    body_html = fields.Str(allow_none=True)
    channel = fields.Str()
    created_at = UtcDateTime()
    attachments = fields.List(fields.Nested(AttachmentSchema))


class NewAttachmentSchema(Schema):
    filename = fields.Str(required=True, validate=validate.Length(1, 255))
    content_type = fields.Str(load_default="application/octet-stream", validate=validate.Length(1, 120))
    content_base64 = fields.Str(required=True, metadata={"description": "the file, base64-encoded"})


class TicketCreateSchema(Schema):
    subject = fields.Str(required=True, validate=validate.Length(1, 250))
    body = fields.Str(required=True, validate=validate.Length(1, 100_000))
    customer_id = fields.Int(metadata={"description": "staff: for this customer (or customer_email)"})
    customer_email = fields.Email(metadata={"description": "staff: for the customer with this address (made if new)"})
    customer_name = fields.Str(validate=validate.Length(1, 200))
    priority = fields.Str(validate=validate.OneOf(PRIORITIES), metadata={"description": "staff only"})
    team_id = fields.Int(metadata={"description": "staff only"})
    tags = fields.List(fields.Str(validate=validate.Length(1, 60)), metadata={"description": "staff only"})
    attachments = fields.List(fields.Nested(NewAttachmentSchema), validate=validate.Length(max=20))


class TicketUpdateSchema(Schema):
    status = fields.Str(validate=validate.OneOf(STATUSES))
    priority = fields.Str(validate=validate.OneOf(PRIORITIES))
    assignee_id = fields.Int(allow_none=True)
    team_id = fields.Int(allow_none=True)
    tags = fields.List(fields.Str(validate=validate.Length(1, 60)))
    subject = fields.Str(validate=validate.Length(1, 250))
    version = fields.Int(metadata={"description": "the version you read; a newer ticket answers 409"})


class ChangesSchema(Schema):
    ticket = fields.Nested(TicketSchema, required=True)
    changed = fields.List(fields.Str(), required=True)


class MessageCreateSchema(Schema):
    body = fields.Str(load_default="", validate=validate.Length(max=100_000))
    attachments = fields.List(fields.Nested(NewAttachmentSchema), validate=validate.Length(max=20))


class MergeSchema(Schema):
    into = fields.Str(required=True, metadata={"description": "the reference of the ticket to merge into"})


class SlaTargetSchema(Schema):
    kind = fields.Str(required=True)
    state = fields.Str(required=True, metadata={"enum": ["running", "paused", "met", "breached"]})
    policy = fields.Str(allow_none=True)
    cycle = fields.Int()
    due_at = UtcDateTime(allow_none=True)
    paused_at = UtcDateTime(allow_none=True)
    met_at = UtcDateTime(allow_none=True)
    warned_at = UtcDateTime(allow_none=True)
    breached_at = UtcDateTime(allow_none=True)


class IdentitySchema(Schema):
    id = fields.Int(required=True)
    kind = fields.Str(required=True)
    value = fields.Str(required=True)
    verified = fields.Bool()


class OrganisationRef(Schema):
    id = fields.Int(required=True)
    name = fields.Str(required=True)


class CustomerSchema(Schema):
    id = fields.Int(required=True)
    name = fields.Str(required=True)
    email = fields.Str(allow_none=True)
    active = fields.Bool()
    created_at = UtcDateTime()
    identities = fields.List(fields.Nested(IdentitySchema))
    organisation = fields.Nested(OrganisationRef, allow_none=True,
                                 metadata={"description": "the organisation they belong to; null: none"})


class CustomerPage(Schema):
    items = fields.List(fields.Nested(CustomerSchema), required=True)
    next_cursor = fields.Str(allow_none=True)


class CustomerListArgs(Schema):
    q = fields.Str(metadata={"description": "part of a name, address or contact"})
    limit = fields.Int(load_default=25, validate=validate.Range(1, 100))
    cursor = fields.Str()


class IdentityCreateSchema(Schema):
    kind = fields.Str(required=True, validate=validate.Length(1, 30),
                      metadata={"description": "email, phone, chat or social:<network>"})
    value = fields.Str(required=True, validate=validate.Length(1, 320))


class OrganisationSchema(Schema):
    id = fields.Int(required=True)
    name = fields.Str(required=True)
    domains = fields.List(fields.Str(), required=True,
                          metadata={"description": "customers writing from these (or subdomains) join"})
    shared_tickets = fields.Bool(required=True,
                                 metadata={"description": "members see each other's tickets in the portal"})
    notes = fields.Str(required=True)
    account_owner_id = fields.Int(allow_none=True, required=True,
                                  metadata={"description": "the agent or admin who looks after the account"})
    custom_fields = fields.Dict(keys=fields.Str(), values=fields.Raw(allow_none=True), required=True,
                                metadata={"description": "key → value of the admin's organisation fields"})
    member_count = fields.Int(required=True, metadata={"description": "customers in the organisation"})
    created_at = UtcDateTime()


class OrganisationPage(Schema):
    items = fields.List(fields.Nested(OrganisationSchema), required=True)
    next_cursor = fields.Str(allow_none=True)


class OrganisationListArgs(Schema):
    q = fields.Str(metadata={"description": "part of the name"})
    limit = fields.Int(load_default=25, validate=validate.Range(1, 100))
    cursor = fields.Str()


class OrganisationUpdateSchema(Schema):
    """Agents change the notes, the account owner and the custom fields; name, domains and
    sharing need an admin (and a token with the admin scope)."""
    name = fields.Str(validate=validate.Length(1, 200), metadata={"description": "admins"})
    domains = fields.List(fields.Str(validate=validate.Length(1, 253)), validate=validate.Length(max=100),
                          metadata={"description": "admins: the whole list (replaces it)"})
    shared_tickets = fields.Bool(metadata={"description": "admins"})
    notes = fields.Str(validate=validate.Length(max=20_000))
    account_owner_id = fields.Int(allow_none=True, metadata={"description": "an active agent or admin; null: none"})
    custom_fields = fields.Dict(keys=fields.Str(validate=validate.Length(1, 60)),
                                values=fields.Raw(allow_none=True),
                                metadata={"description": "key → value; null or \"\" clears a field"})


class OrganisationCreateSchema(OrganisationUpdateSchema):
    name = fields.Str(required=True, validate=validate.Length(1, 200))


class UserSchema(Schema):
    id = fields.Int(required=True)
    name = fields.Str(required=True)
    role = fields.Str(required=True)
    active = fields.Bool()
    available = fields.Bool()
    teams = fields.List(fields.Nested(TeamRef))


class TeamSchema(Schema):
    id = fields.Int(required=True)
    name = fields.Str(required=True)
    description = fields.Str()
    members = fields.List(fields.Nested(PersonRef))


class TagSchema(Schema):
    id = fields.Int(required=True)
    name = fields.Str(required=True)


class TagCreateSchema(Schema):
    name = fields.Str(required=True, validate=validate.Length(1, 60))


class MeSchema(Schema):
    id = fields.Int(required=True)
    name = fields.Str(required=True)
    role = fields.Str(required=True)
    scope = fields.Str(allow_none=True, metadata={"description": "the token's scope; null for a browser session"})
    token_expires_at = UtcDateTime(allow_none=True)
