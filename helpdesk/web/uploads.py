from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import current_app, g, request
from flask_login import current_user
from werkzeug.datastructures import FileStorage, ImmutableMultiDict
from werkzeug.formparser import FormDataParser
from werkzeug.wsgi import get_input_stream

from helpdesk.i18n import gettext
from helpdesk.services import ServiceError
from helpdesk.services.tickets import NewAttachment, human_size


def read_uploads(files: Iterable[FileStorage] | None) -> list[NewAttachment]:
    """Uploaded files → attachments, refusing oversized ones before reading them all."""
    limit = current_app.config["MAX_ATTACHMENT_BYTES"]
    dropped = g.get("oversized_uploads")
    if dropped:  # the request was over MAX_CONTENT_LENGTH: its files were read and dropped
        names = ", ".join(f"{name!r} ({human_size(size)})" for name, size in dropped)
        raise ServiceError(
            gettext('Your message was not sent: what you attached is larger than we accept: %(names)s. Each file may have at most %(value)s (all together %(value2)s). Your text is kept: attach a smaller file, or leave it out, and send again.',  # noqa: E501 - one msgid
                    names=names, value=human_size(limit), value2=human_size(current_app.config['MAX_CONTENT_LENGTH'])), field="attachments")  # noqa: E501 - one msgid
    out = []
    for storage in files or []:
        if not isinstance(storage, FileStorage) or not storage.filename:
            continue
        content = storage.stream.read(limit + 1)
        if len(content) > limit:
            raise ServiceError(
                gettext('Attachment %(filename)s is too large (at most %(value)s).',
                        filename=repr(storage.filename), value=human_size(limit)), field="attachments")
        out.append(NewAttachment(storage.filename, content,
                                 storage.mimetype or "application/octet-stream"))
    return out


# Forms with attachments that answer an oversized upload with the form again, text kept.
RECOVERABLE_ENDPOINTS = {"portal.new_ticket", "portal.ticket", "agent.ticket"}
DRAIN_FACTOR = 4  # read at most this many times MAX_CONTENT_LENGTH to recover the text fields


class _CountingSink:
    """Where an oversized request's file contents go: counted, never kept."""

    def __init__(self) -> None:
        self.size = 0

    def write(self, data: bytes) -> int:
        self.size += len(data)
        return len(data)

    def seek(self, *args: Any) -> int:
        return 0

    def read(self, *args: Any) -> bytes:
        return b""


def recover_oversized_form() -> bool:
    """For a POST over ``MAX_CONTENT_LENGTH`` to a form with attachments: read the body anyway
    (up to ``DRAIN_FACTOR`` times the limit), keep the text fields, drop the files' contents
    (only their names and sizes are kept, in ``g.oversized_uploads``), so the view answers its
    form again with the subject and message the person typed and says which file was too big
    (``read_uploads`` raises). False when the request cannot be recovered (then: the 413 page).
    """
    limit = current_app.config.get("MAX_CONTENT_LENGTH") or 0
    length = request.content_length
    if (request.method != "POST" or request.endpoint not in RECOVERABLE_ENDPOINTS or not limit
            or not current_user.is_authenticated  # only signed-in people's requests are read past the limit
            or length is None or length > DRAIN_FACTOR * limit or request.mimetype != "multipart/form-data"
            or "form" in request.__dict__):  # something read the body already
        return False
    sinks: list[tuple[str, _CountingSink]] = []

    def stream_factory(total_content_length: Any, content_type: Any, filename: Any,
                       content_length: Any = None) -> Any:
        sink = _CountingSink()
        sinks.append((filename or "", sink))
        return sink

    parser = FormDataParser(stream_factory=stream_factory, max_content_length=None,
                            max_form_memory_size=current_app.config.get("MAX_FORM_MEMORY_SIZE") or 500_000)
    stream = get_input_stream(request.environ, max_content_length=None)
    try:
        _stream, form, _files = parser.parse(stream, request.mimetype, length, request.mimetype_params)
    except Exception:  # a broken or truncated body: nothing to recover
        return False
    request.form = ImmutableMultiDict(form)  # werkzeug's cached properties: the view reads these
    request.files = ImmutableMultiDict()
    g.oversized_uploads = [(name, sink.size) for name, sink in sinks if name]
    return bool(g.oversized_uploads)


def upload_limits() -> str:
    """The limits as a form's help says them: "at most 10.5 MB each, 27.3 MB in all"."""
    each = human_size(current_app.config["MAX_ATTACHMENT_BYTES"])
    total = current_app.config.get("MAX_CONTENT_LENGTH")
    return f"at most {each} each" + (f", {human_size(int(total * 0.98))} in all" if total else "")
def check_file_count(attachments: list[NewAttachment]) -> None:
    """At most ``MAX_ATTACHMENTS_PER_MESSAGE`` (default 10) files on one message."""
    limit = int(current_app.config.get("MAX_ATTACHMENTS_PER_MESSAGE", 10))
    if len(attachments) > limit:
        raise ServiceError(
            gettext('Attach at most %(limit)s files to one message (%(value)s chosen).',
                    limit=limit, value=len(attachments)),
                           field="attachments")
