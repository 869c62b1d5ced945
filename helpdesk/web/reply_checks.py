"""Admin → Reply checks: each check of the composer (the core's and plugins') is off,
advises (the default: the reply is sent and the agent sees the warning) or blocks."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm

from helpdesk.i18n import gettext
from helpdesk.services.errors import ServiceError
from helpdesk.services.reply_review import MODES, known_checks, save_check_modes
from helpdesk.web.auth import admin_required

bp = Blueprint("reply_checks", __name__, url_prefix="/admin/reply-checks")


@bp.route("/", methods=["GET", "POST"])
@admin_required
def index():
    form = FlaskForm()  # the CSRF token
    checks = known_checks()
    error = None
    if request.method == "POST" and form.validate_on_submit():
        chosen = {key: request.form.get(f"mode-{key}", mode) for key, _label, mode in checks}
        try:
            save_check_modes(chosen)
        except ServiceError as exc:
            error = exc.message
            checks = [(key, label, chosen[key]) for key, label, _mode in checks]  # keep what was chosen
        else:
            flash(gettext("Reply checks saved."), "success")
            return redirect(url_for("reply_checks.index"))
    elif request.method == "POST":
        error = gettext("The form expired. Reload the page and choose again.")
    return render_template("admin/reply_checks.html", form=form, checks=checks, modes=MODES,
                           error=error), 422 if error else 200
