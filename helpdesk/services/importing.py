"""Importing history: inside ``importing()`` nothing is written to anyone.

Its own module because both the ticket services (no reply delivery) and the notices (no
notice) ask ``is_importing()``, and the notices need the ticket services' audit trail.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_importing: ContextVar[bool] = ContextVar("helpdesk_importing", default=False)


@contextmanager
def importing() -> Iterator[None]:
    """Write history without writing to anyone: inside, no notice is sent and agents' replies
    are not delivered (an mbox import, a migration from another helpdesk).

        with services.importing():
            for raw in mailbox:
                ingest(raw)

    Plugins need do nothing: ``notify_customer`` answers False and delivery is skipped.
    """
    token = _importing.set(True)
    try:
        yield
    finally:
        _importing.reset(token)


def is_importing() -> bool:
    return _importing.get()
