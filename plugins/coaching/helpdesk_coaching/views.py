"""Coaching pages (staff only): my reviews, review a ticket, read and answer a review, the review
queue, growth pages, the scorecard (admins) and the ticket page's lazy panel."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from helpdesk.plugin_api import (
    Message,
    Ticket,
    User,
    admin_required,
    db_session,
    get_by_id,
    get_setting,
    gettext,
    is_enabled,
    staff_required,
)
from helpdesk_coaching import growth as growth_mod
from helpdesk_coaching import people, reviews, suggestions
from helpdesk_coaching.config import MAX_COMMENT, PLUGIN, SCORES
from helpdesk_coaching.models import Review, ReviewScore, ScorecardItem

bp = Blueprint("coaching", __name__, url_prefix="/coaching", template_folder="templates", static_folder="static")


def _review_or_404(review_id: int) -> Review:
    review = db_session().scalar(select(Review).where(Review.id == review_id).options(
        selectinload(Review.scores).selectinload(ReviewScore.item), selectinload(Review.replies),
        selectinload(Review.ticket), selectinload(Review.agent), selectinload(Review.reviewer)))
    if review is None or not people.can_read(current_user, review):
        abort(404)
    return review


@bp.context_processor
def _coaching_context() -> dict:
    """``can_suggest()`` for the tabs: asked only when a coaching page draws them."""
    def can_suggest() -> bool:
        return people.is_a_lead(current_user) or bool(get_setting(PLUGIN, "peer_reviews"))

    return {"can_suggest": can_suggest}


def _hidden(rows: list[Review]) -> set[int]:
    """The ids of ``rows`` the reader may not see yet (blind calibration)."""
    reviewed = people.reviewed_tickets(current_user)
    return {r.id for r in rows if people.hidden_for(current_user, r, reviewed)}


def _ticket_or_404(ticket_id: int) -> Ticket:
    ticket = get_by_id(Ticket, ticket_id)
    if ticket is None or people.may_review(current_user, ticket) == "not found":
        abort(404)
    return ticket


# ------------------------------------------------------------------ my reviews


@bp.get("/")
@staff_required
def index() -> str:
    received = list(db_session().scalars(select(Review).where(Review.agent_id == current_user.id)
                                         .order_by(Review.created_at.desc()).limit(50)
                                         .options(selectinload(Review.ticket), selectinload(Review.reviewer),
                                                  selectinload(Review.scores))))
    given = list(db_session().scalars(select(Review).where(Review.reviewer_id == current_user.id)
                                      .order_by(Review.created_at.desc()).limit(50)
                                      .options(selectinload(Review.ticket), selectinload(Review.agent),
                                               selectinload(Review.scores))))
    team = people.led_agents(current_user) if people.is_a_lead(current_user) else []
    return render_template("coaching/index.html", received=received, given=given, team=team)


# ------------------------------------------------------------------ reviewing


@bp.route("/tickets/<int:coaching_ticket>/review", methods=["GET", "POST"])
@staff_required
def new_review(coaching_ticket: int):
    ticket = _ticket_or_404(coaching_ticket)
    mine = db_session().scalar(select(Review.id).where(Review.ticket_id == ticket.id,
                                                       Review.reviewer_id == current_user.id).limit(1))
    if mine is not None:
        flash(gettext("You reviewed %(reference)s already: here is your review.", reference=ticket.reference), "info")
        return redirect(url_for("coaching.review", coaching_review=mine))
    refusal = people.may_review(current_user, ticket)
    messages = list(db_session().scalars(select(Message).where(Message.ticket_id == ticket.id)
                                         .options(selectinload(Message.author)).order_by(Message.id)))
    items = reviews.active_items()
    focus = reviews.current_focus(ticket.assignee_id) if ticket.assignee_id else None
    errors: dict[str, str] = {}
    if request.method == "POST" and refusal is None:
        data = reviews.ReviewInput(
            items=[reviews.ItemInput(item.id, request.form.get(f"score_{item.id}", ""),
                                     request.form.get(f"comment_{item.id}", ""),
                                     request.form.get(f"message_{item.id}", "")) for item in items],
            overall=request.form.get("overall", ""), suggestion=request.form.get("suggestion", ""))
        try:
            review = reviews.create_review(current_user, ticket, data)
        except reviews.Invalid as refused:
            errors = refused.errors
        else:
            flash(gettext("Review sent to %(name)s.", name=review.agent.name), "success")
            return redirect(url_for("coaching.review", coaching_review=review.id))
    # A refusal (open ticket, own ticket) is a 403 page that says why; refused input is a 400.
    status = 403 if refusal else 400 if errors else 200
    return render_template("coaching/new_review.html", ticket=ticket, messages=messages, items=items,
                           focus=focus, errors=errors, form=request.form, refusal=refusal, scores=SCORES,
                           max_comment=MAX_COMMENT), status


@bp.get("/reviews/<int:coaching_review>")
@staff_required
def review(coaching_review: int) -> str:
    r = _review_or_404(coaching_review)
    if people.hidden_for(current_user, r, people.reviewed_tickets(current_user)):
        return render_template("coaching/review_hidden.html", review=r)
    messages = {m.id: m for m in db_session().scalars(select(Message).where(Message.ticket_id == r.ticket_id))}
    return render_template("coaching/review.html", review=r, messages=messages, scores=SCORES,
                           is_agent=r.agent_id == current_user.id, errors={}, max_comment=MAX_COMMENT)


@bp.post("/reviews/<int:coaching_review>/reply")
@staff_required
def reply(coaching_review: int):
    r = _review_or_404(coaching_review)
    if people.hidden_for(current_user, r, people.reviewed_tickets(current_user)):
        abort(404)  # blind calibration: nothing to answer before your own review
    try:
        reviews.add_reply(r, current_user, request.form.get("body", ""), request.form.get("dispute") == "1")
    except reviews.Invalid as refused:
        messages = {m.id: m for m in db_session().scalars(select(Message).where(Message.ticket_id == r.ticket_id))}
        return render_template("coaching/review.html", review=r, messages=messages, scores=SCORES,
                               is_agent=r.agent_id == current_user.id, errors=refused.errors,
                               body=request.form.get("body", ""), max_comment=MAX_COMMENT), 400
    flash(gettext("Your reply was added."), "success")
    return redirect(url_for("coaching.review", coaching_review=r.id) + "#replies")


@bp.post("/reviews/<int:coaching_review>/read")
@staff_required
def mark_read(coaching_review: int):
    r = _review_or_404(coaching_review)
    if reviews.mark_read(r, current_user):
        flash(gettext("Marked as read."), "success")
    return redirect(url_for("coaching.review", coaching_review=r.id))


# ------------------------------------------------------------------ what to review


@bp.get("/suggestions")
@staff_required
def suggested() -> str:
    if people.is_a_lead(current_user):
        agents = people.led_agents(current_user)
    elif get_setting(PLUGIN, "peer_reviews"):
        agents = [u for u in db_session().scalars(select(User).where(
            User.role.in_(("agent", "admin")), User.active.is_(True)).order_by(User.name)) if u.id != current_user.id]
    else:
        abort(404)
    items, total = suggestions.suggest(agents)
    return render_template("coaching/suggestions.html", items=items, total=total,
                           labels=suggestions.REASON_LABELS, agents=agents)


# ------------------------------------------------------------------ growth


@bp.get("/agents/<int:user_id>")
@staff_required
def growth(user_id: int) -> str:
    agent = get_by_id(User, user_id)
    if agent is None or not agent.is_staff or not (agent.id == current_user.id or people.leads(current_user, agent.id)):
        abort(404)
    data = growth_mod.growth(agent.id, current_user)
    focus = reviews.current_focus(agent.id)
    can_set = agent.id != current_user.id and people.leads(current_user, agent.id)
    return render_template("coaching/growth.html", agent=agent, data=data, focus=focus, can_set=can_set,
                           hidden=_hidden(data.reviews),
                           items=reviews.active_items() if can_set else [], errors={}, form={},
                           recognition=is_enabled("recognition"))


@bp.post("/agents/<int:user_id>/focus")
@staff_required
def set_focus(user_id: int):
    agent = get_by_id(User, user_id)
    if agent is None or not agent.is_staff or agent.id == current_user.id or not people.leads(current_user, agent.id):
        abort(404)
    try:
        reviews.set_focus(current_user, agent, request.form.get("focus_item", ""), request.form.get("focus_note", ""),
                          request.form.get("focus_checkin", ""))
    except reviews.Invalid as refused:
        data = growth_mod.growth(agent.id, current_user)
        return render_template("coaching/growth.html", agent=agent, data=data, focus=reviews.current_focus(agent.id),
                               hidden=_hidden(data.reviews),
                               can_set=True, items=reviews.active_items(), errors=refused.errors, form=request.form,
                               recognition=is_enabled("recognition")), 400
    flash(gettext("Focus agreed with %(name)s.", name=agent.name), "success")
    return redirect(url_for("coaching.growth", user_id=agent.id))


# ------------------------------------------------------------------ ticket page (lazy panel)


@bp.get("/tickets/<int:coaching_ticket>/panel")
@staff_required
def panel(coaching_ticket: int) -> str:
    """What the ticket page's placeholder loads after the page: reviews of this ticket the reader may see."""
    from helpdesk.plugin_api import can_see_ticket

    ticket = get_by_id(Ticket, coaching_ticket)
    if ticket is None or not can_see_ticket(current_user, ticket):
        abort(404)
    visible = list(db_session().scalars(select(Review).where(Review.ticket_id == ticket.id,
                                                             people.readable_reviews(current_user))
                                        .options(selectinload(Review.reviewer), selectinload(Review.scores))
                                        .order_by(Review.id)))
    mine = any(r.reviewer_id == current_user.id for r in visible)
    return render_template("coaching/panel.html", ticket=ticket, reviews=visible, hidden=_hidden(visible),
                           can_review=not mine and people.may_review(current_user, ticket) is None)


