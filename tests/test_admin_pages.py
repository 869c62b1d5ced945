"""Admin pages: users, teams, tags, canned replies, settings and the outbox."""
from __future__ import annotations

from datetime import timedelta

import pytest
from pagetext import alerts, attributes, body, field_errors, text, texts
from sqlalchemy import func, select

from helpdesk import services
from helpdesk.models import CannedReply, Tag, Team, User
from helpdesk.services.mail import queue_mail


def flashes(page: str) -> str:
    return " | ".join(alerts(page))


def count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def boss(client, login, admin):
    login(client, admin)
    return client


def user_row(page: str, email: str) -> str:
    return next(r for r in texts(page, cls="user-row") if email in r)


# -------------------------------------------------------------------- users


def test_create_an_agent_in_a_team(boss, db):
    team = Team(name="Billing")
    db.session.add(team)
    db.session.commit()
    form = boss.get("/admin/users/new")
    assert form.status_code == 200 and "New user" in body(form.text)
    saved = boss.post("/admin/users/new", data={
        "name": "Nora New", "email": "Nora@Example.test", "role": "agent", "password": "a long password",
        "active": "y", "teams": [str(team.id)]}, follow_redirects=True)
    assert saved.request.path == "/admin/users"
    assert "Saved Nora New." in flashes(saved.text)
    row = user_row(saved.text, "nora@example.test")
    for shown in ("Nora New", "agent", "Billing", "active"):
        assert shown in row
    nora = db.session.scalar(select(User).where(User.email == "nora@example.test"))
    assert nora.is_staff and [t.name for t in nora.teams] == ["Billing"]


def test_a_customer_can_be_created_without_a_password(boss, db):
    boss.post("/admin/users/new", data={"name": "Cid", "email": "cid@example.test", "role": "customer",
                                        "password": "", "active": "y"})
    cid = db.session.scalar(select(User).where(User.email == "cid@example.test"))
    assert cid.role == "customer" and cid.password_hash is None
    assert [(i.kind, i.value) for i in cid.identities] == [("email", "cid@example.test")]


@pytest.mark.parametrize("form,error", [
    ({"name": "Dup", "email": "AGENT@example.test", "role": "agent", "password": "a long password"},
     "A user with this email address already exists."),
    ({"name": "Nopass", "email": "nopass@example.test", "role": "agent", "password": ""},
     "Staff accounts need a password."),
    ({"name": "Nopass", "email": "nopass@example.test", "role": "admin", "password": ""},
     "Staff accounts need a password."),
    ({"name": "Short", "email": "short@example.test", "role": "agent", "password": "short"},
     "Field must be between 8 and 200 characters long."),
    ({"name": "", "email": "noname@example.test", "role": "agent", "password": "a long password"},
     "This field is required."),
    ({"name": "Bad", "email": "bad@", "role": "agent", "password": "a long password"},
     "Not a valid email address"),
    ({"name": "Root", "email": "root@example.test", "role": "superuser", "password": "a long password"},
     "Not a valid choice."),
])
def test_user_form_errors_create_nobody(boss, db, agent, form, error):
    before = count(db, User)
    answer = boss.post("/admin/users/new", data={**form, "active": "y"})
    assert answer.status_code == 422
    assert any(error in e for e in field_errors(answer.text)), field_errors(answer.text)
    assert count(db, User) == before


def test_edit_a_user(boss, db, agent):
    form = boss.get(f"/admin/users/{agent.id}")
    assert 'value="agent@example.test"' in form.text
    saved = boss.post(f"/admin/users/{agent.id}", data={
        "name": "Alex Renamed", "email": "alex@example.test", "role": "admin", "password": "", "active": "y"},
        follow_redirects=True)
    assert "Saved Alex Renamed." in flashes(saved.text)
    assert "Alex Renamed" in user_row(saved.text, "alex@example.test")
    assert "admin" in user_row(saved.text, "alex@example.test")
    db.session.expire_all()
    assert (agent.name, agent.email, agent.role) == ("Alex Renamed", "alex@example.test", "admin")


def test_edit_to_a_taken_email_is_refused(boss, db, agent, customer):
    answer = boss.post(f"/admin/users/{agent.id}", data={
        "name": "Alex Agent", "email": "carla@example.test", "role": "agent", "password": "", "active": "y"})
    assert answer.status_code == 422
    assert "A user with this email address already exists." in field_errors(answer.text)
    db.session.expire_all()
    assert agent.email == "agent@example.test"


