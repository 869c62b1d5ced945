# ruff: noqa: E501  (the page templates are kept as long HTML lines)
"""The "limit": the thinnest Flask + SQLAlchemy app showing what Helpdesk's pages show.

Same database (a Helpdesk instance's SQLite file), same information on each page, nothing
else: no plugins, no hooks, no access rules beyond "an agent sees everything", no CSRF, no
audit, no service levels, no mail. Hand-written SQL through SQLAlchemy Core, one Jinja
template per page with autoescaping. ``bench/bench_cpu.py`` measures Helpdesk against it.

    app = create_limit_app("sqlite:///bench/data/20000/helpdesk.sqlite3")

Pages (signed in by ``session["uid"]``):

- ``/queue``: 25 active tickets by last update, with customer, assignee, team, tags and an
  unread marker; totals by status; team and agent filters; the bell's count.
- ``/queue?q=word``: the same list for a full-text search (the search_index FTS5 table).
- ``/tickets/<id>``: the ticket with its people, team and tags; the conversation with
  authors and attachments; the audit trail; the customer's other tickets; kudos, the
  complaint flag and survey answers (what the bundled plugins show); teams, agents and
  canned replies for the forms.
- ``/new`` (GET form, POST creates a ticket with its first message and index row).
"""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Flask, redirect, render_template_string, request, session
from sqlalchemy import create_engine, event, text

ACTIVE = ("new", "open", "pending")

