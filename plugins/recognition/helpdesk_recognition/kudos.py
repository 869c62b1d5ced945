"""Kudos: from colleagues (validated), from customers' ratings and thank-yous (once per ticket and agent)."""
from __future__ import annotations

import re
from datetime import timedelta
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from helpdesk.plugin_api import Message, Ticket, User, db_session, gettext, utcnow
from helpdesk_recognition import milestones
from helpdesk_recognition.config import MAX_MESSAGE, REACTIONS, thanks_exclusions, thanks_phrases, value_tags
from helpdesk_recognition.inputs import get_by_id
from helpdesk_recognition.models import PEER, RATING, Kudos, Rating, Reaction
from helpdesk_recognition.notices import notify

THANKS_CHARS = 5000  # how much of a customer's message is read for a thank-you
# Recognition means something when it is not spammed: each kudos notifies (and may mail) the
# recipient and counts towards the "kudos in a month" badge.
PER_COLLEAGUE_PER_DAY = 3
PER_GIVER_PER_DAY = 20


class KudosError(ValueError):
    """Refused input, with the form field it belongs next to."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field, self.message = field, message


# ------------------------------------------------------------------ from colleagues


def give_peer_kudos(giver: User, recipient_id: int | str | None, message: str | None,
                    value_tag: str | None = None, ticket: Ticket | None = None) -> Kudos:
    """Validate and store a colleague's kudos, then tell the recipient. Raises KudosError."""
    errors = validate_peer_kudos(giver, recipient_id, message, value_tag)
    if errors:
        field, text = next(iter(errors.items()))
        raise KudosError(field, text)
    recipient = get_by_id(User, recipient_id)
    kudos = Kudos(recipient_id=recipient.id, giver_id=giver.id, source=PEER, ticket_id=ticket.id if ticket else None,
                  message=_clean(message), value_tag=(value_tag or "").strip().lower() or None, created_at=utcnow())
    db_session().add(kudos)
    db_session().commit()
    notify(recipient, lambda: _peer_line(giver, kudos.value_tag, ticket), kudos=kudos)
    milestones.check_monthly_kudos(recipient, kudos.created_at)
    return kudos


def _peer_line(giver: User, value: str | None, ticket: Ticket | None) -> str:
    # Four whole sentences, not fragments glued together, so a translator can order them.
    if value and ticket:
        return gettext("%(giver)s gave you kudos for %(value)s on %(reference)s.", giver=giver.name, value=value,
                       reference=ticket.reference)
    if value:
        return gettext("%(giver)s gave you kudos for %(value)s.", giver=giver.name, value=value)
    if ticket:
        return gettext("%(giver)s gave you kudos on %(reference)s.", giver=giver.name, reference=ticket.reference)
    return gettext("%(giver)s gave you kudos.", giver=giver.name)


def validate_peer_kudos(giver: User, recipient_id: int | str | None, message: str | None,
                        value_tag: str | None) -> dict[str, str]:
    """field → what is wrong, for every field (empty when the kudos may be given)."""
    errors: dict[str, str] = {}
    recipient = get_by_id(User, recipient_id)
    if recipient is None:
        errors["recipient"] = gettext("Choose the colleague you want to thank.")
    elif recipient.id == giver.id:
        errors["recipient"] = gettext("You cannot give kudos to yourself: pick a colleague.")
    elif not recipient.is_staff:
        errors["recipient"] = gettext("Kudos are for colleagues; %(name)s is a customer.", name=recipient.name)
    elif not recipient.is_active:
        errors["recipient"] = gettext("%(name)s's account is inactive: kudos go to active colleagues.",
                                      name=recipient.name)
    else:
        limit = _daily_limit(giver, recipient)
        if limit:
            errors["recipient"] = limit
    text = _clean(message)
    if not text:
        errors["message"] = gettext("Write a few words: what did they do well?")
    elif len(text) > MAX_MESSAGE:
        errors["message"] = gettext("Keep it short: %(count)s characters, at most %(limit)s.",
                                    count=f"{len(text):,}", limit=MAX_MESSAGE)
    tag = (value_tag or "").strip().lower()
    if tag and tag not in value_tags():
        errors["value"] = gettext("Unknown value “%(value)s”: choose one of %(values)s, or none.", value=tag[:60],
                                  values=", ".join(value_tags()))
    return errors


def _daily_limit(giver: User, recipient: User) -> str | None:
    """Why the giver may not give this kudos today (too many in the last 24 hours), or None."""
    since = utcnow() - timedelta(days=1)
    given = db_session().execute(select(Kudos.recipient_id).where(
        Kudos.giver_id == giver.id, Kudos.source == PEER, Kudos.created_at > since)).scalars().all()
    if sum(1 for r in given if r == recipient.id) >= PER_COLLEAGUE_PER_DAY:
        return gettext("You have thanked %(name)s %(count)s times today: save the next one for tomorrow, "
                       "it will mean more.", name=recipient.name, count=PER_COLLEAGUE_PER_DAY)
    if len(given) >= PER_GIVER_PER_DAY:
        return gettext("You have given %(count)s kudos today, the most in a day: thank the next colleague tomorrow.",
                       count=PER_GIVER_PER_DAY)
    return None


