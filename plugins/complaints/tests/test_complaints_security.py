"""Attacks on the complaints plugin: each test performs one, then checks what the attacker sees
and that nothing changed.

Roles on every page and form (visitors, customers, agents on admin pages, other people's
alerts), CSRF on every form, escaping of customer text in pages, charts and mail, the signed
follow-up links (forged, expired, replayed, another plugin's salt, unsent, held by someone
else), the acknowledgement template sandbox, regular-expression denial of service in routing
rules, and odd or oversized input.
"""
from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from complaints_helpers import COMPLAINT, alerts, audit_rows, field_errors, outbox, text, texts
from helpdesk_complaints.models import ComplaintAck, ComplaintAlert, ComplaintFlag, ComplaintFollowUp, ComplaintRule
from helpdesk_complaints.notices import send_due_followups
from helpdesk_complaints.playbook import record_remedy
from helpdesk_complaints.rules import dry_run
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import select

from helpdesk.plugin_api import Ticket, services, utcnow
from helpdesk.plugin_manager import manager
from helpdesk.testing import CSRFClient, make_plugin

pytestmark = pytest.mark.plugins("complaints")

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
ESCAPED_SCRIPT = "&lt;script&gt;alert(1)&lt;/script&gt;"
ESCAPED_IMG = "&lt;img src=x onerror=alert(1)&gt;"
TABLES = ("audit_events", "outbox_mail", "tickets", "ticket_tags", "messages")


# ------------------------------------------------------------------ helpers


def snapshot(db) -> dict[str, list[tuple]]:
    """Every row the plugin (and the ticket it works on) could change, to compare before/after."""
    db.session.expire_all()
    out = {}
    for table in db.metadata.sorted_tables:
        if table.name.startswith("complaints_") or table.name in TABLES:
            order = list(table.primary_key.columns) or list(table.columns)
            out[table.name] = [tuple(row) for row in db.session.execute(select(table).order_by(*order))]
    return out


def assert_escaped(page: str, where: str) -> None:
    assert not re.search(r"<script>\s*alert", page), where
    assert not re.search(r"<img[^>]*onerror", page, re.IGNORECASE), where


def page_token(response) -> str:
    match = re.search(r'<meta name="csrf-token" content="([^"]+)"', response.text)
    assert match, "no CSRF token in the page"
    return match.group(1)


def tampered_posts(client, url: str, data: dict) -> list:
    """The same form posted with no token, a forged token and another visitor's valid token."""
    other = client.application.test_client()
    other_token = page_token(other.get("/login"))
    client.csrf_token()  # the victim's session holds a token, as when a page with the form was opened
    return [client.post(url, data=data, csrf=False),
            client.post(url, data={**data, "csrf_token": "forged"}, csrf=False),
            client.post(url, data={**data, "csrf_token": other_token}, csrf=False)]


def assert_refused_as_csrf(responses: list, where: str) -> None:
    for response in responses:
        assert response.status_code == 400, where
        assert "CSRF" in response.text and "reload the page and try again" in response.text, where


def resolve(agent, ticket) -> None:
    record_remedy(ticket, agent, "a 20 euro voucher", no_remedy=False)
    services.update_ticket(ticket, agent, status="resolved")


def followup_path(db) -> str:
    return re.search(r"http://helpdesk\.test(/complaints/followup/\S+)", outbox(db)[-1].body_text).group(1)


def feedback_spy(app) -> list:
    seen: list = []
    manager(app).register(make_plugin("feedback_spy", helpdesk_feedback_received=lambda ticket, customer, feedback:
                                      seen.append((ticket.id, customer.id, feedback["score"]))), "feedback_spy")
    return seen


@pytest.fixture
def complaint(customer):
    return services.create_ticket(customer, "Late order", COMPLAINT)


@pytest.fixture
def sent_followup(app, db, agent, complaint) -> str:
    """The path of the follow-up link the customer was mailed after the complaint was resolved."""
    resolve(agent, complaint)
    assert send_due_followups(now=utcnow() + timedelta(days=4)) == 1
    return followup_path(db)


@pytest.fixture
def rule(rule_factory):
    return rule_factory("Refunds", {"words": ["refund"]}, {"priority": "urgent"})


