"""Accounts in a real company: server-side sessions, the profile page, throttling shared by
every process, and a sign-up form that does not tell who has an account (issue 14, 1–3)."""
from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from pagetext import alerts, field_errors, text, texts
from sqlalchemy import func, select, update

from helpdesk.models import LoginToken, OutboxMail, ThrottleCounter, User, UserSession
from helpdesk.models.base import utcnow
from helpdesk.testing import CSRFClient

PASSWORD = "correct horse battery"
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
          "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1")


def new_client(app) -> CSRFClient:
    app.test_client_class = CSRFClient
    return app.test_client()


def sign_in(client, email: str, password: str = PASSWORD, address: str = "127.0.0.1",
            user_agent: str = FIREFOX, **extra):
    return client.post("/login", data={"email": email, "password": password, **extra},
                       environ_overrides={"REMOTE_ADDR": address}, headers={"User-Agent": user_agent})


def lands_on_login(response) -> bool:
    return response.status_code == 302 and urlsplit(response.headers["Location"]).path == "/login"


def mails_to(db, address: str) -> list[OutboxMail]:
    return list(db.session.scalars(select(OutboxMail).where(OutboxMail.to_addr == address).order_by(OutboxMail.id)))


def link_in(mail: OutboxMail) -> str:
    match = re.search(r"https?://\S+/magic/[A-Za-z0-9_\-]+", mail.body_text)
    assert match, mail.body_text
    return urlsplit(match.group(0)).path


def count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# ------------------------------------------------------------------ sessions


def test_logout_ends_that_session_for_copied_cookies_too(app, db, make_user):
    make_user("agent", email="ann@example.test", password=PASSWORD)
    laptop, phone = new_client(app), new_client(app)
    assert sign_in(laptop, "ann@example.test", remember="y").status_code == 302
    assert sign_in(phone, "ann@example.test", user_agent=IPHONE).status_code == 302
    session_cookie = laptop.get_cookie("session").value
    remember_cookie = laptop.get_cookie("remember_token").value
    assert laptop.get("/queue").status_code == 200

    assert laptop.post("/logout").status_code == 302
    for name, value in (("session", session_cookie), ("remember_token", remember_cookie)):
        thief = new_client(app)
        thief.set_cookie(name, value)
        assert lands_on_login(thief.get("/queue")), name
    both = new_client(app)
    both.set_cookie("session", session_cookie)
    both.set_cookie("remember_token", remember_cookie)
    assert lands_on_login(both.get("/queue"))
    # Only that session ended: the phone is still signed in.
    assert phone.get("/queue").status_code == 200


def test_only_a_hash_of_the_session_key_is_stored(app, db, make_user):
    make_user("customer", email="hash@example.test", password=PASSWORD)
    client = new_client(app)
    assert sign_in(client, "hash@example.test").status_code == 302
    with client.session_transaction() as session:
        key = session["_user_id"].split(":")[2]
    (row,) = db.session.scalars(select(UserSession)).all()
    assert len(key) >= 40 and key not in row.key_hash
    assert row.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert (row.user_agent, row.address) == (FIREFOX, "127.0.0.1")


def test_profile_lists_sessions_in_the_users_time_zone(app, db, make_user):
    user = make_user("customer", email="tz@example.test", password=PASSWORD, timezone="Asia/Tokyo")
    laptop, phone = new_client(app), new_client(app)
    assert sign_in(laptop, "tz@example.test", address="192.0.2.10").status_code == 302
    assert sign_in(phone, "tz@example.test", address="198.51.100.20", user_agent=IPHONE).status_code == 302
    noon_utc = utcnow().replace(hour=3, minute=0, second=0, microsecond=0)
    db.session.execute(update(UserSession).values(last_seen_at=noon_utc))
    db.session.commit()

    page = laptop.get("/profile/", environ_overrides={"REMOTE_ADDR": "192.0.2.10"})
    assert page.status_code == 200
    rows = texts(page.text, cls="session-row")
    assert len(rows) == 2
    current = text(page.text, cls="session-current")
    assert current.startswith("Firefox on Linux this device") and "192.0.2.10" in current
    other = [r for r in rows if "this device" not in r][0]
    assert other.startswith("Safari on iPhone") and "198.51.100.20" in other
    # 03:00 UTC is noon in Tokyo.
    assert f"last seen {noon_utc:%Y-%m-%d} 12:00 JST" in other
    assert "Times in Asia/Tokyo" in text(page.text, id="sessions")
    assert user.id  # the customer reached their profile


