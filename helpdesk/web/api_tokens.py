"""Profile → API tokens: everyone makes and revokes their own personal API tokens.

The token is shown once, on the page the form redirects to; only its hash is kept. Between the
POST and that page the token waits in the (server-side) session and is taken out when shown, so
a reload neither shows it again nor makes a second token. The session is a signed cookie, so
the token is encrypted there (the secrets key's Fernet) and expires after five minutes.
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, session, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length

from helpdesk.extensions import db
from helpdesk.i18n import gettext, lazy_gettext
from helpdesk.models import ApiToken
from helpdesk.plugin_manager import manager
from helpdesk.services import api_tokens
from helpdesk.services.errors import ServiceError
from helpdesk.web.forms import ConfirmForm

bp = Blueprint("api_tokens", __name__, url_prefix="/profile/api-tokens")
NEW_TOKEN_KEY = "api_token_shown_once"
SHOWN_WITHIN_SECONDS = 300


def _take_new_token() -> str | None:
    sealed = session.pop(NEW_TOKEN_KEY, None)
    if not sealed:
        return None
    from cryptography.fernet import InvalidToken  # here: only this page needs cryptography (7 MiB)

    try:
        return manager()._fernet().decrypt(sealed.encode(), ttl=SHOWN_WITHIN_SECONDS).decode()
    except InvalidToken:
        return None

SCOPE_HELP = {"read": lazy_gettext("Read: look at tickets and everything you can see"),
              "write": lazy_gettext("Write: read, and reply, add notes, open and change tickets as you could"),
              "admin": lazy_gettext("Admin: read, write and the admin parts of the API")}


class TokenForm(FlaskForm):
    name = StringField(lazy_gettext("Name"), validators=[
        DataRequired(lazy_gettext("Give the token a name, so you know later what uses it.")),
        Length(max=100, message=lazy_gettext("The name is too long (100 characters at most)."))],
        description=lazy_gettext("What uses it: 'CRM sync', 'status page'."))
    scope = SelectField(lazy_gettext("Scope"), default="read")
    expires_in_days = SelectField(lazy_gettext("Expires after"), default="90",
                                  choices=[(str(d), lazy_gettext("%(num)d days", num=d))
                                           for d in api_tokens.EXPIRY_DAYS])


def _form() -> TokenForm:
    form = TokenForm()
    form.scope.choices = [(s, SCOPE_HELP[s]) for s in api_tokens.scopes_for(current_user)]
    return form


def _page(form: TokenForm, new_token: str | None = None, status: int = 200):
    return render_template("auth/api_tokens.html", form=form, tokens=api_tokens.tokens_of(current_user),
                           new_token=new_token, confirm=ConfirmForm()), status


@bp.get("/")
@login_required
def index():
    return _page(_form(), new_token=_take_new_token())


@bp.post("/")
@login_required
def create():
    form = _form()
    if not form.validate_on_submit():
        return _page(form, status=400)
    try:
        _row, token = api_tokens.create_token(current_user, form.name.data, form.scope.data,
                                              int(form.expires_in_days.data))
    except ServiceError as exc:
        form.form_errors.append(exc.message)
        return _page(form, status=400)
    # Shown once, on the page this redirects to (Post/Redirect/Get: a reload makes no second token).
    session[NEW_TOKEN_KEY] = manager()._fernet().encrypt(token.encode()).decode()
    return redirect(url_for("api_tokens.index"), 303)


@bp.post("/<int:token_id>/revoke")
@login_required
def revoke(token_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != current_user.id:
        abort(404)
    api_tokens.revoke_token(token, current_user)
    flash(gettext("The token “%(name)s” is revoked: it opens nothing any more.", name=token.name), "success")
    return redirect(url_for("api_tokens.index"))
