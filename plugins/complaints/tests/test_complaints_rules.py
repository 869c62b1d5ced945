"""Routing rules: each condition and action, ordering, stop, dry runs, bad input, broken rules, explain."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from complaints_helpers import COMPLAINT, QUESTION, alerts, audit_rows, field_errors, outbox, text, texts
from helpdesk_complaints.models import ComplaintAck, ComplaintAlert, ComplaintRule
from helpdesk_complaints.rules import Facts, RuleError, evaluate
from sqlalchemy import select

from helpdesk.models import AdminAuditEntry
from helpdesk.plugin_api import Ticket, services

pytestmark = pytest.mark.plugins("complaints")


def facts(**overrides) -> Facts:
    base = {"ticket_id": 1, "channel": "email", "text": "Subject\nMy refund never arrived.", "sentiment": -0.4,
            "customer_tags": {"vip"}, "team_id": 3,
            "created_local": datetime(2025, 3, 4, 22, 15, tzinfo=ZoneInfo("Europe/Berlin")),
            "priority": "high", "is_complaint": True}
    return Facts(**{**base, **overrides})


def verdicts(conditions: dict, **overrides) -> list[tuple[str, bool, str]]:
    return [(v.key, v.ok, v.found) for v in evaluate(conditions, facts(**overrides))]


# ------------------------------------------------------------------ conditions, one by one


def test_each_condition_reports_what_it_compared(app):
    assert verdicts({"channel": ["web", "email"]}) == [("channel", True, "email")]
    assert verdicts({"channel": ["sms"]}) == [("channel", False, "email")]
    assert verdicts({"sentiment_below": -0.3}) == [("sentiment_below", True, "-0.40")]
    assert verdicts({"sentiment_below": -0.5}) == [("sentiment_below", False, "-0.40")]
    assert verdicts({"words": ["Refund", "charge"]}) == [("words", True, "refund")]
    assert verdicts({"words": ["fund"]}) == [("words", False, "none of them")]  # whole words only
    assert verdicts({"regex": r"never\s+arriv"}) == [("regex", True, "“never arriv”")]
    assert verdicts({"regex": r"^\d+$"}) == [("regex", False, "no match")]
    assert verdicts({"customer_tag": "VIP"}) == [("customer_tag", True, "vip")]
    assert verdicts({"customer_tag": "vip"}, customer_tags=set()) == [("customer_tag", False, "no tags")]
    assert verdicts({"team_id": 3})[0][:2] == ("team_id", True)
    assert verdicts({"team_id": 4}, team_id=None) == [("team_id", False, "no team")]
    assert verdicts({"time": {"from": "18:00", "to": "08:00"}}) == [("time", True, "22:15 CET")]  # over midnight
    assert verdicts({"time": {"from": "09:00", "to": "17:00"}}) == [("time", False, "22:15 CET")]
    assert verdicts({"time": {"from": "22:15", "to": "22:16"}})[0][1] is True  # from is inclusive …
    assert verdicts({"time": {"from": "21:00", "to": "22:15"}})[0][1] is False  # … until is not
    assert verdicts({"priority": ["high", "urgent"]}) == [("priority", True, "high")]
    assert verdicts({"priority": ["low"]}) == [("priority", False, "high")]
    assert verdicts({"is_complaint": True}) == [("is_complaint", True, "a complaint")]
    assert verdicts({"is_complaint": False}) == [("is_complaint", False, "a complaint")]
    # All at once: every verdict is listed, in a fixed order.
    keys = [k for k, _, _ in verdicts({"priority": ["high"], "channel": ["email"], "words": ["refund"]})]
    assert keys == ["channel", "words", "priority"]


def test_data_the_form_would_refuse_raises(app):
    for conditions, message in (({}, "no conditions"), ({"colour": "red"}, "unknown condition 'colour'"),
                                ({"regex": "(unclosed"}, "does not compile"),
                                ({"time": {"from": "25:00", "to": "08:00"}}, "not a time")):
        with pytest.raises(RuleError, match=message):
            evaluate(conditions, facts())


# ------------------------------------------------------------------ actions, through real tickets



def test_a_routing_reason_is_stored_in_english_whatever_language_the_ticket_was_written_in(
        db, customer, make_user, team_factory, rule_factory):
    """The reason is stored and shown as stored by the core's history: a German request (or
    customer) must not write it in German; the rules page describes the rule in its reader's language."""
    from flask_babel import force_locale

    ann = make_user("agent", name="Ann Agent")
    billing = team_factory("Billing", [ann])
    rule = rule_factory("Refunds to Ann", {"words": ["refund"], "is_complaint": False},
                        {"team_id": billing.id, "assign": "round_robin", "notify_supervisor": True})
    customer.language = "de"
    db.session.commit()
    with force_locale("de"):
        ticket = services.create_ticket(customer, "Refund", "Where is my refund?")
    (reason,) = [row.reason for row in audit_rows(db, ticket.id) if row.action == "routed"]
    assert reason.startswith(f"rule 'Refunds to Ann' (#{rule.id}): mentions refund and is not a complaint — ")

