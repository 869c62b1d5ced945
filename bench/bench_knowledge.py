"""Benchmark of the knowledge plugin: article search and suggestions at 5,000 articles and
100,000 tickets (target: under 30 ms each).

    .venv/bin/python bench/bench_knowledge.py
    .venv/bin/python bench/bench_knowledge.py --articles 5000 --tickets 100000 \
        --database-url postgresql://postgres@127.0.0.1/postgres

A migrated instance on a fresh database (SQLite file, or a throwaway PostgreSQL database);
``--articles`` published articles (one in ten internal, a few hundred drafts) built from a
generated vocabulary with a Zipf-like spread (a few words in a third of the articles, most in
a handful), indexed the plugin's way; ``--tickets`` tickets with one message each (bulk
inserts, not timed). First, on its own fresh database, recall@3 of the suggestions on the
committed relevance set (60 articles, 200 questions; ``plugins/knowledge/tests/relevance_set.py``).
Then, in-process with the Flask test client (signed in as a customer,
then as an agent), warm-up and the median of ``--repeat`` requests of:

- ``GET /help/search?q=...``: a common word, a rare word, two words, a prefix, no match;
- ``GET /help/suggest?q=...``: a customer's 25-word sentence (any-word match, ranked);
- ``GET /knowledge/tickets/<id>/suggestions``: the agent's lazy panel for a ticket;
- ``plugin_api.suggest_answers(sentence, "de", 3)``: the answer bot's hook (chat widget,
  email acknowledgement), the same search plus confidence and the translation lookup.

Each figure is the whole request (routing, session, the query, JSON or HTML).
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_instance import migrated_app  # noqa: E402

from helpdesk.extensions import db  # noqa: E402
from helpdesk.models import Message, PluginState, Ticket, User  # noqa: E402
from helpdesk.models.base import utcnow  # noqa: E402

CHUNK = 10_000
COMMON = ["password", "invoice", "account", "order", "delivery", "refund", "login", "export", "email", "payment"]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=5_000)
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--database-url", default="", help="PostgreSQL server URL (default: SQLite file)")
    return parser.parse_args()


def make_app(args: argparse.Namespace, folder: str):
    """A migrated app on a fresh database; returns (app, cleanup)."""
    return migrated_app("knowledge", folder, args.database_url, WTF_CSRF_ENABLED=False, RATELIMIT_ENABLED=False)


def vocabulary(rng: random.Random, n: int = 4000) -> list[str]:
    syllables = ["ka", "lo", "mi", "ra", "te", "su", "no", "vi", "pe", "da", "ri", "zo", "be", "fu", "gi", "ho"]
    words = set()
    while len(words) < n:
        words.add("".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))))
    return COMMON + sorted(words)


def seed(args: argparse.Namespace, rng: random.Random) -> dict:
    from helpdesk_knowledge.models import KnowledgeArticle, KnowledgeCategory, KnowledgeSection

    began = time.perf_counter()
    now = utcnow()
    words = vocabulary(rng)
    weights = [1 / (i + 1) for i in range(len(words))]
    customer = User(name="Bench Customer", email="customer@bench.test", role="customer")
    agent = User(name="Bench Agent", email="agent@bench.test", role="agent")
    category = KnowledgeCategory(name="Everything", description="", position=0)
    db.session.add_all([customer, agent, category])
    db.session.commit()
    section = KnowledgeSection(category_id=category.id, name="All", position=0)
    db.session.add(section)
    db.session.commit()
    rows = []
    for n in range(1, args.articles + 1):
        title = " ".join(rng.choices(words, weights=weights, k=5)).capitalize()
        text = " ".join(rng.choices(words, weights=weights, k=120))
        status = "draft" if n % 17 == 0 else "published"
        rows.append({"id": n, "section_id": section.id, "title": title, "body": text, "body_html": f"<p>{text}</p>",
                     "body_text": text, "status": status, "internal": n % 10 == 0, "language": "en",
                     "created_at": now, "updated_at": now, "published_at": now, "views": n % 50})
    tickets, messages = [], []
    for n in range(1, args.tickets + 1):
        tickets.append({"id": n, "subject": " ".join(rng.choices(words, weights=weights, k=4)), "status": "open",
                        "priority": "normal", "priority_rank": 1, "channel": "web", "customer_id": customer.id,
                        "created_at": now, "updated_at": now, "message_count": 1})
        messages.append({"ticket_id": n, "author_id": customer.id, "internal": False, "channel": "web",
                         "body": " ".join(rng.choices(words, weights=weights, k=30)), "needs_review": False,
                         "meta": {}, "created_at": now})
    with db.engine.begin() as conn:
        for table, batch in ((KnowledgeArticle.__table__, rows), (Ticket.__table__, tickets),
                             (Message.__table__, messages)):
            for start in range(0, len(batch), CHUNK):
                conn.execute(table.insert(), batch[start:start + CHUNK])
        if conn.dialect.name == "sqlite":
            conn.execute(sa.text("INSERT INTO search_index_knowledge(rowid, title, body) "
                                 "SELECT id, title, body_text FROM knowledge_articles"))
        else:
            conn.execute(sa.text("SELECT setval('knowledge_articles_id_seq', "
                                 "(SELECT max(id) FROM knowledge_articles))"))
            conn.execute(sa.text("SELECT setval('tickets_id_seq', (SELECT max(id) FROM tickets))"))
            conn.execute(sa.text("ANALYZE"))
    return {"seed_s": time.perf_counter() - began, "customer": customer.id, "agent": agent.id, "words": words}


def median_ms(fn, repeat: int) -> tuple[float, float]:
    times = []
    for _ in range(3):
        fn()
    for _ in range(repeat):
        began = time.perf_counter()
        fn()
        times.append(time.perf_counter() - began)
    times.sort()
    return statistics.median(times) * 1000, times[int(len(times) * 0.95) - 1] * 1000


def relevance(args: argparse.Namespace) -> None:
    """recall@3 of the suggestions on the committed set (plugins/knowledge/tests/relevance_set.py)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "plugins" / "knowledge" / "tests"))
    from relevance_set import QUESTIONS, recall_at_3

    with tempfile.TemporaryDirectory(prefix="bench-knowledge-rel-") as folder:
        app, cleanup = make_app(args, folder)
        try:
            with app.app_context():
                admin = User(name="Bench Admin", email="admin@bench.test", role="admin")
                db.session.add(admin)
                db.session.commit()
                recall, misses = recall_at_3(admin)
                print(f"{db.engine.dialect.name}: suggestions recall@3 = {recall:.3f} "
                      f"({len(QUESTIONS) - len(misses)} of {len(QUESTIONS)} questions)")
                db.session.remove()
                db.engine.dispose()
        finally:
            cleanup()