def test_sign_out_everywhere_else_and_one_by_one(app, db, make_user):
    make_user("agent", email="many@example.test", password=PASSWORD)
    clients = [new_client(app) for _ in range(3)]
    for i, client in enumerate(clients):
        assert sign_in(client, "many@example.test", address=f"192.0.2.{i + 1}").status_code == 302
    first, second, third = clients

    page = first.get("/profile/")
    hashes = re.findall(r'name="session" value="([0-9a-f]{64})"', page.text)
    (third_hash,) = [h for h in hashes if h != _current_hash(first) and h != _current_hash(second)]
    ended = first.post("/profile/sessions/end", data={"session": third_hash}, follow_redirects=True)
    assert "That device is signed out." in alerts(ended.text)
    assert lands_on_login(third.get("/queue"))
    assert second.get("/queue").status_code == 200

    everywhere = first.post("/profile/sessions/end-others", follow_redirects=True)
    assert "Signed out everywhere else." in alerts(everywhere.text)
    assert len(texts(everywhere.text, cls="session-row")) == 1
    assert lands_on_login(second.get("/queue"))
    assert first.get("/queue").status_code == 200

    # Another user's session cannot be ended from here (the hash is simply not theirs).
    other_user = make_user("agent", email="other@example.test", password=PASSWORD)
    stranger = new_client(app)
    assert sign_in(stranger, other_user.email).status_code == 302
    refused = first.post("/profile/sessions/end", data={"session": _current_hash(stranger)},
                         follow_redirects=True)
    assert "That session had already ended." in alerts(refused.text)
    assert stranger.get("/queue").status_code == 200

    # Ending the current session from the list signs this browser out.
    out = first.post("/profile/sessions/end", data={"session": _current_hash(first)})
    assert lands_on_login(out) and lands_on_login(first.get("/queue"))


def _current_hash(client) -> str:
    with client.session_transaction() as session:
        return hashlib.sha256(session["_user_id"].split(":")[2].encode()).hexdigest()


def test_password_change_on_the_profile_ends_every_other_session(app, db, make_user):
    make_user("customer", email="change@example.test", password=PASSWORD)
    here, elsewhere = new_client(app), new_client(app)
    assert sign_in(here, "change@example.test", remember="y").status_code == 302
    assert sign_in(elsewhere, "change@example.test", remember="y").status_code == 302
    stolen_remember = elsewhere.get_cookie("remember_token").value

    wrong = here.post("/profile/password", data={"current_password": "not it", "new_password": "new password 1",
                                                  "confirm": "new password 1"})
    assert wrong.status_code == 422
    assert field_errors(wrong.text) == ["That is not your current password."]
    mismatch = here.post("/profile/password", data={"current_password": PASSWORD, "new_password": "new password 1",
                                                     "confirm": "new password 2"})
    assert field_errors(mismatch.text) == ["The two new passwords differ."]
    assert elsewhere.get("/portal/").status_code == 200

    done = here.post("/profile/password", data={"current_password": PASSWORD, "new_password": "new password 1",
                                                 "confirm": "new password 1"}, follow_redirects=True)
    assert alerts(done.text) == ["Your password is changed. Every other device was signed out."]
    assert here.get("/portal/").status_code == 200  # this browser carries on
    assert lands_on_login(elsewhere.get("/portal/"))
    thief = new_client(app)
    thief.set_cookie("remember_token", stolen_remember)
    assert lands_on_login(thief.get("/portal/"))
    assert len(texts(done.text, cls="session-row")) == 1
    assert sign_in(new_client(app), "change@example.test", "new password 1").status_code == 302