def test_set_team_and_assign_a_specific_agent_with_the_reason_in_the_audit_trail(
        db, customer, make_user, team_factory, rule_factory):
    ann = make_user("agent", name="Ann Agent")
    billing = team_factory("Billing", [ann])
    rule = rule_factory("Refunds to Ann", {"words": ["refund"]},
                        {"team_id": billing.id, "assign": "agent", "agent_id": ann.id})
    ticket = services.create_ticket(customer, "Refund", "Where is my refund?")
    assert (ticket.team_id, ticket.assignee_id) == (billing.id, ann.id)
    rows = {row.action: row for row in audit_rows(db, ticket.id)}
    expected = f"rule 'Refunds to Ann' (#{rule.id}): mentions refund"
    assert rows["routed"].reason == expected and rows["routed"].new_value == f"Billing (#{billing.id})"
    assert rows["assigned"].reason == expected and rows["assigned"].new_value == f"Ann Agent (#{ann.id})"
    other = services.create_ticket(customer, "Hello", QUESTION)
    assert other.team_id is None and other.assignee_id is None
    ann.available = False  # away: never assigned, even by name
    db.session.commit()
    later = services.create_ticket(customer, "Refund", "Where is my refund?")
    assert (later.team_id, later.assignee_id) == (billing.id, None)
    assert [r.reason for r in audit_rows(db, later.id) if r.action == "routed"] == [f"{expected} — Ann Agent is away"]


def test_team_only_leaves_the_agent_to_the_teams_strategy(db, customer, make_user, team_factory, rule_factory):
    ann, ben = make_user("agent", name="Ann Agent"), make_user("agent", name="Ben Agent")
    tech = team_factory("Tech", [ann, ben], strategy="round_robin")
    rule_factory("Tech", {"words": ["printer"]}, {"team_id": tech.id})
    first = services.create_ticket(customer, "Printer", "The printer jams.")
    second = services.create_ticket(customer, "Printer", "The printer jams again.")
    assert {first.assignee_id, second.assignee_id} == {ann.id, ben.id}
    assert first.team_id == second.team_id == tech.id


def test_round_robin_and_least_loaded_take_only_available_agents(
        db, customer, make_user, team_factory, rule_factory):
    ann, ben = make_user("agent", name="Ann Agent"), make_user("agent", name="Ben Agent")
    away = make_user("agent", name="Ava Away", available=False)
    team = team_factory("Care", [ann, ben, away])
    rule = rule_factory("Care rr", {"channel": ["web"]}, {"team_id": team.id, "assign": "round_robin"})
    picked = [services.create_ticket(customer, f"T{i}", QUESTION).assignee_id for i in range(4)]
    assert picked == [ann.id, ben.id, ann.id, ben.id]  # Ava is away
    reason = [r.reason for r in audit_rows(db, db.session.scalar(select(Ticket.id).order_by(Ticket.id)))
              if r.action == "assigned"][0]
    assert reason.startswith(f"rule 'Care rr' (#{rule.id}): channel in (web) — round robin in Care: turn 1")

    rule.actions = {"team_id": team.id, "assign": "least_loaded"}
    db.session.commit()
    services.update_ticket(services.create_ticket(customer, "x", QUESTION), ann, assignee_id=ann.id)
    # Ann has 3 open, Ben 2: Ben gets the next one.
    assert services.create_ticket(customer, "Next", QUESTION).assignee_id == ben.id