@bp.get("/tickets/<int:coaching_ticket>/compare")
@staff_required
def compare(coaching_ticket: int) -> str:
    """Calibration: the reviews of one ticket side by side, item by item, with the disagreements marked."""
    from helpdesk.plugin_api import can_see_ticket

    ticket = get_by_id(Ticket, coaching_ticket)
    if ticket is None or not can_see_ticket(current_user, ticket):
        abort(404)
    visible = list(db_session().scalars(select(Review).where(Review.ticket_id == ticket.id,
                                                             people.readable_reviews(current_user))
                                        .options(selectinload(Review.reviewer), selectinload(Review.agent),
                                                 selectinload(Review.scores).selectinload(ReviewScore.item))
                                        .order_by(Review.id)))
    hidden = _hidden(visible)
    shown = [r for r in visible if r.id not in hidden]
    if not shown:
        abort(404)
    return render_template("coaching/compare.html", ticket=ticket, reviews=shown, rows=calibration_rows(shown),
                           hidden=len(hidden), scores=SCORES)


def calibration_rows(shown: list[Review]) -> list[dict]:
    """One row per scorecard item: each reviewer's rating and whether they disagree."""
    items: dict[int, ScorecardItem] = {}
    for r in shown:
        for s in r.scores:
            items.setdefault(s.item_id, s.item)
    rows = []
    for item_id, item in sorted(items.items(), key=lambda kv: (kv[1].position, kv[0])):
        ratings = [next((s.score for s in r.scores if s.item_id == item_id), None) for r in shown]
        rated = [x for x in ratings if x is not None]
        rows.append({"item": item, "ratings": ratings, "disagree": len(set(rated)) > 1,
                     "spread": (max(rated) - min(rated)) if rated else 0})
    return rows


