"""Realistic demo data: teams, agents, customers and tickets across channels.

Small amounts go through the services (so hooks and the audit trail see them); large
amounts (``--tickets 100000``) are bulk-inserted with a progress bar, then indexed.
"""
from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta

import click
from sqlalchemy import func, select, text
from werkzeug.security import generate_password_hash

from helpdesk import search
from helpdesk.extensions import db
from helpdesk.models import CannedReply, ContactIdentity, Message, Tag, Team, Ticket, User
from helpdesk.models.base import utcnow
from helpdesk.models.tickets import PRIORITY_RANK
from helpdesk.plugin_manager import manager
from helpdesk.reports import facts
from helpdesk.services.users import create_user

DEMO_PASSWORD = "demo-password"
TEAMS = {"Billing": "Invoices, refunds and payments", "Technical": "Bugs, outages and how-to",
         "Customer Care": "Orders, deliveries and everything else"}
AGENTS = [("Dana Agent", "agent@example.com", "Customer Care"), ("Sam Rivera", "sam@example.com", "Billing"),
          ("Priya Shah", "priya@example.com", "Technical"), ("Tom Becker", "tom@example.com", "Technical"),
          ("Lea Martin", "lea@example.com", "Customer Care")]
FIRST = ["Anna", "Ben", "Chloe", "David", "Emma", "Felix", "Grace", "Hugo", "Isla", "Jonas", "Kira",
         "Liam", "Maya", "Noah", "Olivia", "Paul", "Quinn", "Rosa", "Sven", "Tara", "Umar", "Vera"]
LAST = ["Smith", "Müller", "Garcia", "Rossi", "Dubois", "Nowak", "Kim", "Okafor", "Silva", "Jensen"]
TOPICS = [
    ("Billing", "I was charged twice for my order", "Hello, my card was charged twice for order {n}. "
     "Could you refund the duplicate payment?", ["billing", "refund"]),
    ("Billing", "Invoice missing VAT number", "Our invoice {n} does not show our VAT number. "
     "We need a corrected invoice for accounting.", ["billing"]),
    ("Technical", "Cannot log in after password reset", "Since I reset my password I get "
     "'invalid credentials' every time. I tried three browsers.", ["login"]),
    ("Technical", "App crashes when uploading a photo", "The app closes as soon as I pick a photo "
     "larger than a few MB. Phone: Pixel 8, app version 4.{n}.", ["bug", "mobile"]),
    ("Technical", "Export to CSV is empty", "When I export my report to CSV the file only has the "
     "header row.", ["bug"]),
    ("Customer Care", "Where is my parcel?", "My order {n} was supposed to arrive on Monday and the "
     "tracking has not moved for five days.", ["delivery"]),
    ("Customer Care", "Wrong size delivered", "I ordered a medium and got a large. How do I exchange it?",
     ["returns"]),
    ("Customer Care", "Very disappointed with the service", "This is the third time I write about "
     "order {n}. Nobody answers and I am really frustrated. I want this fixed now.", ["complaint"]),
    ("Customer Care", "Thank you!", "Just wanted to say thanks to your team, the replacement arrived "
     "and it is perfect.", ["praise"]),
]
REPLIES = ["Hi {first}, thanks for reaching out about {ref}. I am looking into it now.",
           "Hi {first}, I have fixed this on our side. Could you check again? ({ref})",
           "Thanks, that worked!", "It still does not work, see the screenshot.",
           "Hi {first}, sorry for the trouble. I have issued a refund; it shows in 3-5 days. ({ref})"]
CHANNELS = ["web", "web", "email", "email", "email", "chat", "sms", "social", "phone"]
STATUSES = ["new", "open", "open", "pending", "resolved", "resolved", "closed"]
PRIORITIES = ["low", "normal", "normal", "normal", "high", "urgent"]
CANNED = {
    "Greeting": "Hi {{ customer.first_name }},\n\nthanks for contacting {{ helpdesk.name }} "
                "about {{ ticket.reference }}.\n\n\n\nBest regards,\n{{ agent.name }}",
    "Refund issued": "Hi {{ customer.first_name }},\n\nI have issued your refund for "
                     "{{ ticket.reference }}; it shows on your statement within 3-5 working days.\n\n"
                     "Best regards,\n{{ agent.name }}",
    "Apology": "Hi {{ customer.first_name }},\n\nI am sorry this took so long. I have taken "
               "{{ ticket.reference }} personally and will update you by tomorrow.\n\n{{ agent.name }}",
}