def test_priority_tags_sla_policy_acknowledgement_and_supervisor(
        app, db, customer, make_user, team_factory, rule_factory):
    lena = make_user("agent", name="Lena Lead", email="lena@example.test")
    team = team_factory("VIP care", [lena], lead=lena)
    policies = db.metadata.tables["sla_policies"]
    policy_id = db.session.execute(policies.insert().values(
        name="Fast", position=0, active=True, tag="fast-lane", first_response_minutes=30,
        warn_before_minutes=10, pause_statuses="pending")).inserted_primary_key[0]
    db.session.commit()
    rule_factory("VIPs", {"customer_tag": "vip"}, {
        "team_id": team.id, "priority": "urgent", "tags": ["VIP", "priority-care"], "sla_policy_id": policy_id,
        "acknowledge": True, "ack_template": "Dear {{ first_name }}, {{ reference }} is with our VIP team.",
        "notify_supervisor": True})
    vip = make_user("customer", name="Vera Vip", email="vera@example.test", tags="vip")
    ticket = services.create_ticket(vip, "Hello", QUESTION)

    assert ticket.priority == "urgent" and ticket.team_id == team.id
    assert sorted(t.name for t in ticket.tags) == ["fast-lane", "priority-care", "vip"]
    actions = [r.action for r in audit_rows(db, ticket.id)]
    assert actions.count("tagged") == 2 and "sla_policy" in actions and "notified" in actions
    targets = db.metadata.tables["sla_targets"]
    assert db.session.execute(select(targets.c.policy_id).where(targets.c.ticket_id == ticket.id)).first()[0] \
        == policy_id  # the tighter clock applies
    mails = {m.to_addr: m for m in outbox(db)}
    assert mails["vera@example.test"].body_text == f"Dear Vera, {ticket.reference} is with our VIP team."
    assert "VIPs" in mails["lena@example.test"].body_text  # the supervisor's email …
    alert = db.session.scalar(select(ComplaintAlert))  # … and their dashboard
    assert alert.user_id == lena.id and alert.emailed_at is not None
    assert db.session.scalar(select(ComplaintAck)).status == "sent"


def test_a_rule_never_lowers_a_priority(db, customer, rule_factory):
    """The core applies a rule's priority (``apply_route_decision``): routing only raises."""
    rule_factory("calm down", {"channel": ["web"]}, {"priority": "low", "tags": ["calm"]})
    ticket = services.create_ticket(customer, "Hello", QUESTION, priority="high")
    assert ticket.priority == "high" and [t.name for t in ticket.tags] == ["calm"]
    assert [r.field for r in audit_rows(db, ticket.id) if r.action == "changed"] == []


# ------------------------------------------------------------------ ordering and stop


def test_rules_run_in_order_the_first_routes_and_stop_ends_the_check(
        db, customer, make_user, team_factory, rule_factory):
    first_team, second_team = team_factory("First", []), team_factory("Second", [])
    rule_factory("to first", {"channel": ["web"]}, {"team_id": first_team.id, "tags": ["one"]}, position=10)
    rule_factory("to second", {"channel": ["web"]}, {"team_id": second_team.id, "tags": ["two"]}, position=20,
                 stop=True)
    rule_factory("after stop", {"channel": ["web"]}, {"tags": ["three"]}, position=30)
    ticket = services.create_ticket(customer, "Hi", QUESTION)
    assert ticket.team_id == first_team.id  # the first routing rule wins
    assert sorted(t.name for t in ticket.tags) == ["one", "two"]  # both applied their tags; stop held

    # Reordered: second first.
    for rule in db.session.scalars(select(ComplaintRule)):
        rule.position = {"to first": 20, "to second": 10, "after stop": 30}[rule.name]
    db.session.commit()
    again = services.create_ticket(customer, "Hi", QUESTION)
    assert again.team_id == second_team.id and [t.name for t in again.tags] == ["two"]  # stopped at once


