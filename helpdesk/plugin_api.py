"""The small, stable API for plugin authors. Import from here, never from internals.

    from helpdesk import hookimpl
    from helpdesk.plugin_api import Setting, Route, Channel, services, task, get_setting

Models are exported for reading and for the objects services take (a ``Tag`` to put on a
ticket inside a routing decision); write tickets, messages and users through ``services``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask_login import current_user
from huey import crontab

from helpdesk import services
from helpdesk.access import visible_tickets
from helpdesk.extensions import csrf, db, limiter
from helpdesk.filenames import safe_filename
from helpdesk.jobs import periodic_task, task
from helpdesk.models import AuditEvent, ContactIdentity, Message, SlaPolicy, SlaTarget, Tag, Team, Ticket, User
from helpdesk.models.base import utcnow
from helpdesk.models.tickets import parse_reference
from helpdesk.models.users import team_members
from helpdesk.services.mail import batched_mail, deliver_mail, queue_mail
from helpdesk.services.notices import customer_address
from helpdesk.services.settings import site_setting, site_timezone
from helpdesk.services.tickets import MAX_BODY, NewAttachment, audit, human_size
from helpdesk.services.users import find_customer, normalise_email
from helpdesk.web.auth import admin_required, staff_required
from helpdesk.web.links import external_url

SETTING_TYPES = ("text", "lines", "secret", "int", "bool", "choice", "email", "url", "team", "agent")


@dataclass(frozen=True)
class Setting:
    """One setting a plugin declares (see the ``helpdesk_settings`` hook)."""

    name: str
    type: str = "text"
    default: Any = None
    help: str = ""
    label: str = ""
    choices: tuple[str, ...] = ()
    required: bool = False
    min: int | None = None
    max: int | None = None

    def __post_init__(self) -> None:
        if self.type not in SETTING_TYPES:
            raise ValueError(f"unknown setting type {self.type!r}; use one of {SETTING_TYPES}")


@dataclass(frozen=True)
class Route:
    """A routing decision (see the ``helpdesk_route_ticket`` hook)."""

    team_id: int | None = None
    assignee_id: int | None = None
    reason: str = ""


@dataclass
class Channel:
    """A way customers reach us. Subclass it and return instances from ``helpdesk_channels``.

    ``deliver`` is called by a job (with retries) for each public agent reply on a ticket
    whose ``channel`` equals ``name``. Raise to have the job retried later.

    ``notify`` sends an automatic notice that is not an agent reply (an acknowledgement, a
    survey invitation, a follow-up question) to a customer through this channel. The
    default sends it by email to the customer's address; a channel that reaches customers
    another way (SMS, chat) overrides it, typically sending ``text`` with its short links.
    Return True when the notice was queued, False when the customer cannot be reached.
    """

    name: str = ""
    label: str = ""
    plugin: str = field(default="", compare=False)

    def deliver(self, ticket: Ticket, message: Message) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def notify(self, customer: User, subject: str, text: str, *, ticket: Ticket | None = None,
               html: str | None = None, headers: dict[str, str] | None = None) -> bool:
        from helpdesk.services.notices import email_notice

        return email_notice(customer, subject, text, ticket=ticket, html=html, headers=headers)


def get_setting(plugin: str, name: str) -> Any:
    """The current value of a plugin's setting (environment, then database, then default)."""
    from helpdesk.plugin_manager import manager

    return manager().get_setting(plugin, name)


def encrypt_secret(value: str) -> str:
    """Encrypt a secret a plugin keeps in its own tables (a mailbox password, an API key).

    Uses the same key as secret settings (``HELPDESK_SECRETS_KEY`` or the instance's
    ``secrets.key``); store the returned text, never the plain value.
    """
    from helpdesk.plugin_manager import manager

    return manager()._fernet().encrypt(value.encode()).decode()


def decrypt_secret(token: str) -> str | None:
    """The plain value of :func:`encrypt_secret`'s output; ``None`` if the key changed."""
    from cryptography.fernet import InvalidToken

    from helpdesk.plugin_manager import manager

    try:
        return manager()._fernet().decrypt(token.encode()).decode()
    except (InvalidToken, ValueError):
        return None


def choose_agent(ticket: Ticket, team: Team, strategy: str) -> Route | None:
    """Pick an agent of ``team`` for ``ticket``: ``"round_robin"`` or ``"least_loaded"``.

    Only active agents marked available are candidates, the team's cap on open tickets
    holds, and concurrent callers never take the same turn (the core's assignment engine).
    Returns a ``Route`` with ``assignee_id`` and a reason for the audit trail, or ``None``.
    """
    from helpdesk.assignment import STRATEGIES, choose

    if strategy not in STRATEGIES or strategy == "manual":
        raise ValueError(f"unknown assignment strategy {strategy!r}")
    return choose(ticket, team, strategy)


MAX_ID = 2**31 - 1  # what an id column holds (PostgreSQL's integer)


def parse_id(raw: Any) -> int | None:
    """An id from a form or query string ("42") or an int; None when no row can have it.

    Strict: "²" passes ``str.isdigit`` but not here, and numbers beyond ``MAX_ID`` would be
    a database error rather than "not found". (``<int:...>`` in URLs is bounded already.)
    """
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw if 0 < raw <= MAX_ID else None
    text = str(raw or "").strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 10):
        return None
    value = int(text)
    return value if 0 < value <= MAX_ID else None


def get_by_id(model: type, raw: Any) -> Any | None:
    """``db.session.get`` for an id from a request; None for ids no row can have."""
    ident = parse_id(raw)
    return db.session.get(model, ident) if ident is not None else None


def is_enabled(plugin: str) -> bool:
    from helpdesk.plugin_manager import manager

    return manager().is_enabled(plugin)


__all__ = [
    "admin_required", "audit", "AuditEvent", "batched_mail", "Channel", "choose_agent", "ContactIdentity", "crontab",
    "csrf", "current_user", "customer_address", "db", "decrypt_secret", "deliver_mail", "encrypt_secret",
    "external_url", "find_customer", "get_by_id", "get_setting", "human_size", "is_enabled", "limiter", "MAX_BODY",
    "MAX_ID", "Message", "NewAttachment", "normalise_email", "parse_id", "parse_reference", "periodic_task",
    "queue_mail", "Route", "safe_filename", "services", "Setting", "site_setting", "site_timezone", "SlaPolicy",
    "SlaTarget",
    "staff_required", "Tag", "task", "Team", "team_members", "Ticket", "User", "utcnow", "visible_tickets",
]
