"""The chat and messaging plugins add no SQL statement to the queue or the ticket page."""
from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import event

from helpdesk.plugin_api import services


@contextmanager
def counted(db):
    db.session.expunge_all()
    box = [0]

    def on_execute(*args):
        box[0] += 1

    event.listen(db.engine, "before_cursor_execute", on_execute)
    try:
        yield box
    finally:
        event.remove(db.engine, "before_cursor_execute", on_execute)


def statements(db, client, path: str) -> int:
    client.get(path)  # warm: per-process caches are not the page's cost
    with counted(db) as box:
        page = client.get(path)
    assert page.status_code == 200
    return box[0]


def test_no_extra_statements_on_the_queue_and_the_ticket_page(db, client, agent, customer, login, plugins):
    ticket = services.create_ticket(customer, "Router", "It blinks", channel="sms")
    reference = ticket.reference
    login(client, agent)
    without = (statements(db, client, "/queue"), statements(db, client, f"/tickets/{reference}"))
    plugins.enable("chat", "messaging")
    page = client.get(f"/tickets/{reference}").text
    assert "Link this contact to a known customer" in page  # the plugins are on the page ...
    with_plugins = (statements(db, client, "/queue"), statements(db, client, f"/tickets/{reference}"))
    assert with_plugins == without  # ... at no cost in statements