# ------------------------------------------------------------------ scorecard (admins)


@bp.route("/scorecard", methods=["GET", "POST"])
@admin_required
def scorecard():
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            item = reviews.add_item(request.form.get("label", ""), request.form.get("description", ""))
        except reviews.Invalid as refused:
            errors = refused.errors
        else:
            flash(gettext("Added “%(label)s”.", label=item.label), "success")
            return redirect(url_for("coaching.scorecard"))
    return render_template("coaching/scorecard.html", items=reviews.all_items(), errors=errors,
                           form=request.form), 400 if errors else 200


@bp.post("/scorecard/<int:coaching_item>")
@admin_required
def scorecard_item(coaching_item: int):
    item = get_by_id(ScorecardItem, coaching_item)
    if item is None:
        abort(404)
    action = request.form.get("action", "save")
    if action in ("up", "down"):
        reviews.move_item(item, -1 if action == "up" else 1)
        return redirect(url_for("coaching.scorecard"))
    try:
        reviews.edit_item(item, request.form.get("label", item.label), request.form.get("description", ""),
                          request.form.get("active") == "1")
    except reviews.Invalid as refused:
        db_session().rollback()
        return render_template("coaching/scorecard.html", items=reviews.all_items(), errors={},
                               item_errors={item.id: refused.errors}, form={}), 400
    flash(gettext("Saved “%(label)s”.", label=item.label), "success")
    return redirect(url_for("coaching.scorecard"))