def main() -> int:
    args = parse_args()
    rng = random.Random(5)
    relevance(args)
    with tempfile.TemporaryDirectory(prefix="bench-knowledge-") as folder:
        app, cleanup = make_app(args, folder)
        try:
            with app.app_context():
                for name in app.extensions["helpdesk_plugins"].plugins:
                    db.session.merge(PluginState(name=name, enabled=name == "knowledge", settings={}))
                db.session.commit()
                info = seed(args, rng)
                dialect = db.engine.dialect.name
            print(f"{dialect}: {args.articles:,} articles, {args.tickets:,} tickets, seeded in {info['seed_s']:.1f} s")
            words = info["words"]
            rare = words[len(words) // 2]
            sentence = " ".join(["Hello, I cannot", words[0], "my", words[12], "since", words[40], "and the",
                                 words[3], "page shows", words[200], words[900], "please help me with the",
                                 words[5], words[77], "thanks"])
            from helpdesk.testing import CSRFClient

            app.test_client_class = CSRFClient
            client = app.test_client()
            with app.app_context():
                from helpdesk.sessions import open_session

                customer = db.session.get(User, info["customer"])
                agent = db.session.get(User, info["agent"])
                customer_session = open_session(customer, user_agent="bench", address="127.0.0.1")
                agent_session = open_session(agent, user_agent="bench", address="127.0.0.1")
            with client.session_transaction() as s:
                s["_user_id"], s["_fresh"] = customer_session, True
            cases = [("search, common word", f"/help/search?q={words[0]}"),
                     ("search, rare word", f"/help/search?q={rare}"),
                     ("search, two words", f"/help/search?q={words[1]}+{words[30]}"),
                     ("search, prefix", f"/help/search?q={words[25][:3]}"),
                     ("search, no match", "/help/search?q=lighthouse"),
                     ("suggest, customer's sentence", f"/help/suggest?q={sentence}")]
            from urllib.parse import parse_qs, urlsplit

            from helpdesk_knowledge import search
            from helpdesk_knowledge.articles import visible_articles

            for label, url in cases:
                assert client.get(url).status_code == 200, url
                med, p95 = median_ms(lambda url=url: client.get(url), args.repeat)
                q = parse_qs(urlsplit(url).query)["q"][0]
                mode = "any" if "suggest" in url else "all"
                with app.test_request_context():
                    qmed, _ = median_ms(lambda q=q, mode=mode: search.search(
                        visible_articles(None), q, mode=mode, limit=30 if mode == "all" else 3), args.repeat)
                print(f"  {label:32} request median {med:6.1f} ms  p95 {p95:6.1f} ms   query alone {qmed:6.1f} ms")
            # The answer bot (chat widget, email acknowledgement): the hook through plugin_api,
            # search plus the confidence and the reader's-language lookup, without a request.
            from helpdesk.plugin_api import suggest_answers

            with app.test_request_context():
                plain = sentence
                suggest_answers(plain, "de", 3)
                amed, ap95 = median_ms(lambda: suggest_answers(plain, "de", 3), args.repeat)
            print(f"  {'answer bot, suggest_answers':32} call median    {amed:6.1f} ms  p95 {ap95:6.1f} ms")
            with client.session_transaction() as s:
                s["_user_id"] = agent_session
            url = f"/knowledge/tickets/{args.tickets // 2}/suggestions"
            assert client.get(url).status_code == 200
            med, p95 = median_ms(lambda: client.get(url), args.repeat)
            print(f"  {'agent panel, ticket suggestions':32} request median {med:6.1f} ms  p95 {p95:6.1f} ms")
        finally:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
            cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