def test_disabling_a_user_signs_them_out(boss, db, agent, login, app):
    theirs = app.test_client()
    login(theirs, agent)
    assert theirs.get("/queue").status_code == 200
    saved = boss.post(f"/admin/users/{agent.id}", data={
        "name": "Alex Agent", "email": "agent@example.test", "role": "agent", "password": ""},
        follow_redirects=True)  # the "active" box unticked
    assert "disabled" in user_row(saved.text, "agent@example.test")
    assert theirs.get("/queue").status_code == 302


@pytest.mark.parametrize("change", [{"role": "agent", "active": "y"}, {"role": "admin"}])
def test_an_admin_cannot_demote_or_disable_themself(boss, db, admin, change):
    answer = boss.post(f"/admin/users/{admin.id}", data={
        "name": "Ada Admin", "email": "admin@example.test", "password": "", **change})
    assert answer.status_code == 422
    assert "You cannot remove your own admin role or disable yourself." in field_errors(answer.text)
    db.session.expire_all()
    assert admin.role == "admin" and admin.active
    assert boss.get("/admin/users").status_code == 200  # still an admin


def test_users_list_filters_by_role(boss, agent, customer):
    agents = texts(boss.get("/admin/users?role=agent").text, cls="user-row")
    assert len(agents) == 1 and agents[0].startswith("Alex Agent")
    everyone = texts(boss.get("/admin/users").text, cls="user-row")
    assert len(everyone) == 3


def test_unknown_user_is_a_404(boss):
    assert boss.get("/admin/users/9999").status_code == 404


# -------------------------------------------------------------------- teams


def test_team_with_members_and_lead(boss, db, agent, admin, make_user):
    bea = make_user("agent", name="Bea Backup")
    saved = boss.post("/admin/teams/new", data={
        "name": "Tech", "description": "Bugs and outages", "lead_id": str(bea.id),
        "members": [str(agent.id), str(bea.id)]}, follow_redirects=True)
    assert "Saved team Tech." in flashes(saved.text)
    [row] = texts(saved.text, cls="team-row")
    assert row.startswith("Tech Bugs and outages")
    assert "Bea Backup Alex Agent, Bea Backup" in row  # the lead, then the members
    team = db.session.scalar(select(Team))

    edit = boss.get(f"/admin/teams/{team.id}")
    assert [a.get("checked") is not None for a in attributes(edit.text, tag="input", cls="form-check-input")] == [
        False, True, True]  # Ada (not a member), Alex, Bea
    changed = boss.post(f"/admin/teams/{team.id}", data={
        "name": "Tech", "description": "", "lead_id": "", "members": [str(admin.id)]}, follow_redirects=True)
    [row] = texts(changed.text, cls="team-row")
    assert "Bugs and outages" not in row and "— Ada Admin" in row  # no lead, one member
    db.session.expire_all()
    assert [u.name for u in team.members] == ["Ada Admin"] and team.lead_id is None


def test_duplicate_team_name_is_refused(boss, db):
    db.session.add(Team(name="Tech"))
    db.session.commit()
    answer = boss.post("/admin/teams/new", data={"name": "Tech", "description": "", "lead_id": ""})
    assert answer.status_code == 422
    assert "A team with this name already exists." in field_errors(answer.text)
    assert count(db, Team) == 1


def test_customers_cannot_join_teams(boss, db, customer, agent):
    boss.post("/admin/teams/new", data={"name": "Tech", "lead_id": "",
                                        "members": [str(customer.id), str(agent.id)]})
    assert [u.name for u in db.session.scalar(select(Team)).members] == ["Alex Agent"]


# --------------------------------------------------------------------- tags


