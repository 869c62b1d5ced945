"""One process of the concurrent-edit tests: waits for ``$HELPDESK_TEST_GATE/go`` (so all
processes start together), then works through the given tickets with the real services.

Each says it is ready with ``ready-<pid>``.

    python edit_main.py status <user id> <status> <ticket ids, comma separated>
    python edit_main.py note|reply <user id> <how many each> <ticket ids>

Prints how many changes were refused (a closed ticket cannot become pending).
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from helpdesk import create_app, services
from helpdesk.extensions import db
from helpdesk.models import Ticket, User


def main() -> None:
    action, user_id, value, ids = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    ticket_ids = [int(i) for i in ids.split(",")]
    app = create_app()
    go = Path(os.environ["HELPDESK_TEST_GATE"]) / "go"
    with app.app_context():
        user = db.session.get(User, user_id)
        (go.parent / f"ready-{os.getpid()}").touch()
        while not go.exists():
            time.sleep(0.01)
        refused = 0
        rounds = 1 if action == "status" else int(value)
        for n in range(rounds):
            for ticket_id in ticket_ids:
                ticket = db.session.get(Ticket, ticket_id)  # read, as a page would, before the write
                _seen = ticket.status
                time.sleep(0.03)  # the request's own work between its read and its write
                try:
                    if action == "status":
                        services.update_ticket(ticket, user, status=value)
                    else:
                        services.add_message(ticket, user, f"{action} {n} from process {os.getpid()}",
                                             internal=action == "note")
                except services.ServiceError:
                    refused += 1
                db.session.expire_all()
        print(f"refused {refused}")


if __name__ == "__main__":
    main()