def test_inactive_rules_are_skipped(db, customer, team_factory, rule_factory):
    team = team_factory("T", [])
    rule_factory("off", {"channel": ["web"]}, {"team_id": team.id}, active=False)
    assert services.create_ticket(customer, "Hi", QUESTION).team_id is None


# ------------------------------------------------------------------ broken rules


def test_a_broken_rule_is_skipped_reported_and_never_blocks_the_ticket(
        db, client, login, admin, customer, team_factory, rule_factory):
    team = team_factory("Good", [])
    broken_regex = rule_factory("bad pattern", {"regex": "(unclosed"}, {"priority": "urgent"}, position=10)
    # Saved when the team existed; the team was deleted since (stored data the form would refuse now).
    missing_team = rule_factory("missing team", {"channel": ["web"]}, {"team_id": 99999}, position=20)
    rule_factory("good", {"channel": ["web"]}, {"team_id": team.id, "tags": ["seen"]}, position=30)

    ticket = services.create_ticket(customer, "Hi", QUESTION)
    assert ticket.id is not None and ticket.team_id == team.id and [t.name for t in ticket.tags] == ["seen"]
    assert ticket.priority == "normal"
    db.session.expire_all()
    assert "does not compile" in db.session.get(ComplaintRule, broken_regex.id).last_error
    assert "does not exist" in db.session.get(ComplaintRule, missing_team.id).last_error

    login(client, admin)
    page = client.get("/complaints/rules")
    broken = texts(page.text, cls="rule-broken")
    assert len(broken) == 2 and all(b.startswith("broken") and "skipped" in b for b in broken)
    # Saving it again (fixed) clears the mark.
    fixed = client.post(f"/complaints/rules/{broken_regex.id}", data={
        "name": "bad pattern", "active": "y", "regex": "unclosed", "set_priority": "urgent", "save": "1"},
        follow_redirects=True)
    assert "Saved rule “bad pattern”. It applies to new tickets." in alerts(fixed.text)
    assert len(texts(fixed.text, cls="rule-broken")) == 1


# ------------------------------------------------------------------ admin pages


@pytest.fixture
def boss(client, login, admin):
    login(client, admin)
    return client


def test_invalid_rules_are_refused_with_clear_messages(db, boss, team_factory, make_user):
    team_factory("Real", [])
    cases = [
        ({"name": "Empty", "set_priority": "high"},
         "Add at least one condition: a rule without conditions would match every ticket."),
        ({"name": "No action", "words": "refund"}, "Choose at least one action: what should happen when the rule "
                                                   "matches?"),
        ({"name": "Ghost team", "words": "refund", "set_team_id": "999"}, "Unknown team: choose one from the list."),
        ({"name": "Ghost agent", "words": "refund", "assign": "agent", "agent_id": "999"},
         "Unknown agent: choose one from the list."),
        ({"name": "Bad regex", "regex": "order (\\d+", "set_priority": "high"},
         "This pattern does not compile: missing ), unterminated subpattern at position 6."),
        ({"name": "RR", "words": "x", "assign": "round_robin"},
         "Round robin and least loaded pick within a team: set the team (or a team condition)."),
        ({"name": "Half window", "time_from": "18:00", "set_priority": "high"},
         "Give both times of the window (from and until)."),
        ({"name": "Bad time", "time_from": "6pm", "time_to": "08:00", "set_priority": "high"},
         "Enter a time like 18:30."),
        ({"name": "Bad sentiment", "sentiment_below": "-3", "set_priority": "high"},
         "Sentiment runs from -1 (very negative) to 1."),
        ({"name": "Ghost policy", "words": "x", "sla_policy_id": "999"},
         "Unknown SLA policy (only policies limited to a tag can be applied): choose one from the list."),
        ({"name": "Bad template", "words": "x", "acknowledge": "y", "ack_template": "Hi {{ first_name"},
         "The template has an error on line 1:"),
        ({"name": "", "words": "x", "set_priority": "high"}, "Give the rule a name."),
    ]
    for data, message in cases:
        page = boss.post("/complaints/rules/new", data={**data, "save": "1"})
        assert page.status_code == 422, data
        assert any(error.startswith(message) for error in field_errors(page.text)), (message, field_errors(page.text))
    assert db.session.scalar(select(ComplaintRule)) is None


