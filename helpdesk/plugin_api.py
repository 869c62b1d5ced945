"""The small, stable API for plugin authors. Import from here, never from internals.

    from helpdesk import hookimpl
    from helpdesk.plugin_api import Setting, Route, Channel, services, task, get_setting
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask_login import current_user
from huey import crontab

from helpdesk import services
from helpdesk.access import visible_tickets
from helpdesk.extensions import db
from helpdesk.jobs import periodic_task, task
from helpdesk.models import Message, Team, Ticket, User
from helpdesk.models.base import utcnow
from helpdesk.web.auth import admin_required, staff_required

SETTING_TYPES = ("text", "secret", "int", "bool", "choice", "email", "url", "team", "agent")


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
    """

    name: str = ""
    label: str = ""
    plugin: str = field(default="", compare=False)

    def deliver(self, ticket: Ticket, message: Message) -> None:  # pragma: no cover - interface
        raise NotImplementedError


def get_setting(plugin: str, name: str) -> Any:
    """The current value of a plugin's setting (environment, then database, then default)."""
    from helpdesk.plugin_manager import manager

    return manager().get_setting(plugin, name)


def is_enabled(plugin: str) -> bool:
    from helpdesk.plugin_manager import manager

    return manager().is_enabled(plugin)


__all__ = [
    "Channel", "Message", "Route", "Setting", "Team", "Ticket", "User", "admin_required", "crontab",
    "current_user",
    "db", "get_setting", "is_enabled", "periodic_task", "services", "staff_required", "task",
    "utcnow", "visible_tickets",
]
