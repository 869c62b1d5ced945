"""The chat and messaging plugins add no SQL statement to the queue or the ticket page."""
from __future__ import annotations

from helpdesk.plugin_api import services


def test_no_extra_statements_on_the_queue_and_the_ticket_page(db, client, agent, customer, login, plugins, statements):
    ticket = services.create_ticket(customer, "Router", "It blinks", channel="sms")
    reference = ticket.reference
    login(client, agent)
    without = (statements.page(client, "/queue"), statements.page(client, f"/tickets/{reference}"))
    plugins.enable("chat", "messaging")
    page = client.get(f"/tickets/{reference}").text
    assert "Link this contact to a known customer" in page  # the plugins are on the page ...
    with_plugins = (statements.page(client, "/queue"), statements.page(client, f"/tickets/{reference}"))
    assert with_plugins == without  # ... at no cost in statements
