"""Full-text search over articles, the core's way (see ``helpdesk.search``).

SQLite: the FTS5 table ``search_index_knowledge`` (rowid = article id, prefix indexes of 2 and
3 characters) ranked by bm25 with the title weighing four times the text. PostgreSQL: the
stored ``search_vector`` column (title weighted A, then the text; GIN index), ranked by
``ts_rank`` over a bounded set of candidates (see ``_postgres``).

Two ways to match: ``all`` (every word, the last as a prefix: the help centre's search
box) and ``any`` (any of the distinctive words, for suggestions from a ticket's text,
where a customer's sentence never holds every word of an article).
Visibility is never decided here: callers pass the select of articles the reader may see
(``helpdesk_knowledge.articles.visible_articles``).
"""
from __future__ import annotations

import bisect
import re
from typing import Any

from sqlalchemy import Float, Integer, Select, any_, cast, func, literal_column, select, text, true, union

from helpdesk.plugin_api import db_session
from helpdesk_knowledge.models import KnowledgeArticle

_WORD = re.compile(r"\w+", re.UNICODE)
MAX_TERMS = 10
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
CANDIDATES = 200  # PostgreSQL: articles ranked per way of picking them (see ``_postgres``)
RANK_WEIGHTS = "'{0.1,0.1,0.1,0.1}'"  # title and text alike, as ts_rank ranks an unweighted vector


def _keep_distinctive(terms: list[str], share: dict[str, float]) -> list[str]:
    """``terms`` without those in more than 1/COMMON_SHARE of the articles (``share``: the
    fraction of articles holding each word; absent from ``share`` = rare), keeping at least
    the rarest word when every word is common."""
    kept = [t for t in terms if share.get(t, 0.0) * COMMON_SHARE <= 1]
    return kept or [min(terms, key=lambda t: share[t])]


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
    if not present:
        return terms
    return _keep_distinctive(present, {t: frequency[t] / total for t in present})


# PostgreSQL's lexeme frequencies per database: (what they were read at, sorted lexemes, shares).
_LEXEME_SHARES: dict[str, tuple[tuple, list[str], dict[str, float]]] = {}


def _lexeme_shares() -> tuple[float, list[str], dict[str, float]]:
    """The article count and, of the lexemes of ``search_vector`` found in the most articles,
    the sorted list and each one's share of the articles, from the planner's statistics
    (ANALYZE, kept fresh by autovacuum: ``most_common_elems``, up to 1,000 lexemes). Reading
    pg_stats costs 1–9 ms, so they are kept per process until the table is analysed again."""
    session = db_session()
    key = tuple(session.execute(text(
        "SELECT c.reltuples, pg_stat_get_last_analyze_time(c.oid), pg_stat_get_last_autoanalyze_time(c.oid) "
        "FROM pg_class c WHERE c.oid = 'knowledge_articles'::regclass")).one())
    database = str(session.get_bind().engine.url)
    cached = _LEXEME_SHARES.get(database)
    if cached is None or cached[0] != key:
        row = session.execute(text(
            "SELECT most_common_elems::text::text[] AS lexemes, most_common_elem_freqs AS shares FROM pg_stats "
            "WHERE schemaname = current_schema() AND tablename = 'knowledge_articles' "
            "AND attname = 'search_vector'")).first()
        shares = dict(zip(row.lexemes, row.shares, strict=False)) if row and row.lexemes else {}
        cached = _LEXEME_SHARES[database] = (key, sorted(shares), shares)
    return float(key[0]), cached[1], cached[2]


def _without_common_words_postgres(terms: list[str]) -> list[str]:
    """PostgreSQL, "any" mode: the same cut as SQLite's, with the share of articles holding each
    word from the planner's statistics (``_lexeme_shares``); a word they do not list is not
    common. No statistics yet (never analysed) or fewer than ``MIN_ARTICLES`` articles: every
    word stays."""
    total, lexemes, shares = _lexeme_shares()
    if total < MIN_ARTICLES or not shares:
        return terms
    share: dict[str, float] = {}
    for term in terms:
        root, prefix = _stem(term)
        if not prefix:
            if root in shares:
                share[term] = shares[root]
            continue
        completions = []  # a prefix: its most common completion, as on SQLite
        for lexeme in lexemes[bisect.bisect_left(lexemes, root):]:
            if not lexeme.startswith(root):
                break
            completions.append(shares[lexeme])
        if completions:
            share[term] = max(completions)
    return _keep_distinctive(terms, share)