@pytest.fixture
def agent_alert(db, agent, complaint):
    alert = ComplaintAlert(user_id=agent.id, ticket_id=complaint.id, kind="rule", text="Look at this")
    db.session.add(alert)
    db.session.commit()
    return alert


# ------------------------------------------------------------------ roles


def staff_posts(ticket: Ticket, rule: ComplaintRule) -> dict[str, dict]:
    """Every staff and admin form, filled in as the honest person would."""
    ref = ticket.reference
    return {
        f"/complaints/tickets/{ref}/step": {"step": "listen", "done": "yes"},
        f"/complaints/tickets/{ref}/remedy": {"kind": "offered", "text": "A free month"},
        f"/complaints/tickets/{ref}/clear": {"reason": "It is a question"},
        f"/complaints/tickets/{ref}/flag": {"reason": "Missed by detection"},
        "/complaints/rules/new": {"name": "Hijack", "words": "refund", "set_priority": "low", "save": "1"},
        f"/complaints/rules/{rule.id}": {"name": "Hijacked", "words": "refund", "set_priority": "low", "save": "1"},
        f"/complaints/rules/{rule.id}/move": {"direction": "down"},
        f"/complaints/rules/{rule.id}/delete": {},
        "/complaints/detector/use": {"use": "builtin"},
        "/complaints/detector/sensitivity": {"sensitivity": "90", "action": "save"},
        "/complaints/detector/retrain": {},
    }


def test_visitors_and_customers_never_reach_staff_pages_or_forms(app, db, client, login, customer, other_customer,
                                                                 complaint, rule, agent_alert):
    """Even the customer whose complaint it is: staff pages answer 404, visitors go to sign in."""
    before = snapshot(db)
    gets = ["/complaints/", f"/complaints/tickets/{complaint.reference}/explain", "/complaints/rules",
            "/complaints/rules/new", f"/complaints/rules/{rule.id}", "/complaints/detector"]
    posts = {**staff_posts(complaint, rule), f"/complaints/alerts/{agent_alert.id}/dismiss": {}}
    app.test_client_class = CSRFClient  # a valid form token: only the role is wrong
    for who in (None, customer, other_customer):
        visitor = app.test_client()
        if who is not None:
            login(visitor, who)
        for url in gets:
            response = visitor.get(url)
            if who is None:
                assert response.status_code == 302 and "/login" in response.headers["Location"], url
            else:
                assert response.status_code == 404, (url, who.name)
                assert "Late order" not in response.text and "Refunds" not in response.text
        for url, data in posts.items():
            response = visitor.post(url, data=data)
            expected = (302,) if who is None else (404,)
            assert response.status_code in expected, (url, who and who.name, response.status_code)
            if who is None:
                assert "/login" in response.headers["Location"]
    assert snapshot(db) == before
    # The customer sees only the acknowledgement in the portal, never the staff panel.
    login(client, customer)
    portal = client.get(f"/portal/tickets/{complaint.reference}").text
    assert "complaint-ack" in portal and "complaint-panel" not in portal and "complaint-badge" not in portal
    assert "/complaints/tickets/" not in portal


def test_agents_cannot_use_the_admins_rule_pages(app, db, client, login, agent, complaint, rule):
    login(client, agent)
    before = snapshot(db)
    for url in ("/complaints/rules", "/complaints/rules/new", f"/complaints/rules/{rule.id}", "/complaints/detector"):
        assert client.get(url).status_code == 403, url
    for url, data in staff_posts(complaint, rule).items():
        if url.startswith(("/complaints/rules", "/complaints/detector")):
            assert client.post(url, data=data).status_code == 403, url
    assert snapshot(db) == before
    assert "Routing rules" not in texts(client.get("/complaints/").text, cls="btn")


def test_an_alert_is_dismissed_only_by_the_person_it_is_for(app, db, client, login, agent, admin, make_user,
                                                           agent_alert):
    colleague = make_user("agent", name="Curious Colleague")
    for who in (colleague, admin):
        login(client, who)
        assert client.post(f"/complaints/alerts/{agent_alert.id}/dismiss").status_code == 404
        assert "Look at this" not in client.get("/").text
    db.session.expire_all()
    assert db.session.get(ComplaintAlert, agent_alert.id).dismissed_at is None
    login(client, agent)
    done = client.post(f"/complaints/alerts/{agent_alert.id}/dismiss", follow_redirects=True)
    assert "Alert dismissed." in alerts(done.text)