def test_profile_saves_name_and_time_zone_and_explains_a_wrong_zone(app, db, client, login, agent):
    login(client, agent)
    bad = client.post("/profile/", data={"name": "Alex A.", "timezone": "Mars/Olympus"})
    assert bad.status_code == 422
    assert field_errors(bad.text) == ["Unknown time zone “Mars/Olympus”: use a name like Europe/Berlin or UTC."]
    assert 'value="Mars/Olympus"' in bad.text  # what was typed is kept
    ok = client.post("/profile/", data={"name": "Alex A.", "timezone": "Europe/Berlin"}, follow_redirects=True)
    assert "Your profile is saved." in alerts(ok.text)
    db.session.refresh(agent)
    assert (agent.name, agent.timezone) == ("Alex A.", "Europe/Berlin")
    assert "Times in Europe/Berlin" in text(ok.text, id="sessions")


def test_idle_sessions_end(app, db, make_user):
    make_user("agent", email="idle@example.test", password=PASSWORD)
    client = new_client(app)
    assert sign_in(client, "idle@example.test", remember="y").status_code == 302
    days = app.config["SESSION_IDLE_DAYS"]
    db.session.execute(update(UserSession).values(last_seen_at=utcnow() - timedelta(days=days, minutes=1)))
    db.session.commit()
    assert lands_on_login(client.get("/queue"))
    assert count(db, UserSession) == 0


# ------------------------------------------------------------------ throttling


def test_wrong_passwords_lock_the_account_from_every_address(app, db, make_user, caplog):
    make_user("customer", email="victim@example.test", password=PASSWORD)
    make_user("customer", email="bystander@example.test", password=PASSWORD)
    limit = app.config["LOGIN_FAILURES_PER_ACCOUNT"]
    with caplog.at_level(logging.WARNING, logger="helpdesk.throttle"):
        codes = [sign_in(new_client(app), "victim@example.test", f"guess {i}", address=f"203.0.113.{i + 1}").status_code
                 for i in range(limit)]
    assert codes == [401] * limit
    assert any("login-account" in r.getMessage() and "'victim@example.test' locked for 60 s" in r.getMessage()
               for r in caplog.records), [r.getMessage() for r in caplog.records]

    # Even the right password from a new address waits: the account is paused, not the address.
    locked = sign_in(new_client(app), "victim@example.test", address="198.51.100.99")
    assert locked.status_code == 429
    assert "Too many sign-in attempts. Try again in 1 minute." in locked.text
    assert locked.headers["Retry-After"] == "60"
    assert db.session.scalar(select(User.last_login_at).where(User.email == "victim@example.test")) is None
    # Other accounts from the attackers' addresses are not punished.
    assert sign_in(new_client(app), "bystander@example.test", address="203.0.113.1").status_code == 302


@pytest.mark.parametrize("app_config", [{"LOGIN_FAILURES_PER_IP": 5}])
def test_one_address_guessing_many_accounts_is_locked(app, db, make_user):
    make_user("agent", email="real@example.test", password=PASSWORD)
    attacker = "203.0.113.50"
    codes = [sign_in(new_client(app), f"user{i}@example.test", "guess", address=attacker).status_code
             for i in range(5)]
    assert codes == [401] * 5
    refused = sign_in(new_client(app), "real@example.test", address=attacker)
    assert refused.status_code == 429
    assert sign_in(new_client(app), "real@example.test", address="192.0.2.1").status_code == 302


