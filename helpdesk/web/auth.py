"""Signing in and out: passwords (rate-limited), customer sign-up, magic links."""
from __future__ import annotations

import functools
import hashlib
import secrets
from collections.abc import Callable
from datetime import timedelta

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select, update
from werkzeug.security import check_password_hash, generate_password_hash

from helpdesk.extensions import db, limiter
from helpdesk.models import LoginToken, User
from helpdesk.models.base import utcnow
from helpdesk.services import ServiceError
from helpdesk.services.mail import queue_mail
from helpdesk.services.users import create_user, find_customer
from helpdesk.web.forms import ConfirmForm, LoginForm, MagicLinkForm, SignupForm
from helpdesk.web.links import external_url

bp = Blueprint("auth", __name__)


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


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
@limiter.limit(_login_limit, methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    form = LoginForm()
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        user = db.session.scalar(select(User).where(User.email == email))
        if not _password_ok(user, form.password.data) or not user.is_active:
            current_app.logger.warning("failed sign-in for %r from %s", email[:100], request.remote_addr)
            flash("Wrong email or password.", "danger")
            return render_template("auth/login.html", form=form), 401
        login_user(user, remember=form.remember.data)
        user.last_login_at = utcnow()
        db.session.commit()
        return redirect(_safe_next(request.args.get("next")) or home_for(user))
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
def logout():
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    logout_user()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/signup", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def signup():
    form = SignupForm()
    if form.validate_on_submit():
        try:
            user = create_user(form.name.data, form.email.data, "customer", form.password.data)
        except ServiceError as exc:
            # Same answer whether or not the address exists would be kinder to privacy,
            # but a customer needs to know to sign in instead; the sign-in form rate-limits.
            getattr(form, exc.field or "email").errors.append(exc.message)
        else:
            login_user(user)
            flash("Welcome! Your account is ready.", "success")
            return redirect(url_for("portal.index"))
    return render_template("auth/signup.html", form=form), 422 if form.errors else 200


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
@limiter.limit(_login_limit, methods=["POST"])
def magic_request():
    form = MagicLinkForm()
    if form.validate_on_submit():
        user = find_customer("email", form.email.data)
        if user is not None and user.is_active:
            link = issue_login_link(user)
            minutes = current_app.config["MAGIC_LINK_MINUTES"]
            queue_mail(user.email or form.email.data, "Your sign-in link",
                       f"Hello {user.first_name},\n\nSign in to your support portal with this link "
                       f"(valid for {minutes} minutes, once):\n\n{link}\n\n"
                       "If you did not ask for it, ignore this message.\n")
        # The same answer either way, so the form cannot be used to probe for accounts.
        flash("If we know this address, a sign-in link is on its way. Check your inbox.", "info")
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
        claimed = db.session.execute(
            update(LoginToken).where(LoginToken.id == row.id, LoginToken.used_at.is_(None))
            .values(used_at=utcnow())).rowcount
        db.session.commit()
        if claimed != 1:
            return render_template("auth/magic_invalid.html"), 400
        login_user(row.user)
        return redirect(home_for(row.user))
    return render_template("auth/magic_confirm.html", form=form, user=row.user)