# ------------------------------------------------------------------ CSRF


def test_every_complaints_form_refuses_a_post_without_a_valid_token(app, db, client, login, admin, agent, complaint,
                                                                    rule, agent_alert, sent_followup):
    """Every POST route of the plugin (found in the URL map, so a new one is covered too)."""
    posts = {**staff_posts(complaint, rule), f"/complaints/alerts/{agent_alert.id}/dismiss": {},
             sent_followup: {"resolved": "no", "comment": "Forged answer"}}
    covered = {app.url_map.bind("helpdesk.test").match(url.split("?")[0], method="POST")[0] for url in posts}
    routes = {r.endpoint for r in app.url_map.iter_rules() if r.endpoint.startswith("complaints.")
              and "POST" in r.methods}
    assert routes == covered
    before = snapshot(db)
    for url, data in posts.items():
        login(client, agent if "/alerts/" in url else admin)
        assert_refused_as_csrf(tampered_posts(client, url, data), url)
    assert snapshot(db) == before
    # The honest form, with the page's token, goes through.
    login(client, agent)
    page = client.get(f"/tickets/{complaint.reference}")
    ok = client.post(f"/complaints/tickets/{complaint.reference}/step",
                     data={"step": "listen", "done": "yes", "csrf_token": page_token(page)}, csrf=False)
    assert ok.status_code == 302 and snapshot(db) != before


# ------------------------------------------------------------------ escaping


def test_customer_and_staff_text_is_escaped_on_every_page(app, db, client, login, admin, agent, make_user,
                                                          rule_factory):
    evil = make_user("customer", name=f"Mallory {SCRIPT}", email="mallory@example.test")
    ticket = services.create_ticket(evil, f"Order {IMG}", f"{COMPLAINT} {SCRIPT}")
    assert db.session.scalar(select(ComplaintFlag).where(ComplaintFlag.ticket_id == ticket.id)) is not None
    rule_factory(f"Rule {SCRIPT}", {"regex": r"<script>\w+", "words": [f"x{IMG}"]}, {"tags": ["evil"]})
    login(client, agent)
    client.post(f"/complaints/tickets/{ticket.reference}/remedy", data={"kind": "offered", "text": f"Gift {IMG}"})
    client.post(f"/complaints/tickets/{ticket.reference}/clear", data={"reason": f"Not one {SCRIPT}"})
    client.post(f"/complaints/tickets/{ticket.reference}/flag", data={"reason": f"Yes it is {IMG}"})
    services.add_message(ticket, agent, "Sorry about that, refunded.")
    services.update_ticket(ticket, agent, status="resolved")  # the remedy above allows it
    send_due_followups(now=utcnow() + timedelta(days=4))
    answered = client.post(followup_path(db), data={"resolved": "no", "comment": f"Still bad {SCRIPT}"})
    assert_escaped(answered.text, "follow-up answer page")
    assert ESCAPED_IMG in answered.text  # the subject, shown as typed

    pages = {"dashboard": "/complaints/", "ticket": f"/tickets/{ticket.reference}",
             "explain": f"/complaints/tickets/{ticket.reference}/explain"}
    for name, url in pages.items():
        page = client.get(url).text
        assert_escaped(page, name)
        assert ESCAPED_IMG in page or ESCAPED_SCRIPT in page, name
    explain = client.get(pages["explain"]).text
    assert "found: “&lt;script&gt;alert”" in explain  # the regex match, quoted from the customer's text
    ticket_page = client.get(pages["ticket"]).text
    assert f"customer answered the follow-up: Still bad {ESCAPED_SCRIPT}" in ticket_page  # the audit trail
    assert f"Offered: Gift {ESCAPED_IMG}" in ticket_page
    badge = re.search(r'<span class="badge text-bg-danger complaint-badge"[^>]*>', ticket_page).group(0)
    assert f"flagged again by Alex Agent: Yes it is {ESCAPED_IMG}" in badge  # the tooltip, an attribute
    login(client, admin)
    for url in ("/complaints/rules", f"/complaints/rules/{db.session.scalar(select(ComplaintRule.id))}"):
        page = client.get(url).text
        assert_escaped(page, url)
        assert f"Rule {ESCAPED_SCRIPT}" in page
    tested = client.post("/complaints/rules/new", data={"name": "t", "words": "order", "set_priority": "low",
                                                         "test": "1"})
    assert_escaped(tested.text, "dry run")
    assert f"Order {ESCAPED_IMG}" in tested.text
    login(client, evil)
    portal = client.get(f"/portal/tickets/{ticket.reference}").text
    assert_escaped(portal, "portal")
    assert "complaint-ack" in portal


