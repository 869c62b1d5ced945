"""Presence expires by itself (issue 16): a tab that dies without saying goodbye (a crash, a
lost network, a laptop lid) is no longer shown after ``LIVE_PRESENCE_SECONDS``, on the
database fallback and on Redis. The goodbye of a closed tab is in the browser test
(tests/browser/test_live_flow.py)."""
from __future__ import annotations

import os
from datetime import timedelta

import pytest

from helpdesk import live
from helpdesk.models.base import utcnow

REDIS_URL = os.environ.get("HELPDESK_TEST_REDIS_URL")


@pytest.fixture(params=["database", "redis"])
def backend(request):
    if request.param == "redis" and not REDIS_URL:
        pytest.skip("HELPDESK_TEST_REDIS_URL is not set: presence in Redis is not tested")
    return request.param


@pytest.fixture
def app_config(backend):
    config = {"LIVE_PRESENCE_SECONDS": 6}
    if backend == "redis":
        config["REDIS_URL"] = REDIS_URL
    return config


@pytest.fixture
def later(monkeypatch):
    """Stop the live channel's clock at the test's start; ``later(s)`` moves it to s seconds
    after that start (no sleeping). The clock stands still meanwhile, so a slow machine
    (a sign-in and a request between two steps) cannot add seconds of its own."""
    start = utcnow()
    monkeypatch.setattr(live, "utcnow", lambda: start)

    def move(seconds: float) -> None:
        moved = start + timedelta(seconds=seconds)
        monkeypatch.setattr(live, "utcnow", lambda: moved)
    return move


def test_a_tab_that_stops_its_heartbeat_disappears_within_the_presence_time(
        app, db, client, login, agent, admin, ticket, later, backend, request):
    from helpdesk.shared_store import redis_client

    if backend == "redis":  # the Redis database outlives each test: start and end without entries
        redis_client().delete(live._presence_key(ticket.id))
        request.addfinalizer(lambda: redis_client().delete(live._presence_key(ticket.id)))
    assert live.set_presence(ticket.id, admin.id, "typing") is True
    login(client, agent)
    url = f"/live/tickets/{ticket.reference}/presence"
    assert [p["name"] for p in client.post(url, data={"state": "viewing"}).json["present"]] == ["Ada Admin"]

    later(5)  # Ada's tab died 5 s ago: still within LIVE_PRESENCE_SECONDS
    assert live.presence(ticket.id) == {admin.id: "typing", agent.id: "viewing"}
    later(12)  # no heartbeat for longer than LIVE_PRESENCE_SECONDS: gone, on the next heartbeat's answer
    assert live.presence(ticket.id) == {}
    assert client.post(url, data={"state": "viewing"}).json == {"present": []}
    # Coming back (a heartbeat) is news again: the others' pages are told at once.
    assert live.set_presence(ticket.id, admin.id, "viewing") is True
