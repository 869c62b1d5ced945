"""Customers' pages: the survey page behind the one-click links, unsubscribe, portal feedback.

Mail security scanners fetch every link in a mail. So a GET never records anything: it
shows the page with the clicked score chosen and a "Send" button; a small script
(``static/autosubmit.js``) presses it when a person's browser shows the page. Posting a
different score later updates the one answer of the invitation.
"""
from __future__ import annotations

from datetime import timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.exceptions import TooManyRequests

from helpdesk.plugin_api import db_session, gettext, lazy_gettext, parse_int, services, throttle, utcnow
from helpdesk_surveys.blueprint import bp
from helpdesk_surveys.config import setting, survey_type
from helpdesk_surveys.forms import AnswerForm, CommentForm, ConfirmForm, FeedbackForm
from helpdesk_surveys.models import SCALES, SurveyFollowUp, SurveyInvitation
from helpdesk_surveys.responses import AnswerError, add_comment, record_answer
from helpdesk_surveys.scheduling import contact, set_timezone, unsubscribe
from helpdesk_surveys.sending import score_labels
from helpdesk_surveys.tokens import read_token

PROBLEMS = {
    # problem: (HTTP status, title, explanation)
    "tampered": (400, lazy_gettext("This survey link is not valid"),
                 lazy_gettext("The link is incomplete or was changed. Copy the whole link from the email, "
                              "or simply ignore it.")),
    "expired": (410, lazy_gettext("This survey has closed"),
                lazy_gettext("The link is older than the survey's validity, so it no longer takes answers. "
                             "Thank you all the same.")),
    "withdrawn": (410, lazy_gettext("This survey was withdrawn"),
                  lazy_gettext("The request it asks about was reopened, so we will ask again once it is resolved.")),
    "unknown": (404, lazy_gettext("This survey does not exist any more"),
                lazy_gettext("We could not find the survey this link belongs to.")),
    "wrong_customer": (403, lazy_gettext("This survey is for someone else"),
                       lazy_gettext("You are signed in as another customer than the one we asked. Sign out to "
                                    "answer it, or ignore it.")),
}


# Answers and comments through one survey link (shared by every web process): a person
# changes their mind a few times; a script posting scores in a loop is paused, longer each time.
ANSWERS_PER_LINK = throttle.Limit("survey-answer", attempts=10, window=timedelta(minutes=10),
                                  lockout=timedelta(minutes=5))


def _count_answer(invitation: SurveyInvitation) -> None:
    wait = throttle.attempt(ANSWERS_PER_LINK, f"invitation:{invitation.id}",
                            label=f"survey invitation {invitation.id}")
    if wait:
        raise TooManyRequests(gettext("Too many answers to this survey. Try again in %(wait)s.",
                                      wait=throttle.wait_text(wait)),
                              retry_after=wait)


def _problem(problem: str, invitation: SurveyInvitation | None = None):
    """The page for a link that takes no answer. It says what this link recorded before (an
    answer given before the ticket was reopened is kept: it is real feedback, and a low one
    has already opened a follow-up case someone works on) and never claims "nothing" then."""
    code, title, text = PROBLEMS[problem]
    kept = invitation.response if invitation is not None and problem in ("withdrawn", "expired") else None
    case = None
    if kept is not None:
        case = db_session().scalar(select(SurveyFollowUp).where(SurveyFollowUp.response_id == kept.id))
        if problem == "withdrawn":
            text = gettext("The request it asks about was reopened, so this link takes no more answers; "
                           "we will ask again once it is resolved.")
    labels = dict(score_labels(invitation.kind)) if kept is not None and invitation is not None else {}
    return render_template("surveys/problem.html", title=title, text=text, problem=problem, kept=kept,
                           kept_label=labels.get(kept.score) if kept is not None else None, case=case), code


def _invitation(token: str, *, for_unsubscribe: bool = False) -> tuple[SurveyInvitation | None, str | None]:
    """The invitation behind a link, or the problem with the link. Unsubscribe links never expire."""
    check = read_token(token, None if for_unsubscribe else setting("validity_days"))
    if check.problem:
        return None, check.problem
    invitation = db_session().get(SurveyInvitation, check.invitation_id)
    if invitation is None or invitation.customer_id != check.customer_id:
        return None, "unknown"
    if (current_user.is_authenticated and not current_user.is_staff
            and current_user.id != invitation.customer_id):
        return None, "wrong_customer"
    if for_unsubscribe:
        return invitation, None
    if invitation.status in ("cancelled", "invalidated"):
        return invitation, "withdrawn"  # the invitation too: the page says what it recorded before
    if invitation.status != "sent":
        return None, "unknown"
    if invitation.expires_at is not None and invitation.expires_at < utcnow():
        return invitation, "expired"
    return invitation, None


