"""Work that must wait for the surrounding transaction's commit (issue 19).

An event hook that runs inside the service's transaction (``helpdesk_ticket_created``, see
``PluginManager.call_event_in_transaction``) may enqueue a job or publish a live event. Sent
at once, a worker could run the job before the rows it reads are committed, a listening
browser could reload before the ticket exists, and (on SQLite) a second connection writing
the live event would wait on the lock this very transaction holds. Inside ``deferring()``
those calls are kept and run once the transaction has committed; dropped if it rolls back.

A leaf module: imported by the job and live layers, it imports nothing of Helpdesk.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

log = logging.getLogger(__name__)

_pending: ContextVar[list[Callable[[], Any]] | None] = ContextVar("helpdesk_after_commit", default=None)


def defer(action: Callable[..., Any], *args: Any, **kwargs: Any) -> bool:
    """Keep ``action(*args, **kwargs)`` for after the commit when inside ``deferring()``.

    Returns False outside one: the caller then does the work now, as before.
    """
    pending = _pending.get()
    if pending is None:
        return False
    pending.append(lambda: action(*args, **kwargs))
    return True


@contextmanager
def deferring() -> Iterator[list[Callable[[], Any]]]:
    """Collect deferred work; the caller runs ``run(pending)`` after its commit (or drops it)."""
    pending: list[Callable[[], Any]] = []
    token = _pending.set(pending)
    try:
        yield pending
    finally:
        _pending.reset(token)


def run(pending: list[Callable[[], Any]]) -> None:
    """Do the deferred work in order; one that fails is logged and the rest still run (the
    rows are committed: a lost job is picked up by its sweeper, a lost live event by a reload)."""
    for action in pending:
        try:
            action()
        except Exception:  # noqa: BLE001 - see the docstring
            log.exception("work deferred to after the commit failed")
