"""Recognition pages, for staff only: feed, profiles, leaderboard, giving kudos, reactions, preferences."""
from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from helpdesk.plugin_api import (
    Team,
    Ticket,
    User,
    admin_required,
    db_session,
    get_setting,
    gettext,
    ngettext,
    parse_page,
    record_config_change,
    staff_required,
    utcnow,
    visible_tickets,
)
from helpdesk_recognition import charts, feed, kudos, milestones, stats
from helpdesk_recognition.config import BADGES, MAX_MESSAGE, PLUGIN, REACTIONS, value_tags
from helpdesk_recognition.forms import BadgeForm, BadgesForm, KudosForm, PreferencesForm, ReactionForm
from helpdesk_recognition.inputs import get_by_id, parse_id, parse_small
from helpdesk_recognition.models import Award, BadgeConfig, Kudos, Preference
from helpdesk_recognition.notices import mark_all_read
from helpdesk_recognition.privacy import can_see, choices, leads

bp = Blueprint("recognition", __name__, url_prefix="/recognition", template_folder="templates",
               static_folder="static")

FORM_FIELDS = {"recipient": "kudos_recipient", "message": "kudos_message", "value": "kudos_value"}


def _page() -> int:
    return parse_page(request.args.get("page"))


def _safe_back(target: str | None, default: str) -> str:
    """Only a local path: a crafted form must not turn us into an open redirect."""
    if (not target or not target.startswith("/") or target.startswith("//") or "\\" in target
            or any(ord(c) < 0x20 or ord(c) == 0x7F for c in target)):
        return default
    return target


def _ticket_from_reference(reference: str | None) -> Ticket | None:
    ticket_id = parse_id((reference or "").rpartition("-")[2])
    if ticket_id is None:
        return None
    return db_session().scalar(visible_tickets(current_user).where(Ticket.id == ticket_id))


def _common() -> dict:
    return {"leaderboard_on": bool(get_setting(PLUGIN, "leaderboard_enabled")), "reactions": REACTIONS,
            "max_message": MAX_MESSAGE, "badges": BADGES, "award_detail": milestones.detail_label}


# ------------------------------------------------------------------ feed


@bp.get("/")
@staff_required
def feed_index() -> str:
    team_id = parse_id(request.args.get("team"))
    value = request.args.get("value", "").strip().lower()
    value = value if value in value_tags() else ""
    page = _page()
    items, has_next = feed.feed_page(current_user, team_id=team_id, value=value or None, page=page)
    teams = list(db_session().scalars(select(Team).order_by(Team.name)))
    query = urlencode({k: v for k, v in (("team", team_id or ""), ("value", value)) if v})
    return render_template("recognition/feed.html", items=items, has_next=has_next, page=page, teams=teams,
                           team_id=team_id, value=value, values=value_tags(), qs=query,
                           filtered=bool(team_id or value), **_common())


# ------------------------------------------------------------------ profiles


@bp.get("/agents/<int:user_id>")
@staff_required
def profile(user_id: int) -> str:
    person = get_by_id(User, user_id)
    if person is None or not person.is_staff:
        abort(404)
    visible = can_see(current_user, person.id)
    page = _page()
    items, has_next = (feed.feed_page(current_user, recipient_id=person.id, page=page)
                       if visible else ([], False))
    awards = list(db_session().scalars(select(Award).where(Award.user_id == person.id)
                                     .order_by(Award.created_at.desc()))) if visible else []
    form = KudosForm(formdata=None).fill_choices(current_user)
    form.kudos_recipient.data = str(person.id)
    return render_template(
        "recognition/profile.html", person=person, visible=visible, is_self=person.id == current_user.id,
        is_lead=leads(current_user.id, person.id), private=not choices(person.id).public,
        stats=stats.profile_stats(person) if visible else None, awards=awards,
        items=items, has_next=has_next, page=page, form=form, **_common())


# ------------------------------------------------------------------ giving kudos


@bp.route("/kudos/new", methods=["GET", "POST"])
@staff_required
def give():
    form = KudosForm().fill_choices(current_user)
    if request.method == "GET":
        form.kudos_recipient.data = request.args.get("to", "")
        form.kudos_ticket.data = request.args.get("ticket", "")
    ticket = _ticket_from_reference(form.kudos_ticket.data)
    if request.method == "POST" and form.validate_on_submit():
        try:
            given = kudos.give_peer_kudos(current_user, form.kudos_recipient.data, form.kudos_message.data,
                                          form.kudos_value.data, ticket=ticket)
        except kudos.KudosError:
            pass  # every error is shown next to its field below
        else:
            flash(gettext("Kudos sent to %(name)s.", name=given.recipient.name), "success")
            if ticket is not None:
                return redirect(url_for("agent.ticket", reference=ticket.reference))
            return redirect(url_for("recognition.profile", user_id=given.recipient_id))
        errors = kudos.validate_peer_kudos(current_user, form.kudos_recipient.data, form.kudos_message.data,
                                           form.kudos_value.data)
        for field, message in errors.items():
            getattr(form, FORM_FIELDS[field]).errors = [message]
    status = 422 if request.method == "POST" else 200
    return render_template("recognition/give.html", form=form, ticket=ticket, **_common()), status


# ------------------------------------------------------------------ reactions and notifications


