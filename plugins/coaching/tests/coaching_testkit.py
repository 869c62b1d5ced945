"""Helpers for the coaching plugin's tests."""
from __future__ import annotations


def review_form(items, *, overall="Friendly and correct.", suggestion="Offer a follow-up.", score="2", **extra):
    """The review form's fields: every item rated ``score``, then ``extra`` on top."""
    data = {f"score_{item.id}": score for item in items}
    data.update({"overall": overall, "suggestion": suggestion})
    data.update(extra)
    return data