BASE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title></head>
<body><nav><a href="/queue">Queue</a> <a href="/notifications">Bell ({{ bell }})</a> {{ me.name }}</nav>
<main>{% block main %}{% endblock %}</main></body></html>"""

QUEUE = BASE.replace("{% block main %}{% endblock %}", """
<form method="get"><input name="q" value="{{ q }}">
<select name="team"><option value="">any</option>{% for t in teams %}<option value="{{ t.id }}">{{ t.name }}</option>{% endfor %}</select>
<select name="assignee"><option value="">any</option>{% for a in agents %}<option value="{{ a.id }}">{{ a.name }}</option>{% endfor %}</select>
<button>Filter</button></form>
<p>{{ totals.values()|sum }} tickets: {% for s, n in totals.items() %}{{ s }} {{ n }}{% if not loop.last %}, {% endif %}{% endfor %}</p>
<table><thead><tr><th>Ticket</th><th>Subject</th><th>Customer</th><th>Status</th><th>Priority</th><th>Assignee</th><th>Team</th><th>Updated</th></tr></thead><tbody>
{% for t in tickets %}<tr class="ticket-row{% if t.unread %} ticket-unread{% endif %}"><td><a href="/tickets/{{ t.id }}">HD-{{ t.id }}</a></td>
<td>{{ t.subject }}{% for tag in t.tags %} <span class="badge">{{ tag }}</span>{% endfor %}</td><td>{{ t.customer }}</td>
<td>{{ t.status }}</td><td>{{ t.priority }}</td><td>{{ t.assignee or "—" }}</td><td>{{ t.team or "—" }}</td><td>{{ t.updated }}</td></tr>
{% else %}<tr><td colspan="8">No tickets.</td></tr>{% endfor %}</tbody></table>""")

TICKET = BASE.replace("{% block main %}{% endblock %}", """
<h1>HD-{{ t.id }} {{ t.subject }}</h1>
<p>{{ t.status }} · {{ t.priority }} · {{ t.customer }} &lt;{{ t.email }}&gt; · {{ t.assignee or "unassigned" }} · {{ t.team or "no team" }}
{% for tag in tags %}<span class="badge">{{ tag }}</span>{% endfor %}{% if flag %} <span class="badge">complaint</span>{% endif %}</p>
{% for m in messages %}<article class="message{% if m.internal %} internal{% endif %}"><header>{{ m.author or "system" }} · {{ m.created }}</header>
<div>{{ m.body }}</div>{% for a in attachments.get(m.id, []) %}<a href="/attachments/{{ a.token }}">{{ a.filename }}</a> {% endfor %}</article>{% endfor %}
<form method="post"><textarea name="body"></textarea>
<select name="assignee">{% for a in agents %}<option value="{{ a.id }}">{{ a.name }}</option>{% endfor %}</select>
<select name="team">{% for x in teams %}<option value="{{ x.id }}">{{ x.name }}</option>{% endfor %}</select>
<select name="canned">{% for c in canned %}<option value="{{ c.id }}">{{ c.title }}</option>{% endfor %}</select><button>Send</button></form>
<aside><h2>History</h2><ul>{% for e in audit %}<li>{{ e.actor or "system" }} {{ e.action }} {{ e.field or "" }} {{ e.old_value or "" }} → {{ e.new_value or "" }} {{ e.created }}</li>{% endfor %}</ul>
<h2>Other tickets</h2><ul>{% for o in others %}<li><a href="/tickets/{{ o.id }}">HD-{{ o.id }}</a> {{ o.subject }} {{ o.status }}</li>{% endfor %}</ul>
<h2>Kudos</h2><ul>{% for k in kudos %}<li>{{ k.giver or "someone" }} → {{ k.recipient }}: {{ k.message }}</li>{% endfor %}</ul>
<h2>Surveys</h2><ul>{% for s in surveys %}<li>{{ s.kind }} {{ s.score }} {{ s.comment }}</li>{% endfor %}</ul></aside>""")

NEW = BASE.replace("{% block main %}{% endblock %}", """
<form method="post"><input name="subject" required><textarea name="body" required></textarea><button>Send</button></form>""")


def _when(value: Any) -> str:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC).strftime("%Y-%m-%d %H:%M") if value else ""


def create_limit_app(database_uri: str) -> Flask:
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "limit"
    engine = create_engine(database_uri)

    @event.listens_for(engine, "connect")
    def _pragmas(conn, _record):  # as Helpdesk configures SQLite
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA foreign_keys=ON")

    app.extensions["limit_engine"] = engine

    def me(conn) -> Any:
        return conn.execute(text("SELECT id, name, role FROM users WHERE id = :id AND active"),
                            {"id": session.get("uid")}).one()

    def bell(conn, user_id: int) -> int:
        return conn.execute(text("SELECT count(*) FROM notifications WHERE recipient_id = :u AND read_at IS NULL"),
                            {"u": user_id}).scalar()

    def lists(conn) -> tuple[list, list]:
        teams = conn.execute(text("SELECT id, name FROM teams ORDER BY name")).all()
        agents = conn.execute(text("SELECT id, name FROM users WHERE role IN ('agent', 'admin') AND active "
                                   "ORDER BY name")).all()
        return teams, agents

    @app.get("/queue")
    def queue() -> str:
        q = request.args.get("q", "").strip()
        with engine.connect() as conn:
            user = me(conn)
            where = "t.merged_into_id IS NULL AND t.status IN ('new', 'open', 'pending')"
            params: dict[str, Any] = {"u": user.id}
            if q:
                where = ("t.merged_into_id IS NULL AND t.id IN (SELECT rowid FROM search_index "
                         "WHERE search_index MATCH :q)")
                params["q"] = f'"{q}"*'
            rows = conn.execute(text(f"""
                SELECT t.id, t.subject, t.status, t.priority, t.updated_at, c.name AS customer,
                       a.name AS assignee, tm.name AS team,
                       (SELECT group_concat(g.name, ',') FROM ticket_tags tt JOIN tags g ON g.id = tt.tag_id
                        WHERE tt.ticket_id = t.id) AS tags,
                       EXISTS (SELECT 1 FROM messages m LEFT JOIN ticket_reads r
                               ON r.ticket_id = m.ticket_id AND r.user_id = :u
                               WHERE m.ticket_id = t.id AND (m.author_id IS NULL OR m.author_id != :u)
                               AND m.id > coalesce(r.last_seen_message_id, 0)) AS unread
                FROM tickets t JOIN users c ON c.id = t.customer_id LEFT JOIN users a ON a.id = t.assignee_id
                LEFT JOIN teams tm ON tm.id = t.team_id
                WHERE {where} ORDER BY t.updated_at DESC, t.id DESC LIMIT 26"""), params).all()
            totals = dict(conn.execute(text(
                f"SELECT status, count(*) FROM (SELECT t.status FROM tickets t WHERE {where} LIMIT 1001) "
                "GROUP BY status"), params).all())
            teams, agents = lists(conn)
            count = bell(conn, user.id)
        tickets = [{"id": r.id, "subject": r.subject, "status": r.status, "priority": r.priority,
                    "customer": r.customer, "assignee": r.assignee, "team": r.team, "unread": r.unread,
                    "tags": r.tags.split(",") if r.tags else [], "updated": _when(r.updated_at)} for r in rows[:25]]
        return render_template_string(QUEUE, title="Queue", me=user, bell=count, q=q, teams=teams, agents=agents,
                                      totals=totals, tickets=tickets)

    @app.get("/tickets/<int:ticket_id>")
    def ticket(ticket_id: int) -> str:
        with engine.connect() as conn:
            user = me(conn)
            t = conn.execute(text("""
                SELECT t.id, t.subject, t.status, t.priority, t.customer_id, c.name AS customer, c.email,
                       a.name AS assignee, tm.name AS team
                FROM tickets t JOIN users c ON c.id = t.customer_id LEFT JOIN users a ON a.id = t.assignee_id
                LEFT JOIN teams tm ON tm.id = t.team_id WHERE t.id = :id"""), {"id": ticket_id}).one()
            tags = conn.execute(text("SELECT g.name FROM ticket_tags tt JOIN tags g ON g.id = tt.tag_id "
                                     "WHERE tt.ticket_id = :id ORDER BY g.name"), {"id": ticket_id}).scalars().all()
            messages = [{"id": m.id, "internal": m.internal, "author": m.author, "body": m.body,
                         "created": _when(m.created_at)} for m in conn.execute(text(
                             "SELECT m.id, m.internal, m.body, m.created_at, u.name AS author FROM messages m "
                             "LEFT JOIN users u ON u.id = m.author_id WHERE m.ticket_id = :id ORDER BY m.id"),
                             {"id": ticket_id})]
            attachments: dict[int, list] = {}
            for a in conn.execute(text("SELECT a.message_id, a.token, a.filename FROM attachments a "
                                       "JOIN messages m ON m.id = a.message_id WHERE m.ticket_id = :id"),
                                  {"id": ticket_id}):
                attachments.setdefault(a.message_id, []).append(a)
            audit = [{"actor": e.actor, "action": e.action, "field": e.field, "old_value": e.old_value,
                      "new_value": e.new_value, "created": _when(e.created_at)} for e in conn.execute(text(
                          "SELECT e.action, e.field, e.old_value, e.new_value, e.created_at, u.name AS actor "
                          "FROM audit_events e LEFT JOIN users u ON u.id = e.actor_id WHERE e.ticket_id = :id "
                          "ORDER BY e.id"), {"id": ticket_id})]
            others = conn.execute(text("SELECT id, subject, status FROM tickets WHERE customer_id = :c AND id != :id "
                                       "ORDER BY updated_at DESC LIMIT 10"),
                                  {"c": t.customer_id, "id": ticket_id}).all()
            kudos = conn.execute(text(
                "SELECT k.message, r.name AS recipient, g.name AS giver FROM recognition_kudos k "
                "JOIN users r ON r.id = k.recipient_id LEFT JOIN users g ON g.id = k.giver_id "
                "WHERE k.ticket_id = :id ORDER BY k.id"), {"id": ticket_id}).all()
            flag = conn.execute(text("SELECT id FROM complaints_flags WHERE ticket_id = :id AND cleared_at IS NULL"),
                                {"id": ticket_id}).first()
            surveys = conn.execute(text("SELECT kind, score, comment FROM surveys_responses WHERE ticket_id = :id "
                                        "ORDER BY id"), {"id": ticket_id}).all()
            teams, agents = lists(conn)
            canned = conn.execute(text("SELECT id, title FROM canned_replies ORDER BY title")).all()
            count = bell(conn, user.id)
        return render_template_string(TICKET, title=t.subject, me=user, bell=count, t=t, tags=tags,
                                      messages=messages, attachments=attachments, audit=audit, others=others,
                                      kudos=kudos, flag=flag, surveys=surveys, teams=teams, agents=agents,
                                      canned=canned)

    @app.route("/new", methods=["GET", "POST"])
    def new():
        if request.method == "GET":
            with engine.connect() as conn:
                user = me(conn)
            return render_template_string(NEW, title="New ticket", me=user, bell=0)
        subject, body = request.form["subject"].strip(), request.form["body"].strip()
        now = datetime.now(UTC).replace(tzinfo=None)
        with engine.begin() as conn:
            user = me(conn)
            ticket_id = conn.execute(text(
                "INSERT INTO tickets (subject, status, priority, priority_rank, channel, customer_id, message_count, "
                "version, created_at, updated_at) VALUES (:s, 'new', 'normal', 1, 'web', :c, 1, 1, :now, :now) "
                "RETURNING id"), {"s": subject, "c": user.id, "now": now}).scalar()
            conn.execute(text("INSERT INTO messages (ticket_id, author_id, internal, body, channel, needs_review, meta, "
                              "created_at) VALUES (:t, :a, 0, :b, 'web', 0, '{}', :now)"),
                         {"t": ticket_id, "a": user.id, "b": body, "now": now})
            conn.execute(text("INSERT INTO search_index (rowid, public, internal) VALUES (:t, :p, '')"),
                         {"t": ticket_id, "p": f"{subject} {body}"})
        return redirect(f"/tickets/{ticket_id}")

    return app
