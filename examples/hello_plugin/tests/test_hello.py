"""Tests of the hello plugin.

The fixtures come from ``helpdesk.testing``, which pytest loads by itself (``pytest11``
entry point) once the Helpdesk core is installed. ``ticket`` is a ticket of ``customer``,
created through the services, so the enabled plugins' hooks have run.
``@pytest.mark.plugins("hello")`` enables exactly the named plugins for one test; without
the mark every installed plugin is disabled.
"""
from __future__ import annotations

import logging

import pytest
from helpdesk_hello.models import HelloGreeting
from sqlalchemy import func, select

from helpdesk.plugin_api import services


@pytest.mark.plugins("hello")
def test_new_ticket_is_greeted_and_counted(app, db, customer, caplog):
    caplog.set_level(logging.INFO, logger="helpdesk_hello")
    ticket = services.create_ticket(customer, "Printer on fire", "Please help.")

    assert db.session.scalars(select(HelloGreeting.ticket_id)).all() == [ticket.id]
    assert "1 greeting(s) so far" in caplog.text  # the job ran: jobs are immediate in tests
    assert app.test_cli_runner().invoke(args=["hello-stats"]).output == "1 greeting(s)\n"


@pytest.mark.plugins("hello")
def test_sidebar_block_on_ticket_page(client, agent, ticket, login, monkeypatch):
    monkeypatch.setenv("HELPDESK_PLUGIN_HELLO_GREETING", "Bonjour")  # the environment beats the database
    login(client, agent)

    page = client.get(f"/tickets/{ticket.reference}")
    assert page.status_code == 200
    assert "Hello from the hello plugin" in page.text
    assert "Bonjour, Carla!" in page.text


@pytest.mark.plugins("hello")
def test_page_lists_greetings(client, agent, ticket, login):
    login(client, agent)

    page = client.get("/hello/")
    assert page.status_code == 200
    assert ticket.reference in page.text


@pytest.mark.plugins("hello")
def test_page_is_for_staff_only(client, customer, login):
    login(client, customer)
    assert client.get("/hello/").status_code == 404


@pytest.mark.plugins()  # installed, but not enabled
def test_disabled_plugin_is_invisible(db, client, agent, ticket, login):
    login(client, agent)

    assert client.get("/hello/").status_code == 404
    assert "Hello from the hello plugin" not in client.get(f"/tickets/{ticket.reference}").text
    assert db.session.scalar(select(func.count()).select_from(HelloGreeting)) == 0  # no hook ran