def test_mail_is_plain_text_with_customer_words_verbatim_and_never_evaluated(app, db, make_user, team_factory,
                                                                              rule_factory, agent):
    sneaky = make_user("customer", name="{{ 7*7 }} <b>Sneaky</b>", email="sneaky@example.test")
    lead = make_user("agent", name="Lena Lead", email="lena@example.test")
    team = team_factory("Desk", [lead], lead=lead)
    rule_factory("Line\nbreak\r\nBcc: victim@example.test", {"words": ["order"]},
                 {"team_id": team.id, "notify_supervisor": True})
    ticket = services.create_ticket(sneaky, "{{ config.SECRET_KEY }} {% for x in range(9) %}x{% endfor %}",
                                    COMPLAINT)
    mails = outbox(db)
    ack = next(m for m in mails if m.to_addr == "sneaky@example.test")
    assert ack.body_html is None  # nothing for a mail reader to interpret
    assert ack.body_text.splitlines()[0].startswith("Hi {{")
    assert '("{{ config.SECRET_KEY }} {% for x in range(9) %}x{% endfor %}")' in ack.body_text
    assert "test-secret" not in ack.body_text and "49" not in ack.body_text
    notice = next(m for m in mails if m.to_addr == "lena@example.test")
    assert notice.body_html is None
    assert "\n" not in notice.subject and "\r" not in notice.subject
    assert not any(name.lower() == "bcc" for name in (notice.headers or {}))
    assert ticket.reference in notice.subject


# ------------------------------------------------------------------ signed follow-up links


def answer_state(db) -> list[tuple]:
    db.session.expire_all()
    return [(f.answered_at, f.resolved, f.comment) for f in db.session.scalars(select(ComplaintFollowUp))]


def test_forged_and_foreign_follow_up_links_show_a_clear_page_and_record_nothing(app, db, client, complaint,
                                                                                 sent_followup):
    seen = feedback_spy(app)
    followup = db.session.scalar(select(ComplaintFollowUp))
    token = sent_followup.rsplit("/", 1)[1]
    payload = {"f": followup.id, "t": complaint.id}
    secret = app.config["SECRET_KEY"]
    body, _, signature = token.rpartition(".")
    flipped = f"{body}.{'B' if signature[0] == 'A' else 'A'}{signature[1:]}"  # not the last character: padding bits
    links = {
        "a changed signature": (flipped, 400, "This link is not valid."),
        "another key": (URLSafeTimedSerializer("not-our-secret", salt="complaints-followup").dumps(payload), 400,
                        "This link is not valid."),
        "the surveys plugin's salt": (URLSafeTimedSerializer(secret, salt="surveys").dumps(payload), 400,
                                      "This link is not valid."),
        "the CSRF token's salt": (URLSafeTimedSerializer(secret, salt="wtf-csrf-token").dumps(payload), 400,
                                  "This link is not valid."),
        "no salt at all": (URLSafeTimedSerializer(secret).dumps(payload), 400, "This link is not valid."),
        "garbage": ("x" * 5000, 400, "This link is not valid."),
    }
    before = snapshot(db)
    for name, (bad, status, message) in links.items():
        for response in (client.get(f"/complaints/followup/{bad}"),
                         client.post(f"/complaints/followup/{bad}", data={"resolved": "no", "comment": "x"})):
            assert response.status_code == status, name
            assert message in text(response.text, id="followup-invalid"), name
            assert "Late order" not in response.text, name
    assert snapshot(db) == before and seen == []


