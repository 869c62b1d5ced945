"""Full-text search over articles, the core's way (see ``helpdesk.search``).

SQLite: the FTS5 table ``search_index_knowledge`` (rowid = article id) ranked by bm25 with
the title weighing four times the text. PostgreSQL: the GIN expression index on
``to_tsvector('simple', title || ' ' || body_text)``, ranked by ``ts_rank``.

Two ways to match: ``all`` (every word, the last as a prefix: the help centre's search
box) and ``any`` (any of the distinctive words, for suggestions from a ticket's text,
where a customer's sentence never holds every word of an article).
Visibility is never decided here: callers pass the select of articles the reader may see
(``helpdesk_knowledge.articles.visible_articles``).
"""
from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Float, Integer, Select, cast, func, literal_column, select, text

from helpdesk.plugin_api import db_session
from helpdesk_knowledge.models import KnowledgeArticle

_WORD = re.compile(r"\w+", re.UNICODE)
MAX_TERMS = 10
CANDIDATES = 200
STOPWORDS = frozenset("""
a an and are as at be been but by can could did do does doing for from had has have how i i'm if in into is it
its just me my no not of on or our please so some than that the their them then there these they this to too
us was we were what when where which who why will with would you your hello hi thanks thank regards dear get
got am any all also after before again cannot can't don't there's here still know need want tried try help
""".split())


def _dialect() -> str:
    return db_session().get_bind().dialect.name


def words(query: str, mode: str = "all") -> list[str]:
    found = [w.lower() for w in _WORD.findall(query or "")]
    if mode == "all":
        return found[:12]
    seen: dict[str, None] = {}
    for w in found:
        if w not in STOPWORDS and len(w) > 2 and not w.isdigit():
            seen.setdefault(w)
    return list(seen)[:MAX_TERMS]


def index_article(article: KnowledgeArticle) -> None:
    """(Re)write an article's index row (PostgreSQL indexes the row itself)."""
    if _dialect() != "sqlite":
        return
    db_session().execute(text("DELETE FROM search_index_knowledge WHERE rowid = :id"), {"id": article.id})
    db_session().execute(text("INSERT INTO search_index_knowledge(rowid, title, body) VALUES (:id, :t, :b)"),
                         {"id": article.id, "t": article.title, "b": article.body_text})


def unindex_article(article_id: int) -> None:
    if _dialect() == "sqlite":
        db_session().execute(text("DELETE FROM search_index_knowledge WHERE rowid = :id"), {"id": article_id})


SUFFIXES = ("ing", "ed", "es", "s")


def _stem(word: str) -> tuple[str, bool]:
    """A crude English stem and whether to match it as a prefix ("charged" → "charg"*, which
    finds charge, charges, charged). Neither index stems: both use the 'simple' tokenizer."""
    for suffix in SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)], True
    return word, len(word) >= 4


def _fts(terms: list[str], mode: str) -> str:
    # Each word quoted, so FTS syntax typed by a visitor is inert.
    if mode == "all":
        return (" ".join(f'"{w}"' for w in terms[:-1]) + f' "{terms[-1]}"*').strip()
    return " OR ".join(f'"{root}"*' if prefix else f'"{root}"' for root, prefix in map(_stem, terms))


def _tsquery(terms: list[str], mode: str) -> str:
    # Words are \w+ only, so joining them into tsquery syntax is safe.
    if mode == "all":
        return " & ".join(terms[:-1] + [terms[-1] + ":*"])
    return " | ".join(root + ":*" if prefix else root for root, prefix in map(_stem, terms))


MIN_ARTICLES = 300
COMMON_SHARE = 3  # a suggestion word in more than 1/3 of the articles says little and costs most


def _without_common_words(terms: list[str]) -> list[str]:
    """SQLite, "any" mode: drop words found in more than a third of the articles (their doclists
    are what bm25 spends its time on, and they rank little), keeping at least the rarest word
    that occurs; from ``MIN_ARTICLES`` articles on.
    Document frequencies come from an fts5vocab table in the connection's temp schema."""
    session = db_session()
    session.execute(text("CREATE VIRTUAL TABLE IF NOT EXISTS temp.knowledge_vocab "
                         "USING fts5vocab(main, search_index_knowledge, row)"))
    total = session.scalar(text("SELECT count(*) FROM search_index_knowledge_docsize")) or 0
    if total < MIN_ARTICLES:  # a small knowledge base is fast anyway: every word ranks
        return terms
    frequency = {}
    for term in terms:
        root, prefix = _stem(term)
        if prefix:
            doc = session.scalar(text("SELECT max(doc) FROM temp.knowledge_vocab WHERE term >= :lo AND term < :hi"),
                                 {"lo": root, "hi": root + "\U0010ffff"})
        else:
            doc = session.scalar(text("SELECT doc FROM temp.knowledge_vocab WHERE term = :t"), {"t": root})
        frequency[term] = doc or 0
    present = [t for t in terms if frequency[t]]
    kept = [t for t in present if frequency[t] * COMMON_SHARE <= total]
    return kept or ([min(present, key=lambda t: frequency[t])] if present else terms)


def search(visible: Select, query: str, *, mode: str = "all", limit: int = 20) -> list[KnowledgeArticle]:
    """The articles of ``visible`` (a select of KnowledgeArticle) matching ``query``, best first."""
    terms = words(query, mode)
    if not terms:
        return []
    if _dialect() == "sqlite":
        if mode == "any" and len(terms) > 1:
            terms = _without_common_words(terms)
        # LIMIT keeps the subquery whole (bm25 needs the MATCH), and bounds the work for common words.
        hits = text("SELECT rowid AS id, bm25(search_index_knowledge, 4.0, 1.0) AS score "
                    "FROM search_index_knowledge WHERE search_index_knowledge MATCH :q "
                    "ORDER BY score LIMIT 500").bindparams(q=_fts(terms, mode)).columns(
            id=Integer, score=Float).subquery("hits")
        stmt = visible.join(hits, KnowledgeArticle.id == hits.c.id).order_by(hits.c.score, KnowledgeArticle.id)
    else:
        # Written exactly as the index's expression, so PostgreSQL uses it (a bound 'simple' would not).
        vector: Any = literal_column("to_tsvector('simple', knowledge_articles.title || ' ' || "
                                "knowledge_articles.body_text)")
        tsq = func.to_tsquery(literal_column("'simple'"), _tsquery(terms, mode))
        # psycopg prepares a statement it runs often, and after five runs PostgreSQL may switch to a
        # generic plan that cannot know the words: it then reads every article (1.5 s at 5,000).
        db_session().execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
        # Rank at most CANDIDATES matches (ts_rank reads each one's text): a common word stays cheap.
        candidates = select(KnowledgeArticle.id).where(vector.op("@@")(tsq)).limit(CANDIDATES).scalar_subquery()
        title_hit = func.to_tsvector(literal_column("'simple'"), KnowledgeArticle.title).op("@@")(tsq)
        stmt = visible.where(KnowledgeArticle.id.in_(candidates)).order_by(
            (func.ts_rank(vector, tsq) + cast(title_hit, Integer) * 0.5).desc(), KnowledgeArticle.id)
    return list(db_session().scalars(stmt.limit(limit)))
