"""Customer feedback: validated here, then handed to plugins through ``feedback_received``.

The core keeps no feedback table of its own: surveys, complaints, recognition and insights
each store what they need from the hook.
"""
from __future__ import annotations

from flask_babel import gettext

from helpdesk.models import Ticket, User
from helpdesk.plugin_manager import manager
from helpdesk.services.errors import PermissionDenied, ServiceError

SCALES = {"csat": (1, 5), "nps": (0, 10)}
KINDS = (*SCALES, "comment")


def record_feedback(customer: User, kind: str, *, score: int | None = None, comment: str = "",
                    ticket: Ticket | None = None, source: str = "web", reference: str | None = None,
                    updated: bool = False) -> dict:
    """Validate one piece of feedback and fire ``helpdesk_feedback_received``; returns it.

    ``reference`` names this answer where it lives (``"survey:42"``); ``updated`` says the
    customer changed or completed an answer given before under the same reference (a new
    score, a comment added), so listeners count it once.
    """
    if kind not in KINDS:
        raise ServiceError(gettext('Unknown kind of feedback %(kind)s.', kind=repr(kind)), field="kind")
    if ticket is not None and ticket.customer_id != customer.id:
        raise PermissionDenied(gettext('Feedback on a ticket comes from its customer.'))
    comment = (comment or "").strip()
    if len(comment) > 5000:
        raise ServiceError(gettext('Your comment is too long (5,000 characters at most).'), field="comment")
    if kind in SCALES:
        low, high = SCALES[kind]
        if score is None or not low <= int(score) <= high:
            raise ServiceError(gettext('Choose a score from %(low)s to %(high)s.', low=low, high=high), field="score")
        score = int(score)
    elif not comment:
        raise ServiceError(gettext('Tell us what you think: the comment is empty.'), field="comment")
    feedback = {"kind": kind, "score": score, "comment": comment, "source": source,
                "ticket_id": ticket.id if ticket else None, "reference": reference, "updated": bool(updated)}
    manager().call_event("helpdesk_feedback_received", ticket=ticket, customer=customer, feedback=feedback)
    return feedback