def test_expired_unsent_cancelled_and_mismatched_links_record_nothing(app, db, client, login, agent, customer,
                                                                      complaint, sent_followup, monkeypatch):
    seen = feedback_spy(app)
    followup = db.session.scalar(select(ComplaintFollowUp))
    secret = app.config["SECRET_KEY"]

    class ThirtyOneDaysAgo(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - 31 * 86400

    expired = URLSafeTimedSerializer(secret, salt="complaints-followup", signer=ThirtyOneDaysAgo).dumps(
        {"f": followup.id, "t": complaint.id})
    # Another complaint of the same customer: its question is scheduled, not sent, then cancelled.
    second = services.create_ticket(customer, "Second", COMPLAINT)
    resolve(agent, second)
    unsent = db.session.scalar(select(ComplaintFollowUp).where(ComplaintFollowUp.ticket_id == second.id))
    ours = URLSafeTimedSerializer(secret, salt="complaints-followup")
    links = {
        "expired": (expired, 400, "This link has expired."),
        "not sent yet": (ours.dumps({"f": unsent.id, "t": second.id}), 404, "We could not find this question"),
        "another ticket's question": (ours.dumps({"f": followup.id, "t": second.id}), 404,
                                      "We could not find this question"),
        "an id too large for the database": (ours.dumps({"f": 2**40, "t": complaint.id}), 404,
                                             "We could not find this question"),
        "an id that is not a number": (ours.dumps({"f": "1 OR 1=1", "t": complaint.id}), 404,
                                       "We could not find this question"),
        "not a dict": (ours.dumps([followup.id, complaint.id]), 400, "This link is not valid."),
    }
    services.update_ticket(second, agent, status="open")  # reopened: the pending question is cancelled
    before = snapshot(db)
    for name, (bad, status, message) in links.items():
        response = client.post(f"/complaints/followup/{bad}", data={"resolved": "no", "comment": "x"})
        assert response.status_code == status, name
        assert message in text(response.text, id="followup-invalid"), name
    assert snapshot(db) == before and seen == []


def test_a_replayed_answer_or_someone_elses_session_changes_nothing_more(app, db, client, login, customer,
                                                                         other_customer, agent, complaint,
                                                                         sent_followup):
    """The link is the credential: whoever holds it answers for the ticket's customer, once."""
    seen = feedback_spy(app)
    login(client, other_customer)  # signed in as someone else, with Carla's forwarded link
    first = client.post(sent_followup, data={"resolved": "yes", "comment": "All good"})
    assert "Thank you for telling us." in text(first.text, id="followup-thanks")
    assert seen == [(complaint.id, customer.id, 5)]  # recorded for the ticket's customer, not Otto
    after_first = snapshot(db)
    for data in ({"resolved": "no", "comment": "Actually no"}, {"resolved": "yes"}):
        again = client.post(sent_followup, data=data)
        assert again.status_code == 200
        assert "We already have your answer" in text(again.text, id="followup-thanks")
    client.get(sent_followup)
    assert snapshot(db) == after_first and len(seen) == 1
    assert sum(1 for r in audit_rows(db, complaint.id) if r.action == "follow_up") == 1
    db.session.expire_all()
    assert db.session.get(Ticket, complaint.id).status == "resolved"


# ------------------------------------------------------------------ acknowledgement templates


SANDBOX_ATTACKS = [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ cycler.__init__.__globals__.os.system('id') }}",
    "{{ lipsum.__globals__['os'].popen('id').read() }}",
    "{{ config.SECRET_KEY }}",
    "{{ self._TemplateReference__context }}",
    "{{ first_name.__class__ }}",
    "{{ '{0.__class__}'.format(first_name) }}",
    "{{ 9 ** 9999999 }}",
    "{{ 'x' * 100000000 }}",
    "{% for a in range(100000) %}{% for b in range(100000) %}x{% endfor %}{% endfor %}",
    "{% set x = first_name %}{{ x }}",
    "{{ subject|replace('', subject * 1000) }}",
    "{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}",
]


# A guard against a hang, not a speed test: rendering `9 ** 9999999` or a nested 10^10 loop, or
# backtracking `(a+)+$` over 9,000 characters, takes minutes; being refused takes milliseconds. The
# margin is wide so that a loaded machine never fails it (speed is bench/'s job).
HANG = 30


def test_acknowledgement_templates_allow_placeholders_and_conditions_only(db, client, login, admin):
    login(client, admin)
    for source in SANDBOX_ATTACKS:
        started = time.perf_counter()
        page = client.post("/complaints/rules/new", data={"name": "Evil", "words": "order", "acknowledge": "y",
                                                          "ack_template": source, "save": "1"})
        assert time.perf_counter() - started < HANG, source  # refused without rendering it
        assert page.status_code == 422, source
        errors = field_errors(page.text)
        assert any(e.startswith(("Only placeholders", "Unknown placeholder")) for e in errors), (source, errors)
        assert "test-secret" not in page.text and "uid=" not in page.text
    assert db.session.scalar(select(ComplaintRule)) is None


