"""Announcements' pages (registered as ``core.announcements``, always on).

``/announcements``: admins and team leads write one, choose the segment, preview who gets it
(count, consent, the text as the first recipient reads it), then send; each announcement's
page lists every recipient's outcome. ``/unsubscribe/<unsubscribe_token>``: the signed link in every
announcement (a button: no change on GET). The portal shows the current banner on every page.
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy import func, select

from helpdesk.access import visible_tickets
from helpdesk.canned import translations_for
from helpdesk.extensions import db
from helpdesk.i18n import gettext
from helpdesk.markers import hookimpl
from helpdesk.models import Announcement, AnnouncementRecipient, Message, Organisation, Tag, Ticket, User
from helpdesk.numbers import parse_id, parse_page
from helpdesk.services import ServiceError
from helpdesk.services.announcements import (
    announcement_in,
    banner_text,
    check_segment,
    create_announcement,
    current_banner,
    describe_segment,
    end_banner,
    may_announce,
    preview,
    read_unsubscribe_token,
    send_progress,
    start_sending,
)
from helpdesk.services.profiles import withdraw_consent
from helpdesk.services.translations import language_texts, texts_from_form
from helpdesk.web.forms import ConfirmForm

bp = Blueprint("announcements", __name__)
PAGE = 100


def announcer_required(view: Callable) -> Callable:
    @functools.wraps(view)
    @login_required
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not may_announce(current_user):
            abort(404)
        return view(*args, **kwargs)

    return wrapped


def _segment_from_form() -> dict[str, Any]:
    kind = request.form.get("segment_kind", "")
    if kind == "organisation":
        return {"organisation_id": parse_id(request.form.get("organisation_id", "")) or 0}
    if kind == "tag":
        return {"tag": request.form.get("tag", ""), "open_only": request.form.get("open_only") == "1"}
    if kind == "open_tickets":
        return {"open_tickets": True}
    if kind == "field":
        return {"field": request.form.get("field", ""), "value": request.form.get("value", ""),
                "since": request.form.get("since", "")}
    if kind == "checkin":
        return {"field": request.form.get("checkin_field", ""), "days_after": request.form.get("days_after", "")}
    return {}


@bp.route("/announcements", methods=["GET", "POST"])
@announcer_required
def index():
    shown = None
    text_errors: dict[str, str] = {}
    if request.method == "POST":
        if not ConfirmForm().validate_on_submit():
            abort(400)
        subject, body = request.form.get("subject", ""), request.form.get("body", "")
        banner = request.form.get("banner") == "1"
        translations = texts_from_form(request.form, with_subject=True)
        try:
            if request.form.get("action") == "preview":
                segment = check_segment(_segment_from_form())
                shown = {**preview(segment, subject, body, translations=translations),
                         "segment": describe_segment(segment)}
            else:
                announcement = create_announcement(current_user, subject=subject, body=body,
                                                   segment=_segment_from_form(), banner=banner,
                                                   translations=translations)
                flash(gettext("Announcement saved. Check the recipients, then send it."), "success")
                return redirect(url_for("announcements.detail", announcement_id=announcement.id))
        except (ServiceError, ValueError) as exc:
            db.session.rollback()
            message = getattr(exc, "message", str(exc))
            if (getattr(exc, "field", None) or "").startswith(("body_", "subject_")):
                text_errors[str(getattr(exc, "field", ""))] = message
            flash(message, "danger")
    counts = dict(db.session.execute(select(AnnouncementRecipient.announcement_id, func.count())
                                     .where(AnnouncementRecipient.status == "sent")
                                     .group_by(AnnouncementRecipient.announcement_id)).all())
    rows = list(db.session.scalars(select(Announcement).order_by(Announcement.id.desc()).limit(50)))
    return render_template("announcements/index.html", rows=rows, counts=counts, shown=shown, form=ConfirmForm(),
                           texts=language_texts("announcement", None), text_errors=text_errors,
                           organisations=list(db.session.scalars(select(Organisation).order_by(Organisation.name))),
                           values=request.form, describe=describe_segment)


def _announcement_or_404(announcement_id: int) -> Announcement:
    announcement = db.session.get(Announcement, announcement_id)
    if announcement is None:
        abort(404)
    return announcement


@bp.get("/announcements/<int:announcement_id>")
@announcer_required
def detail(announcement_id: int):
    announcement = _announcement_or_404(announcement_id)
    page = parse_page(request.args.get("page"))
    rows = list(db.session.execute(
        select(AnnouncementRecipient, User).join(User, User.id == AnnouncementRecipient.customer_id)
        .where(AnnouncementRecipient.announcement_id == announcement.id).order_by(AnnouncementRecipient.id)
        .offset((page - 1) * PAGE).limit(PAGE + 1)))
    totals = dict(db.session.execute(select(AnnouncementRecipient.status, func.count())
                                     .where(AnnouncementRecipient.announcement_id == announcement.id)
                                     .group_by(AnnouncementRecipient.status)).all())
    replies = _replies(announcement)
    pending = preview(announcement.segment, announcement.subject, announcement.body)
    return render_template("announcements/detail.html", a=announcement,
                           texts=sorted(translations_for("announcement", announcement.id).values(),
                                        key=lambda t: t.language), progress=send_progress(announcement),
                           rows=rows[:PAGE], has_next=len(rows) > PAGE,
                           page=page, totals=totals, replies=replies, pending=pending,
                           segment=describe_segment(announcement.segment), form=ConfirmForm())


def _replies(announcement: Announcement) -> list[Ticket]:
    return list(db.session.scalars(visible_tickets(current_user).where(
        Ticket.tags.any(Tag.name == f"announcement-{announcement.id}")).order_by(Ticket.id.desc()).limit(50)))


@bp.post("/announcements/<int:announcement_id>/send")
@announcer_required
def send(announcement_id: int):
    announcement = _announcement_or_404(announcement_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    start_sending(announcement, current_user)
    flash(gettext("Sending to everyone in the segment not written to yet: the progress is shown below."), "success")
    return redirect(url_for("announcements.detail", announcement_id=announcement.id))


@bp.post("/announcements/<int:announcement_id>/end-banner")
@announcer_required
def end(announcement_id: int):
    announcement = _announcement_or_404(announcement_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    end_banner(announcement, current_user)
    flash(gettext("The banner is no longer shown."), "success")
    return redirect(url_for("announcements.detail", announcement_id=announcement.id))


@bp.route("/unsubscribe/<unsubscribe_token>", methods=["GET", "POST"])
def unsubscribe(unsubscribe_token: str):
    found = read_unsubscribe_token(unsubscribe_token)
    customer = db.session.get(User, found[0]) if found else None
    if found is None or customer is None or customer.role != "customer":
        return render_template("announcements/unsubscribe.html", invalid=True, done=False), 404
    done = False
    if request.method == "POST":
        if not ConfirmForm().validate_on_submit():
            abort(400)
        withdraw_consent(customer, found[1])
        done = True
    return render_template("announcements/unsubscribe.html", invalid=False, done=done, form=ConfirmForm(),
                           customer=customer)


def status_banner() -> Markup:
    """The ongoing incident's banner, on portal and public pages (never a query on agents' pages)."""
    if getattr(current_user, "is_backoffice", False):
        return Markup("")
    banner = current_banner()
    if banner is None:
        return Markup("")
    subject, text = banner_text(banner, current_user if getattr(current_user, "is_authenticated", False) else None)
    return Markup(render_template("announcements/banner.html", banner=banner, subject=subject,  # noqa: S704
                                  text=text))  # escaped by Jinja


# ------------------------------------------------------------------ hooks


@hookimpl
def helpdesk_blueprints() -> list[Blueprint]:
    return [bp]


@hookimpl
def helpdesk_classify_ticket(ticket: Ticket, message: Message) -> dict[str, Any] | None:
    """A new ticket answering an announcement is tagged ``announcement-<id>`` (linked to it)."""
    number = announcement_in(f"{ticket.subject}\n{message.body[:2000]}")
    return {"tags": [f"announcement-{number}"]} if number else None


@hookimpl
def helpdesk_nav_links(user: User) -> list[tuple[str, str]] | None:
    # Admins only here: asking whether an agent leads a team would cost every page a query
    # (team leads open /announcements from their dashboard link).
    return [(gettext("Announcements"), url_for("announcements.index"))] if user.is_admin else None
