"""The value types of the plugin contract: settings, routing decisions, channels.

A leaf module: it imports nothing from ``helpdesk``, so the hook specifications, the
plugin manager, the services and ``plugin_api`` (which re-exports these names) can all use
it without an import cycle. Plugins import them from ``helpdesk.plugin_api``.

Words people read (``Setting.label``/``help``, ``NotificationKind.label``/``help``,
``ReplyWarning.text``/``label``, ``Channel.label``) are :data:`Text`: a plain ``str`` or a
lazy string (``plugin_api.lazy_gettext("...")``). Declarations are made once and kept (the
plugin manager caches them across requests), so a label given as ``gettext(...)`` would be
frozen in the language of whoever asked first; a lazy one is translated each time it is
read, in the reader's language. The core renders them in templates, ``str()``s them for
JSON and sorts by ``str()``; a plugin that compares or stores one does the same.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, TypeAlias

from flask_babel.speaklater import LazyString

if TYPE_CHECKING:  # pragma: no cover - annotations only
    from helpdesk.models import Message, Ticket, User

# Words a person reads: a str, or a lazy string (``plugin_api.lazy_gettext``) that is
# translated when read. LazyString is not a str subclass: ``str(text)`` where a str is needed.
Text: TypeAlias = str | LazyString

SETTING_TYPES = ("text", "lines", "secret", "int", "bool", "choice", "email", "url", "team", "agent")


@dataclass(frozen=True)
class Setting:
    """One setting a plugin declares (see the ``helpdesk_settings`` hook).

    ``label`` (the field's name on the admin page; the setting's ``name`` without one) and
    ``help`` (a line under it) are :data:`Text`: give them with ``lazy_gettext`` so each
    admin reads them in their language. ``choice_labels`` (optional, one per ``choices``
    entry, in the same order) are the names the admin reads for the stored choices.
    """

    name: str
    type: str = "text"
    default: Any = None
    help: Text = ""
    label: Text = ""
    choices: tuple[str, ...] = ()
    required: bool = False
    min: int | None = None
    max: int | None = None
    choice_labels: tuple[Text, ...] = ()

    def __post_init__(self) -> None:
        if self.type not in SETTING_TYPES:
            raise ValueError(f"unknown setting type {self.type!r}; use one of {SETTING_TYPES}")
        if self.choice_labels and len(self.choice_labels) != len(self.choices):
            raise ValueError(f"setting {self.name!r}: one choice label per choice ({len(self.choices)})")


@dataclass(frozen=True)
class Route:
    """A routing decision (see the ``helpdesk_route_ticket`` hook).

    ``priority`` and ``tags`` are applied by the core with the decision's ``reason``, by
    its rules: automatic routing only ever raises a priority, and tags are only added.
    """

    team_id: int | None = None
    assignee_id: int | None = None
    reason: Text = ""  # lazy_gettext(...): stored in English, read in each reader's language
    priority: str | None = None
    tags: tuple[str, ...] = ()


@dataclass
class Channel:
    """A way customers reach us. Subclass it and return instances from ``helpdesk_channels``.

    ``deliver`` is called by a job (with retries) for each public agent reply on a ticket
    whose ``channel`` equals ``name``. Raise to have the job retried later. It runs inside
    the delivery's transaction: rows it writes (``queue_mail``) are committed together with
    "delivered", or not at all. After a crashed worker it may run again for the same reply,
    so a channel that calls an outside API itself should send ``message.id`` as the
    provider's idempotency key.

    ``label`` names the channel for people (:data:`Text`, e.g. ``lazy_gettext("Website
    chat")``); ``name`` is the stable key stored on tickets.

    ``notify`` sends an automatic notice that is not an agent reply (an acknowledgement, a
    survey invitation, a follow-up question) to a customer through this channel. The
    default raises ``NotImplementedError``, which the core answers by sending the notice by
    email to the customer's address (so ``return super().notify(...)`` means "by email"); a
    channel that reaches customers another way (SMS, chat) overrides it, typically sending
    ``text`` with its short links. Return True when the notice was queued, False when the
    customer cannot be reached.
    """

    name: str = ""
    label: Text = ""
    plugin: str = field(default="", compare=False)

    def deliver(self, ticket: Ticket, message: Message) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def notify(self, customer: User, subject: str, text: str, *, ticket: Ticket | None = None,
               html: str | None = None, headers: dict[str, str] | None = None) -> bool:
        raise NotImplementedError("no channel-specific notice: the core sends it by email")


@dataclass(frozen=True)
class ReplyWarning:
    """One finding of ``helpdesk_reply_checks`` that names its check, so an admin can switch
    that check off or make it blocking on its own (Admin → Reply checks). A plain string
    from the hook is still fine: it counts as the plugin's one check, named after the plugin.

    ``check`` is a short id within the plugin ("greeting"); the full key is
    ``"<plugin>.<check>"``. ``text`` is what the agent reads; ``label`` says what the check
    looks for, shown to admins. Both are :data:`Text` (``gettext`` is fine for ``text``: it
    is built for the agent who is replying; ``lazy_gettext`` for anything kept longer).
    """

    check: str
    text: Text
    label: Text = ""


DELIVERIES = ("immediately", "digest", "app", "off")  # how an agent wants one kind of notification


@dataclass(frozen=True)
class NotificationKind:
    """A kind of agent notification (see the ``helpdesk_notification_kinds`` hook).

    ``name`` is unique (plugins prefix theirs: ``"myplugin.thing"``); ``label`` is what the
    agent reads on their preferences page and ``help`` a line under it, both :data:`Text`
    (``lazy_gettext("...")``: read in each agent's language); ``default`` is the delivery until the agent
    chooses: ``"immediately"`` (the bell and an email at once), ``"digest"`` (the bell and
    the daily digest email), ``"app"`` (the bell only) or ``"off"`` (nothing).
    """

    name: str
    label: Text
    default: str = "immediately"
    help: Text = ""

    def __post_init__(self) -> None:
        if self.default not in DELIVERIES:
            raise ValueError(f"unknown delivery {self.default!r}; use one of {DELIVERIES}")


@dataclass(frozen=True)
class ReportFilters:
    """What the reader of the core reports page (``/reports``) chose, as handed to the
    ``helpdesk_report_sections`` hook.

    ``start`` and ``end`` are the first and last day shown (inclusive) in the reader's time
    zone ``timezone``; ``since`` and ``until`` are the same period as naive UTC times (the
    way times are stored), ``until`` exclusive: filter with ``since <= t < until``.
    ``interval`` is ``"day"`` or ``"week"``. The other fields are ``None`` for "any":
    ``team_id``, ``agent_id`` (the assignee), ``channel``, ``tag`` (a tag's name) and
    ``priority``, and (API 1.2) ``organisation_id`` (the customer's organisation). Scoping
    is not in here: a section must still go through ``scoped_to_tickets(user, ...)`` for
    the reader it is given.
    """

    start: date
    end: date
    since: datetime
    until: datetime
    timezone: str = "UTC"
    interval: str = "day"
    team_id: int | None = None
    agent_id: int | None = None
    channel: str | None = None
    tag: str | None = None
    priority: str | None = None
    organisation_id: int | None = None


@dataclass(frozen=True)
class TimelineEntry:
    """One event on a customer's timeline (see the ``helpdesk_customer_timeline`` hook).

    ``at`` is naive UTC; ``kind`` is the filter it belongs to (the core's are ``ticket``,
    ``message``, ``notice``, ``announcement``; a plugin names its own, e.g. ``survey``);
    ``title`` one line, ``text`` an optional excerpt (plain text, escaped on the page);
    ``url`` a page about it the reader may open; ``ticket_reference`` the ticket it is about.
    """

    at: datetime
    kind: str
    title: str
    text: str = ""
    url: str | None = None
    ticket_reference: str | None = None
    source: str = "core"