@bp.post("/kudos/<int:kudos_id>/react")
@staff_required
def react(kudos_id: int):
    row = get_by_id(Kudos, kudos_id)
    if row is None or not can_see(current_user, row.recipient_id):
        abort(404)
    form = ReactionForm()
    back = _safe_back(request.form.get("back"), url_for("recognition.feed_index"))
    if not form.validate_on_submit() or kudos.toggle_reaction(row, current_user, form.emoji.data) is None:
        flash(gettext("Choose one of the reactions shown under the kudos."), "danger")
        return redirect(back)
    return redirect(back + f"#kudos-{row.id}")


@bp.post("/notifications/read")
@staff_required
def notifications_read():
    count = mark_all_read(current_user.id)
    flash(ngettext("%(num)d notification marked as read.", "%(num)d notifications marked as read.", count) if count
          else gettext("No unread notifications."), "success")
    return redirect(_safe_back(request.form.get("back"), url_for("agent.dashboard")))


# ------------------------------------------------------------------ leaderboard


@bp.get("/leaderboard")
@staff_required
def leaderboard() -> str:
    if not get_setting(PLUGIN, "leaderboard_enabled"):
        return render_template("recognition/leaderboard_off.html", **_common())
    kind = request.args.get("period", "month")
    kind = kind if kind in stats.PERIODS else "month"
    back = parse_small(request.args.get("back"), 0, 40)
    period = stats.viewers_period(kind, utcnow(), back, current_user)
    sort = request.args.get("sort", "kudos")
    sort = sort if sort in stats.SORTS else "kudos"
    rows = sorted(stats.leaderboard(current_user, period), key=stats.SORTS[sort][1])

    def chart(title: str, key, shown, css: str):
        ordered = sorted(rows, key=lambda r: (-(key(r) or 0), r.user.name))
        return {"title": title, "svg": charts.bar_chart(
            [(r.user.name, key(r), shown(r)) for r in ordered], title=title, css_class=css)}

    measures = [
        chart(gettext("Kudos received"), lambda r: r.kudos, lambda r: str(r.kudos), "chart-kudos"),
        chart(gettext("Five-star ratings"), lambda r: r.five_star, lambda r: str(r.five_star), "chart-five-star"),
        chart(gettext("Tickets resolved (not reopened)"), lambda r: r.resolved, lambda r: str(r.resolved),
              "chart-resolved"),
        chart(gettext("Median first response"), lambda r: r.median_first_response,
              lambda r: stats.format_minutes(r.median_first_response), "chart-first-response"),
    ]
    return render_template("recognition/leaderboard.html", rows=rows, period=period, kind=kind, back=back,
                           sort=sort, sorts=stats.SORTS, periods=stats.PERIODS, measures=measures,
                           format_minutes=stats.format_minutes, **_common())


# ------------------------------------------------------------------ preferences


@bp.route("/preferences", methods=["GET", "POST"])
@staff_required
def preferences():
    current = choices(current_user.id)
    form = PreferencesForm()
    if request.method == "GET":
        form.visibility.data = "public" if current.public else "private"
        form.email_notifications.data = current.email_notifications
        form.digest.data = current.digest
    elif form.validate_on_submit():
        if form.visibility.data not in ("public", "private"):
            form.visibility.errors = ["Choose who sees your recognition."]
        else:
            row = db_session().get(Preference, current_user.id) or Preference(user_id=current_user.id)
            row.public = form.visibility.data == "public"
            row.email_notifications = bool(form.email_notifications.data)
            row.digest = bool(form.digest.data)
            row.updated_at = utcnow()
            db_session().add(row)
            db_session().commit()
            flash(gettext("Your recognition preferences are saved."), "success")
            return redirect(url_for("recognition.preferences"))
    status = 422 if request.method == "POST" else 200
    return render_template("recognition/preferences.html", form=form, **_common()), status


# ------------------------------------------------------------------ admin: milestone badges


@bp.route("/admin/badges", methods=["GET", "POST"])
@admin_required
def badges():
    outer = BadgesForm()
    current = milestones.badge_settings()
    forms = {}
    for key in BADGES:
        if request.method == "POST":
            forms[key] = BadgeForm(request.form, prefix=key)
        else:
            enabled, threshold = current[key]
            forms[key] = BadgeForm(prefix=key, data={"enabled": enabled, "threshold": threshold})
    if request.method == "POST":
        valid = outer.validate_on_submit()
        valid = all([f.validate() for f in forms.values()]) and valid
        if valid:
            before, after = {}, {}
            for key, f in forms.items():
                row = db_session().get(BadgeConfig, key) or BadgeConfig(key=key)
                before[key] = {"enabled": current[key][0], "threshold": current[key][1]}
                row.enabled, row.threshold, row.updated_at = bool(f.enabled.data), f.threshold.data, utcnow()
                after[key] = {"enabled": row.enabled, "threshold": row.threshold}
                db_session().add(row)
            record_config_change("recognition.badges", "changed", "milestone badges", before, after)
            db_session().commit()
            flash(gettext("Milestone badges saved."), "success")
            return redirect(url_for("recognition.badges"))
        flash(gettext("Some thresholds need fixing: see below."), "danger")
    status = 422 if request.method == "POST" else 200
    return render_template("recognition/badges.html", outer=outer, forms=forms,
                           describe=milestones.describe, current=current, **_common()), status
