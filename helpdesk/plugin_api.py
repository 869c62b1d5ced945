"""The small, stable API for plugin authors. Import from here, never from internals.

    from helpdesk import hookimpl
    from helpdesk.plugin_api import Setting, Route, Channel, services, task, get_setting

Models are exported for reading; write tickets, messages and users through ``services``,
and a routing or classification decision's priority and tags through ``apply_route_decision``
(or a ``Route``'s ``priority``/``tags``): the core applies them by its rules. A plugin's own
tables derive from ``Model`` and are read and written with ``db_session()``.
"""
from __future__ import annotations

import secrets
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import current_app
from flask_login import current_user
from flask_smorest import Blueprint as ApiBlueprint
from flask_sqlalchemy.session import Session
from sqlalchemy.orm import scoped_session

from helpdesk import live, services, throttle
from helpdesk.access import can_see_ticket, scoped_to_tickets, sees_every_ticket, visible_tickets
from helpdesk.addresses import normalise_email
from helpdesk.api.base import ApiError, api_user
from helpdesk.assignment import STRATEGIES, choose
from helpdesk.canned import customer_placeholders, render_notice, text_for
from helpdesk.charts import bar_chart, column_chart, data_table, heatmap_chart
from helpdesk.contract import (
    SETTING_TYPES,
    Channel,
    NotificationKind,
    ReplyWarning,
    ReportFilters,
    Route,
    Setting,
    Text,
    TimelineEntry,
)
from helpdesk.csv_export import csv_cell, csv_lines
from helpdesk.errors import PermissionDenied, ServiceError
from helpdesk.extensions import Model, csrf, limiter
from helpdesk.extensions import db as _db  # private: plugins use Model and db_session() (see DEPRECATED)
from helpdesk.filenames import safe_filename
from helpdesk.i18n import (
    N_,
    PRIORITY_NAMES,
    customer_language,
    customer_locale,
    gettext,
    lazy_gettext,
    local_date,
    local_number,
    ngettext,
)
from helpdesk.jobs import crontab, periodic_task, task
from helpdesk.models import AuditEvent, ContactIdentity, Message, SlaPolicy, SlaTarget, Tag, Team, Ticket, User
from helpdesk.models.base import utcnow
from helpdesk.models.tickets import PRIORITIES, STATUSES, parse_reference
from helpdesk.models.users import team_members
from helpdesk.numbers import MAX_ID, MAX_PAGE, parse_id, parse_int, parse_page
from helpdesk.plugin_manager import manager
from helpdesk.richtext import html_to_text, render_markdown
from helpdesk.richtext import mail_html as reply_mail_html
from helpdesk.services import notifications as _notifications
from helpdesk.services.admin_audit import record as record_config_change
from helpdesk.services.mail import batched_mail, deliver_mail, queue_mail
from helpdesk.services.notices import customer_address
from helpdesk.services.settings import site_setting, site_timezone
from helpdesk.services.tickets import (
    MAX_BODY,
    NewAttachment,
    apply_route_decision,
    attachment_path,
    audit,
    human_size,
    tags_named,
)
from helpdesk.services.translations import delete_translations, language_texts, save_translations, texts_from_form
from helpdesk.services.users import find_customer
from helpdesk.services.webhooks import emit as _emit_webhook
from helpdesk.stored_words import english_text, joined, stored_text, words_of, words_text
from helpdesk.timezones import format_local, local_day_start, local_to_utc, mail_time, user_zone
from helpdesk.versioning import API_VERSION, deprecated_names
from helpdesk.web.auth import admin_required, backoffice_required, staff_required
from helpdesk.web.links import external_url

if TYPE_CHECKING:  # the deprecated ``db`` keeps its type for plugins that still import it (see DEPRECATED)
    from helpdesk.extensions import db as db


def get_setting(plugin: str, name: str) -> Any:
    """The current value of a plugin's setting (environment, then database, then default)."""
    return manager().get_setting(plugin, name)


def encrypt_secret(value: str) -> str:
    """Encrypt a secret a plugin keeps in its own tables (a mailbox password, an API key).

    Uses the same key as secret settings (``HELPDESK_SECRETS_KEY`` or the instance's
    ``secrets.key``); store the returned text, never the plain value.
    """
    return manager()._fernet().encrypt(value.encode()).decode()


def decrypt_secret(token: str) -> str | None:
    """The plain value of :func:`encrypt_secret`'s output; ``None`` if the key changed."""
    # Here, not at the top: cryptography costs every process about 7 MiB, and only a process
    # that decrypts a secret needs it.
    from cryptography.fernet import InvalidToken

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
    if strategy not in STRATEGIES or strategy == "manual":
        raise ValueError(f"unknown assignment strategy {strategy!r}")
    return choose(ticket, team, strategy)


def db_session() -> scoped_session[Session]:
    """The database session, for a plugin's reads and for writing its *own* tables.

    Core rows (tickets, messages, users, tags, priorities) are written through ``services``
    and ``apply_route_decision``, never by hand, so the core's rules, audit trail and hooks
    hold.
    """
    return _db.session


