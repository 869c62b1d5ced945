"""Everyone's own page (agents and customers): name, time zone, password, and the browsers
signed in to the account, each of which can be signed out."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import available_timezones

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, logout_user

from helpdesk import sessions
from helpdesk.extensions import db
from helpdesk.i18n import gettext, refresh
from helpdesk.languages import LANGUAGES
from helpdesk.models import User
from helpdesk.timezones import to_local, user_zone
from helpdesk.web.forms import ConfirmForm, PasswordChangeForm, ProfileForm

bp = Blueprint("profile", __name__, url_prefix="/profile")


def local_time(moment: datetime | None, user: User) -> str:
    """A stored (naive UTC) time as the user reads it: "2030-03-04 11:00 CET"."""
    if moment is None:
        return ""
    local = to_local(moment, user)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"


def describe_agent(user_agent: str) -> str:
    """"Firefox on Linux" from a User-Agent header; the raw header is kept as a tooltip."""
    ua = user_agent or ""
    browser = next((name for key, name in (("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"),
                                           ("Chrome/", "Chrome"), ("Safari/", "Safari"), ("curl/", "curl"))
                    if key in ua), "")
    system = next((name for key, name in (("Android", "Android"), ("iPhone", "iPhone"), ("iPad", "iPad"),
                                          ("Windows", "Windows"), ("Mac OS X", "macOS"), ("Linux", "Linux"))
                   if key in ua), "")
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or (ua[:60] if ua else gettext("Unknown device"))


def _page(profile_form: ProfileForm | None = None, password_form: PasswordChangeForm | None = None,
          status: int = 200):
    current = sessions.current_key_hash(current_user)
    rows = [{"id": s.key_hash, "device": describe_agent(s.user_agent), "user_agent": s.user_agent,
             "address": s.address or "unknown", "last_seen": local_time(s.last_seen_at, current_user),
             "signed_in": local_time(s.created_at, current_user), "current": s.key_hash == current,
             "remember": s.remember}
            for s in sessions.active_sessions(current_user)]
    return render_template(
        "auth/profile.html", rows=rows, confirm=ConfirmForm(),
        profile_form=profile_form or ProfileForm(obj=current_user, formdata=None, language=current_user.language or "",
                                                 updates=current_user.consents_to("updates")),
        password_form=password_form or PasswordChangeForm(formdata=None),
        zone=str(user_zone(current_user)), timezones=sorted(available_timezones())), status


@bp.get("/")
@login_required
def index():
    return _page()


@bp.post("/")
@login_required
def save():
    form = ProfileForm()
    if not form.validate_on_submit():
        return _page(profile_form=form, status=400 if form.csrf_token.errors else 422)
    current_user.name = form.name.data.strip()
    current_user.timezone = form.timezone.data or None
    if "language" in request.form:
        current_user.language = form.language.data if form.language.data in LANGUAGES else None
    if current_user.role == "customer" and "language" in request.form:  # sent with the language: this form
        current_user.consent = {**(current_user.consent or {}), "updates": bool(form.updates.data)}
    db.session.commit()
    refresh()  # the confirmation in the language just chosen
    flash(gettext("Your profile is saved."), "success")
    return redirect(url_for("profile.index"))


@bp.post("/password")
@login_required
def password():
    from helpdesk.web.auth import sign_in_user

    form = PasswordChangeForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        if user.password_hash and not user.check_password(form.current_password.data or ""):
            form.current_password.errors = [gettext("That is not your current password.")]
        else:
            remember = next((s.remember for s in sessions.active_sessions(user)
                             if s.key_hash == sessions.current_key_hash(user)), False)
            user.set_password(form.new_password.data)  # bumps the session version: every session ends
            db.session.commit()
            sessions.end_all_sessions(user)
            sign_in_user(user, remember=remember)  # this browser carries on with a new session
            flash(gettext("Your password is changed. Every other device was signed out."), "success")
            return redirect(url_for("profile.index"))
    return _page(password_form=form, status=400 if form.csrf_token.errors else 422)


@bp.post("/sessions/end")
@login_required
def end_session():
    form = ConfirmForm()
    if not form.validate_on_submit():
        return _page(status=400)
    chosen = request.form.get("session", "")
    if chosen and chosen == sessions.current_key_hash(current_user):
        sessions.end_current_session(current_user)
        logout_user()
        flash(gettext("You are signed out."), "info")
        return redirect(url_for("auth.login"))
    if sessions.end_session(current_user, chosen):
        flash(gettext("That device is signed out."), "success")
    else:
        flash(gettext("That session had already ended."), "info")
    return redirect(url_for("profile.index"))


@bp.post("/sessions/end-others")
@login_required
def end_other_sessions():
    form = ConfirmForm()
    if not form.validate_on_submit():
        return _page(status=400)
    ended = sessions.end_all_sessions(current_user, keep_current=True)
    flash(gettext("Signed out everywhere else.") if ended else gettext("You were not signed in anywhere else."),
          "success")
    return redirect(url_for("profile.index"))
