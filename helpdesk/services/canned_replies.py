"""Canned replies (Admin → Canned replies): saved and removed with an admin audit entry."""
from __future__ import annotations

from collections.abc import Mapping

from flask_babel import gettext, lazy_gettext
from sqlalchemy import select

import helpdesk.services.admin_audit as admin_audit
from helpdesk.canned import check_template
from helpdesk.extensions import db
from helpdesk.models import CannedReply
from helpdesk.services.errors import ServiceError
from helpdesk.services.translations import (
    check_translations,
    delete_translations,
    save_translations,
    translation_snapshot,
)

FIELDS = ("title", "body")


def save_canned_reply(reply: CannedReply | None, *, title: str, body: str,
                      translations: Mapping[str, tuple[str, str]] | None = None) -> CannedReply:
    """Save; ``translations``: ``{language: ("", text)}`` for the other languages (empty removes one)."""
    title = (title or "").strip()
    if not title or len(title) > 120:
        raise ServiceError(gettext('Enter a title (120 characters at most).'), field="title")
    error = check_template(body or "")
    if error:
        raise ServiceError(error, field="body")
    if db.session.scalar(select(CannedReply.id).where(CannedReply.title == title,
                                                      CannedReply.id != (reply.id if reply else 0))):
        raise ServiceError(gettext('A canned reply with this title exists already.'), field="title")
    check_translations(translations or {})
    before = _snapshot(reply)
    reply = reply or CannedReply(title=title, body="")
    reply.title, reply.body = title, body
    db.session.add(reply)
    db.session.flush()
    if translations is not None:
        save_translations("canned_reply", reply.id, translations)
        db.session.flush()
    audit_target = lazy_gettext("canned reply “%(title)s” (#%(id)s)", title=title, id=reply.id)
    admin_audit.record_change("canned_reply", audit_target, before, _snapshot(reply))
    db.session.commit()
    return reply


def delete_canned_reply(reply: CannedReply) -> None:
    audit_target = lazy_gettext("canned reply “%(title)s” (#%(id)s)", title=reply.title, id=reply.id)
    admin_audit.record_change("canned_reply", audit_target,
                              _snapshot(reply), None)
    delete_translations("canned_reply", reply.id)
    db.session.delete(reply)
    db.session.commit()


def _snapshot(reply: CannedReply | None) -> dict | None:
    before = admin_audit.snapshot(reply, FIELDS)
    if reply is not None and before is not None:
        before.update(translation_snapshot("canned_reply", reply.id))
    return before