def _people(rng: random.Random) -> tuple[list[int], list[tuple[int, str]], dict[str, int]]:
    """Teams, agents, canned replies and 200 customers: (agent ids, (customer id, first name), team ids)."""
    teams = {}
    for name, description in TEAMS.items():
        team = db.session.scalar(select(Team).where(Team.name == name)) or Team(name=name, description=description)
        db.session.add(team)
        teams[name] = team
    db.session.commit()
    agents = []
    hashed = None  # hashing is deliberately slow: do it once for all demo accounts
    for name, email, team_name in AGENTS:
        agent = db.session.scalar(select(User).where(User.email == email))
        if agent is None:
            agent = create_user(name, email, "agent", None, teams=[teams[team_name]])
            hashed = hashed or generate_password_hash(DEMO_PASSWORD)
            agent.password_hash = hashed
        agents.append(agent)
        if teams[team_name].lead_id is None:
            teams[team_name].lead_id = agent.id
    for title, body in CANNED.items():
        if not db.session.scalar(select(CannedReply.id).where(CannedReply.title == title)):
            db.session.add(CannedReply(title=title, body=body))
    db.session.commit()
    customers = list(db.session.scalars(select(User).where(User.role == "customer").limit(400)))
    existing = {c.email for c in customers}
    while len(customers) < 200:
        first, last = rng.choice(FIRST), rng.choice(LAST)
        email = f"{first}.{last}{rng.randint(1, 9999)}@example.net".lower().replace("ü", "ue")
        if email in existing:
            continue
        existing.add(email)
        customer = User(name=f"{first} {last}", email=email, role="customer")
        customer.identities.append(ContactIdentity(kind="email", value=email))
        customers.append(customer)
    demo_customer = db.session.scalar(select(User).where(User.email == "customer@example.com"))
    if demo_customer is None:
        demo_customer = create_user("Casey Customer", "customer@example.com", "customer", None)
        demo_customer.password_hash = hashed or generate_password_hash(DEMO_PASSWORD)
    customers.insert(0, demo_customer)
    db.session.add_all(customers)
    db.session.flush()
    out = ([a.id for a in agents], [(c.id, c.first_name) for c in customers],
           {name: team.id for name, team in teams.items()})
    db.session.commit()
    return out


def seed_demo(count: int, seed: int = 1, echo: Callable[[str], None] = print) -> str:
    rng = random.Random(seed)
    agent_ids, people, team_ids = _people(rng)
    tags = {}
    for *_rest, names in TOPICS:
        for name in names:
            tags[name] = db.session.scalar(select(Tag).where(Tag.name == name)) or Tag(name=name)
            db.session.add(tags[name])
    db.session.commit()
    # Plain values from here on: the loop below runs 100,000 times and must not touch the ORM.
    topics = [(team_ids[team], subject, body, [tags[t].id for t in names]) for team, subject, body, names in TOPICS]
    start_id = (db.session.scalar(select(func.max(Ticket.id))) or 0) + 1
    msg_id = start_msg = (db.session.scalar(select(func.max(Message.id))) or 0) + 1
    now = utcnow()
    sqlite = db.engine.dialect.name == "sqlite"
    # Rows are tuples in TICKET_COLUMNS / MESSAGE_COLUMNS order. SQLite gets them as they are
    # (times as the text SQLAlchemy stores), other databases through SQLAlchemy Core.
    stamp = str if sqlite else _same
    meta = "{}" if sqlite else {}
    step = timedelta(minutes=30)
    batch = 10_000
    tickets: list[tuple] = []
    messages: list[tuple] = []
    links: list[tuple] = []
    with click.progressbar(range(count), label=f"Creating {count:,} tickets", file=None) as bar:
        for i in bar:
            tid = start_id + i
            team_id, subject, body, tag_ids = rng.choice(topics)
            customer_id, first = people[0] if i < 5 else rng.choice(people)
            created = now - timedelta(minutes=rng.randint(5, 60 * 24 * 120))
            status = rng.choice(STATUSES)
            agent_id = rng.choice(agent_ids) if status != "new" or rng.random() < 0.3 else None
            n_replies = rng.randint(0, 8)
            body = body.format(n=rng.randint(1000, 99999))
            ref = f"HD-{tid}"
            updated = stamp(created + step * n_replies)
            channel = rng.choice(CHANNELS)
            closed = status == "closed"
            priority = rng.choice(PRIORITIES)
            tickets.append((tid, subject, status, priority, PRIORITY_RANK[priority], channel, customer_id, agent_id,
                            team_id, 1 + n_replies, stamp(created), updated,
                            stamp(created + step) if n_replies else None,
                            updated if closed or status == "resolved" else None, updated if closed else None))
            links.extend((tid, tag_id) for tag_id in tag_ids)
            replier = agent_id or agent_ids[0]
            at = created
            for j in range(n_replies + 1):
                internal = False
                if j == 0:
                    author, text_ = customer_id, body
                elif j % 2:  # agents answer first, then customer and agent take turns
                    author, internal = replier, rng.random() < 0.15
                    text_ = "Checked the logs: looks like a known issue." if internal else \
                        rng.choice(REPLIES).format(first=first, ref=ref)
                else:
                    author, text_ = customer_id, rng.choice(REPLIES).format(first=first, ref=ref)
                messages.append((msg_id, tid, author, text_, internal, channel, meta, False, stamp(at)))
                msg_id += 1
                at += step
            if len(tickets) >= batch:
                _flush(tickets, messages, links, sqlite)
    _flush(tickets, messages, links, sqlite)
    if sqlite:
        _sqlite_pragmas(bulk=True)
        search.rebuild(start_id)
        _finish_sqlite()
    else:
        db.session.execute(text("SELECT setval(pg_get_serial_sequence('tickets', 'id'), "
                                "(SELECT max(id) FROM tickets))"))
        db.session.execute(text("SELECT setval(pg_get_serial_sequence('messages', 'id'), "
                                "(SELECT max(id) FROM messages))"))
        db.session.commit()
        db.session.execute(text("ANALYZE"))
    facts.backfill(after_id=start_id - 1)  # bulk-loaded tickets: the reports' facts
    extras = [f"{plugin}: {line}" for plugin, line in
              manager().call_collect("helpdesk_demo_data", rng=random.Random(seed))]
    return (f"Demo data ready: {count:,} tickets, {msg_id - start_msg:,} messages.\n"
            + "".join(f"  {line}\n" for line in extras) +
            f"Agents sign in as agent@example.com / {DEMO_PASSWORD} (and sam@, priya@, tom@, lea@);"
            f" the demo customer as customer@example.com / {DEMO_PASSWORD}.")


