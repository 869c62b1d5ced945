"""Display names of uploaded and mailed files: Unicode kept, nothing that can mislead or escape.

Files are stored under random tokens (``services.tickets.attachment_path``); the name is
only shown and offered on download. So it keeps its script (``Mängelliste.pdf``,
``見積書.xlsx``) in NFC, and loses what could hide or fake part of it: control and
format characters (zero-width spaces, bidi overrides that turn ``exe.pdf`` around), path
separators, characters Windows refuses, leading dots, and Windows device names.
"""
from __future__ import annotations

import re
import unicodedata

MAX_NAME = 200
# Cc control, Cf format (zero-width, bidi, BOM), Cs surrogates, Co private use, Cn unassigned,
# Zl/Zp line and paragraph separators.
_DROPPED_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}
_RESERVED = re.compile(r'[<>:"/\\|?*]')
_DEVICE = re.compile(r"^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$", re.IGNORECASE)


def safe_filename(name: str | None, default: str = "attachment") -> str:
    """A file name fit to show and to offer for download; ``default`` when nothing is left."""
    text = unicodedata.normalize("NFC", str(name or ""))
    text = re.split(r"[/\\]", text)[-1]  # "C:\\Users\\x\\report.pdf", "../../etc/passwd": the last part
    text = "".join(" " if unicodedata.category(c) == "Zs" else c for c in text
                   if unicodedata.category(c) not in _DROPPED_CATEGORIES)
    text = _RESERVED.sub("_", text)
    text = " ".join(text.split()).strip(" .")
    if _DEVICE.match(text):
        text = "_" + text
    if len(text) > MAX_NAME:
        stem, dot, ext = text.rpartition(".")
        if dot and 0 < len(ext) <= 20:
            text = stem[:MAX_NAME - len(ext) - 1].rstrip(" .") + "." + ext
        else:
            text = text[:MAX_NAME].rstrip(" .")
    return text or default
