"""One app process for the cross-process throttling tests: ``python throttle_worker.py CONFIG_JSON N [MODE]``.

Builds its own app (its own memory, like a gunicorn worker) on the shared database or
Redis and prints what happened as JSON. MODE ``login`` (default) posts N wrong passwords
for one account (status codes); ``limiter`` hits a Flask-Limiter limit of "5 per hour" N
times through the app's configured storage (True: allowed)."""
from __future__ import annotations

import json
import sys


def main() -> None:
    from helpdesk import create_app

    config, attempts = json.loads(sys.argv[1]), int(sys.argv[2])
    mode = sys.argv[3] if len(sys.argv) > 3 else "login"
    app = create_app({**config, "WTF_CSRF_ENABLED": False})
    if mode == "limiter":
        from limits import parse
        from limits.strategies import FixedWindowRateLimiter

        from helpdesk.extensions import limiter

        with app.app_context():
            window = FixedWindowRateLimiter(limiter.storage)
            print(json.dumps([window.hit(parse("5 per hour"), "worker-probe") for _ in range(attempts)]))
        return
    client = app.test_client()
    codes = []
    for i in range(attempts):
        response = client.post("/login", data={"email": config["TARGET"], "password": f"guess {i}"},
                               environ_overrides={"REMOTE_ADDR": f"203.0.113.{i % 200 + 1}"})
        codes.append(response.status_code)
    print(json.dumps(codes))


if __name__ == "__main__":
    main()
