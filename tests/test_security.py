"""Attacks on the web layer: each test performs one, then checks what the user sees and that nothing changed.

Headers and cookies, CSRF, sign-in throttling and enumeration, magic links, open redirects,
XSS and template injection, IDOR and mass assignment, attachments, session invalidation
and the pages of a disabled plugin.
"""
from __future__ import annotations

import hashlib
import io
import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import Blueprint
from sqlalchemy import func, select, update

from helpdesk import services
from helpdesk.models import (
    Attachment,
    CannedReply,
    LoginToken,
    Message,
    OutboxMail,
    PluginState,
    Ticket,
    User,
)
from helpdesk.models.base import utcnow
from helpdesk.plugin_manager import manager
from helpdesk.services.tickets import NewAttachment
from helpdesk.testing import CSRFClient, make_plugin

PASSWORD = "correct horse battery"
SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
LOGIN_FAILED = "Wrong email or password."
MAGIC_SENT = "If we know this address, a sign-in link is on its way."


# ------------------------------------------------------------------ helpers


def count(db, model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def fresh(db, obj):
    db.session.refresh(obj)
    return obj


def new_client(app) -> CSRFClient:
    app.test_client_class = CSRFClient
    return app.test_client()


def page_token(response) -> str:
    """The CSRF token a browser would find in the page (the ``csrf-token`` meta tag)."""
    match = re.search(r'<meta name="csrf-token" content="([^"]+)"', response.text)
    assert match, "no CSRF token in the page"
    return match.group(1)


def sign_in(client, email: str, password: str = PASSWORD, **extra):
    """A real sign-in through the form, as a browser does it."""
    return client.post("/login", data={"email": email, "password": password, **extra})


def signed_in(client) -> bool:
    """True if the client's cookies still open a signed-in page."""
    response = client.get("/")
    return response.status_code == 302 and "/login" not in response.headers["Location"]


def cookie_header(response, name: str) -> str:
    for value in response.headers.getlist("Set-Cookie"):
        if value.startswith(f"{name}="):
            return value
    raise AssertionError(f"no {name} cookie set; got {response.headers.getlist('Set-Cookie')}")


def cookie_flags(header: str) -> set[str]:
    return {part.strip().lower() for part in header.split(";")[1:]}


def browser_target(location: str, base: str = "http://helpdesk.test/login") -> str:
    """The host a browser would go to for this Location (WHATWG: tabs/newlines dropped, \\ is /)."""
    cleaned = re.sub(r"[\t\n\r]", "", location).strip("\x00 ").replace("\\", "/")
    parts = urlsplit(cleaned)
    if parts.scheme or cleaned.startswith("//"):
        return parts.netloc or cleaned
    return urlsplit(base).netloc


def mailed_link(db, address: str) -> str:
    mails = db.session.scalars(select(OutboxMail).where(OutboxMail.to_addr == address)).all()
    assert len(mails) == 1, f"expected one mail to {address}, got {len(mails)}"
    match = re.search(r"(https?://\S+/magic/[A-Za-z0-9_\-]+)", mails[0].body_text)
    assert match, mails[0].body_text
    return match.group(1)


def assert_security_headers(response) -> None:
    headers = response.headers
    csp = headers.get("Content-Security-Policy", "")
    directives = {d.strip().split(" ")[0]: d.strip() for d in csp.split(";") if d.strip()}
    assert directives.get("frame-ancestors") == "frame-ancestors 'none'", csp
    script_src = directives.get("script-src") or directives.get("default-src", "")
    assert script_src and "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src, csp
    assert "*" not in script_src.split(), csp
    assert directives.get("object-src") == "object-src 'none'", csp
    assert headers.get("X-Content-Type-Options") == "nosniff"
    assert headers.get("Referrer-Policy") in {"same-origin", "no-referrer", "strict-origin-when-cross-origin",
                                              "strict-origin"}
    assert headers.get("X-Frame-Options") == "DENY"


# ---------------------------------------------------------- headers, cookies


def test_security_headers_on_every_kind_of_response(app, db, client, login, agent, customer, ticket):
    def boom():
        raise RuntimeError("deliberate failure")

    app.add_url_rule("/boom-for-security-test", "boom_for_security_test", boom)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    reply = CannedReply(title="Hi", body="Hi {{ customer.first_name }}")
    with_file = services.create_ticket(customer, "File", "see file",
                                       attachments=[NewAttachment("a.txt", b"hello", "text/plain")])
    db.session.add(reply)
    db.session.commit()
    token = with_file.messages[0].attachments[0].token

    anonymous = new_client(app)
    responses = {
        "home page": anonymous.get("/"),
        "sign-in page": anonymous.get("/login"),
        "redirect to sign-in": anonymous.get("/portal/"),
        "not found": anonymous.get("/no-such-page"),
        "method not allowed": anonymous.get("/logout"),
        "CSRF failure": anonymous.post("/login", data={"email": "a@example.test", "password": "x"}, csrf=False),
        "invalid magic link": anonymous.get("/magic/not-a-real-token"),
        "static file": anonymous.get("/static/app.css"),
        "bootstrap asset": anonymous.get("/bootstrap/static/css/bootstrap.min.css"),
        "server error": anonymous.get("/boom-for-security-test"),
    }
    login(client, agent)
    responses.update({
        "agent queue": client.get("/queue"),
        "agent ticket": client.get(f"/tickets/{ticket.reference}"),
        "JSON": client.post(f"/tickets/{ticket.reference}/canned/{reply.id}"),
        "attachment": client.get(f"/attachments/{token}"),
        "redirect after form": client.post(f"/tickets/{ticket.reference}/fields",
                                           data={"status": "open", "priority": "high", "assignee_id": "",
                                                 "team_id": "", "tags": ""}),
    })
    for _ in range(10):
        anonymous.post("/login", data={"email": "a@example.test", "password": "wrong"})
    responses["rate limited"] = anonymous.post("/login", data={"email": "a@example.test", "password": "wrong"})

    expected = {"home page": 200, "sign-in page": 200, "redirect to sign-in": 302, "not found": 404,
                "method not allowed": 405, "CSRF failure": 400, "invalid magic link": 400, "static file": 200,
                "bootstrap asset": 200, "server error": 500, "agent queue": 200, "agent ticket": 200,
                "JSON": 200, "attachment": 200, "redirect after form": 302, "rate limited": 429}
    for kind, response in responses.items():
        assert response.status_code == expected[kind], kind
        try:
            assert_security_headers(response)
        except AssertionError as exc:
            raise AssertionError(f"{kind}: {exc}") from exc
    assert "Something went wrong" in responses["server error"].text
    assert "deliberate failure" not in responses["server error"].text


def test_signed_in_pages_are_not_cached(app, db, client, login, agent, admin, customer, ticket):
    item = services.add_message(ticket, customer, "file", attachments=[NewAttachment("a.pdf", b"%PDF", "x/y")])
    token = item.attachments[0].token
    login(client, agent)
    for url in ("/queue", f"/tickets/{ticket.reference}", "/customers", f"/attachments/{token}"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "no-store" in response.headers.get("Cache-Control", ""), url
    login(client, admin)
    for url in ("/admin/", "/admin/users", "/admin/outbox"):
        assert "no-store" in client.get(url).headers.get("Cache-Control", ""), url
    login(client, customer)
    for url in ("/portal/", f"/portal/tickets/{ticket.reference}", f"/attachments/{token}"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "no-store" in response.headers.get("Cache-Control", ""), url


def test_session_cookie_is_httponly_and_lax_but_not_secure_on_http(app, db, make_user):
    make_user("customer", email="cookie@example.test", password=PASSWORD)
    client = new_client(app)
    page = client.get("/login")
    flags = cookie_flags(cookie_header(page, "session"))
    assert {"httponly", "samesite=lax"} <= flags and "secure" not in flags

    response = sign_in(client, "cookie@example.test", remember="y")
    assert response.status_code == 302
    for name in ("session", "remember_token"):
        flags = cookie_flags(cookie_header(response, name))
        assert {"httponly", "samesite=lax"} <= flags, name


@pytest.mark.parametrize("app_config", [{"EXTERNAL_URL": "https://helpdesk.test"}])
def test_cookies_are_secure_when_the_helpdesk_is_served_over_https(app, db, make_user):
    assert app.config["SESSION_COOKIE_SECURE"] is True
    make_user("customer", email="cookie@example.test", password=PASSWORD)
    client = new_client(app)
    page = client.get("/login", base_url="https://helpdesk.test")
    assert {"httponly", "samesite=lax", "secure"} <= cookie_flags(cookie_header(page, "session"))

    response = client.post("/login", base_url="https://helpdesk.test", csrf=False,
                           headers={"Referer": "https://helpdesk.test/login"},
                           data={"email": "cookie@example.test", "password": PASSWORD, "remember": "y",
                                 "csrf_token": page_token(page)})
    assert response.status_code == 302, response.text
    for name in ("session", "remember_token"):
        assert {"httponly", "samesite=lax", "secure"} <= cookie_flags(cookie_header(response, name)), name


@pytest.mark.parametrize("app_config", [{"TRUSTED_HOSTS": ["helpdesk.test"]}])
def test_trusted_hosts_refuse_a_forged_host_header(app, db):
    client = new_client(app)
    forged = client.get("/login", headers={"Host": "evil.example"})
    assert forged.status_code == 400
    assert_security_headers(forged)
    assert client.get("/login", base_url="http://helpdesk.test").status_code == 200


# ----------------------------------------------------------------------- CSRF


def _tampered_posts(client):
    """The same form posted with no token, a garbage token and another visitor's valid token."""
    other = client.application.test_client()
    other_token = page_token(other.get("/login"))

    def post(url, data):
        client.csrf_token()  # the victim's session holds a token, as when a page with a form was opened
        return [client.post(url, data=data, csrf=False),
                client.post(url, data={**data, "csrf_token": "forged"}, csrf=False),
                client.post(url, data={**data, "csrf_token": other_token}, csrf=False)]

    return post


def _assert_refused_as_csrf(responses) -> None:
    for response in responses:
        assert response.status_code == 400
        assert 'id="error-page"' in response.text and "Bad request" in response.text
        assert "reload the page and try again" in response.text
        assert "CSRF" in response.text  # the reason, for the person who sees it
    assert "missing" in responses[0].text
    assert "invalid" in responses[1].text
    assert "do not match" in responses[2].text


def test_csrf_on_sign_in(app, db, make_user):
    user = make_user("customer", email="victim@example.test", password=PASSWORD)
    client = new_client(app)
    client.get("/login")
    responses = _tampered_posts(client)("/login", {"email": "victim@example.test", "password": PASSWORD})
    _assert_refused_as_csrf(responses)
    assert not signed_in(client)
    assert fresh(db, user).last_login_at is None


def test_csrf_on_new_ticket(app, db, client, login, customer):
    login(client, customer)
    client.get("/portal/new")
    responses = _tampered_posts(client)("/portal/new", {"subject": "Forged", "body": "Forged body"})
    _assert_refused_as_csrf(responses)
    assert count(db, Ticket) == 0 and count(db, Message) == 0


def test_csrf_on_agent_reply(app, db, client, login, agent, ticket):
    login(client, agent)
    before = count(db, Message)
    responses = _tampered_posts(client)(f"/tickets/{ticket.reference}", {
        "body": f"Hi Carla, forged {ticket.reference}", "send_anyway": "y", "status_after": "resolved"})
    _assert_refused_as_csrf(responses)
    assert count(db, Message) == before
    assert count(db, OutboxMail) == 0
    assert fresh(db, ticket).status == "new"


def test_csrf_on_admin_plugin_toggle(app, db, client, login, admin):
    manager(app).register(make_plugin("toy"), "toy")
    manager(app).set_enabled("toy", True)
    login(client, admin)
    responses = _tampered_posts(client)("/admin/plugins/toy/toggle", {})
    _assert_refused_as_csrf(responses)
    assert db.session.scalar(select(PluginState.enabled).where(PluginState.name == "toy")) is True
    # And the honest form still works.
    assert client.post("/admin/plugins/toy/toggle").status_code == 302
    assert db.session.scalar(select(PluginState.enabled).where(PluginState.name == "toy")) is False


def test_csrf_on_sign_out_and_admin_user_edit(app, db, client, login, admin, agent):
    login(client, admin)
    responses = _tampered_posts(client)(f"/admin/users/{agent.id}", {
        "name": agent.name, "email": agent.email, "role": "admin", "active": "y"})
    _assert_refused_as_csrf(responses)
    assert fresh(db, agent).role == "agent"
    assert client.post("/logout", csrf=False).status_code == 400
    assert signed_in(client)


# --------------------------------------------------------- sign-in throttling


def test_login_is_rate_limited_per_account(app, db, make_user):
    """More in tests/test_accounts.py: per address, growing lockouts, two processes."""
    assert app.config["LOGIN_FAILURES_PER_ACCOUNT"] == 10
    user = make_user("customer", email="target@example.test", password=PASSWORD)
    attacker = new_client(app)
    for _ in range(10):
        response = sign_in(attacker, "target@example.test", "guess")
        assert response.status_code == 401
    limited = sign_in(attacker, "target@example.test", "guess")
    assert limited.status_code == 429
    assert "Slow down" in limited.text and "Try again in 1 minute" in limited.text
    assert 'id="error-page"' in limited.text

    # The right password does not get through while the account is locked, from anywhere.
    for address in ("127.0.0.1", "198.51.100.7"):
        refused = attacker.post("/login", data={"email": "target@example.test", "password": PASSWORD},
                                environ_overrides={"REMOTE_ADDR": address})
        assert refused.status_code == 429
    assert not signed_in(attacker)
    assert fresh(db, user).last_login_at is None
    assert attacker.get("/login").status_code == 200  # the page itself still opens


def test_magic_link_requests_are_rate_limited(app, db, customer):
    client = new_client(app)
    for _ in range(3):
        assert client.post("/magic", data={"email": customer.email}).status_code == 302
    assert client.post("/magic", data={"email": customer.email}).status_code == 429
    assert count(db, OutboxMail) == 3


# ------------------------------------------------------------- enumeration


def _scrub(html: str) -> str:
    """The page without its per-session values (CSRF tokens, echoed form values)."""
    return re.sub(r'\b(content|value)="[^"]*"', r'\1=""', html)


def test_wrong_password_and_unknown_email_look_the_same(app, db, make_user, monkeypatch):
    make_user("customer", email="known@example.test", password=PASSWORD)
    make_user("customer", email="nopassword@example.test")
    make_user("customer", email="disabled@example.test", password=PASSWORD, active=False)

    import hashlib as hashlib_module

    calls = {"n": 0}
    for name in ("scrypt", "pbkdf2_hmac"):
        original = getattr(hashlib_module, name)

        def counting(*args, _original=original, **kwargs):
            calls["n"] += 1
            return _original(*args, **kwargs)

        monkeypatch.setattr(hashlib_module, name, counting)

    seen = {}
    for email, password in [("known@example.test", "wrong"), ("unknown@example.test", "wrong"),
                            ("nopassword@example.test", "wrong"), ("disabled@example.test", PASSWORD)]:
        client = new_client(app)
        calls["n"] = 0
        response = sign_in(client, email, password)
        seen[email] = (response.status_code, _scrub(response.text.replace(email, "EMAIL")), calls["n"])
        assert LOGIN_FAILED in response.text
        assert not signed_in(client)
    statuses = {status for status, _, _ in seen.values()}
    pages = {page for _, page, _ in seen.values()}
    work = {email: n for email, (_, _, n) in seen.items()}
    assert statuses == {401}
    assert len(pages) == 1, "the sign-in answer differs between known and unknown accounts"
    # The same password-hashing work either way, so response time does not tell either.
    assert len(set(work.values())) == 1 and min(work.values()) >= 1, work


def test_magic_link_request_answers_the_same_and_mails_only_known_customers(
        app, db, customer, agent, make_user):
    make_user("customer", email="gone@example.test", active=False)
    answers = {}
    for email in (customer.email, "stranger@example.test", agent.email, "gone@example.test"):
        client = new_client(app)
        response = client.post("/magic", data={"email": email})
        assert response.status_code == 302
        page = client.get(response.headers["Location"])
        assert MAGIC_SENT in page.text
        answers[email] = (response.headers["Location"], _scrub(page.text.replace(email, "EMAIL")))
    assert len(set(answers.values())) == 1
    mails = db.session.scalars(select(OutboxMail)).all()
    assert [m.to_addr for m in mails] == [customer.email]
    assert count(db, LoginToken) == 1


# ------------------------------------------------------------------ magic links


def test_magic_link_get_changes_nothing_post_signs_in_once(app, db, customer):
    new_client(app).post("/magic", data={"email": customer.email})
    link = mailed_link(db, customer.email)
    path = urlsplit(link).path

    scanner = new_client(app)
    preview = scanner.get(path)
    assert preview.status_code == 200 and "Sign in as" in preview.text
    assert not signed_in(scanner)
    row = db.session.scalars(select(LoginToken)).one()
    assert fresh(db, row).used_at is None

    person = new_client(app)
    person.get(path)
    done = person.post(path)
    assert done.status_code == 302 and done.headers["Location"].endswith("/portal/")
    assert signed_in(person)
    assert fresh(db, row).used_at is not None

    for client in (new_client(app), scanner):
        again = client.post(path)
        assert again.status_code == 400 and "This sign-in link cannot be used" in again.text
        assert not signed_in(client)
        assert client.get(path).status_code == 400


def test_expired_and_forged_magic_links_are_invalid(app, db, customer):
    new_client(app).post("/magic", data={"email": customer.email})
    path = urlsplit(mailed_link(db, customer.email)).path
    row = db.session.scalars(select(LoginToken)).one()
    row.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()

    for url in (path, "/magic/" + "A" * 43, "/magic/x", "/magic/" + row.token_hash):
        client = new_client(app)
        for response in (client.get(url), client.post(url)):
            assert response.status_code == 400, url
            assert "This sign-in link cannot be used" in response.text
            assert "Request a new link" in response.text
        assert not signed_in(client)
    assert fresh(db, row).used_at is None


def test_magic_link_token_is_stored_hashed(app, db, customer):
    new_client(app).post("/magic", data={"email": customer.email})
    token = mailed_link(db, customer.email).rsplit("/", 1)[1]
    assert len(token) >= 32
    stored = db.session.scalars(select(LoginToken.token_hash)).all()
    assert stored == [hashlib.sha256(token.encode()).hexdigest()]
    assert token not in stored[0]
    assert count(db, LoginToken, LoginToken.token_hash == token) == 0


def test_magic_link_in_mail_ignores_a_forged_host_header(app, db, customer):
    attacker = new_client(app)
    form = attacker.get("/magic", headers={"Host": "evil.example"})
    response = attacker.post("/magic", headers={"Host": "evil.example"}, csrf=False,
                             data={"email": customer.email, "csrf_token": page_token(form)})
    assert response.status_code == 302
    link = mailed_link(db, customer.email)
    assert link.startswith("http://helpdesk.test/magic/")
    assert "evil.example" not in db.session.scalars(select(OutboxMail.body_text)).one()


def test_a_magic_link_used_concurrently_signs_in_only_once(app, db, customer, monkeypatch):
    """Two clicks race: the other request consumes the token between our check and our claim."""
    from helpdesk.web.forms import ConfirmForm

    new_client(app).post("/magic", data={"email": customer.email})
    path = urlsplit(mailed_link(db, customer.email)).path
    original = ConfirmForm.validate_on_submit

    def validate_then_lose_the_race(self):
        result = original(self)
        with db.engine.begin() as conn:  # the concurrent request, in its own transaction
            conn.execute(update(LoginToken).values(used_at=utcnow()))
        return result

    monkeypatch.setattr(ConfirmForm, "validate_on_submit", validate_then_lose_the_race)
    client = new_client(app)
    response = client.post(path)
    monkeypatch.undo()
    assert response.status_code == 400 and "This sign-in link cannot be used" in response.text
    assert not signed_in(client)


# -------------------------------------------------------------- open redirect


@pytest.mark.parametrize("target", [
    "https://evil.example", "//evil.example", "/\\evil.example", "\\\\evil.example", "/\t/evil.example",
    "/\n/evil.example", "/\r\n/evil.example", "https:evil.example", "javascript:alert(1)", " //evil.example",
])
def test_sign_in_never_redirects_off_site(app, db, make_user, target):
    make_user("customer", email="redirect@example.test", password=PASSWORD)
    client = new_client(app)
    response = client.post("/login", query_string={"next": target},
                           data={"email": "redirect@example.test", "password": PASSWORD})
    assert response.status_code == 302
    location = response.headers["Location"]
    assert browser_target(location) == "helpdesk.test", location
    assert not location.lower().startswith("javascript:")
    assert signed_in(client)


def test_sign_in_follows_a_local_next(app, db, make_user):
    make_user("customer", email="local@example.test", password=PASSWORD)
    client = new_client(app)
    response = client.post("/login", query_string={"next": "/portal/new"},
                           data={"email": "local@example.test", "password": PASSWORD})
    assert response.headers["Location"] == "/portal/new"


# ------------------------------------------------------------------------ XSS


def _assert_escaped(html: str, where: str) -> None:
    assert not re.search(r"<script>\s*alert", html), where
    assert not re.search(r"<img[^>]*onerror", html, re.IGNORECASE), where
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, where


def test_ticket_subject_body_and_names_are_escaped_everywhere(app, db, client, login, agent, make_user):
    evil = make_user("customer", name=f"Mallory {SCRIPT}", email="mallory@example.test")
    login(client, evil)
    response = client.post("/portal/new", data={"subject": f"Help {SCRIPT}", "body": f"Look {IMG}\n{SCRIPT}"})
    assert response.status_code == 302
    ticket = db.session.scalars(select(Ticket)).one()
    assert ticket.subject == f"Help {SCRIPT}"  # stored as typed, escaped when shown

    escaped_img = "&lt;img src=x onerror=alert(1)&gt;"
    _assert_escaped(client.get("/portal/").text, "portal list")
    assert escaped_img in client.get(f"/portal/tickets/{ticket.reference}").text
    login(client, agent)
    services.add_message(ticket, agent, f"Hi Mallory, reply with {IMG} {ticket.reference}")
    for url in ("/queue", f"/queue?q={SCRIPT}", f"/tickets/{ticket.reference}", "/customers",
                f"/customers/{evil.id}", "/customers?q=%3Cscript%3E"):
        _assert_escaped(client.get(url).text, url)
    assert escaped_img in client.get(f"/tickets/{ticket.reference}").text
    login(client, evil)
    page = client.get(f"/portal/tickets/{ticket.reference}").text
    _assert_escaped(page, "portal ticket")
    assert page.count(escaped_img) == 2  # the customer's message and the agent's reply


@pytest.mark.parametrize("source", [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ cycler.__init__.__globals__.os.system('touch ' ~ marker) }}",
    "{{ lipsum.__globals__['os'].popen('id').read() }}",
    "{{ customer.__class__ }}",
    "{{ '{0.__class__.__mro__}'.format(customer) }}",
    "{{ config.SECRET_KEY }}{{ request.environ }}",
    "{% for x in [].__class__.__base__.__subclasses__() %}{{ x }}{% endfor %}",
    "{{ self._TemplateReference__context }}",
])
def test_canned_reply_templates_cannot_escape_the_sandbox(app, db, client, login, admin, agent, ticket,
                                                          tmp_path, source):
    marker = tmp_path / "pwned"
    login(client, admin)
    saved = client.post("/admin/canned/new", data={"title": "Evil",
                                                   "body": source.replace("marker", repr(str(marker)))})
    reply = db.session.scalar(select(CannedReply).where(CannedReply.title == "Evil"))
    if reply is None:  # refused when saved: fine, as long as the admin is told
        assert saved.status_code == 422 and "Template error" in saved.text
        return
    login(client, agent)
    body = client.post(f"/tickets/{ticket.reference}/canned/{reply.id}").get_json()["body"]
    page = client.get(f"/tickets/{ticket.reference}/canned/{reply.id}")
    assert page.status_code == 200
    for text in (body, page.text):
        assert "test-secret" not in text and "<class" not in text and "&lt;class" not in text
        assert "uid=" not in text and "HTTP_HOST" not in text
    assert "could not be rendered" in body
    assert not marker.exists()


def test_template_syntax_in_ticket_data_is_not_evaluated(app, db, client, login, agent, make_user):
    sneaky = make_user("customer", name="{{ 7*7 }} <b>Sneaky</b>", email="sneaky@example.test")
    ticket = services.create_ticket(sneaky, "{{ config.SECRET_KEY }}", "body")
    reply = CannedReply(title="Echo", body="Hi {{ customer.name }}, about {{ ticket.subject }}")
    db.session.add(reply)
    db.session.commit()
    login(client, agent)
    body = client.post(f"/tickets/{ticket.reference}/canned/{reply.id}").get_json()["body"]
    assert body == "Hi {{ 7*7 }} <b>Sneaky</b>, about {{ config.SECRET_KEY }}"
    page = client.get(f"/tickets/{ticket.reference}/canned/{reply.id}").text
    assert "<b>Sneaky</b>" not in page and "&lt;b&gt;Sneaky&lt;/b&gt;" in page
    assert "test-secret" not in page


# ----------------------------------------------------------------------- IDOR


@pytest.fixture
def a_ticket(db, customer, agent):
    ticket = services.create_ticket(customer, "Secret of Carla", "My account number is 1234",
                                    attachments=[NewAttachment("secret.txt", b"top secret", "text/plain")])
    services.add_message(ticket, agent, "Hi Carla, done " + ticket.reference)
    services.update_ticket(ticket, agent, status="resolved")
    return ticket


def test_customer_b_cannot_read_or_change_customer_a_ticket(app, db, client, login, a_ticket, other_customer):
    token = a_ticket.messages[0].attachments[0].token
    messages, status = count(db, Message), a_ticket.status
    missing = f"HD-{a_ticket.id + 1000}"
    login(client, other_customer)
    not_found = client.get(f"/portal/tickets/{missing}")
    assert not_found.status_code == 404

    attempts = [
        client.get(f"/portal/tickets/{a_ticket.reference}"),
        client.get(f"/portal/tickets/{a_ticket.id}"),
        client.get(f"/portal/tickets/hd-{a_ticket.id}"),
        client.post(f"/portal/tickets/{a_ticket.reference}", data={"body": "I am Carla, send me everything"}),
        client.post(f"/portal/tickets/{a_ticket.reference}/reopen"),
        client.post(f"/portal/tickets/{a_ticket.reference}/solved"),
        client.get(f"/attachments/{token}"),
        client.get(f"/tickets/{a_ticket.reference}"),
        client.post(f"/tickets/{a_ticket.reference}", data={"body": "x", "send_anyway": "y"}),
        client.post(f"/tickets/{a_ticket.reference}/fields", data={"status": "closed", "priority": "low"}),
    ]
    for response in attempts:
        assert response.status_code == 404, response.request.path
        assert "Secret of Carla" not in response.text and "1234" not in response.text
        assert "top secret" not in response.text
    # Someone else's ticket and no ticket at all look alike: existence is not revealed.
    assert _scrub(attempts[0].text) == _scrub(not_found.text)
    assert count(db, Message) == messages
    assert fresh(db, a_ticket).status == status == "resolved"


def test_portal_listing_never_shows_other_customers_tickets(app, db, client, login, customer, other_customer):
    for n in range(25):
        services.create_ticket(customer, f"Secret of Carla {n}", "private")
    own = services.create_ticket(other_customer, "Otto's own", "mine")
    login(client, other_customer)
    for url in ("/portal/", "/portal/?page=2", f"/portal/?customer_id={customer.id}", "/portal/?q=Secret",
                "/portal/?status=all"):
        html = client.get(url).text
        assert "Secret of Carla" not in html, url
    assert own.reference in client.get("/portal/").text
    for url in ("/queue?q=Secret", "/customers", f"/customers/{customer.id}"):
        assert client.get(url).status_code == 404, url


def test_customer_cannot_post_internal_notes_or_change_fields_through_the_portal(
        app, db, client, login, customer, agent, ticket):
    login(client, customer)
    response = client.post(f"/portal/tickets/{ticket.reference}", data={
        "body": "Just a reply", "internal": "y", "status": "closed", "priority": "urgent",
        "assignee_id": str(agent.id), "author_id": str(agent.id), "needs_review": "y", "channel": "sms"})
    assert response.status_code == 302
    assert count(db, Message, Message.internal.is_(True)) == 0
    message = db.session.scalars(select(Message).order_by(Message.id.desc())).first()
    assert message.body == "Just a reply" and message.author_id == customer.id and not message.internal
    ticket = fresh(db, ticket)
    assert ticket.priority == "normal" and ticket.assignee_id is None and ticket.status != "closed"

    created = client.post("/portal/new", data={
        "subject": "New", "body": "body", "priority": "urgent", "customer_id": str(agent.id),
        "internal": "y", "status": "closed", "team_id": "1", "tags": "vip"})
    assert created.status_code == 302
    new = db.session.scalars(select(Ticket).where(Ticket.subject == "New")).one()
    assert new.customer_id == customer.id and new.priority == "normal" and new.status == "new"
    assert [t.name for t in new.tags] == [] and new.team_id is None
    assert count(db, Message, Message.internal.is_(True)) == 0


def test_nobody_but_an_admin_can_make_an_admin(app, db, client, login, customer, agent):
    promote = {"name": agent.name, "email": agent.email, "role": "admin", "active": "y"}
    login(client, customer)
    assert client.post(f"/admin/users/{agent.id}", data=promote).status_code == 404
    assert client.post("/admin/users/new", data={**promote, "email": "new-admin@example.test",
                                                 "password": PASSWORD}).status_code == 404
    login(client, agent)
    assert client.post(f"/admin/users/{agent.id}", data=promote).status_code == 403
    assert fresh(db, agent).role == "agent"
    assert count(db, User, User.role == "admin") == 0

    visitor = new_client(app)
    signup = visitor.post("/signup", data={"name": "Eve", "email": "eve@example.test", "password": PASSWORD,
                                           "role": "admin"})
    assert signup.status_code == 302
    assert db.session.scalar(select(User.role).where(User.email == "eve@example.test")) == "customer"
    assert sign_in(visitor, "eve@example.test").status_code == 302
    assert visitor.get("/admin/").status_code == 404


# ---------------------------------------------------------------- attachments


def test_attachments_are_downloads_with_long_random_tokens(app, db, client, login, customer, agent):
    ticket = services.create_ticket(customer, "Files", "see", attachments=[
        NewAttachment("page.html", b"<script>alert(1)</script>", "text/html"),
        NewAttachment("../../etc/passwd", b"root:x:0:0", "text/plain"),
        NewAttachment("image.svg", b"<svg onload=alert(1)/>", "image/svg+xml")])
    items = ticket.messages[0].attachments
    tokens = [a.token for a in items]
    assert len(set(tokens)) == 3
    for token in tokens:
        assert len(token) >= 32 and re.fullmatch(r"[A-Za-z0-9_\-]+", token)
    assert all(".." not in a.filename and "/" not in a.filename for a in items)

    for user in (customer, agent):
        login(client, user)
        for item in items:
            response = client.get(f"/attachments/{item.token}")
            assert response.status_code == 200
            assert response.headers["Content-Disposition"].startswith("attachment")
            assert response.headers["Content-Type"] == "application/octet-stream"
            assert response.headers["X-Content-Type-Options"] == "nosniff"
    # A guessed token (one character off) is simply not there.
    guess = tokens[0][:-1] + ("A" if tokens[0][-1] != "A" else "B")
    assert client.get(f"/attachments/{guess}").status_code == 404
    assert new_client(app).get(f"/attachments/{tokens[0]}").status_code == 302  # sign in first


def test_internal_note_attachments_stay_internal(app, db, client, login, customer, agent, ticket):
    note = services.add_message(ticket, agent, "internal stuff", internal=True,
                                attachments=[NewAttachment("notes.txt", b"staff only", "text/plain")])
    login(client, customer)
    response = client.get(f"/attachments/{note.attachments[0].token}")
    assert response.status_code == 404 and "staff only" not in response.text
    assert "internal stuff" not in client.get(f"/portal/tickets/{ticket.reference}").text


@pytest.mark.parametrize("app_config", [{"MAX_ATTACHMENT_BYTES": 1_000_000}])
def test_oversized_attachment_is_refused_and_creates_nothing(app, db, client, login, customer, ticket):
    login(client, customer)
    messages = count(db, Message)
    big = b"x" * 1_000_001
    response = client.post("/portal/new", content_type="multipart/form-data", data={
        "subject": "Big file", "body": "see attached", "attachments": (io.BytesIO(big), "big.bin")})
    assert response.status_code == 422
    assert "too large" in response.text and "at most 1 MB" in response.text
    assert 'value="Big file"' in response.text  # what was typed is kept
    assert count(db, Ticket) == 1 and count(db, Message) == messages and count(db, Attachment) == 0

    reply = client.post(f"/portal/tickets/{ticket.reference}", content_type="multipart/form-data", data={
        "body": "here", "attachments": (io.BytesIO(big), "big.bin")})
    assert reply.status_code == 422 and "too large" in reply.text
    assert count(db, Message) == messages and count(db, Attachment) == 0
    assert list(Path(app.instance_path, "attachments").glob("*/*")) == []


@pytest.mark.parametrize("app_config", [{"MAX_CONTENT_LENGTH": 50_000}])
def test_oversized_request_gets_the_friendly_413_page(app, db, client, login, customer):
    # Up to 4 × MAX_CONTENT_LENGTH the form answers again, text kept (tests/test_oversize_uploads.py);
    # beyond that the request is not read at all.
    login(client, customer)
    response = client.post("/portal/new", content_type="multipart/form-data", data={
        "subject": "Huge", "body": "see attached", "attachments": (io.BytesIO(b"x" * 250_000), "huge.bin")})
    assert response.status_code == 413
    assert "Too large" in response.text and "smaller attachment" in response.text
    assert count(db, Ticket) == 0


# ------------------------------------------------------- session invalidation


def _admin_saves(client, user, **changes):
    data = {"name": user.name, "email": user.email, "role": user.role, "password": ""}
    if user.active:
        data["active"] = "y"
    data.update(changes)
    data = {k: v for k, v in data.items() if v is not None}
    response = client.post(f"/admin/users/{user.id}", data=data)
    assert response.status_code == 302, response.text
    return response


def test_disabling_an_account_ends_its_sessions(app, db, client, login, admin, make_user):
    user = make_user("agent", email="leaver@example.test", password=PASSWORD)
    victim = new_client(app)
    assert sign_in(victim, "leaver@example.test", remember="y").status_code == 302
    assert victim.get("/queue").status_code == 200
    remember = victim.get_cookie("remember_token")
    assert remember is not None

    login(client, admin)
    _admin_saves(client, user, active=None)
    assert fresh(db, user).active is False

    refused = victim.get("/queue")
    assert refused.status_code == 302 and urlsplit(refused.headers["Location"]).path == "/login"
    assert not signed_in(victim)

    # Re-enabling the account does not bring the old session or remember-me cookie back.
    _admin_saves(client, fresh(db, user), active="y")
    assert victim.get("/queue").status_code == 302
    stolen = new_client(app)
    stolen.set_cookie("remember_token", remember.value)
    assert stolen.get("/queue").status_code == 302


def test_a_password_change_ends_other_sessions(app, db, client, login, admin, make_user):
    user = make_user("customer", email="changer@example.test", password=PASSWORD)
    old = new_client(app)
    assert sign_in(old, "changer@example.test", remember="y").status_code == 302
    remember = old.get_cookie("remember_token")
    # The remember-me cookie alone signs in (before the change).
    only_cookie = new_client(app)
    only_cookie.set_cookie("remember_token", remember.value)
    assert only_cookie.get("/portal/").status_code == 200

    login(client, admin)
    _admin_saves(client, user, password="a brand new password")

    for stale in (old, only_cookie):
        response = stale.get("/portal/")
        assert response.status_code == 302 and urlsplit(response.headers["Location"]).path == "/login"
    retry = new_client(app)
    retry.set_cookie("remember_token", remember.value)
    assert retry.get("/portal/").status_code == 302
    assert sign_in(new_client(app), "changer@example.test").status_code == 401
    fresh_login = new_client(app)
    assert sign_in(fresh_login, "changer@example.test", "a brand new password").status_code == 302
    assert fresh_login.get("/portal/").status_code == 200


def test_a_forged_session_for_another_user_is_refused(app, db, customer, other_customer, a_ticket):
    """Signed with the wrong key, or for a stale session version: nobody gets in."""
    from flask.sessions import SecureCookieSessionInterface
    from itsdangerous import URLSafeTimedSerializer

    interface = SecureCookieSessionInterface()
    forged = URLSafeTimedSerializer("guessed-key", salt=interface.salt, serializer=interface.serializer,
                                    signer_kwargs={"key_derivation": interface.key_derivation,
                                                   "digest_method": interface.digest_method})
    client = new_client(app)
    client.set_cookie("session", forged.dumps({"_user_id": customer.get_id(), "_fresh": True}))
    assert client.get(f"/portal/tickets/{a_ticket.reference}").status_code == 302

    stale = new_client(app)
    with stale.session_transaction() as session:
        session["_user_id"] = f"{customer.id}:{customer.session_version - 1}"
    assert stale.get("/portal/").status_code == 302


# ------------------------------------------------------------- plugin pages


def test_disabled_plugin_pages_answer_404(app, db, client, login, admin, agent):
    bp = Blueprint("toy", __name__)
    bp.add_url_rule("/toy", "index", lambda: "toy page")
    manager(app).register(make_plugin("toy", helpdesk_blueprints=lambda: [bp]), "toy")
    manager(app).register_blueprints(app)
    login(client, agent)
    assert client.get("/toy").text == "toy page"

    login(client, admin)
    assert client.post("/admin/plugins/toy/toggle").status_code == 302
    assert manager(app).is_enabled("toy") is False
    for user in (agent, admin):
        login(client, user)
        response = client.get("/toy")
        assert response.status_code == 404 and "toy page" not in response.text
        assert 'id="error-page"' in response.text
        assert_security_headers(response)
    assert new_client(app).get("/toy").status_code == 404

    login(client, admin)
    client.post("/admin/plugins/toy/toggle")
    login(client, agent)
    assert client.get("/toy").text == "toy page"


@pytest.mark.parametrize("path", ["/admin/users/99999999999999999999", "/admin/users/2147483648",
                                  "/admin/teams/2147483648"])
def test_ids_beyond_what_the_database_holds_are_not_found(app, db, client, login, admin, path):
    login(client, admin)
    assert client.get(path).status_code == 404  # not a database error
