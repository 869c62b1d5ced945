"""The help centre (``/help``, public unless the setting says otherwise) and the staff pages
(``/knowledge``): writing, the workflow, revisions, categories, suggestions and deflection."""
from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import current_user
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from helpdesk.plugin_api import (
    Message,
    ServiceError,
    Ticket,
    backoffice_required,
    db_session,
    external_url,
    gettext,
    limiter,
    local_number,
    parse_id,
    services,
    stored_file,
    visible_tickets,
)
from helpdesk_knowledge import images, search, stats
from helpdesk_knowledge.articles import (
    CREATED,
    change_status,
    from_reply_note,
    note_label,
    save_article,
    staff_articles,
    translations,
    visible_article,
    visible_articles,
)
from helpdesk_knowledge.config import MAX_COMMENT, is_editor, is_public, suggestion_count
from helpdesk_knowledge.models import (
    STATUS_LABELS,
    STATUSES,
    KnowledgeArticle,
    KnowledgeCategory,
    KnowledgeDeflection,
    KnowledgeImage,
    KnowledgeRevision,
    KnowledgeSearch,
    KnowledgeSection,
    KnowledgeVote,
)

bp = Blueprint("knowledge", __name__, template_folder="templates", static_folder="static",
               static_url_path="/knowledge/static")

ATTEMPT = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def _signed_in() -> bool:
    return bool(getattr(current_user, "is_authenticated", False))


def help_centre(view: Callable) -> Callable:
    """Anyone when the help centre is public; otherwise signed-in users (visitors sign in first)."""
    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not is_public() and not _signed_in():
            return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
        return view(*args, **kwargs)

    return wrapped


def editor_required(view: Callable) -> Callable:
    @functools.wraps(view)
    @backoffice_required
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not is_editor(current_user):
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def _categories() -> list[KnowledgeCategory]:
    return list(db_session().scalars(select(KnowledgeCategory).options(selectinload(KnowledgeCategory.sections))
                                     .order_by(KnowledgeCategory.position, KnowledgeCategory.id)))


# ------------------------------------------------------------------ help centre


@bp.route("/help")
@help_centre
def home():
    categories = _categories()
    visible = visible_articles(current_user).subquery()
    counts = dict(db_session().execute(
        select(KnowledgeSection.category_id, func.count()).join(visible, visible.c.section_id == KnowledgeSection.id)
        .group_by(KnowledgeSection.category_id)).all())
    popular = list(db_session().scalars(visible_articles(current_user)
                                        .order_by(KnowledgeArticle.views.desc(), KnowledgeArticle.id).limit(5)))
    return render_template("knowledge/home.html", categories=[c for c in categories if counts.get(c.id)],
                           counts=counts, popular=popular, editor=is_editor(current_user))


@bp.route("/help/categories/<int:category_id>")
@help_centre
def category(category_id: int):
    cat = db_session().get(KnowledgeCategory, category_id)
    if cat is None:
        abort(404)
    section_ids = [s.id for s in cat.sections]
    articles = list(db_session().scalars(visible_articles(current_user).where(
        KnowledgeArticle.section_id.in_(section_ids)).order_by(KnowledgeArticle.title))) if section_ids else []
    by_section: dict[int, list[KnowledgeArticle]] = {}
    for a in articles:
        by_section.setdefault(a.section_id or 0, []).append(a)
    return render_template("knowledge/category.html", category=cat, by_section=by_section)


@bp.route("/help/search")
@limiter.limit("60 per minute")  # each search is logged: a flood must not fill the table
@help_centre
def search_page():
    query = (request.args.get("q") or "").strip()[:200]
    results: list[KnowledgeArticle] = []
    related = False
    if query:
        results = search.search(visible_articles(current_user), query, mode="all", limit=30)
        if not results:
            results = search.search(visible_articles(current_user), query, mode="any", limit=10)
            related = bool(results)
    page = render_template("knowledge/search.html", query=query, results=results, related=related)
    if query and not (_signed_in() and current_user.is_backoffice):
        # Logged after rendering: a commit first would expire the results and reload each one.
        db_session().add(KnowledgeSearch(query=query, results=len(results)))
        db_session().commit()
    return page


