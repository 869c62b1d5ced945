"""Migrations: the core and each plugin branch go up and down on their own."""
from importlib.metadata import distribution, entry_points

import flask_migrate
import sqlalchemy as sa

from helpdesk.extensions import db


def tables() -> set[str]:
    return set(sa.inspect(db.engine).get_table_names())


def test_core_and_plugin_branches_are_at_head(app):
    assert {"tickets", "messages", "plugin_states", "hello_greetings"} <= tables()
    flask_migrate.check()  # raises if the models and the migrated schema differ


def test_a_plugin_branch_goes_down_and_up_without_touching_the_core(app, ticket):
    # The ticket's after-commit reads keep a transaction open on this session (it holds a share
    # lock on tickets); on PostgreSQL, dropping a table that points at tickets waits for it.
    db.session.remove()
    flask_migrate.downgrade(revision="hello@base")
    assert "hello_greetings" not in tables()
    assert db.session.execute(sa.text("SELECT count(*) FROM tickets")).scalar() == 1  # core data kept
    flask_migrate.upgrade(revision="heads")
    assert "hello_greetings" in tables()


def test_disabling_a_plugin_keeps_its_table(app):
    from helpdesk.plugin_manager import manager

    manager(app).set_enabled("hello", False)
    assert "hello_greetings" in tables()


def test_example_plugin_is_installed_from_its_own_folder():
    """The tutorial's plugin is a separate package, found through the entry point."""
    (ep,) = [ep for ep in entry_points(group="helpdesk.plugins") if ep.name == "hello"]
    dist = distribution("helpdesk-plugin-hello")
    assert ep.value == "helpdesk_hello"
    assert "examples/hello_plugin" in (dist.read_text("direct_url.json") or "")


def test_core_upgrade_and_downgrade_keep_every_ticket_and_message(app, ticket, agent):
    from helpdesk import services

    services.add_message(ticket, agent, "Hi Carla, a reply")
    count = "SELECT (SELECT count(*) FROM tickets), (SELECT count(*) FROM messages)"
    before = tuple(db.session.execute(sa.text(count)).one())
    db.session.remove()
    flask_migrate.downgrade(revision="core_0001")  # rebuilds tables on SQLite (batch mode)
    assert "sla_targets" not in tables()
    assert tuple(db.session.execute(sa.text(count)).one()) == before
    db.session.remove()
    flask_migrate.upgrade(revision="heads")
    assert tuple(db.session.execute(sa.text(count)).one()) == before == (1, 2)