def _clean(text: str | None) -> str:
    return (text or "").replace("\r\n", "\n").replace("\x00", "").strip()


# ------------------------------------------------------------------ from customers


def workers_of(ticket: Ticket) -> list[User]:
    """The agents who worked the ticket: its assignee and every staff author of a public reply."""
    ids = set(db_session().scalars(select(Message.author_id).join(User, User.id == Message.author_id).where(
        Message.ticket_id == ticket.id, Message.internal.is_(False), User.role.in_(("agent", "admin")))))
    if ticket.assignee_id:
        ids.add(ticket.assignee_id)
    if not ids:
        return []
    users = db_session().scalars(select(User).where(User.id.in_(ids)).order_by(User.name))
    return [u for u in users if u.is_staff and u.is_active]


def credit_customer_praise(ticket: Ticket, customer: User, source: str, quote: str,
                           score: int | None = None) -> list[Kudos]:
    """A kudos for each agent who worked ``ticket``, quoting the customer; at most once per ticket and agent."""
    quote = _clean(quote)[:2000]
    given = []
    for agent in workers_of(ticket):
        kudos = Kudos(recipient_id=agent.id, giver_id=customer.id, source=source, ticket_id=ticket.id,
                      message=quote, score=score, created_at=utcnow())
        db_session().add(kudos)
        try:
            db_session().commit()
        except IntegrityError:  # this customer already praised this agent on this ticket
            db_session().rollback()
            continue
        given.append(kudos)
    for kudos in given:
        agent = kudos.recipient
        notify(agent, lambda: (
            gettext("%(customer)s rated your help on %(reference)s.", customer=customer.name,
                    reference=ticket.reference) if source == RATING else
            gettext("%(customer)s thanked your help on %(reference)s.", customer=customer.name,
                    reference=ticket.reference)), kudos=kudos)
        milestones.check_monthly_kudos(agent, kudos.created_at)
    return given


def record_rating(agent: User, ticket: Ticket, kind: str, score: int) -> None:
    """Credit a rating to an agent; a later rating of the same ticket replaces the score."""
    existing = db_session().scalar(select(Rating).where(
        Rating.ticket_id == ticket.id, Rating.user_id == agent.id, Rating.kind == kind))
    if existing is not None:
        existing.score, existing.created_at = score, utcnow()
        db_session().commit()
        return
    db_session().add(Rating(user_id=agent.id, ticket_id=ticket.id, kind=kind, score=score, created_at=utcnow()))
    try:
        db_session().commit()
    except IntegrityError:  # the same rating arrived twice at once: one row is enough
        db_session().rollback()


def is_praise(feedback: dict) -> bool:
    """A top rating that comes with words: CSAT 5, or NPS 9–10, with a comment."""
    kind, score, comment = feedback.get("kind"), feedback.get("score"), (feedback.get("comment") or "").strip()
    if not comment or score is None:
        return False
    return (kind == "csat" and score == 5) or (kind == "nps" and score >= 9)


def is_automated(message: Message) -> bool:
    meta = message.meta or {}
    return bool(meta.get("auto_reply") or (meta.get("email") or {}).get("auto_reply"))


@lru_cache(maxsize=16)
def _words_pattern(words: tuple[str, ...]) -> re.Pattern | None:
    """One pattern for a list of words or phrases, each matched whole."""
    if not words:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)) + r")(?!\w)")


def find_thanks(body: str) -> str | None:
    """The first sentence that is an unmistakable thank-you (see the phrase and exclusion settings).

    Only the start of the message is read (THANKS_CHARS): thanks come first, quoted history
    and signatures after, and a customer's 33,000 one-letter sentences must not cost seconds.
    """
    phrases, exclusions = _words_pattern(tuple(thanks_phrases())), _words_pattern(tuple(thanks_exclusions()))
    if phrases is None:
        return None
    for sentence in re.split(r"(?<=[.!?])\s+|\n+", (body or "")[:THANKS_CHARS]):
        low = " ".join(sentence.lower().replace("’", "'").split())
        if phrases.search(low) and not (exclusions is not None and exclusions.search(low)):
            return " ".join(sentence.split())[:MAX_MESSAGE]
    return None


def staff_replied_before(ticket: Ticket, message: Message) -> bool:
    return db_session().scalar(select(Message.id).join(User, User.id == Message.author_id).where(
        Message.ticket_id == ticket.id, Message.id < message.id, Message.internal.is_(False),
        User.role.in_(("agent", "admin"))).limit(1)) is not None


# ------------------------------------------------------------------ reactions


def toggle_reaction(kudos: Kudos, user: User, emoji_key: str) -> bool | None:
    """Add the reaction, or take it back if it was there; True added, False removed, None unknown emoji."""
    if emoji_key not in REACTIONS:
        return None
    existing = db_session().scalar(select(Reaction).where(
        Reaction.kudos_id == kudos.id, Reaction.user_id == user.id, Reaction.emoji == emoji_key))
    if existing is not None:
        db_session().delete(existing)
        db_session().commit()
        return False
    db_session().add(Reaction(kudos_id=kudos.id, user_id=user.id, emoji=emoji_key))
    try:
        db_session().commit()
    except IntegrityError:  # a double click: the reaction is there, which is what was asked
        db_session().rollback()
    return True
