"""A worker process for the reliability tests: the real consumer and sweeper
(``helpdesk.cli.run_worker``, what ``helpdesk worker`` runs) plus a test channel ``gate``.

The ``gate`` channel hands a reply over like the mail channels do (a mail in the outbox),
then, while the file ``hold`` exists in ``$HELPDESK_TEST_GATE``, waits inside the hand-off
after writing ``in-handoff-<message id>``: the test kills the process right there. Its
notices (announcements) wait the same way while ``hold-notify`` exists.

    python worker_main.py [threads]
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from helpdesk import create_app
from helpdesk.cli import run_worker
from helpdesk.plugin_api import Channel, queue_mail
from helpdesk.testing import make_plugin


class GateChannel(Channel):
    def __init__(self) -> None:
        super().__init__(name="gate", label="Gate (tests)")

    def deliver(self, ticket, message) -> None:  # noqa: ANN001 - the Channel interface
        gate = Path(os.environ["HELPDESK_TEST_GATE"])
        queue_mail(ticket.customer.email, f"[{ticket.reference}] Re: {ticket.subject}", message.body,
                   ticket_id=ticket.id)
        (gate / f"in-handoff-{message.id}").touch()
        while (gate / "hold").exists():
            time.sleep(0.05)

    def notify(self, customer, subject, text, *, ticket=None, html=None, headers=None) -> bool:  # noqa: ANN001
        """A notice (an announcement) by mail; while ``hold-notify`` exists it waits after
        writing ``in-notify-<customer id>``, its mail queued but not committed."""
        gate = Path(os.environ["HELPDESK_TEST_GATE"])
        queue_mail(customer.email, subject, text, headers=headers)
        (gate / f"in-notify-{customer.id}").touch()
        while (gate / "hold-notify").exists():
            time.sleep(0.05)
        return True


def main() -> None:
    app = create_app()
    app.extensions["helpdesk_plugins"].register(
        make_plugin("gate", helpdesk_channels=lambda: [GateChannel()]), "gate")
    with app.app_context():
        run_worker(app, int(sys.argv[1]) if len(sys.argv) > 1 else 2)


if __name__ == "__main__":
    main()
