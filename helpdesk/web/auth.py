"""Signing in and out: passwords (throttled per account and per address), customer sign-up,
magic links. Sessions are server-side records (``helpdesk.sessions``)."""
from __future__ import annotations

import functools
import hashlib
import secrets
from collections.abc import Callable
from contextlib import nullcontext
from datetime import timedelta

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select, update
from werkzeug.exceptions import TooManyRequests
from werkzeug.security import check_password_hash, generate_password_hash

from helpdesk import sessions, throttle
from helpdesk.extensions import db
from helpdesk.i18n import customer_locale, gettext, lazy_gettext
from helpdesk.models import ContactIdentity, LoginToken, User
from helpdesk.models.base import utcnow
from helpdesk.services import ServiceError
from helpdesk.services.mail import queue_mail
from helpdesk.services.users import create_user, find_customer, normalise_email
from helpdesk.web.forms import ConfirmForm, LoginForm, MagicLinkForm, SignupForm
from helpdesk.web.links import external_url

bp = Blueprint("auth", __name__)


def _limit(name: str, setting: str, window: timedelta, lockout: timedelta) -> throttle.Limit:
    return throttle.Limit(name, current_app.config[setting], window, lockout)


def _login_limits() -> tuple[throttle.Limit, throttle.Limit]:
    """Wrong passwords per account (from anywhere) and per IP address (any account)."""
    return (_limit("login-account", "LOGIN_FAILURES_PER_ACCOUNT", timedelta(minutes=15), timedelta(minutes=1)),
            _limit("login-ip", "LOGIN_FAILURES_PER_IP", timedelta(minutes=15), timedelta(minutes=1)))


def _mail_limits() -> tuple[throttle.Limit, throttle.Limit]:
    """Sign-in mails (magic links, sign-up answers) per target address and per IP address."""
    return (_limit("signin-mail-to", "SIGNIN_MAILS_PER_ADDRESS", timedelta(hours=1), timedelta(minutes=15)),
            _limit("signin-mail-ip", "SIGNIN_MAILS_PER_IP", timedelta(hours=1), timedelta(minutes=5)))


TOO_MANY = {"sign-in attempts": lazy_gettext("Too many sign-in attempts. Try again in %(wait)s."),
            "sign-in mails": lazy_gettext("Too many sign-in mails. Try again in %(wait)s."),
            "sign-in links": lazy_gettext("Too many sign-in links. Try again in %(wait)s.")}


def _count_attempt(checks: list[tuple[throttle.Limit, str, str]], what: str) -> None:
    """Count this attempt against every limit (subject, log label); refuse it with 429 if one is locked."""
    wait = max(throttle.attempt(limit, subject, label=label) for limit, subject, label in checks)
    if wait:
        raise TooManyRequests(str(TOO_MANY[what]) % {"wait": throttle.wait_text(wait)}, retry_after=wait)


def _client_address() -> str:
    return request.remote_addr or "unknown"


def sign_in_user(user: User, remember: bool = False) -> None:
    """Open a server-side session for ``user`` and sign this browser in with it."""
    sessions.open_session(user, remember=remember)
    login_user(user, remember=remember)


def staff_required(view: Callable) -> Callable:
    """Agents and admins only; others get 404 (customers) or the sign-in page."""
    @functools.wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not current_user.is_staff:
            abort(404)
        return view(*args, **kwargs)

    return wrapped


def backoffice_required(view: Callable) -> Callable:
    """Agents, admins and light agents (who read tickets in their scope and add notes)."""
    @functools.wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not current_user.is_backoffice:
            abort(404)
        return view(*args, **kwargs)

    return wrapped


def admin_required(view: Callable) -> Callable:
    @functools.wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not current_user.is_admin:
            abort(404 if not current_user.is_backoffice else 403)
        return view(*args, **kwargs)

    return wrapped


def customer_required(view: Callable) -> Callable:
    @functools.wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if current_user.role != "customer":
            return redirect(url_for("agent.queue"))
        return view(*args, **kwargs)

    return wrapped


def home_for(user: User) -> str:
    return url_for("agent.queue") if user.is_backoffice else url_for("portal.index")