@bp.route("/help/articles/<int:article_id>")
@help_centre
def article(article_id: int):
    art = visible_article(current_user, article_id)
    if art is None:
        abort(404)
    page = render_template("knowledge/article.html", article=art, others=translations(art, current_user),
                           voted=request.args.get("voted"), editor=is_editor(current_user))
    if not (_signed_in() and current_user.is_backoffice):
        db_session().execute(update(KnowledgeArticle).where(KnowledgeArticle.id == art.id)
                             .values(views=KnowledgeArticle.views + 1))
        db_session().commit()
    return page


@bp.route("/help/articles/<int:article_id>/feedback", methods=["POST"])
@limiter.limit("20 per minute")
@help_centre
def feedback(article_id: int):
    art = visible_article(current_user, article_id)
    if art is None:
        abort(404)
    answer = request.form.get("helpful")
    comment = (request.form.get("comment") or "").strip()
    back = url_for("knowledge.article", article_id=art.id)
    if answer not in ("yes", "no"):
        flash(gettext("Choose Yes or No."), "warning")
        return redirect(back)
    if len(comment) > MAX_COMMENT:
        flash(gettext("Your comment is too long (%(most)s characters at most). Nothing was saved.",
                      most=local_number(MAX_COMMENT)), "danger")
        return redirect(back)
    user_id = current_user.id if _signed_in() else None
    vote = KnowledgeVote(article_id=art.id, helpful=answer == "yes", comment=comment, user_id=user_id)
    db_session().add(vote)
    db_session().commit()
    if comment and _signed_in() and current_user.role == "customer":
        # Comments flow to the feedback listeners (surveys, insights, complaints) like any other.
        services.record_feedback(current_user, "comment", source="knowledge", reference=f"knowledge:vote:{vote.id}",
                                 comment=f"{'Helpful' if vote.helpful else 'Not helpful'}: "
                                         f"“{art.title}”: {comment}")
    flash(gettext("Thank you for your feedback."), "success")
    return redirect(back + "?voted=1")


@bp.route("/help/suggest")
@limiter.limit("120 per minute")
@help_centre
def suggest():
    """JSON: articles matching a customer's words (the new-ticket page asks while they type)."""
    text = (request.args.get("q") or "")[:2000]
    found = search.search(visible_articles(current_user), text, mode="any", limit=suggestion_count())
    return jsonify({"articles": [{"id": a.id, "title": a.title, "excerpt": _excerpt(a.body_text),
                                  "url": url_for("knowledge.article", article_id=a.id)} for a in found]})


@bp.route("/help/deflect", methods=["POST"])
@limiter.limit("20 per minute")
def deflect():
    """A customer says an article answered the question they were about to send; counted once per attempt."""
    if not _signed_in():
        return current_app.login_manager.unauthorized()
    if current_user.role != "customer":
        abort(404)
    attempt = request.form.get("attempt") or ""
    art = visible_article(current_user, parse_id(request.form.get("article_id")))
    if not ATTEMPT.match(attempt) or art is None:
        return jsonify({"error": gettext("Choose one of the suggested articles.")}), 400
    db_session().add(KnowledgeDeflection(attempt=attempt, article_id=art.id, user_id=current_user.id,
                                         query=(request.form.get("query") or "")[:500]))
    try:
        db_session().commit()
        counted = True
    except IntegrityError:  # the same attempt again (a second click, another tab): counted once
        db_session().rollback()
        counted = False
    if request.accept_mimetypes.best == "application/json" or request.headers.get("X-Requested-With"):
        return jsonify({"counted": counted, "url": url_for("knowledge.article", article_id=art.id)})
    flash(gettext("Glad that helped. No ticket was opened."), "success")
    return redirect(url_for("knowledge.article", article_id=art.id))