def get_by_id(model: type, raw: Any) -> Any | None:
    """``db_session().get`` for an id from a request; None for ids no row can have."""
    ident = parse_id(raw)
    return _db.session.get(model, ident) if ident is not None else None


def notify_agents(kind: str, users: Iterable[User | None], *, ticket: Ticket | None = None, text: Text,
                  actor: User | None = None) -> int:
    """Notify agents (the bell, and email by each agent's preference) of a ``kind`` your plugin declared.

    ``kind`` is a name from your ``helpdesk_notification_kinds``; ``text`` one line the agent
    reads ("Ana gave you kudos on HD-12."), best a ``lazy_gettext("...", name=value)``: each
    agent's notification is then written in their own language; ``ticket`` links it and limits it to agents who
    can see that ticket; ``actor`` (who did it) is never notified. Inactive accounts,
    customers and agents who turned the kind off are left out. Call it after your own
    commit: it commits. Returns how many agents were notified.
    """
    return len(_notifications.notify(kind, users, ticket=ticket, text=text, actor=actor))


def send_webhook(event: str, data: dict[str, Any]) -> int:
    """Send a webhook event your plugin declared (``helpdesk_webhook_events``) to every
    endpoint an admin subscribed to it: signed, durable, retried. Call it after your own
    commit (it commits); returns how many deliveries were queued."""
    return len(_emit_webhook(event, data))


def is_enabled(plugin: str) -> bool:
    return manager().is_enabled(plugin)


def active_agents() -> list[Any]:
    """Active agents and admins by name, each with ``id``, ``name`` and ``role`` (read-only records).

    From the configuration snapshot every process keeps (``helpdesk.config_cache``): no query
    on most requests, and up to date from the next request after a change in any process.
    """
    from helpdesk.config_cache import snapshot

    return snapshot().agents


def nav_count(plugin: str, name: str) -> int:
    """A number your ``helpdesk_nav_counts`` declared, for the signed-in user (0 if none).

    Every plugin's counts (and the core's bell) run together in one statement per request.
    """
    return manager().nav_count(plugin, name)


def suggest_answers(text: str, language: str = "en", limit: int = 3) -> list[dict[str, Any]]:
    """Articles that may answer a customer's ``text`` (the ``helpdesk_suggest_answers`` hook).

    Best first; each a dict with ``id``, ``title``, ``url``, ``excerpt``, ``language``,
    ``confidence`` and ``confident``. ``[]`` when no enabled plugin answers (no knowledge base).
    """
    found = manager().call_first("helpdesk_suggest_answers", text=text or "", language=language or "en",
                                 limit=max(1, min(10, int(limit))))
    return list(found[1]) if found is not None and isinstance(found[1], list) else []


def answer_accepted(article_id: int, attempt: str, channel: str, text: str = "") -> bool:
    """The customer said an answer solved it (the ``helpdesk_answer_accepted`` hook): counted
    once per ``attempt``. True when counted now; False when counted before or by nobody."""
    found = manager().call_first("helpdesk_answer_accepted", article_id=article_id, attempt=attempt,
                                 channel=channel, text=(text or "")[:500])
    return bool(found is not None and found[1] is True)


def store_file(content: bytes, filename: str) -> str:
    """Keep ``content`` in the core's attachment storage (the instance's ``attachments``
    folder, so backups include it) under the same size limit as attachments; returns its
    random token. Raises ``ServiceError`` (field ``file``) when it is too large. Keep the
    token in your own table with whatever decides who may read it; serve it with
    ``stored_file(token)``."""
    limit = int(current_app.config["MAX_ATTACHMENT_BYTES"])
    if len(content) > limit:
        raise ServiceError(
            gettext('%(value)s is too large (%(value2)s; at most %(value3)s).',
                    value=safe_filename(filename), value2=human_size(len(content)), value3=human_size(limit)), field="file")  # noqa: E501 - one msgid
    token = secrets.token_urlsafe(24)
    path = attachment_path(token)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return token


def stored_file(token: str) -> Path:
    """The path of a file ``store_file`` kept (for ``send_file``)."""
    if not token or "/" in token or "\\" in token or token.startswith("."):
        raise ValueError("not a stored file's token")
    return attachment_path(token)


def delete_stored_file(token: str) -> bool:
    """Remove a file ``store_file`` kept; True if it was there, False if it was gone already.

    Call it after the commit that deleted your row holding ``token``: if the process dies in
    between, a file nobody points at is left (harmless), never a row whose file is missing.
    Raises ``ValueError`` for something that is not a stored file's token, as ``stored_file``.
    """
    try:
        stored_file(token).unlink()
    except FileNotFoundError:
        return False
    return True


def page_data(plugin: str) -> Any:
    """Your ``helpdesk_page_data`` result for the page being rendered (loaded once per request).

    The first call runs your hook implementation with every ticket id of the page (the queue's
    page, or the one ticket); later calls in the same request return the same object.
    ``None`` outside a page that announced its tickets, or if your hook returned ``None``:
    then read the one ticket's data yourself.
    """
    return manager().page_data(plugin)