def _safe_next(target: str | None) -> str | None:
    # Only local paths: an open redirect would let a phishing link borrow our domain.
    # Browsers drop tabs and newlines and read "\\" as "/": "/\t/evil.example" leaves the site too.
    if not target or any(ord(c) < 0x20 or ord(c) == 0x7F for c in target):
        return None
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


@functools.cache
def _dummy_password_hash(method: str) -> str:
    return generate_password_hash(secrets.token_urlsafe(16), method=method)


def _password_ok(user: User | None, password: str) -> bool:
    """Check a password with the same hashing work whether or not the account exists."""
    if user is None or not user.password_hash:
        method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
        check_password_hash(_dummy_password_hash(method), password)  # response time must not tell
        return False
    return user.check_password(password)


@bp.route("/")
def index():
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    return render_template("home.html")


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    form = LoginForm()
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        per_account, per_ip = _login_limits()
        # Counted for any address typed, known or not, so a lockout tells nothing either.
        _count_attempt([(per_account, email, f"account {email[:100]!r}"),
                        (per_ip, _client_address(), f"address {_client_address()}")], "sign-in attempts")
        user = db.session.scalar(select(User).where(User.email == email))
        if not _password_ok(user, form.password.data) or not user.is_active:
            current_app.logger.warning("failed sign-in for %r from %s", email[:100], request.remote_addr)
            flash(gettext("Wrong email or password."), "danger")
            return render_template("auth/login.html", form=form), 401
        # Only wrong passwords count: the account starts afresh, the office's address gets its try back.
        throttle.reset(per_account, email)
        throttle.give_back(per_ip, _client_address())
        sign_in_user(user, remember=form.remember.data)
        user.last_login_at = utcnow()
        db.session.commit()
        return redirect(_safe_next(request.args.get("next")) or home_for(user))
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
def logout():
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    if current_user.is_authenticated:
        sessions.end_current_session(current_user)  # copies of this browser's cookies die too
    logout_user()
    flash(gettext("You are signed out."), "info")
    return redirect(url_for("auth.login"))


# The same words whether or not the address has an account (no probing for accounts); they
# point people who wrote to us before at the sign-in link their mail holds instead.
SIGNUP_SENT = lazy_gettext("Check your inbox: we sent a link to %(email)s. Open it to finish signing in. "
                           "Have you written to us from this address before? Then you already have an account, "
                           "and the mail holds a sign-in link to it, with your earlier requests. "
                           "Nothing there in a few minutes? Look in the spam folder.")


@bp.route("/signup", methods=["GET", "POST"])
def signup():
    """Create a customer account and mail a link to confirm the address and sign in.

    An address that already has an account gets the same answer on the page, and its owner
    gets a mail with a sign-in link instead: the form cannot tell who has an account."""
    form = SignupForm()
    if form.validate_on_submit():
        try:
            email = normalise_email(form.email.data)
        except ServiceError as exc:
            form.email.errors.append(exc.message)
        else:
            to_address, per_ip = _mail_limits()
            _count_attempt([(to_address, email, f"address {email[:100]!r}"),
                            (per_ip, _client_address(), f"address {_client_address()}")], "sign-in mails")
            existing = db.session.scalar(select(User).where(User.email == email)) or find_customer("email", email)
            if existing is None:
                try:
                    _mail_signup_link(create_user(form.name.data, email, "customer", form.password.data))
                except ServiceError:  # signed up a moment ago in another tab: the same answer
                    db.session.rollback()
                    existing = db.session.scalar(select(User).where(User.email == email))
            else:
                # The same hashing work as creating an account, so the response time tells nothing.
                generate_password_hash(form.password.data,
                                       method=current_app.config.get("PASSWORD_HASH_METHOD", "scrypt"))
            if existing is not None:
                _mail_existing_account(existing, email)
            flash(str(SIGNUP_SENT) % {"email": email}, "info")
            return redirect(url_for("auth.login"))
    return render_template("auth/signup.html", form=form), 422 if form.errors else 200


def _mail_signup_link(user: User) -> None:
    minutes = current_app.config["MAGIC_LINK_MINUTES"]
    queue_mail(user.email, "Confirm your address to finish signing up",
               f"Hello {user.first_name},\n\nWelcome! Open this link to confirm your address and sign in "
               f"(valid for {minutes} minutes, once):\n\n{issue_login_link(user)}\n\n"
               "After that you can sign in with your email address and password.\n"
               "If you did not sign up, ignore this message.\n")


