"""Pages of the email plugin: mailboxes and quarantine (admins), originals (staff), the webhook.

URLs: ``/admin/email/...`` for the admin pages, ``/email/originals/<id>`` for a message's
original mail, ``POST /email/inbound`` for the webhook (no session, no CSRF: the HMAC
signature is the authentication).
"""
from __future__ import annotations

import hashlib
import hmac
from email import message_from_bytes
from typing import TypeVar

from flask import Blueprint, Response, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from helpdesk.plugin_api import (
    Message,
    Team,
    Ticket,
    admin_required,
    csrf,
    db_session,
    encrypt_secret,
    get_setting,
    gettext,
    joined,
    limiter,
    ngettext,
    parse_id,
    parse_page,
    record_config_change,
    services,
    staff_required,
    visible_tickets,
)
from helpdesk_email import quarantine_store

# The mail pipeline (helpdesk_email.imap and .ingest: imaplib, MIME parsing, HTML cleaning,
# about 2 MiB) is imported inside the few views that fetch or ingest mail, not by every
# web process that registers this blueprint.
from helpdesk_email.forms import ConfirmForm, CreateTicketForm, MailboxForm
from helpdesk_email.mime import RAW_POLICY, decode_header_value
from helpdesk_email.models import QUARANTINE_KINDS, EmailMailbox, EmailQuarantine, EmailRawMessage

T = TypeVar("T")
bp = Blueprint("email", __name__, template_folder="templates")


def _get_or_404(model: type[T], ident: int) -> T:
    row = db_session().get(model, ident)
    if row is None:
        abort(404)
    return row
PAGE = 50


def _page() -> int:
    return parse_page(request.args.get("page"))


def _teams() -> list[tuple[str, str]]:
    return [("", gettext("Default (the plugin's setting)"))] + [
        (str(t.id), t.name) for t in db_session().scalars(select(Team).order_by(Team.name))]


def _download(data: bytes, filename: str) -> Response:
    response = Response(data, mimetype="application/octet-stream")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


# ------------------------------------------------------------------ mailboxes


@bp.get("/admin/email/mailboxes")
@admin_required
def mailboxes() -> str:
    rows = list(db_session().scalars(select(EmailMailbox).order_by(EmailMailbox.name)))
    teams = {t.id: t.name for t in db_session().scalars(select(Team))}
    return render_template("email/mailboxes.html", mailboxes=rows, teams=teams, confirm=ConfirmForm())


@bp.route("/admin/email/mailboxes/new", methods=["GET", "POST"], defaults={"mailbox_id": None})
@bp.route("/admin/email/mailboxes/<int:mailbox_id>", methods=["GET", "POST"])
@admin_required
def mailbox_edit(mailbox_id: int | None):
    mailbox = db_session().get(EmailMailbox, mailbox_id) if mailbox_id else None
    if mailbox_id and mailbox is None:
        abort(404)
    form = MailboxForm(obj=mailbox)
    form.team_id.choices = _teams()
    if request.method == "GET" and mailbox is not None:
        form.team_id.data = str(mailbox.team_id or "")
    test_result = None
    if form.validate_on_submit():
        team_id = parse_id(form.team_id.data)
        clash = db_session().scalar(select(EmailMailbox.id).where(EmailMailbox.name == form.name.data.strip(),
                                                                EmailMailbox.id != (mailbox_id or 0)))
        password = form.password.data or ""
        if not password and mailbox is not None and mailbox.password_encrypted:
            from helpdesk.plugin_api import decrypt_secret

            password = decrypt_secret(mailbox.password_encrypted) or ""
        if request.form.get("action") == "test":
            from helpdesk_email.imap import test_connection

            ok, text = test_connection(form.host.data.strip(), form.port.data, form.security.data,
                                       form.username.data.strip(), password, form.folder.data.strip())
            test_result = {"ok": ok, "text": text}
        elif clash:
            form.name.errors.append(gettext("A mailbox with this name exists already."))
        elif mailbox is None and not form.password.data:
            form.password.errors.append(gettext("Enter the mailbox password."))
        elif team_id is not None and db_session().get(Team, team_id) is None:
            form.team_id.errors.append(gettext("Choose a team from the list."))
        else:
            before = _mailbox_values(mailbox) if mailbox is not None else None
            mailbox = mailbox or EmailMailbox()
            mailbox.name, mailbox.host = form.name.data.strip(), form.host.data.strip()
            mailbox.port, mailbox.security = form.port.data, form.security.data
            mailbox.username, mailbox.folder = form.username.data.strip(), form.folder.data.strip()
            mailbox.processed_folder = (form.processed_folder.data or "").strip() or None
            mailbox.poll_minutes, mailbox.team_id, mailbox.active = form.poll_minutes.data, team_id, form.active.data
            if form.password.data:
                mailbox.password_encrypted = encrypt_secret(form.password.data)
            db_session().add(mailbox)
            db_session().flush()
            after = _mailbox_values(mailbox)
            if before is not None and form.password.data:
                before["password"], after["password"] = "old", "new"  # masked: only "it changed" is kept
            record_config_change("email.mailbox", "created" if before is None else "changed",
                                 f"mailbox {mailbox.name} (#{mailbox.id})", before, after)
            db_session().commit()
            flash(gettext("Saved mailbox %(name)s.", name=mailbox.name), "success")
            return redirect(url_for("email.mailboxes"))
    status = 422 if form.errors else 200
    return render_template("email/mailbox_form.html", form=form, mailbox=mailbox, test_result=test_result,
                           confirm=ConfirmForm()), status