def _postgres(visible: Select, terms: list[str], mode: str) -> Select:
    """Rank a bounded set of candidates: ``ts_rank`` costs a read of each one's stored vector,
    and a common word matches nearly every article. Candidates: at most ``CANDIDATES`` visible
    articles whose title matches (they rank first: the title bonus outweighs any text rank)
    and at most ``CANDIDATES`` of any match, both picked by the GIN indexes in the order they
    come. Up to ``CANDIDATES`` matches the ranking is exhaustive (what it was before)."""
    simple: Any = literal_column("'simple'")
    vector: Any = literal_column("knowledge_articles.search_vector")
    tsq = func.to_tsquery(simple, _tsquery(terms, mode))
    # Written exactly as the title index's expression, so PostgreSQL uses it (a bound 'simple' would not).
    title_hit = func.to_tsvector(simple, KnowledgeArticle.title).op("@@")(tsq)
    # The reader's conditions wrapped in IS TRUE (same rows): else the planner may read the
    # status index and test each published article's vector, instead of the full-text index.
    ids = select(KnowledgeArticle.id)
    if visible.whereclause is not None:
        ids = ids.where(visible.whereclause.self_group().is_(true()))
    # (Articles holding two of the words as a third way: +15 ms for a 6-word sentence, dropped.)
    candidates = union(ids.where(title_hit).limit(CANDIDATES),
                       ids.where(vector.op("@@")(tsq)).limit(CANDIDATES)).scalar_subquery()
    # = ANY(ARRAY(...)): the candidates are fetched by primary key (an IN list of a few hundred
    # made the planner read every visible article and hash-join them).
    return visible.where(KnowledgeArticle.id == any_(func.array(candidates))).order_by(
        (func.ts_rank(literal_column(RANK_WEIGHTS), vector, tsq) + cast(title_hit, Integer) * 0.5).desc(),
        KnowledgeArticle.id)


def search(visible: Select, query: str, *, mode: str = "all", limit: int = 20) -> list[KnowledgeArticle]:
    """The articles of ``visible`` (a select of KnowledgeArticle) matching ``query``, best first."""
    terms = words(query, mode)
    if not terms:
        return []
    sqlite = _dialect() == "sqlite"
    if mode == "any" and len(terms) > 1:
        terms = _without_common_words(terms) if sqlite else _without_common_words_postgres(terms)
    if sqlite:
        # LIMIT keeps the subquery whole (bm25 needs the MATCH), and bounds the work for common words.
        hits = text("SELECT rowid AS id, bm25(search_index_knowledge, 4.0, 1.0) AS score "
                    "FROM search_index_knowledge WHERE search_index_knowledge MATCH :q "
                    "ORDER BY score LIMIT 500").bindparams(q=_fts(terms, mode)).columns(
            id=Integer, score=Float).subquery("hits")
        stmt = visible.join(hits, KnowledgeArticle.id == hits.c.id).order_by(hits.c.score, KnowledgeArticle.id)
        return list(db_session().scalars(stmt.limit(limit)))
    session = db_session()
    # psycopg prepares a statement it runs often, and after five runs PostgreSQL may switch to a
    # generic plan that cannot know the words: it then reads every article (1.5 s at 5,000).
    # And the planner prices testing a row's vector like any comparison, so for a word in a
    # few hundred articles it scans the table, reading thousands of vectors (~75 ms), where
    # the GIN index answers in 1 ms: for this one statement, scans by index only.
    # (A failed statement needs no reset: the rollback it calls for ends SET LOCAL too.)
    session.execute(text("SELECT set_config('plan_cache_mode', 'force_custom_plan', true), "
                         "set_config('enable_seqscan', 'off', true)"))
    found = list(session.scalars(_postgres(visible, terms, mode).limit(limit)))
    session.execute(text("RESET enable_seqscan"))
    return found