def test_lockouts_grow(app, db, make_user):
    make_user("customer", email="slow@example.test", password=PASSWORD)
    limit = app.config["LOGIN_FAILURES_PER_ACCOUNT"]
    delays = []
    for _round in range(3):
        for i in range(limit):
            assert sign_in(new_client(app), "slow@example.test", "guess", address=f"192.0.2.{i + 1}").status_code == 401
        refused = sign_in(new_client(app), "slow@example.test", address="192.0.2.200")
        assert refused.status_code == 429
        delays.append(int(refused.headers["Retry-After"]))
        # The lockout has passed (moved into the past rather than waited for).
        db.session.execute(update(ThrottleCounter).where(ThrottleCounter.locked_until.is_not(None))
                           .values(locked_until=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    assert delays == [60, 120, 240]
    # A good sign-in forgets the account's failures.
    assert sign_in(new_client(app), "slow@example.test").status_code == 302
    assert sign_in(new_client(app), "slow@example.test", "guess").status_code == 401


def _worker_config(app) -> dict:
    config = {key: app.config[key] for key in ("SQLALCHEMY_DATABASE_URI", "SECRET_KEY", "REDIS_URL",
                                               "PASSWORD_HASH_METHOD", "LOGIN_FAILURES_PER_ACCOUNT")}
    return {**config, "TESTING": True, "INSTANCE_PATH": app.instance_path, "SAFE_MODE": True,
            "TARGET": "shared@example.test", "LOGIN_FAILURES_PER_IP": 1000}


def run_two_workers(app, attempts: int, mode: str = "login") -> list[list]:
    """Two separate app processes (like two gunicorn workers) guessing at the same time."""
    worker = Path(__file__).with_name("throttle_worker.py")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)}
    env = {k: v for k, v in env.items() if not k.startswith("HELPDESK_")}
    config = json.dumps(_worker_config(app))
    processes = [subprocess.Popen([sys.executable, str(worker), config, str(attempts), mode], env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = []
    for process in processes:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


def test_throttling_is_shared_by_two_app_processes(app, db, make_user):
    make_user("customer", email="shared@example.test", password=PASSWORD)
    limit = app.config["LOGIN_FAILURES_PER_ACCOUNT"]
    first, second = run_two_workers(app, limit)
    # Between them they were allowed exactly `limit` guesses, not `limit` each.
    assert (first + second).count(401) == limit
    assert (first + second).count(429) == limit
    assert set(first + second) == {401, 429}
    assert sign_in(new_client(app), "shared@example.test").status_code == 429


def test_flask_limiter_counts_in_the_database_for_every_process(app, db):
    """Without Redis, Flask-Limiter (webhooks) counts in the database, not in each worker's memory."""
    from helpdesk.extensions import limiter
    from helpdesk.models import RateLimitCounter

    assert type(limiter.storage).__name__ == "DatabaseStorage"
    first, second = run_two_workers(app, 5, mode="limiter")
    assert (first + second).count(True) == 5 and (first + second).count(False) == 5
    assert count(db, RateLimitCounter) == 1


# ------------------------------------------------------------------ magic links


def test_magic_links_are_limited_per_target_address(app, db, customer, other_customer, caplog):
    limit = app.config["SIGNIN_MAILS_PER_ADDRESS"]
    with caplog.at_level(logging.WARNING, logger="helpdesk.throttle"):
        codes = [new_client(app).post("/magic", data={"email": customer.email},
                                      environ_overrides={"REMOTE_ADDR": f"203.0.113.{i + 1}"}).status_code
                 for i in range(limit + 2)]
    assert codes == [302] * limit + [429, 429]
    assert len(mails_to(db, customer.email)) == limit
    assert any("signin-mail-to" in r.getMessage() for r in caplog.records)
    # Someone else's address is not held up.
    assert new_client(app).post("/magic", data={"email": other_customer.email}).status_code == 302
    assert len(mails_to(db, other_customer.email)) == 1
    # Unknown addresses are counted the same way, so a lockout tells nothing either.
    unknown = [new_client(app).post("/magic", data={"email": "nobody@example.test"}).status_code
               for _ in range(limit + 1)]
    assert unknown == [302] * limit + [429]


# ------------------------------------------------------------------ sign-up


def _scrub(html: str) -> str:
    return re.sub(r'\b(content|value)="[^"]*"', r'\1=""', html)


def test_sign_up_with_a_known_address_answers_like_a_new_one_and_mails_a_sign_in_link(app, db, make_user):
    make_user("customer", name="Carla Known", email="carla@example.test", password=PASSWORD)
    make_user("customer", name="Wrote Before", email="wrote@example.test")  # came by email, no password
    make_user("agent", name="Alex Staff", email="alex@example.test", password=PASSWORD)
    answers = {}
    for email in ("new@example.test", "carla@example.test", "wrote@example.test", "alex@example.test"):
        client = new_client(app)
        response = client.post("/signup", data={"name": "Someone", "email": email, "password": "some password"})
        assert response.status_code == 302, (email, response.text)
        page = client.get(response.headers["Location"])
        assert f"Check your inbox: we sent a link to {email}." in alerts(page.text)[0]
        answers[email] = (response.headers["Location"], _scrub(page.text.replace(email, "EMAIL")))
        assert client.get("/portal/").status_code == 302  # nobody is signed in by the form alone
    assert len(set(answers.values())) == 1, "the sign-up answer tells whether an address has an account"

    assert count(db, User) == 4  # only the new address got an account
    carla = db.session.scalar(select(User).where(User.email == "carla@example.test"))
    assert carla.name == "Carla Known" and carla.check_password(PASSWORD)  # nothing changed

    # The owner of the known address gets a sign-in link, and it works.
    (mail,) = mails_to(db, "wrote@example.test")
    assert mail.subject == "You already have an account"
    returning = new_client(app)
    assert returning.post(link_in(mail)).status_code == 302
    assert text(returning.get("/portal/").text, id="current-user") == "Wrote Before"
    # Staff are pointed to the sign-in page, with no link that signs in.
    (staff_mail,) = mails_to(db, "alex@example.test")
    assert "http://helpdesk.test/login" in staff_mail.body_text and "/magic/" not in staff_mail.body_text

    # The new customer confirms the address with the mailed link, then can use the password.
    (welcome,) = mails_to(db, "new@example.test")
    newcomer = new_client(app)
    assert newcomer.post(link_in(welcome)).status_code == 302
    assert newcomer.get("/portal/").status_code == 200
    assert sign_in(new_client(app), "new@example.test", "some password").status_code == 302
    assert count(db, LoginToken) == 3


def test_sign_up_does_the_same_hashing_work_for_known_and_new_addresses(app, db, make_user, monkeypatch):
    import hashlib as hashlib_module

    make_user("customer", email="known@example.test", password=PASSWORD)
    calls = {"n": 0}
    original = hashlib_module.pbkdf2_hmac

    def counting(*args, **kwargs):
        calls["n"] += 1
        return original(*args, **kwargs)

    monkeypatch.setattr(hashlib_module, "pbkdf2_hmac", counting)
    work = {}
    for email in ("known@example.test", "fresh@example.test"):
        calls["n"] = 0
        new_client(app).post("/signup", data={"name": "X", "email": email, "password": "some password"})
        work[email] = calls["n"]
    assert work["known@example.test"] == work["fresh@example.test"] >= 1, work


def test_sign_up_page_points_returning_customers_to_the_sign_in_link(client):
    page = client.get("/signup")
    assert "Written to us before? Get a sign-in link" in text(page.text, id="returning-customer")
    assert 'href="/magic"' in page.text


def test_housekeeping_clears_idle_sessions_and_old_counters(app, db, make_user):
    from helpdesk.housekeeping import purge_stale_security_rows

    make_user("agent", email="keep@example.test", password=PASSWORD)
    kept, idle = new_client(app), new_client(app)
    assert sign_in(kept, "keep@example.test").status_code == 302
    assert sign_in(idle, "keep@example.test").status_code == 302
    assert sign_in(new_client(app), "keep@example.test", "wrong").status_code == 401
    assert purge_stale_security_rows.call_local() == 0  # everything is fresh
    db.session.execute(update(UserSession).where(UserSession.id == 2)
                       .values(last_seen_at=utcnow() - timedelta(days=app.config["SESSION_IDLE_DAYS"] + 1)))
    db.session.execute(update(ThrottleCounter).values(updated_at=utcnow() - timedelta(days=3)))
    db.session.commit()
    assert purge_stale_security_rows.call_local() == 3  # one session, the account and address counters
    assert count(db, UserSession) == 1 and count(db, ThrottleCounter) == 0
    assert kept.get("/queue").status_code == 200
