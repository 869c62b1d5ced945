"""Jobs and rate limits on Redis (the 'at scale' setup), against a real Redis server."""
import os

import pytest

from helpdesk.jobs import huey
from helpdesk.models import OutboxMail

REDIS_URL = os.environ.get("HELPDESK_TEST_REDIS_URL")
pytestmark = pytest.mark.skipif(not REDIS_URL, reason="HELPDESK_TEST_REDIS_URL is not set: Redis tests skipped")


@pytest.fixture
def app_config():
    return {"REDIS_URL": REDIS_URL, "JOBS_IMMEDIATE": False}


def test_jobs_queue_in_redis_and_a_worker_delivers_them(app, db):
    from huey.storage import RedisStorage

    from helpdesk.services.mail import queue_mail

    assert isinstance(huey.storage, RedisStorage)
    huey.flush()
    mail = queue_mail("someone@example.com", "Hello", "Body")
    assert db.session.get(OutboxMail, mail.id).status == "queued"  # enqueued, not run
    assert huey.pending_count() == 1
    huey.execute(huey.dequeue())  # what a worker does
    db.session.expire_all()
    assert db.session.get(OutboxMail, mail.id).status == "kept"  # no SMTP configured: kept in the outbox
    huey.flush()


def test_login_rate_limit_is_shared_through_redis(app, client):
    from helpdesk.extensions import limiter

    limiter.reset()
    codes = [client.post("/login", data={"email": "nobody@example.com", "password": "wrong-password"}).status_code
             for _ in range(11)]
    assert codes[:10] == [401] * 10 and codes[10] == 429
    assert "redis" in type(limiter.storage).__name__.lower()
    limiter.reset()