def test_allowed_template_parts_still_work_and_a_stored_bad_template_sends_the_default(
        db, client, login, admin, customer, rule_factory):
    login(client, admin)
    fine = ("{% if apology %}{{ apology }}{% else %}Hello{% endif %} {{ first_name|upper }}, "
            "{{ reference ~ '!' }} {{ subject|default('your message')|trim }}")
    saved = client.post("/complaints/rules/new", data={"name": "Fine", "words": "order", "acknowledge": "y",
                                                       "ack_template": fine, "save": "1"})
    assert saved.status_code == 302
    db.session.delete(db.session.scalar(select(ComplaintRule)))
    db.session.commit()
    # A template saved before the limits (or written to the database directly) is never rendered.
    rule_factory("Old", {"words": ["order"]}, {"acknowledge": True, "ack_template": "{{ 9 ** 9999999 }}"})
    started = time.perf_counter()
    ticket = services.create_ticket(customer, "My order", "Where is my order?")
    assert time.perf_counter() - started < HANG
    ack = db.session.scalar(select(ComplaintAck).where(ComplaintAck.ticket_id == ticket.id))
    assert ack.status == "sent" and ack.text.startswith("Hi Carla,")
    assert f"Your request is {ticket.reference}" in ack.text


# ------------------------------------------------------------------ regular expressions (ReDoS)


CATASTROPHIC = [r"(a+)+$", r"(\w+\s?)+$", r"^(a|aa)+$", r"(x+x+)+y", r"(.*a){25}$", r"^(\d+)*\d$"]


def test_a_pattern_that_backtracks_without_end_is_refused_when_saved(db, client, login, admin):
    login(client, admin)
    for pattern in CATASTROPHIC:
        started = time.perf_counter()
        page = client.post("/complaints/rules/new", data={"name": "Slow", "regex": pattern, "set_priority": "high",
                                                          "save": "1"})
        assert time.perf_counter() - started < HANG, pattern
        assert page.status_code == 422, pattern
        errors = field_errors(page.text)
        assert any(e.startswith("This pattern takes more than 50 ms on some texts") for e in errors), (pattern, errors)
    assert db.session.scalar(select(ComplaintRule)) is None


def test_overlong_patterns_are_refused_and_fine_ones_saved(db, client, login, admin):
    login(client, admin)
    page = client.post("/complaints/rules/new", data={"name": "Long", "regex": "a" * 501, "set_priority": "high",
                                                      "save": "1"})
    assert page.status_code == 422 and db.session.scalar(select(ComplaintRule)) is None
    ok = client.post("/complaints/rules/new", data={"name": "Orders", "regex": r"order\s*#?\d{5}",
                                                    "set_priority": "high", "save": "1"})
    assert ok.status_code == 302
    assert db.session.scalar(select(ComplaintRule.conditions)) == {"regex": r"order\s*#?\d{5}"}


def test_a_slow_pattern_already_stored_cannot_hold_up_new_tickets(db, client, login, admin, customer,
                                                                  rule_factory):
    """Stored before the check (or written directly): each search stops after 50 ms, the rule is skipped."""
    slow = rule_factory("Slow", {"regex": r"(a+)+$"}, {"priority": "urgent"})
    fine = rule_factory("Fine", {"words": ["aaaa"]}, {"tags": ["long"]})
    login(client, customer)
    started = time.perf_counter()
    made = client.post("/portal/new", data={"subject": "aaaa", "body": "a" * 9_000 + "!"})
    assert time.perf_counter() - started < HANG
    assert made.status_code == 302
    ticket = db.session.scalar(select(Ticket))
    assert ticket.priority != "urgent" and "long" in {t.name for t in ticket.tags}  # skipped; the next rule ran
    db.session.expire_all()
    assert "took more than 50 ms" in db.session.get(ComplaintRule, slow.id).last_error
    assert db.session.get(ComplaintRule, fine.id).last_error is None
    login(client, admin)
    started = time.perf_counter()
    explained = client.get(f"/complaints/tickets/{ticket.reference}/explain")
    assert explained.status_code == 200 and time.perf_counter() - started < 3
    assert "took more than 50 ms" in explained.text
    rules_page = client.get("/complaints/rules").text
    assert any("took more than 50 ms" in b for b in texts(rules_page, cls="rule-broken"))
    result = dry_run({"regex": r"(a+)+$"})
    assert result.matched == [] and result.errors.startswith(f"{ticket.reference}: the pattern took more than 50 ms")