def test_test_button_counts_matches_without_saving_then_save(db, boss, customer, make_user, team_factory):
    team = team_factory("Billing", [])
    for i in range(3):
        services.create_ticket(customer, f"Refund {i}", "I want my refund.")
    services.create_ticket(customer, "Other", QUESTION)
    data = {"name": "Refunds", "active": "y", "words": "refund", "set_team_id": str(team.id)}
    tested = boss.post("/complaints/rules/new", data={**data, "test": "1"})
    assert tested.status_code == 200
    assert text(tested.text, id="test-summary") == "This rule would have matched 3 of the last 4 tickets."
    assert [t.split(" ")[1] for t in texts(tested.text, cls="test-match")] == ["Refund", "Refund", "Refund"]
    assert db.session.scalar(select(ComplaintRule)) is None  # nothing saved
    saved = boss.post("/complaints/rules/new", data={**data, "save": "1"}, follow_redirects=True)
    assert "Created rule “Refunds”. It applies to new tickets." in alerts(saved.text)
    assert text(saved.text, cls="rule-conditions") == "mentions refund"
    assert text(saved.text, cls="rule-actions") == f"team → Billing (#{team.id})"
    rule = db.session.scalar(select(ComplaintRule))
    assert rule.conditions == {"words": ["refund"]} and rule.actions == {"team_id": team.id}
    entry = db.session.scalars(select(AdminAuditEntry)).one()  # the admin audit log has it
    assert (entry.kind, entry.action) == ("complaints.rule", "created")
    assert entry.target == f"complaint rule “Refunds” (#{rule.id})"
    assert entry.after["conditions"] == {"words": ["refund"]}
    edit = boss.get(f"/complaints/rules/{rule.id}")
    assert 'value="refund"' in edit.text


def test_dry_run_looks_at_the_last_500_tickets_and_first_messages(db, customer, agent):
    from helpdesk_complaints.rules import dry_run

    old = services.create_ticket(customer, "Old", "refund please")
    for i in range(500):
        db.session.add(Ticket(subject=f"Bulk {i}", customer_id=customer.id, channel="web"))
    db.session.commit()
    result = dry_run({"words": ["refund"]})
    assert result.checked == 500 and result.matched == []  # the old ticket is the 501st
    ticket = services.create_ticket(customer, "New", "Nothing here")
    services.add_message(ticket, agent, "Your refund is on its way")  # not the first message
    assert dry_run({"words": ["refund"]}).matched == []
    assert [t.id for t in dry_run({"words": ["refund"]}, limit=600).matched] == [old.id]


def test_reorder_rules_up_and_down(db, boss, rule_factory):
    a = rule_factory("A", {"words": ["a"]}, {"priority": "high"})
    b = rule_factory("B", {"words": ["b"]}, {"priority": "high"})
    c = rule_factory("C", {"words": ["c"]}, {"priority": "high"})
    page = boss.post(f"/complaints/rules/{c.id}/move", data={"direction": "up"}, follow_redirects=True)
    assert "Moved “C” up." in alerts(page.text)
    assert texts(page.text, cls="rule-name") == ["A", "C", "B"]
    page = boss.post(f"/complaints/rules/{a.id}/move", data={"direction": "down"}, follow_redirects=True)
    assert texts(page.text, cls="rule-name") == ["C", "A", "B"]
    page = boss.post(f"/complaints/rules/{c.id}/move", data={"direction": "up"}, follow_redirects=True)
    assert "That rule cannot move further." in alerts(page.text)
    page = boss.post(f"/complaints/rules/{b.id}/delete", follow_redirects=True)
    assert "Deleted rule “B”." in alerts(page.text) and texts(page.text, cls="rule-name") == ["C", "A"]
    assert boss.post(f"/complaints/rules/{a.id}/move", data={"direction": "up"}, csrf=False).status_code == 400