def _requested_score(kind: str) -> int | None:
    low, high = SCALES[kind]
    return parse_int(request.args.get("score"), low, high)


@bp.route("/s/<survey_token>", methods=["GET", "POST"])
def answer(survey_token: str):
    invitation, problem = _invitation(survey_token)
    if problem:
        return _problem(problem, invitation)
    form = AnswerForm()
    response = invitation.response
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            _count_answer(invitation)
            try:
                response, outcome = record_answer(invitation, form.score.data)
            except AnswerError as exc:
                form.score.errors = [str(exc)]
                status = 422
            else:
                if form.tz.data:
                    set_timezone(invitation.customer_id, form.tz.data.strip()[:64])
                    db_session().commit()
                flash({"new": gettext("Thank you! Your answer is recorded."),
                       "changed": gettext("Thank you! Your answer is updated."),
                       "same": gettext("Your answer was already recorded. Thank you!")}[outcome], "success")
                return redirect(url_for("surveys.answer", survey_token=survey_token))
        else:
            status = 400 if form.csrf_token.errors else 422
    chosen = _requested_score(invitation.kind)
    # The page presses "Send" by itself only for a fresh click that changes something.
    auto = chosen is not None and (response is None or response.score != chosen) and request.method == "GET"
    if chosen is None and response is not None:
        chosen = response.score
    return render_template(
        "surveys/answer.html", invitation=invitation, kind_type=survey_type(invitation.kind), form=form,
        response=response, chosen=chosen, auto=auto, labels=score_labels(invitation.kind),
        comment_form=CommentForm(comment=response.comment if response else ""), token=survey_token), status


@bp.post("/s/<survey_token>/comment")
def comment(survey_token: str):
    invitation, problem = _invitation(survey_token)
    if problem:
        return _problem(problem, invitation)
    form = CommentForm()
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400)
        return _answer_page_with(invitation, survey_token, form, 422)
    _count_answer(invitation)
    try:
        add_comment(invitation, form.comment.data)
    except AnswerError as exc:
        if invitation.response is None:  # no comment box yet: say it where the score is chosen
            return _answer_page_with(invitation, survey_token, form, 409, score_error=str(exc))
        form.comment.errors = [str(exc)]
        return _answer_page_with(invitation, survey_token, form, 422)
    flash(gettext("Thank you for your comment."), "success")
    return redirect(url_for("surveys.answer", survey_token=survey_token))


def _answer_page_with(invitation: SurveyInvitation, token: str, comment_form: CommentForm, status: int,
                      score_error: str | None = None):
    response = invitation.response
    form = AnswerForm(formdata=None)
    if score_error:
        form.score.errors = [score_error]
    return render_template(
        "surveys/answer.html", invitation=invitation, kind_type=survey_type(invitation.kind), form=form,
        response=response, chosen=response.score if response else None, auto=False,
        labels=score_labels(invitation.kind), comment_form=comment_form, token=token), status


@bp.route("/s/<survey_token>/unsubscribe", methods=["GET", "POST"])
def unsubscribe_page(survey_token: str):
    invitation, problem = _invitation(survey_token, for_unsubscribe=True)
    if problem:
        return _problem(problem)
    form = ConfirmForm()
    found = contact(invitation.customer_id)
    done = found is not None and found.unsubscribed_at is not None
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        if not done:
            unsubscribe(invitation.customer_id)
        flash(gettext("You are unsubscribed: we will not send you surveys any more."), "success")
        return redirect(url_for("surveys.unsubscribe_page", survey_token=survey_token))
    return render_template("surveys/unsubscribe.html", form=form, done=done)


@bp.route("/surveys/feedback", methods=["GET", "POST"])
@login_required
def feedback():
    if current_user.role != "customer":
        abort(404)
    form = FeedbackForm()
    if form.validate_on_submit():
        try:
            services.record_feedback(current_user, "comment", comment=form.comment.data, source="portal")
        except services.ServiceError as exc:
            form.comment.errors = [exc.message]
        else:
            flash(gettext("Thank you for your feedback. We read every message."), "success")
            return redirect(url_for("surveys.feedback"))
    return render_template("surveys/feedback.html", form=form), 422 if form.errors else 200