def test_add_and_delete_tags(boss, db, ticket, agent):
    added = boss.post("/admin/tags", data={"name": "  VIP "}, follow_redirects=True)
    assert "Added tag vip." in flashes(added.text)
    assert [a["data-tag"] for a in attributes(added.text, cls="tag-row")] == ["vip"]

    again = boss.post("/admin/tags", data={"name": "vip"})
    assert again.status_code == 422
    assert "This tag exists already." in field_errors(again.text)
    empty = boss.post("/admin/tags", data={"name": ""})
    assert empty.status_code == 422 and "This field is required." in field_errors(empty.text)
    assert count(db, Tag) == 1

    services.update_ticket(ticket, agent, tags=["vip"])
    tag = db.session.scalar(select(Tag))
    deleted = boss.post(f"/admin/tags/{tag.id}/delete", data={}, follow_redirects=True)
    assert "Removed tag vip from 1 ticket." in flashes(deleted.text)
    assert "No tags yet." in body(deleted.text)
    db.session.expire_all()
    assert ticket.tags == []
    assert boss.post(f"/admin/tags/{tag.id}/delete", data={}).status_code == 404


# ----------------------------------------------------------- canned replies


def test_canned_reply_with_a_broken_template_shows_the_error(boss, db):
    answer = boss.post("/admin/canned/new", data={"title": "Greeting", "body": "Hi {{ customer.first_name ,"})
    assert answer.status_code == 422
    errors = field_errors(answer.text)
    assert len(errors) == 1 and errors[0].startswith("Template error:")
    assert "Hi {{ customer.first_name ," in text(answer.text, id="canned-form")  # the draft is kept
    assert count(db, CannedReply) == 0


def test_canned_reply_create_edit_delete(boss, db):
    created = boss.post("/admin/canned/new", data={"title": "Greeting", "body": "Hi {{ customer.first_name }},"},
                        follow_redirects=True)
    assert "Saved “Greeting”." in flashes(created.text)
    assert texts(created.text, cls="canned-row")[0].startswith("Greeting Hi {{ customer.first_name }},")
    reply = db.session.scalar(select(CannedReply))

    clash = boss.post("/admin/canned/new", data={"title": "Greeting", "body": "Hello"})
    assert clash.status_code == 422
    assert "A canned reply with this title exists already." in field_errors(clash.text)

    boss.post(f"/admin/canned/{reply.id}", data={"title": "Greeting", "body": "Hello {{ customer.name }}"})
    db.session.expire_all()
    assert reply.body == "Hello {{ customer.name }}"

    gone = boss.post(f"/admin/canned/{reply.id}/delete", data={}, follow_redirects=True)
    assert "Canned reply removed." in flashes(gone.text)
    assert count(db, CannedReply) == 0


# ----------------------------------------------------------------- settings


def test_settings_change_the_site_name_and_the_reopen_window(boss, db, app, login, ticket, agent, customer):
    form = boss.get("/admin/settings")
    assert 'value="Helpdesk"' in form.text and 'value="14"' in form.text
    saved = boss.post("/admin/settings", data={"helpdesk_name": "Acme Support", "mail_from": "help@acme.test",
                                               "reopen_window_days": "2"}, follow_redirects=True)
    assert "Settings saved." in flashes(saved.text)
    assert text(saved.text, tag="title") == "Settings · Acme Support"
    assert text(saved.text, cls="navbar-brand") == "Acme Support"

    services.update_ticket(ticket, agent, status="resolved")
    ticket.resolved_at -= timedelta(days=3)  # within the default 14 days, outside the new 2
    db.session.commit()
    portal = app.test_client()
    login(portal, customer)
    page = portal.get(f"/portal/tickets/{ticket.reference}")
    assert text(page.text, cls="navbar-brand") == "Acme Support"
    refused = portal.post(f"/portal/tickets/{ticket.reference}/reopen", data={}, follow_redirects=True)
    assert f"{ticket.reference} can no longer be reopened; please open a new ticket." in flashes(refused.text)
    with pytest.raises(services.ServiceError, match="more than 2 days ago"):
        services.add_message(ticket, customer, "It is back")
    db.session.refresh(ticket)
    assert ticket.status == "resolved"


def test_settings_reopen_window_allows_longer_windows_too(boss, db, ticket, agent, customer):
    boss.post("/admin/settings", data={"helpdesk_name": "Helpdesk", "mail_from": "help@acme.test",
                                       "reopen_window_days": "60"})
    services.update_ticket(ticket, agent, status="resolved")
    ticket.resolved_at -= timedelta(days=30)
    db.session.commit()
    services.add_message(ticket, customer, "It is back")
    assert ticket.status == "open"


