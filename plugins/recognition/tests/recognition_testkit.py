"""Helpers for the recognition plugin's tests: page text, preferences, kudos rows."""
from __future__ import annotations

from pagetext import alerts, attributes, field_errors, text, texts
from sqlalchemy import select

__all__ = ["alerts", "attributes", "field_errors", "kudos_rows", "nav_labels", "set_private", "text", "texts"]


def kudos_rows():
    from helpdesk_recognition.models import Kudos

    from helpdesk.plugin_api import db_session

    db_session().expire_all()
    return list(db_session().scalars(select(Kudos).order_by(Kudos.id)))


def set_private(user, private: bool = True, **choices) -> None:
    from helpdesk_recognition.models import Preference

    from helpdesk.plugin_api import db_session

    row = db_session().get(Preference, user.id) or Preference(user_id=user.id)
    row.public = not private
    for name, value in choices.items():
        setattr(row, name, value)
    db_session().add(row)
    db_session().commit()


def nav_labels(page: str) -> list[str]:
    return texts(page, cls="nav-plugin-link")
