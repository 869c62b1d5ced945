"""Where state that every web process must agree on lives: the database by default, Redis
when ``REDIS_URL`` is configured (sign-in sessions, throttling counters)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from flask import current_app

if TYPE_CHECKING:
    from redis import Redis

KEY_PREFIX = "helpdesk:"


def redis_client() -> Redis | None:
    """The app's Redis connection pool, or None when the database is the store."""
    url = current_app.config.get("REDIS_URL")
    if not url:
        return None
    client = current_app.extensions.get("helpdesk_redis")
    if client is None:
        from redis import Redis

        client = current_app.extensions["helpdesk_redis"] = Redis.from_url(url, decode_responses=True)
    return client