def _excerpt(text: str, length: int = 160) -> str:
    flat = " ".join((text or "").split())
    return flat if len(flat) <= length else flat[:length].rsplit(" ", 1)[0] + "…"


# ------------------------------------------------------------------ staff pages


@bp.route("/knowledge")
@backoffice_required
def manage():
    status = request.args.get("status") if request.args.get("status") in STATUSES else None
    query = (request.args.get("q") or "").strip()[:200]
    base = staff_articles(current_user)
    if status:
        base = base.where(KnowledgeArticle.status == status)
    if query:
        articles = search.search(base, query, mode="all", limit=100)
    else:
        articles = list(db_session().scalars(base.options(selectinload(KnowledgeArticle.section))
                                             .order_by(KnowledgeArticle.updated_at.desc()).limit(200)))
    counts = dict(db_session().execute(select(KnowledgeArticle.status, func.count())
                                       .group_by(KnowledgeArticle.status)).all())
    return render_template("knowledge/manage.html", articles=articles, status=status, query=query, counts=counts,
                           labels=STATUS_LABELS, editor=is_editor(current_user), figures=stats.summary(days=30))


def _form_values(form: Any) -> dict[str, Any]:
    return {"title": form.get("title", ""), "body": form.get("body", ""),
            "section_id": parse_id(form.get("section_id")), "internal": form.get("internal") == "1",
            "language": form.get("language", "en"), "translation_of": parse_id(form.get("translation_of")),
            "note": (form.get("note") or "").strip()}


@bp.route("/knowledge/articles/new", methods=["GET", "POST"])
@editor_required
def new_article():
    values: dict[str, Any] = {"title": "", "body": "", "section_id": None, "internal": False, "language": "en",
                              "translation_of": None, "note": ""}
    source = parse_id(request.args.get("translation_of"))
    if source is not None and (partner := db_session().get(KnowledgeArticle, source)) is not None:
        values.update(translation_of=partner.id, section_id=partner.section_id, internal=partner.internal,
                      title=partner.title, body=partner.body, language="")
    message = _message_for(parse_id(request.args.get("message")))
    if message is not None:
        markdown = (message.meta or {}).get("markdown") if isinstance(message.meta, dict) else None
        values.update(title=message.ticket.subject, body=markdown or message.body,
                      note=from_reply_note(message.ticket.reference))
    error = None
    if request.method == "POST":
        values = _form_values(request.form)
        try:
            art = save_article(None, current_user, **{**values, "note": values["note"] or CREATED})
        except ServiceError as exc:
            error = exc
        else:
            flash(gettext("Article saved as a draft."), "success")
            return redirect(url_for("knowledge.staff_article", article_id=art.id))
    return render_template("knowledge/edit.html", article=None, values=values, error=error,
                           categories=_categories()), (422 if error else 200)


def _message_for(message_id: int | None) -> Message | None:
    """A reply on a ticket the agent may see (to turn into an article)."""
    if message_id is None:
        return None
    return db_session().scalar(select(Message).join(Ticket, Message.ticket_id == Ticket.id).where(
        Message.id == message_id, Ticket.id.in_(visible_tickets(current_user).with_only_columns(Ticket.id))))


def _staff_article_or_404(article_id: int) -> KnowledgeArticle:
    art = db_session().scalar(staff_articles(current_user).where(KnowledgeArticle.id == article_id))
    if art is None:
        abort(404)
    return art


@bp.route("/knowledge/articles/<int:article_id>/edit", methods=["GET", "POST"])
@editor_required
def edit_article(article_id: int):
    art = _staff_article_or_404(article_id)
    values: dict[str, Any] = {"title": art.title, "body": art.body, "section_id": art.section_id,
                              "internal": art.internal, "language": art.language, "translation_of": None, "note": ""}
    error = None
    if request.method == "POST":
        values = _form_values(request.form)
        try:
            save_article(art, current_user, **values)
        except ServiceError as exc:
            db_session().rollback()
            error = exc
        else:
            flash(gettext("Article saved."), "success")
            return redirect(url_for("knowledge.staff_article", article_id=art.id))
    return render_template("knowledge/edit.html", article=art, values=values, error=error,
                           categories=_categories(), images=images.images_of(art.id)), (422 if error else 200)