def _mailbox_values(mailbox: EmailMailbox) -> dict:
    """What the admin audit log keeps of a mailbox (the password only as "set", masked)."""
    return {"name": mailbox.name, "host": mailbox.host, "port": mailbox.port, "security": mailbox.security,
            "username": mailbox.username, "folder": mailbox.folder, "processed_folder": mailbox.processed_folder,
            "poll_minutes": mailbox.poll_minutes, "team_id": mailbox.team_id, "active": mailbox.active,
            "password": "set" if mailbox.password_encrypted else ""}


@bp.post("/admin/email/mailboxes/<int:mailbox_id>/test")
@admin_required
def mailbox_test(mailbox_id: int):
    mailbox = _get_or_404(EmailMailbox, mailbox_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    from helpdesk.plugin_api import decrypt_secret

    password = decrypt_secret(mailbox.password_encrypted) if mailbox.password_encrypted else ""
    if password is None:
        flash(gettext("%(name)s: the stored password cannot be decrypted (the secrets key changed); enter it again.",
                      name=mailbox.name), "danger")
    else:
        from helpdesk_email.imap import test_connection

        ok, text = test_connection(mailbox.host, mailbox.port, mailbox.security, mailbox.username, password,
                                   mailbox.folder)
        flash(f"{mailbox.name}: {text}", "success" if ok else "danger")
    return redirect(url_for("email.mailboxes"))


@bp.post("/admin/email/mailboxes/<int:mailbox_id>/poll")
@admin_required
def mailbox_poll(mailbox_id: int):
    mailbox = _get_or_404(EmailMailbox, mailbox_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    name = mailbox.name
    from helpdesk_email.imap import poll_mailbox

    result = poll_mailbox(mailbox_id)
    if result.errors:
        flash(gettext("%(name)s: fetched %(fetched)s, then: %(errors)s", name=name, fetched=result.fetched,
                      errors=joined(result.errors)), "danger")
    else:
        flash(ngettext("%(name)s: fetched %(num)d new message(s).", "%(name)s: fetched %(num)d new message(s).",
                       result.fetched, name=name), "success")
    return redirect(url_for("email.mailboxes"))


# ------------------------------------------------------------------ quarantine


@bp.get("/admin/email/quarantine")
@admin_required
def quarantine() -> str:
    kind = request.args.get("kind", "")
    state = request.args.get("state", "open")
    query = select(EmailQuarantine)
    if kind in QUARANTINE_KINDS:
        query = query.where(EmailQuarantine.kind == kind)
    if state == "open":
        query = query.where(EmailQuarantine.resolved_at.is_(None))
    elif state == "resolved":
        query = query.where(EmailQuarantine.resolved_at.is_not(None))
    page = _page()
    rows = list(db_session().scalars(query.order_by(EmailQuarantine.id.desc()).offset((page - 1) * PAGE)
                                   .limit(PAGE + 1)))
    filters = "&".join(f"{k}={v}" for k, v in (("kind", kind), ("state", state)) if v)
    return render_template("email/quarantine.html", rows=rows[:PAGE], has_next=len(rows) > PAGE, page=page,
                           kind=kind, state=state, kinds=QUARANTINE_KINDS, filters=filters,
                           storage=quarantine_store.status())


def _headers_of(raw: bytes) -> list[tuple[str, str]]:
    try:
        parsed = message_from_bytes(raw[:200_000], policy=RAW_POLICY)
        return [(decode_header_value(k, 100), decode_header_value(v, 500)) for k, v in parsed.items()[:60]]
    except Exception:
        return []


def _render_detail(row: EmailQuarantine, form: CreateTicketForm, status: int = 200):
    return render_template("email/quarantine_detail.html", row=row, headers=_headers_of(row.original), form=form,
                           confirm=ConfirmForm()), status


@bp.get("/admin/email/quarantine/<int:quarantine_id>")
@admin_required
def quarantine_detail(quarantine_id: int):
    row = _get_or_404(EmailQuarantine, quarantine_id)
    form = CreateTicketForm(sender=row.sender or "", subject=row.subject or "")
    return _render_detail(row, form)


@bp.get("/admin/email/quarantine/<int:quarantine_id>/raw")
@admin_required
def quarantine_raw(quarantine_id: int) -> Response:
    row = _get_or_404(EmailQuarantine, quarantine_id)
    suffix = "" if row.complete else "-headers-only"
    return _download(row.original, f"quarantine-{row.id}{suffix}.eml")


@bp.post("/admin/email/quarantine/<int:quarantine_id>/retry")
@admin_required
def quarantine_retry(quarantine_id: int):
    _get_or_404(EmailQuarantine, quarantine_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    from helpdesk_email.ingest import retry_quarantined

    result = retry_quarantined(quarantine_id)
    if result.outcome in ("ticket", "message"):
        flash(gettext("Retried: %(reason)s", reason=result.text), "success")
        return redirect(url_for("agent.ticket", reference=result.reference))
    if result.outcome == "duplicate" and result.ticket_id:
        flash(gettext("This mail is already on %(reference)s.", reference=result.reference), "info")
        return redirect(url_for("agent.ticket", reference=result.reference))
    flash(gettext("Still not a ticket (%(outcome)s): %(reason)s", outcome=result.outcome.replace("_", " "),
                  reason=result.text), "warning")
    return redirect(url_for("email.quarantine_detail", quarantine_id=quarantine_id))


@bp.post("/admin/email/quarantine/<int:quarantine_id>/ticket")
@admin_required
def quarantine_ticket(quarantine_id: int):
    row = _get_or_404(EmailQuarantine, quarantine_id)
    form = CreateTicketForm()
    if not form.validate_on_submit():
        return _render_detail(row, form, 422)
    if row.resolved_at is not None and row.ticket_id:
        flash(gettext("This mail became a ticket already."), "info")
        return redirect(url_for("email.quarantine_detail", quarantine_id=quarantine_id))
    from helpdesk_email.ingest import create_ticket_anyway

    try:
        ticket = create_ticket_anyway(quarantine_id, form.sender.data, form.subject.data, current_user)
    except services.ServiceError as exc:
        getattr(form, exc.field if exc.field in ("sender", "subject") else "sender").errors.append(exc.message)
        return _render_detail(db_session().get(EmailQuarantine, quarantine_id), form, 422)
    flash(gettext("Created %(reference)s from the quarantined mail.", reference=ticket.reference), "success")
    return redirect(url_for("agent.ticket", reference=ticket.reference))


# ------------------------------------------------------------------ originals (staff)


@bp.get("/email/originals/<int:raw_id>")
@staff_required
def original(raw_id: int) -> Response:
    row = _get_or_404(EmailRawMessage, raw_id)
    message = db_session().get(Message, row.message_id)
    visible = db_session().scalar(visible_tickets(current_user).where(Ticket.id == message.ticket_id)
                                .with_only_columns(Ticket.id)) if message else None
    if visible is None:
        abort(404)
    return _download(row.raw, f"{current_app.config['TICKET_PREFIX']}-{message.ticket_id}-message-{message.id}.eml")


# ------------------------------------------------------------------ webhook


def _webhook_limit() -> str:
    return current_app.config.get("WEBHOOK_RATE_LIMIT", "120 per minute")


@bp.post("/email/inbound")
@csrf.exempt
@limiter.limit(_webhook_limit)
def inbound():
    """A raw MIME message in the body, signed: ``X-Helpdesk-Signature: sha256=<hex HMAC-SHA256>``."""
    secret = get_setting("email", "webhook_secret")
    if not secret:
        return jsonify(error="The email webhook is off: set its secret in the email plugin's settings."), 403
    body = request.get_data(cache=False)
    given = request.headers.get("X-Helpdesk-Signature", "")
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(given.strip().lower().encode(), expected.encode()):
        return jsonify(error="Bad signature: X-Helpdesk-Signature must be sha256=<HMAC-SHA256 of the body>."), 401
    from helpdesk_email.ingest import ingest_message

    result = ingest_message(body, source="webhook")
    return jsonify(outcome=result.outcome, ticket=result.reference, reason=result.reason), 202


# Last, on purpose: deleting is the one action after which the mailbox's other pages answer 404.
@bp.post("/admin/email/mailboxes/<int:mailbox_id>/delete")
@admin_required
def mailbox_delete(mailbox_id: int):
    mailbox = _get_or_404(EmailMailbox, mailbox_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    record_config_change("email.mailbox", "deleted", f"mailbox {mailbox.name} (#{mailbox.id})",
                         _mailbox_values(mailbox), None)
    db_session().delete(mailbox)
    db_session().commit()
    flash(gettext("Deleted mailbox %(name)s. Mail already received stays.", name=mailbox.name), "success")
    return redirect(url_for("email.mailboxes"))