def page_rows(plugin: str, name: str, ticket_id: int | None = None) -> list[Any] | None:
    """The rows of the query ``name`` your ``helpdesk_page_queries`` declared for this page.

    Every plugin's page queries (and the core's) run as one statement, the first time any is
    asked for; the rows are instances of the query's class, in the session. ``None`` outside a
    page (or when ``ticket_id`` is given and is not one of the page's tickets), for an
    undeclared name, or when the query failed: read the one ticket's data yourself.
    """
    return manager().page_rows(plugin, name, ticket_id)


__all__ = [
    "admin_required", "apply_route_decision", "audit", "AuditEvent", "bar_chart", "batched_mail", "Channel",
    "choose_agent", "column_chart", "ContactIdentity", "crontab", "csrf", "current_user", "customer_address",
    "db_session", "decrypt_secret", "deliver_mail", "encrypt_secret", "external_url", "find_customer", "get_by_id",
    "get_setting", "human_size", "is_enabled", "limiter", "MAX_BODY", "MAX_ID", "MAX_PAGE", "Message", "Model",
    "NewAttachment", "normalise_email", "parse_id", "parse_int", "parse_page", "parse_reference", "periodic_task",
    "PermissionDenied", "PRIORITIES", "queue_mail", "Route", "safe_filename", "ServiceError", "services", "Setting",
    "SETTING_TYPES", "site_setting", "site_timezone", "SlaPolicy", "SlaTarget", "staff_required", "Tag", "tags_named",
    "task", "Team", "team_members", "throttle", "Ticket", "User", "utcnow", "visible_tickets",
    # Team-scoped agents and light agents (scoping and pages), the admin audit log
    "backoffice_required", "can_see_ticket", "record_config_change", "scoped_to_tickets", "sees_every_ticket",
]


# Names kept for a while after they were replaced: using one warns (DeprecationWarning) and
# says what to use instead. old name -> (get the value, advice, plugin API version that removes it)
DEPRECATED: dict[str, tuple[Any, str, str]] = {
    # The Flask-SQLAlchemy extension: its session could write core rows past the services.
    "db": (lambda: _db, "use Model for your tables and db_session() for queries", "2.0"),
}
__getattr__ = deprecated_names(__name__, DEPRECATED)

__all__ += ["API_VERSION", "STATUSES", "csv_cell", "csv_lines"]
__all__ += ["format_local", "local_day_start", "local_to_utc", "mail_time", "user_zone"]
__all__ += ["ReplyWarning"]
__all__ += ["NotificationKind", "notify_agents"]
# The core reports (the helpdesk_report_sections hook), the charts' tables and heatmap
__all__ += ["ReportFilters", "data_table", "heatmap_chart"]
__all__ += ["reply_mail_html"]  # the HTML part of the mail for an agent's reply (Markdown composer)
# Plugin API 1.2: the live channel (publish after commit, subscribe for a stream of one's own),
# for channels that answer customers live (the chat widget's stream)
__all__ += ["live"]
__all__ += ["ApiBlueprint", "ApiError", "api_user", "send_webhook"]  # REST API endpoints, webhooks
__all__ += ["TimelineEntry"]  # the customer timeline (the helpdesk_customer_timeline hook)
# Knowing the customer: placeholders for notices, the customer's language (Flask-Babel)
__all__ += ["customer_placeholders", "render_notice", "customer_language", "customer_locale", "gettext",
            "lazy_gettext", "ngettext", "local_date", "local_number"]
# Plugin API 1.4: labels people read are Text, a str or a lazy string (lazy_gettext), read in the
# reader's language
__all__ += ["Text"]
# Sentences stored once (a plugin's alerts, summaries) and read in each reader's language
__all__ += ["english_text", "joined", "stored_text", "words_of", "words_text"]
__all__ += ["N_", "PRIORITY_NAMES"]  # priority key → lazy name, for such sentences ("priority high → urgent")
# Markdown written by staff outside replies (articles, notes of a plugin): safe HTML, and its text
__all__ += ["render_markdown", "html_to_text"]
# Plugin API 1.2: slot data once per page (helpdesk_page_data), navigation counts in one statement
__all__ += ["active_agents", "nav_count", "page_data"]
# Plugin API 1.3: answer bots reach a knowledge base through hooks (helpdesk_suggest_answers)
__all__ += ["answer_accepted", "suggest_answers"]
__all__ += ["store_file", "stored_file"]  # files of a plugin's own (article images) in the core's storage
__all__ += ["delete_stored_file"]  # Plugin API 1.4: and removing them (an article image deleted)
# Plugin API 1.3: several plugins' page reads in one statement (helpdesk_page_queries, issue 19)
__all__ += ["page_rows"]
# Plugin API 1.4: one text per language for a plugin's own texts (kind "<plugin>.<what>"), with the
# core's "Other languages" form block (templates/_language_texts.html)
__all__ += ["language_texts", "texts_from_form", "save_translations", "delete_translations", "text_for"]