@bp.route("/knowledge/articles/<int:article_id>/images", methods=["POST"])
@limiter.limit("60 per minute")
@editor_required
def upload_image(article_id: int):
    """An image for the article being edited: stored, and its Markdown returned (JSON for the
    editor's script, which inserts it at the cursor) or shown on the edit page."""
    art = _staff_article_or_404(article_id)
    file = request.files.get("file")
    wants_json = request.accept_mimetypes.best == "application/json"
    limit = int(current_app.config["MAX_ATTACHMENT_BYTES"])
    try:
        if file is None or not file.filename:
            raise ServiceError(gettext('Choose an image file.'), field="file")
        image = images.add_image(art, current_user, file.filename, file.read(limit + 1))
    except ServiceError as exc:
        db_session().rollback()
        if wants_json:
            return jsonify({"error": str(exc)}), 400
        flash(str(exc), "danger")
        return redirect(url_for("knowledge.edit_article", article_id=art.id))
    markdown = images.markdown_of(image)
    if wants_json:
        return jsonify({"name": image.filename, "markdown": markdown,
                        "url": url_for("knowledge.article_image", knowledge_image=image.token)})
    flash(gettext("Image uploaded: write %(markdown)s in the text where it belongs.", markdown=markdown), "success")
    return redirect(url_for("knowledge.edit_article", article_id=art.id))


@bp.route("/knowledge/articles/<int:article_id>/images/<int:knowledge_image_id>/delete", methods=["POST"])
@limiter.limit("60 per minute")
@editor_required
def image_delete(article_id: int, knowledge_image_id: int):
    """Delete an image of the article being edited (its file too); one the saved text still
    shows is refused with what to do. Back to the edit page either way."""
    art = _staff_article_or_404(article_id)
    image = db_session().scalar(select(KnowledgeImage).where(KnowledgeImage.id == knowledge_image_id,
                                                             KnowledgeImage.article_id == art.id))
    if image is None:
        abort(404)
    name = image.filename
    try:
        images.delete_image(art, image)
    except ServiceError as exc:
        db_session().rollback()
        flash(str(exc), "danger")
    else:
        flash(gettext("Image %(name)s deleted.", name=name), "success")
    return redirect(url_for("knowledge.edit_article", article_id=art.id) + "#knowledge-images")


@bp.route("/attachments/knowledge/<knowledge_image>")
def article_image(knowledge_image: str):
    """An article's image, to whoever may read the article: agents (any status), customers and
    visitors only for published public articles (and visitors only while the help centre is public)."""
    image = db_session().scalar(select(KnowledgeImage).where(KnowledgeImage.token == knowledge_image[:64]))
    if image is None:
        abort(404)
    if _signed_in() and current_user.is_backoffice:
        art = db_session().scalar(staff_articles(current_user).where(KnowledgeArticle.id == image.article_id))
    elif not is_public() and not _signed_in():
        return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
    else:
        art = visible_article(current_user, image.article_id)
    if art is None:
        abort(404)
    response = send_file(stored_file(image.token), mimetype=image.content_type, download_name=image.filename,
                         max_age=0 if not art.is_public else 300)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "public, max-age=300" if art.is_public else "private, no-store"
    return response