@pytest.mark.parametrize("field,value,error", [
    ("helpdesk_name", "", "This field is required."),
    ("mail_from", "not an address", "Not a valid email address"),
    ("reopen_window_days", "-1", "Number must be between 0 and 365."),
    ("reopen_window_days", "many", ""),  # some error: WTForms says "required" or "not a valid integer"
    ("reopen_window_days", "366", "Number must be between 0 and 365."),
    ("notices_per_recipient_per_hour", "101", "Number must be between 0 and 100."),
])
def test_invalid_settings_are_refused_and_nothing_changes(boss, field, value, error):
    data = {"helpdesk_name": "Acme", "mail_from": "help@acme.test", "reopen_window_days": "7", field: value}
    answer = boss.post("/admin/settings", data=data)
    assert answer.status_code == 422
    assert any(error in e for e in field_errors(answer.text)), field_errors(answer.text)
    assert text(boss.get("/admin/settings").text, cls="navbar-brand") == "Helpdesk"


def test_the_cap_on_automatic_notices_is_an_admin_setting(boss, db, ticket, customer):
    form = boss.get("/admin/settings")
    assert 'name="notices_per_recipient_per_hour"' in form.text and 'value="5"' in form.text
    boss.post("/admin/settings", data={"helpdesk_name": "Helpdesk", "mail_from": "help@acme.test",
                                       "reopen_window_days": "14", "notices_per_recipient_per_hour": "1"})
    assert services.notify_customer(customer, "Thanks", "We have your message.", ticket=ticket)
    assert not services.notify_customer(customer, "How did we do?", "Rate us.", ticket=ticket)
    assert 'value="1"' in boss.get("/admin/settings").text


def test_a_reopen_window_of_zero_days_can_be_set(boss, db, ticket, agent, customer):
    answer = boss.post("/admin/settings", data={"helpdesk_name": "Helpdesk", "mail_from": "help@acme.test",
                                                "reopen_window_days": "0"}, follow_redirects=True)
    assert "Settings saved." in flashes(answer.text)
    services.update_ticket(ticket, agent, status="resolved")
    ticket.resolved_at -= timedelta(hours=1)
    db.session.commit()
    with pytest.raises(services.ServiceError, match="Please open a new ticket"):
        services.add_message(ticket, customer, "It is back")


# ------------------------------------------------------------------- outbox


def test_outbox_list_and_detail(boss, db):
    mail = queue_mail("carla@example.test", "Your sign-in link", "Hello Carla,\n\nhere is your link.")
    assert mail.status == "kept"  # no SMTP server configured
    listing = boss.get("/admin/outbox")
    [row] = texts(listing.text, cls="mail-row")
    assert row.startswith(f"{mail.id} carla@example.test Your sign-in link kept")
    detail = boss.get(f"/admin/outbox/{mail.id}")
    assert text(detail.text, tag="h1") == "Your sign-in link"
    assert "carla@example.test" in text(detail.text, id="mail-meta")
    assert text(detail.text, id="mail-body") == "Hello Carla, here is your link."
    assert boss.get("/admin/outbox/9999").status_code == 404


def test_admin_pages_are_for_admins_only(client, login, agent):
    login(client, agent)
    assert client.get("/admin/outbox").status_code == 403
    assert client.post("/admin/settings", data={"helpdesk_name": "Pwned", "mail_from": "x@example.test",
                                                "reopen_window_days": "1"}).status_code == 403
    assert text(client.get("/queue").text, cls="navbar-brand") == "Helpdesk"


def test_the_site_time_zone_is_set_checked_and_offered_to_plugins(boss, app):
    from helpdesk.plugin_api import site_timezone

    assert str(site_timezone()) == "UTC"
    base = {"helpdesk_name": "Acme", "mail_from": "help@acme.test", "reopen_window_days": "7"}
    refused = boss.post("/admin/settings", data={**base, "timezone": "Mars/Olympus_Mons"})
    assert refused.status_code == 422
    assert any("Unknown time zone “Mars/Olympus_Mons”" in e for e in field_errors(refused.text))
    page = boss.get("/admin/settings").text
    assert '<option value="Europe/Berlin">' in page  # the browser suggests real zone names
    saved = boss.post("/admin/settings", data={**base, "timezone": "Europe/Berlin"}, follow_redirects=True)
    assert "Settings saved." in flashes(saved.text)
    with app.test_request_context():
        assert str(site_timezone()) == "Europe/Berlin"