def test_rules_pages_empty_state_and_roles(client, login, agent, customer, admin):
    login(client, agent)
    assert client.get("/complaints/rules").status_code == 403
    assert client.get("/complaints/").status_code == 200
    login(client, customer)
    assert client.get("/complaints/").status_code == 404
    login(client, admin)
    assert "No routing rules yet." in text(client.get("/complaints/rules").text, id="rules-empty")


# ------------------------------------------------------------------ explain


def test_explain_view_shows_each_rule_and_condition_verdict(db, client, login, agent, customer, make_user,
                                                           team_factory, rule_factory):
    team = team_factory("Complaints desk", [])
    fires = rule_factory("Complaints", {"is_complaint": True, "channel": ["web"]}, {"team_id": team.id}, stop=True)
    misses = rule_factory("Night shift", {"time": {"from": "03:00", "to": "03:01"}}, {"priority": "urgent"})
    stopped = rule_factory("Everything web", {"channel": ["web"]}, {"tags": ["web"]})
    broken = rule_factory("Broken", {"regex": "("}, {"priority": "low"})
    ticket = services.create_ticket(customer, "Order", COMPLAINT)
    assert ticket.team_id == team.id

    login(client, agent)
    page = client.get(f"/complaints/tickets/{ticket.reference}/explain")
    assert page.status_code == 200
    verdicts = {int(v.split("|")[0]): v for v in _rule_cards(page.text)}
    assert verdicts[fires.id].endswith("would fire now fires")
    assert "does not fire no match" in verdicts[misses.id]
    assert "would match, but rule 'Complaints' stops the rules before it" in verdicts[stopped.id]
    assert "broken" in verdicts[broken.id]
    conditions = texts(page.text, cls="condition")
    assert "true is a complaint found: a complaint" in conditions
    assert "true channel is web found: web" in conditions
    assert any(c.startswith("false created between 03:00 and 03:01 found:") for c in conditions)
    decisions = texts(page.text, cls="decision")
    assert any(f"routed team_id: — → Complaints desk (#{team.id})" in d
               and f"rule 'Complaints' (#{fires.id}): channel in (web) and is a complaint" in d for d in decisions)
    assert any("tagged tags: — → complaint" in d and "classified by complaints" in d for d in decisions)
    ticket_page = client.get(f"/tickets/{ticket.reference}")
    assert f"/complaints/tickets/{ticket.reference}/explain" in ticket_page.text
    assert client.get("/complaints/tickets/HD-999/explain").status_code == 404


def test_the_explain_page_and_a_rules_alert_read_in_german(db, client, login, customer, make_user, team_factory,
                                                         rule_factory):
    """Routing reasons and a supervisor's alert are stored in English and as words: a German
    lead reads the rule's conditions in German, on the explain page and on the dashboard."""
    lena = make_user("agent", name="Lena Lead", language="de")
    team = team_factory("Complaints desk", [lena], lead=lena)
    fires = rule_factory("Complaints", {"is_complaint": True, "channel": ["web"]},
                         {"team_id": team.id, "notify_supervisor": True})
    misses = rule_factory("Night shift", {"time": {"from": "03:00", "to": "03:01"}}, {"priority": "urgent"})
    ticket = services.create_ticket(customer, "Order", COMPLAINT)
    english = f"rule 'Complaints' (#{fires.id}): channel in (web) and is a complaint"
    [routed] = [r for r in audit_rows(db, ticket.id) if r.action == "routed"]
    assert routed.reason == english  # search and exports keep the English
    alert = db.session.scalar(select(ComplaintAlert))
    assert alert.text == f"New ticket routed by {english}"
    assert alert.words["msgid"] == "New ticket routed by %(rule)s"

    login(client, lena)
    german = f"Regel „Complaints“ (#{fires.id}): Kanal in (web) und ist eine Beschwerde"
    assert texts(client.get("/dashboard").text, cls="alert-text") == [f"Neues Ticket durch {german} weitergeleitet"]
    page = client.get(f"/complaints/tickets/{ticket.reference}/explain").text
    decisions = texts(page, cls="decision-reason")
    assert german in decisions and "eingeordnet von complaints" in decisions
    assert not any("channel in" in d or "classified by" in d for d in decisions)
    assert "kein Treffer" in {int(v.split("|")[0]): v for v in _rule_cards(page)}[misses.id]