@bp.route("/knowledge/articles/<int:article_id>")
@backoffice_required
def staff_article(article_id: int):
    art = _staff_article_or_404(article_id)
    others = list(db_session().scalars(select(KnowledgeArticle).where(
        KnowledgeArticle.translation_group == art.translation_group, KnowledgeArticle.id != art.id)
        .order_by(KnowledgeArticle.language))) if art.translation_group else []
    votes = db_session().execute(select(func.count().filter(KnowledgeVote.helpful.is_(True)),
                                        func.count().filter(KnowledgeVote.helpful.is_(False)))
                                 .where(KnowledgeVote.article_id == art.id)).one()
    comments = list(db_session().scalars(select(KnowledgeVote).where(
        KnowledgeVote.article_id == art.id, KnowledgeVote.comment != "").order_by(KnowledgeVote.id.desc()).limit(10)))
    deflections = db_session().scalar(select(func.count()).select_from(KnowledgeDeflection)
                                      .where(KnowledgeDeflection.article_id == art.id)) or 0
    return render_template("knowledge/staff_article.html", article=art, others=others, labels=STATUS_LABELS,
                           editor=is_editor(current_user), yes=votes[0], no=votes[1], comments=comments,
                           deflections=deflections)


@bp.route("/knowledge/articles/<int:article_id>/status", methods=["POST"])
@editor_required
def article_status(article_id: int):
    art = _staff_article_or_404(article_id)
    try:
        said = change_status(art, current_user, request.form.get("action", ""))
    except ServiceError as exc:
        flash(exc.message, "warning")
    else:
        flash(f"{said}.", "success")
    return redirect(url_for("knowledge.staff_article", article_id=art.id))


@bp.route("/knowledge/articles/<int:article_id>/revisions")
@backoffice_required
def revisions(article_id: int):
    art = _staff_article_or_404(article_id)
    rows = list(db_session().scalars(select(KnowledgeRevision).where(KnowledgeRevision.article_id == art.id)
                                     .options(selectinload(KnowledgeRevision.editor))
                                     .order_by(KnowledgeRevision.number.desc())))
    shown = next((r for r in rows if str(r.number) == request.args.get("n")), None)
    return render_template("knowledge/revisions.html", article=art, revisions=rows, shown=shown,
                           labels=STATUS_LABELS, note_label=note_label)


@bp.route("/knowledge/categories", methods=["GET", "POST"])
@editor_required
def categories():
    if request.method == "POST":
        name = (request.form.get("name") or "").strip()
        if not name or len(name) > 120:
            flash(gettext("Give a name of 1 to 120 characters."), "danger")
        elif request.form.get("kind") == "section":
            cat = db_session().get(KnowledgeCategory, parse_id(request.form.get("category_id")) or 0)
            if cat is None:
                flash(gettext("Choose the category the section belongs to."), "danger")
            else:
                db_session().add(KnowledgeSection(category_id=cat.id, name=name, position=len(cat.sections)))
                db_session().commit()
                flash(gettext("Section “%(name)s” added to %(category)s.", name=name, category=cat.name), "success")
                return redirect(url_for("knowledge.categories"))
        else:
            description = (request.form.get("description") or "").strip()[:1000]
            db_session().add(KnowledgeCategory(name=name, description=description, position=len(_categories())))
            db_session().commit()
            flash(gettext("Category “%(name)s” added.", name=name), "success")
            return redirect(url_for("knowledge.categories"))
    return render_template("knowledge/categories.html", categories=_categories())


@bp.route("/knowledge/tickets/<int:ticket_id>/suggestions")
@backoffice_required
def ticket_suggestions(ticket_id: int):
    """JSON for the ticket page's lazy panel: articles for the ticket's subject and first message."""
    ticket = db_session().scalar(visible_tickets(current_user).where(Ticket.id == ticket_id))
    if ticket is None:
        abort(404)
    first = db_session().scalar(select(Message.body).where(Message.ticket_id == ticket.id, Message.internal.is_(False))
                                .order_by(Message.id).limit(1)) or ""
    found = search.search(visible_articles(current_user), f"{ticket.subject} {first}", mode="any",
                          limit=suggestion_count())
    return jsonify({"articles": [{
        "id": a.id, "title": a.title, "excerpt": _excerpt(a.body_text), "internal": a.internal,
        "body": a.body, "url": external_url("knowledge.article", article_id=a.id),
        "staff_url": url_for("knowledge.staff_article", article_id=a.id)} for a in found]})
