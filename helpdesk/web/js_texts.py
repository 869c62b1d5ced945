"""The words the core's scripts (``helpdesk/static/*.js``) put into pages, in the reader's language.

``base.html`` renders them once per page as JSON in the ``data-texts`` attribute of a hidden
``#helpdesk-texts`` element (data, not code: no inline script); each script reads it. Placeholders reach the
script as ``{name}`` (it fills them in); a sentence with a count comes as its ``one`` and
``other`` forms, chosen in the script with ``Intl.PluralRules`` for the page's language.
The msgids are the ones translators see (``%(name)s``); only the rendered texts change shape.
"""
from __future__ import annotations

import re

from flask_babel import get_translations, gettext
from flask_login import current_user

from helpdesk.i18n import PRIORITY_NAMES, STATUS_NAMES

_PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def _js(text: str) -> str:
    """``%(name)s`` → ``{name}``: the form the scripts fill in."""
    return _PLACEHOLDER.sub(r"{\1}", text)


def _text(text: str) -> str:
    # gettext without values returns the translated template unformatted.
    return _js(text)


def _forms(singular: str, plural: str) -> dict[str, str]:
    """The ``one`` and ``other`` forms of a counted sentence (English and German have just
    these two; the script picks one with ``Intl.PluralRules``)."""
    translations = get_translations()
    return {"one": _js(translations.ungettext(singular, plural, 1)),
            "other": _js(translations.ungettext(singular, plural, 2))}


# The scripts of the staff pages only: a customer's page (portal, survey, help centre) carries
# just the words its own scripts use.
STAFF_ONLY = ("live", "composer", "mentions", "lazy_panel", "shortcuts")


def js_texts() -> dict:
    """The texts of the core's scripts the reader's pages run, in the request's language."""
    texts = _all_texts()
    if not getattr(current_user, "is_backoffice", False):
        texts = {key: value for key, value in texts.items() if key not in STAFF_ONLY}
    return texts


def _all_texts() -> dict:
    return {
        # live.js: presence, the "new since you opened" banner, the queue bar, the bell
        "live": {
            "viewing": _text(gettext("%(name)s is viewing")),
            "typing": _text(gettext("%(name)s is typing a reply…")),
            "banner_title": gettext("New since you opened this ticket:"),
            "banner_note": gettext("Sending your reply will first show you what is new."),
            "replied": _text(gettext("%(name)s replied %(ago)s.")),
            "noted": _text(gettext("%(name)s added an internal note %(ago)s.")),
            "changed": _text(gettext("%(field)s changed to %(value)s by %(name)s %(ago)s.")),
            "just_now": gettext("just now"),
            "seconds_ago": _text(gettext("%(seconds)s s ago")),
            "minutes_ago": _text(gettext("%(minutes)s min ago")),
            "hours_ago": _text(gettext("%(hours)s h ago")),
            "system": gettext("System"),
            "nobody": gettext("nobody"),
            "no_team": gettext("no team"),
            "nothing": gettext("nothing"),
            "fields": {"status": gettext("Status"), "priority": gettext("Priority"),
                       "assignee": gettext("Assignee"), "team": gettext("Team"), "tags": gettext("Tags"),
                       "subject": gettext("Subject")},
            "statuses": {key: str(name) for key, name in STATUS_NAMES.items()},
            "priorities": {key: str(name) for key, name in PRIORITY_NAMES.items()},
            "show": gettext("Show"),
            "queue_changed": _forms("%(num)d ticket new or updated.", "%(num)d tickets new or updated."),
            "bell": _forms("Notifications, %(num)d unread", "Notifications, %(num)d unread"),
        },
        # app.js: the reply check, the upload limits
        "app": {
            "no_problems": gettext("No problems found."),
            "before_send": gettext("Before you send:"),
            "blocking": _text(gettext("%(warning)s (blocks sending)")),
            "check_failed": gettext("The reply could not be checked. Try again."),
            "file_size": _text(gettext("“%(name)s” (%(size)s)")),
            "list_separator": gettext(", "),
            "too_large_each": _forms("%(files)s is too large: each file may have at most %(limit)s.",
                                     "%(files)s are too large: each file may have at most %(limit)s."),
            "too_large_total": _text(gettext("These files are too large together (%(size)s): "
                                             "at most %(limit)s in all.")),
            "megabytes": _text(gettext("%(size)s MB")),
            "kilobytes": _text(gettext("%(size)s kB")),
        },
        # composer.js: attachments, preview, drafts
        "composer": {
            "megabytes": _text(gettext("%(size)s MB")),
            "kilobytes": _text(gettext("%(size)s KB")),
            "bytes": _forms("%(num)d byte", "%(num)d bytes"),
            "file_label": _text(gettext("%(name)s (%(size)s)")),
            "remove": gettext("Remove"),
            "remove_file": _text(gettext("Remove %(name)s")),
            "too_big": _text(gettext("“%(name)s” is %(size)s; files may be at most %(limit)s.")),
            "too_many": _forms("“%(name)s” was not added: at most %(num)d file per reply.",
                               "“%(name)s” was not added: at most %(num)d files per reply."),
            "too_much": _text(gettext("“%(name)s” was not added: all files together may be at most %(limit)s.")),
            "rendering": gettext("Rendering…"),
            "nothing_to_preview": gettext("Nothing to preview."),
            "preview_failed": gettext("The preview could not be loaded. Your text is safe: switch back to Write."),
            "draft_restored": gettext("Your unsent draft was restored (attachments are not kept in drafts)."),
            "discard_draft": gettext("Discard draft"),
        },
        # mentions.js
        "mentions": {"picker": gettext("Agents to mention")},
        # lazy_panel.js
        "lazy_panel": {"failed": gettext("Could not load this card; reload the page to try again.")},
        # shortcuts.js: the help overlay, the hover preview
        "shortcuts": {
            "title": gettext("Keyboard shortcuts"),
            "or": gettext("or"),
            "enter": gettext("Enter"),
            "esc": gettext("Esc"),
            "next": gettext("Next ticket in the list"),
            "previous": gettext("Previous ticket in the list"),
            "open": gettext("Open the selected ticket"),
            "tick": gettext("Tick the selected ticket for a bulk action"),
            "help": gettext("Show or hide this help"),
            "close_help": gettext("Close this help"),
            "reply": gettext("Reply: go to the reply box"),
            "note": gettext("Internal note: go to the reply box as a note"),
            "resolve": gettext("Resolve: set the status to resolved and save"),
            "keys_note": gettext("Keys do nothing while you type in a field."),
            "close": gettext("Close"),
            "preview_head": _text(gettext("%(name)s:")),
            "preview_head_internal": _text(gettext("%(name)s (internal note):")),
            "preview_title": _text(gettext("%(name)s: %(excerpt)s")),
        },
        # api_docs.js: the API reference page
        "api_docs": {
            "required": _text(gettext("%(name)s (%(place)s, required)")),
            "optional": _text(gettext("%(name)s (%(place)s)")),
            "parameters": _text(gettext("Parameters: %(list)s")),
            "body": _text(gettext("Body: %(schema)s")),
            "failed": _text(gettext("The reference could not be loaded (%(error)s). The spec is at the link above.")),
        },
    }