def test_the_test_button_stops_when_its_time_is_up_and_says_so(db, client, login, admin, customer):
    for i in range(3):
        services.create_ticket(customer, f"Refund {i}", "I want my refund.")
    stopped = dry_run({"words": ["refund"]}, seconds=0)
    assert (stopped.checked, stopped.matched, stopped.stopped) == (0, [], True)
    login(client, admin)
    page = client.post("/complaints/rules/new", data={"name": "R", "words": "refund", "set_priority": "low",
                                                      "test": "1"})
    assert text(page.text, id="test-summary") == "This rule would have matched 3 of the last 3 tickets."


def test_conditions_read_the_subject_and_the_first_10000_characters(db, customer, rule_factory):
    rule_factory("Needle", {"words": ["needle"]}, {"tags": ["found"]})
    late = services.create_ticket(customer, "Hay", "hay " * 3000 + "needle")
    early = services.create_ticket(customer, "Hay", "needle " + "hay " * 3000)
    assert "found" not in {t.name for t in late.tags}
    assert "found" in {t.name for t in early.tags}


# ------------------------------------------------------------------ odd and oversized input


def test_unknown_huge_and_odd_ids_answer_not_found(client, login, admin):
    """Huge ids used to reach the database: OverflowError (SQLite), "integer out of range" (PostgreSQL)."""
    login(client, admin)
    for url in ("/complaints/rules/0", "/complaints/rules/2147483648", "/complaints/rules/99999999999999999999",
                "/complaints/tickets/HD-0/explain", "/complaints/tickets/HD-2147483648/explain",
                "/complaints/tickets/HD-99999999999/explain", "/complaints/tickets/HD-%C2%B2/explain",
                "/complaints/tickets/%EF%BC%91/explain", "/complaints/tickets/HD--1/explain"):
        assert client.get(url).status_code == 404, url


def test_unknown_and_huge_ids_in_forms_answer_not_found_and_change_nothing(db, client, login, admin, agent):
    before = snapshot(db)
    login(client, admin)
    for url in ("/complaints/rules/2147483648/move", "/complaints/rules/99999999999999999999/delete",
                "/complaints/tickets/HD-99999999999/remedy"):
        assert client.post(url, data={"direction": "up", "kind": "offered", "text": "x"}).status_code == 404, url
    login(client, agent)
    assert client.post("/complaints/alerts/99999999999999999999/dismiss").status_code == 404
    assert snapshot(db) == before


def test_any_page_number_shows_a_page(client, login, agent):
    login(client, agent)
    for number in ("99999999999999999999", "-5", "0", "%C2%B2", "abc", "1e9"):
        response = client.get(f"/complaints/?page={number}")
        assert response.status_code == 200 and 'id="complaint-figures"' in response.text, number


def test_oversized_and_odd_playbook_input_is_refused_and_changes_nothing(db, client, login, agent, complaint):
    login(client, agent)
    ref = complaint.reference
    before = snapshot(db)
    cases = [
        (f"/complaints/tickets/{ref}/remedy", {"kind": "offered", "text": "x" * 2001}),
        (f"/complaints/tickets/{ref}/remedy", {"kind": "bribe", "text": "A gift"}),
        (f"/complaints/tickets/{ref}/clear", {"reason": "x" * 501}),
        (f"/complaints/tickets/{ref}/clear", {"reason": "   "}),
        (f"/complaints/tickets/{ref}/step", {"step": "remedy", "done": "yes"}),  # not a step one ticks
        (f"/complaints/tickets/{ref}/step", {"step": "resolve", "done": "yes"}),
        (f"/complaints/tickets/{ref}/step", {"step": "listen", "done": "maybe"}),
    ]
    for url, data in cases:
        response = client.post(url, data=data, follow_redirects=True)
        assert response.status_code == 200 and response.request.path == f"/tickets/{ref}", (url, data)
        shown = alerts(response.text)
        assert any(a.startswith(("Field cannot be longer", "Not a valid choice", "Say why")) for a in shown), shown
    assert snapshot(db) == before