def _sqlite_pragmas(bulk: bool) -> None:
    """During the bulk load: a big page cache (the indexes stay in memory) and no fsync.

    Set per batch, since each commit may hand the session another pooled connection, and
    put back to the app's settings (see ``helpdesk._configure_sqlite``) at the end.
    """
    conn = db.session.connection()
    conn.exec_driver_sql(f"PRAGMA cache_size={-262144 if bulk else -2000}")
    conn.exec_driver_sql(f"PRAGMA synchronous={'OFF' if bulk else 'NORMAL'}")


def _finish_sqlite() -> None:
    """Fold the write-ahead log into the database and refresh the planner's statistics."""
    db.session.commit()  # pragmas on synchronous cannot change inside a transaction
    _sqlite_pragmas(bulk=False)
    conn = db.session.connection()
    conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.exec_driver_sql("PRAGMA optimize")
    db.session.commit()


TICKET_COLUMNS = ("id", "subject", "status", "priority", "priority_rank", "channel", "customer_id", "assignee_id",
                  "team_id", "message_count", "created_at", "updated_at", "first_response_at", "resolved_at",
                  "closed_at")
MESSAGE_COLUMNS = ("id", "ticket_id", "author_id", "body", "internal", "channel", "meta", "needs_review",
                   "created_at")


def _same(value: datetime) -> datetime:
    return value


def _flush(tickets: list, messages: list, links: list, sqlite: bool) -> None:
    if tickets:
        tags = Ticket.tags.property.secondary
        if sqlite:
            _sqlite_pragmas(bulk=True)
            for table, columns, rows in ((Ticket.__table__, TICKET_COLUMNS, tickets),
                                         (Message.__table__, MESSAGE_COLUMNS, messages),
                                         (tags, ("ticket_id", "tag_id"), links)):
                db.session.connection().exec_driver_sql(
                    f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})", rows)
        else:
            for table, columns, rows in ((Ticket.__table__, TICKET_COLUMNS, tickets),
                                         (Message.__table__, MESSAGE_COLUMNS, messages),
                                         (tags, ("ticket_id", "tag_id"), links)):
                db.session.execute(table.insert(), [dict(zip(columns, row, strict=True)) for row in rows])
        db.session.commit()
    for rows in (tickets, messages, links):
        rows.clear()