def _mail_existing_account(user: User, address: str) -> None:
    """Someone signed up with an address that has an account: tell its owner how to get in."""
    if not user.is_active:
        return  # a disabled account gets no way in; the page answered the same anyway
    if user.role == "customer":
        minutes = current_app.config["MAGIC_LINK_MINUTES"]
        queue_mail(user.email or address, "You already have an account",
                   f"Hello {user.first_name},\n\nSomeone, probably you, tried to create an account with this "
                   "address, but you already have one (perhaps from writing to us before).\n\n"
                   f"Sign in with this link (valid for {minutes} minutes, once):\n\n{issue_login_link(user)}\n\n"
                   "Your password did not change (you can set one on your profile once signed in). "
                   "If you did not ask for this, ignore this message.\n")
    else:
        queue_mail(user.email or address, "You already have an account",
                   f"Hello {user.first_name},\n\nSomeone, probably you, tried to create a customer account with "
                   "this address, but it already belongs to your staff account. Sign in here:\n\n"
                   f"{external_url('auth.login')}\n\nIf you did not ask for this, ignore this message.\n")


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_login_link(user: User) -> str:
    """Create a single-use sign-in token and return its link (only the hash is stored)."""
    token = secrets.token_urlsafe(32)
    minutes = current_app.config["MAGIC_LINK_MINUTES"]
    db.session.add(LoginToken(user_id=user.id, token_hash=_hash(token),
                              expires_at=utcnow() + timedelta(minutes=minutes)))
    db.session.commit()
    return external_url("auth.magic", token=token)


@bp.route("/magic", methods=["GET", "POST"])
def magic_request():
    form = MagicLinkForm()
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        to_address, per_ip = _mail_limits()
        # Counted whether or not we know the address: a lockout tells nothing about accounts.
        _count_attempt([(to_address, email, f"address {email[:100]!r}"),
                        (per_ip, _client_address(), f"address {_client_address()}")], "sign-in links")
        user = find_customer("email", email)
        if user is not None and user.is_active:
            link = issue_login_link(user)
            minutes = current_app.config["MAGIC_LINK_MINUTES"]
            with customer_locale(user) if user.language else nullcontext():  # else the page's language
                queue_mail(user.email or form.email.data, gettext("Your sign-in link"),
                           gettext("Hello %(name)s,\n\nSign in to your support portal with this link "
                                   "(valid for %(minutes)s minutes, once):\n\n%(link)s\n\n"
                                   "If you did not ask for it, ignore this message.\n",
                                   name=user.address_name, minutes=minutes, link=link))
        # The same answer either way, so the form cannot be used to probe for accounts.
        flash(gettext("If we know this address, a sign-in link is on its way. Check your inbox."), "info")
        return redirect(url_for("auth.login"))
    return render_template("auth/magic_request.html", form=form)


@bp.route("/magic/<token>", methods=["GET", "POST"])
def magic(token: str):
    """GET shows a button; POST signs in. Mail scanners follow links, so GET changes nothing."""
    row = db.session.scalar(select(LoginToken).where(LoginToken.token_hash == _hash(token)))
    if row is None or row.used_at is not None or row.expires_at < utcnow() or not row.user.is_active:
        return render_template("auth/magic_invalid.html"), 400
    form = ConfirmForm()
    if form.validate_on_submit():
        # Claim the token atomically: of two racing clicks, only one signs in.
        claimed = db.session.execute(  # type: ignore[attr-defined]  # CursorResult: SQLAlchemy types execute() as Result
            update(LoginToken).where(LoginToken.id == row.id, LoginToken.used_at.is_(None))
            .values(used_at=utcnow())).rowcount
        db.session.commit()
        if claimed != 1:
            return render_template("auth/magic_invalid.html"), 400
        _mark_address_verified(row.user)
        sign_in_user(row.user)
        return redirect(home_for(row.user))
    return render_template("auth/magic_confirm.html", form=form, user=row.user)


def _mark_address_verified(user: User) -> None:
    """A used sign-in link proves the customer reads mail at their address."""
    if user.email:
        db.session.execute(update(ContactIdentity).where(
            ContactIdentity.user_id == user.id, ContactIdentity.kind == "email",
            ContactIdentity.value == user.email).values(verified=True))
        db.session.commit()
