"""Figures for the plugin's page and the core reports: deflection rate, votes, searches with no result.

Deflection rate = deflections ÷ (deflections + tickets opened in the portal or the website
chat), both in the period: of the customers who started writing there, how many left with an
answer instead (the portal's suggestions, the chat widget's suggestions and answer bot).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select

from helpdesk.plugin_api import Ticket, db_session, utcnow
from helpdesk_knowledge.models import KnowledgeArticle, KnowledgeDeflection, KnowledgeSearch, KnowledgeVote

SELF_SERVICE_CHANNELS = ("web", "chat")  # where articles are suggested before a ticket opens


@dataclass
class Figures:
    start: datetime
    end: datetime
    deflections: int = 0
    portal_tickets: int = 0
    helpful: int = 0
    not_helpful: int = 0
    searches: int = 0
    no_result: list[tuple[str, int]] = field(default_factory=list)
    top_articles: list[tuple[int, str, int]] = field(default_factory=list)

    @property
    def rate(self) -> float | None:
        attempts = self.deflections + self.portal_tickets
        return self.deflections / attempts if attempts else None

    @property
    def rate_text(self) -> str:
        return "—" if self.rate is None else f"{self.rate * 100:.0f}%"


def figures(start: datetime, end: datetime) -> Figures:
    s = db_session()
    f = Figures(start=start, end=end)
    f.deflections = s.scalar(select(func.count()).select_from(KnowledgeDeflection).where(
        KnowledgeDeflection.created_at >= start, KnowledgeDeflection.created_at < end)) or 0
    f.portal_tickets = s.scalar(select(func.count()).select_from(Ticket).where(
        Ticket.channel.in_(SELF_SERVICE_CHANNELS), Ticket.created_at >= start, Ticket.created_at < end)) or 0
    f.helpful, f.not_helpful = s.execute(select(
        func.count().filter(KnowledgeVote.helpful.is_(True)), func.count().filter(KnowledgeVote.helpful.is_(False)))
        .where(KnowledgeVote.created_at >= start, KnowledgeVote.created_at < end)).one()
    f.searches = s.scalar(select(func.count()).select_from(KnowledgeSearch).where(
        KnowledgeSearch.created_at >= start, KnowledgeSearch.created_at < end)) or 0
    f.no_result = [(q, n) for q, n in s.execute(
        select(func.lower(KnowledgeSearch.query), func.count()).where(
            KnowledgeSearch.results == 0, KnowledgeSearch.created_at >= start, KnowledgeSearch.created_at < end)
        .group_by(func.lower(KnowledgeSearch.query)).order_by(func.count().desc(), func.lower(KnowledgeSearch.query))
        .limit(10))]
    f.top_articles = [(i, t, n) for i, t, n in s.execute(
        select(KnowledgeArticle.id, KnowledgeArticle.title, func.count(KnowledgeDeflection.id))
        .join(KnowledgeDeflection, KnowledgeDeflection.article_id == KnowledgeArticle.id)
        .where(KnowledgeDeflection.created_at >= start, KnowledgeDeflection.created_at < end)
        .group_by(KnowledgeArticle.id, KnowledgeArticle.title)
        .order_by(func.count(KnowledgeDeflection.id).desc(), KnowledgeArticle.id).limit(10))]
    return f


def summary(days: int = 30) -> Figures:
    end = utcnow() + timedelta(seconds=1)
    return figures(end - timedelta(days=days), end)
