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


@pytest.fixture
def redis_db(app):
    """This app's Redis database, emptied before and after the test."""
    from helpdesk.shared_store import redis_client

    client = redis_client()
    client.flushdb()
    yield client
    client.flushdb()


def test_login_throttle_counts_in_redis(app, db, client, redis_db):
    from helpdesk.extensions import limiter
    from helpdesk.models import ThrottleCounter

    codes = [client.post("/login", data={"email": "nobody@example.com", "password": "wrong-password"}).status_code
             for _ in range(11)]
    assert codes[:10] == [401] * 10 and codes[10] == 429
    assert db.session.query(ThrottleCounter).count() == 0  # counted in Redis, not in the database
    assert len(redis_db.keys("helpdesk:throttle:login-account:*")) == 1
    assert "redis" in type(limiter.storage).__name__.lower()  # webhooks' Flask-Limiter shares Redis too


def test_throttling_through_redis_is_shared_by_two_app_processes(app, db, make_user, redis_db):
    from test_accounts import PASSWORD, new_client, run_two_workers, sign_in

    make_user("customer", email="shared@example.test", password=PASSWORD)
    first, second = run_two_workers(app, 10)
    assert (first + second).count(401) == 10 and (first + second).count(429) == 10
    assert sign_in(new_client(app), "shared@example.test").status_code == 429


def test_sessions_live_in_redis_and_logout_ends_them(app, db, make_user, redis_db):
    from test_accounts import PASSWORD, lands_on_login, new_client, sign_in

    from helpdesk.models import UserSession

    make_user("agent", email="redis@example.test", password=PASSWORD)
    laptop, phone = new_client(app), new_client(app)
    assert sign_in(laptop, "redis@example.test", remember="y").status_code == 302
    assert sign_in(phone, "redis@example.test").status_code == 302
    assert db.session.query(UserSession).count() == 0
    assert len(redis_db.keys("helpdesk:session:*")) == 2
    profile = phone.get("/profile/", environ_overrides={"REMOTE_ADDR": "192.0.2.77"})  # moved: touched in Redis
    assert profile.text.count('class="session-address">192.0.2.77<') == 1
    assert len(profile.text.split('class="list-group-item')) - 1 == 2

    copied = laptop.get_cookie("remember_token").value
    assert laptop.post("/logout").status_code == 302
    thief = new_client(app)
    thief.set_cookie("remember_token", copied)
    assert lands_on_login(thief.get("/queue"))
    assert phone.get("/queue").status_code == 200
    assert phone.post("/profile/sessions/end-others").status_code == 302
    assert len(redis_db.keys("helpdesk:session:*")) == 1
