from __future__ import annotations

from collections.abc import Iterable

from flask import current_app
from werkzeug.datastructures import FileStorage

from helpdesk.services import ServiceError
from helpdesk.services.tickets import NewAttachment, human_size


def read_uploads(files: Iterable[FileStorage] | None) -> list[NewAttachment]:
    """Uploaded files → attachments, refusing oversized ones before reading them all."""
    limit = current_app.config["MAX_ATTACHMENT_BYTES"]
    out = []
    for storage in files or []:
        if not isinstance(storage, FileStorage) or not storage.filename:
            continue
        content = storage.stream.read(limit + 1)
        if len(content) > limit:
            raise ServiceError(f"Attachment {storage.filename!r} is too large "
                               f"(at most {human_size(limit)}).", field="attachments")
        out.append(NewAttachment(storage.filename, content,
                                 storage.mimetype or "application/octet-stream"))
    return out


def check_file_count(attachments: list[NewAttachment]) -> None:
    """At most ``MAX_ATTACHMENTS_PER_MESSAGE`` (default 10) files on one message."""
    limit = int(current_app.config.get("MAX_ATTACHMENTS_PER_MESSAGE", 10))
    if len(attachments) > limit:
        raise ServiceError(f"Attach at most {limit} files to one message ({len(attachments)} chosen).",
                           field="attachments")
