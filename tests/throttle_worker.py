"""One app process for the cross-process throttling test: ``python throttle_worker.py CONFIG_JSON N``.

Builds its own app (its own memory, like a gunicorn worker) on the shared database or
Redis, posts N wrong passwords for one account and prints the status codes as JSON."""
from __future__ import annotations

import json
import sys


def main() -> None:
    from helpdesk import create_app

    config, attempts = json.loads(sys.argv[1]), int(sys.argv[2])
    app = create_app({**config, "WTF_CSRF_ENABLED": False})
    client = app.test_client()
    codes = []
    for i in range(attempts):
        response = client.post("/login", data={"email": config["TARGET"], "password": f"guess {i}"},
                               environ_overrides={"REMOTE_ADDR": f"203.0.113.{i % 200 + 1}"})
        codes.append(response.status_code)
    print(json.dumps(codes))


if __name__ == "__main__":
    main()
