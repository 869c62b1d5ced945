"""The REST API's access matrix with API tokens: every /api/v1 route × every kind of caller.

The rules are the access matrix's (tests/test_access_matrix.py, checked there with browser
sessions): a token must open exactly what its owner's session opens, no more.
"""
from __future__ import annotations

import pytest
from test_access_matrix import ROLES, _allowed, _url, expectations, world  # noqa: F401  (world: a fixture)

from helpdesk.services import api_tokens


@pytest.mark.parametrize("role", ROLES)
def test_api_access_matrix_with_tokens(app, world, role):  # noqa: F811 - the fixture imported above
    expected = expectations(app)
    headers = {}
    if role != "anonymous":
        user = world["users"][role]
        token = api_tokens.create_token(user, "matrix", "admin" if user.is_admin else "write", 7)[1]
        headers = {"Authorization": f"Bearer {token}"}
    client = app.test_client()
    failures, checked = [], 0
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or expected.skip_reason(rule.endpoint, role):
            continue
        url = _url(rule, world["values"])
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(url, method=method, headers=headers,
                                   json={} if method in ("POST", "PATCH") else None)
            checked += 1
            assert response.status_code != 500, (method, url, response.text)
            if response.status_code >= 400:
                assert set(response.json["error"]) == {"code", "message", "fields"}, (method, url)
            should = role in expected.rules[rule.endpoint]
            if _allowed(response) != should:
                failures.append(f"{method} {url} ({rule.endpoint}): {response.status_code}, "
                                f"expected {'allowed' if should else 'refused'}")
    assert checked >= 20
    assert not failures, "\n".join(failures)


def test_customer_b_token_cannot_reach_customer_a(app, world):  # noqa: F811
    token = api_tokens.create_token(world["users"]["customer_b"], "b", "write", 7)[1]
    headers = {"Authorization": f"Bearer {token}"}
    client = app.test_client()
    ref, attachment = world["values"]["reference"], world["values"]["token"]
    for url in (f"/api/v1/tickets/{ref}", f"/api/v1/tickets/{ref}/messages", f"/api/v1/attachments/{attachment}"):
        answer = client.get(url, headers=headers)
        assert answer.status_code == 404 and answer.json["error"]["code"] == "not_found", url
    listing = client.get("/api/v1/tickets?status=all", headers=headers).json
    assert listing["items"] == []