def _rule_cards(page: str) -> list[str]:
    import re

    out = []
    for match in re.finditer(r'data-rule-id="(\d+)" data-status="[^"]*">(.*?)</article>', page, re.S):
        out.append(match.group(1) + "|" + " ".join(texts(match.group(2), cls="verdict")
                                                  + texts(match.group(2), cls="status-text")))
    return out


@pytest.mark.plugins("complaints")
def test_demo_data_shows_a_rule_a_clock_and_routed_complaints(app, db):
    from helpdesk.demo import seed_demo
    from helpdesk.plugin_api import SlaPolicy, Ticket

    summary = seed_demo(20, seed=3, echo=lambda line: None)
    assert "complaints: a complaints SLA policy, a routing rule and 3 complaints" in summary
    charged = db.session.scalar(select(Ticket).where(Ticket.subject == "Charged twice again"))
    assert "complaint" in {t.name for t in charged.tags}
    assert charged.team.name == "Billing" and charged.assignee_id is not None  # the demo rule routed it
    assert db.session.scalar(select(SlaPolicy.name).where(SlaPolicy.tag == "complaint")) == "Complaints"


def test_a_rules_acknowledgement_has_a_text_per_language(db, boss, customer, other_customer, agent):
    """Other languages on the rule form: the German customer gets the German text, the others the
    rule's own text; a broken German text is refused on its own field and nothing is saved."""
    from helpdesk.services.profiles import update_preferences

    data = {"name": "Refunds", "active": "y", "words": "refund", "acknowledge": "y",
            "ack_template": "Hi {{ first_name }}, {{ reference }} is with our refunds team."}
    form = boss.get("/complaints/rules/new")
    assert 'name="body_de"' in form.text and "Other languages" in form.text
    broken = boss.post("/complaints/rules/new", data={**data, "body_de": "Hallo {{ first_name", "save": "1"})
    assert broken.status_code == 422
    assert any(e.startswith("Deutsch: The template has an error") for e in field_errors(broken.text))
    assert "Hallo {{ first_name" in broken.text  # what was typed is kept
    assert db.session.scalar(select(ComplaintRule)) is None
    german = "Hallo {{ first_name }}, {{ reference }} ist bei unserem Erstattungsteam."
    saved = boss.post("/complaints/rules/new", data={**data, "body_de": german, "save": "1"}, follow_redirects=True)
    assert "Created rule “Refunds”. It applies to new tickets." in alerts(saved.text)
    rule = db.session.scalar(select(ComplaintRule))
    assert german in boss.get(f"/complaints/rules/{rule.id}").text

    update_preferences(customer, agent, language="de")
    de = services.create_ticket(customer, "Refund", "I want my refund.")
    en = services.create_ticket(other_customer, "Refund", "I want my refund.")
    bodies = {row.to_addr: row.body_text for row in outbox(db)}
    assert bodies[customer.email].startswith(f"Hallo Carla, {de.reference} ist bei unserem Erstattungsteam.")
    assert bodies[other_customer.email].startswith(f"Hi Otto, {en.reference} is with our refunds team.")

    from helpdesk.models import TextTranslation

    assert db.session.scalar(select(TextTranslation.language).where(TextTranslation.kind == "complaints.ack")) == "de"
    boss.post(f"/complaints/rules/{rule.id}/delete", follow_redirects=True)
    db.session.expire_all()
    assert db.session.get(ComplaintRule, rule.id) is None  # deleting the rule deletes its other texts
    assert db.session.scalar(select(TextTranslation).where(TextTranslation.kind == "complaints.ack")) is None