def test_oversized_and_odd_rule_input_is_refused_and_saves_nothing(db, client, login, admin):
    login(client, admin)
    cases = [
        {"name": "x" * 121, "words": "refund", "set_priority": "high"},
        {"name": "Words", "words": "w" * 1001, "set_priority": "high"},
        {"name": "NaN", "sentiment_below": "nan", "set_priority": "high"},
        {"name": "Inf", "sentiment_below": "inf", "set_priority": "high"},
        {"name": "Huge", "sentiment_below": "-1e309", "set_priority": "high"},
        {"name": "Team", "words": "refund", "set_team_id": "99999999999999999999"},
        {"name": "Team", "words": "refund", "team_id": "-1", "set_priority": "high"},
        {"name": "Prio", "words": "refund", "priority": ["critical"], "set_priority": "high"},
        {"name": "Prio", "words": "refund", "set_priority": "critical"},
        {"name": "Agent", "words": "refund", "assign": "agent", "agent_id": "²"},
        {"name": "Assign", "words": "refund", "assign": "everyone"},
        {"name": "Time", "time_from": "25:00", "time_to": "08:00", "set_priority": "high"},
        {"name": "Channel", "channel": "web<script>", "set_priority": "high"},
        {"name": "Template", "words": "x", "acknowledge": "y", "ack_template": "x" * 5001},
    ]
    for data in cases:
        page = client.post("/complaints/rules/new", data={**data, "save": "1"})
        assert page.status_code == 422, data
        assert field_errors(page.text), data
        assert_escaped(page.text, str(data))
    assert db.session.scalar(select(ComplaintRule)) is None
    # A name with line breaks is kept on one line (it goes into audit reasons and mail subjects).
    client.post("/complaints/rules/new", data={"name": "Two\r\nlines", "words": "refund", "set_priority": "high",
                                               "save": "1"})
    assert db.session.scalar(select(ComplaintRule.name)) == "Two lines"


def test_an_oversized_follow_up_comment_is_refused_and_records_nothing(app, db, client, sent_followup):
    seen = feedback_spy(app)
    before = snapshot(db)
    for data in ({"resolved": "no", "comment": "x" * 2001}, {"resolved": "maybe"}, {"comment": "no choice"}):
        page = client.post(sent_followup, data=data)
        assert page.status_code == 422, data
        assert field_errors(page.text), data
    assert snapshot(db) == before and seen == []


def test_redirects_after_forms_stay_on_the_ticket_whatever_is_posted(db, client, login, agent, complaint):
    """No form of the plugin takes a target: hostile next/back fields and Referer headers are ignored."""
    login(client, agent)
    for field in ("next", "back", "redirect", "return_to"):
        response = client.post(f"/complaints/tickets/{complaint.reference}/step",
                               data={"step": "listen", "done": "yes", field: "https://evil.example/"},
                               headers={"Referer": "https://evil.example/"},
                               query_string={field: "//evil.example"})
        assert response.status_code == 302
        assert response.headers["Location"] == f"/tickets/{complaint.reference}#complaint-panel"


def test_alert_mail_never_reaches_someone_outside_the_tickets_teams(db, customer, make_user, team_factory):
    """A job mails alerts: a team-scoped person gets none about a ticket of another team."""
    from helpdesk_complaints.notices import send_alert_mail

    billing_lead = make_user("agent", name="Bea Billing", team_scoped=True)
    hr_lead = make_user("agent", name="Hal HR", team_scoped=True)
    team_factory("Billing", [billing_lead], lead=billing_lead)
    hr = team_factory("HR", [hr_lead], lead=hr_lead)
    ticket = services.create_ticket(customer, "Grievance", "A private HR matter", team_id=hr.id)
    for person in (billing_lead, hr_lead):
        alert = ComplaintAlert(user_id=person.id, ticket_id=ticket.id, kind="rule", text="Look at this")
        db.session.add(alert)
        db.session.commit()
        send_alert_mail(alert)
    assert [m.to_addr for m in outbox(db) if "Look at this" in m.subject] == [hr_lead.email]
