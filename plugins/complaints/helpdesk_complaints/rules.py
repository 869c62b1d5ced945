"""Routing rules: conditions, their verdicts, and the actions a firing rule takes.

A rule's ``conditions`` (JSON) must all hold; the keys are:

=================  ==========================================  =============================
key                value                                       holds when
=================  ==========================================  =============================
channel            ``["web", "email"]``                        the ticket came by one of them
sentiment_below    ``-0.3``                                    VADER compound of the first message < X
words              ``["refund", "charged"]``                   any word/phrase in subject or text
regex              ``"order\\s*#?\\d{5}"``                     the pattern is found (case-insensitive)
customer_tag       ``"vip"``                                   the customer carries the tag
team_id            ``3``                                       the ticket is in that team (before routing)
time               ``{"from": "18:00", "to": "08:00"}``        created in that window (plugin's time zone)
priority           ``["high", "urgent"]``                      the ticket has one of them
is_complaint       ``true`` / ``false``                        the ticket is (not) a complaint
=================  ==========================================  =============================

``actions``: ``team_id``, ``assign`` (``agent`` with ``agent_id``, ``round_robin``,
``least_loaded``), ``priority``, ``tags``, ``sla_policy_id``, ``acknowledge`` (with an optional
``ack_template``) and ``notify_supervisor``.

Rules run in ``position`` order. Every firing rule applies its priority, tags, SLA,
acknowledgement and notice actions; the team and agent come from the first firing rule that
routes (one routing decision per ticket, so one team's turn is taken, never two). A rule
marked ``stop`` ends the evaluation when it fires. A rule that raises is skipped and marked
broken; it never blocks the ticket.
"""
from __future__ import annotations

import logging
import re
import time as clock
import warnings
from dataclasses import dataclass, field
from datetime import datetime, time
from functools import lru_cache
from typing import Any

import regex
from jinja2 import TemplateSyntaxError, nodes
from jinja2.sandbox import SandboxedEnvironment
from sqlalchemy import select

from helpdesk.plugin_api import (
    PRIORITIES,
    Message,
    Route,
    Team,
    Text,
    Ticket,
    User,
    apply_route_decision,
    audit,
    choose_agent,
    db_session,
    english_text,
    gettext,
    joined,
    lazy_gettext,
    text_for,
    utcnow,
    words_of,
)
from helpdesk_complaints import core_tables
from helpdesk_complaints.config import TAG, local_time
from helpdesk_complaints.detection import sentiment
from helpdesk_complaints.models import ComplaintAck, ComplaintAlert, ComplaintFlag, ComplaintRule

log = logging.getLogger(__name__)

ASSIGN_MODES = {"agent": lazy_gettext("a specific agent"), "round_robin": lazy_gettext("round robin in the team"),
                "least_loaded": lazy_gettext("the least-loaded agent of the team")}
CONDITION_KEYS = ("channel", "sentiment_below", "words", "regex", "customer_tag", "team_id", "time", "priority",
                  "is_complaint")
# A rule's acknowledgement in other languages: the core's table of texts, one row per language.
ACK_TEXTS = "complaints.ack"
ACTION_KEYS = ("team_id", "assign", "agent_id", "priority", "tags", "sla_policy_id", "acknowledge", "ack_template",
               "notify_supervisor")
DRY_RUN_TICKETS = 500
DRY_RUN_SECONDS = 5.0  # the Test button stops after this long and says how far it got

# Guards for the admin's regular expression, which runs on every new ticket's text: Python's
# ``re`` has no time limit, and a pattern such as ``(a+)+$`` backtracks for hours on a long
# run of "a" a customer can send. The ``regex`` module's search takes a timeout.
MAX_PATTERN = 500  # characters
RULE_TEXT_CHARS = 10_000  # conditions look at the subject and the start of the message
REGEX_TIMEOUT = 0.05  # seconds per search
PROBE_CHARS = ("a", "1", " ", "-", ".", "é", "\n", "a ")  # plus the pattern's own letters


def _probe(run: str) -> str:
    """A text as long as the rules read, one run of ``run`` that ends where no pattern expects it."""
    return (run * RULE_TEXT_CHARS)[:RULE_TEXT_CHARS - 2] + "\x00!"


class RuleError(ValueError):
    """A rule that cannot be evaluated or applied (bad stored data, a team that is gone)."""


# ------------------------------------------------------------------ facts


@dataclass
class Facts:
    """What the conditions look at, for one ticket and its first (or current) message."""

    ticket_id: int | None
    channel: str
    text: str
    sentiment: float
    customer_tags: set[str]
    team_id: int | None
    created_local: datetime
    priority: str
    is_complaint: bool


def split_tags(raw: str | None) -> set[str]:
    return {t.strip().lower() for t in re.split(r"[,;\s]+", raw or "") if t.strip()}


def complaint_label(message: Message | None) -> dict:
    labels = ((message.meta or {}).get("labels") or {}) if message is not None else {}
    return labels.get("complaints") or {}


def facts_for(ticket: Ticket, message: Message | None, *, flag: ComplaintFlag | None = None,
              has_flag: bool | None = None, customer: User | None = None) -> Facts:
    """Facts of ``ticket`` with ``message`` (its first message when routing)."""
    label = complaint_label(message)
    score = label.get("score")
    body = message.body if message is not None else ""
    text = f"{ticket.subject}\n{body}"
    if score is None:
        score = sentiment(text)
    tags = {t.name for t in ticket.tags}
    if has_flag is None:
        has_flag = flag is not None and flag.active
    customer = customer or ticket.customer
    return Facts(ticket_id=ticket.id, channel=ticket.channel or "", text=text[:RULE_TEXT_CHARS],
                 sentiment=float(score),
                 customer_tags=split_tags(customer.tags if customer is not None else ""), team_id=ticket.team_id,
                 created_local=local_time(ticket.created_at or utcnow()), priority=ticket.priority,
                 is_complaint=bool(has_flag or label.get("complaint") or TAG in tags))


# ------------------------------------------------------------------ conditions


@dataclass
class Verdict:
    """One condition's result: what it asks, what it found, and whether it holds."""

    key: str
    label: str
    found: str
    ok: bool


def parse_hhmm(value: Any) -> time:
    match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", str(value or "").strip())
    if not match:
        raise RuleError(f"{value!r} is not a time like 18:30")
    return time(int(match.group(1)), int(match.group(2)))


def word_pattern(words: list[str]) -> re.Pattern:
    parts = [r"\s+".join(re.escape(w) for w in word.split()) for word in words if word.strip()]
    if not parts:
        raise RuleError("the word list is empty")
    return re.compile(r"(?<!\w)(" + "|".join(parts) + r")(?!\w)", re.IGNORECASE)


def compile_regex(pattern: str) -> regex.Pattern:
    """The admin's pattern, compiled for ``search_regex``; RuleError if too long or invalid."""
    if len(pattern) > MAX_PATTERN:
        raise RuleError(f"the pattern is longer than {MAX_PATTERN} characters")
    try:
        with warnings.catch_warnings():  # "[[:alpha:]]" warns in re; regex reads it as a class
            warnings.simplefilter("ignore", FutureWarning)
            re.compile(pattern, re.IGNORECASE)  # Python's own syntax and error messages
        return _compiled(pattern)
    except (re.error, regex.error) as exc:
        raise RuleError(f"the pattern does not compile: {exc}") from None


@lru_cache(maxsize=256)
def _compiled(pattern: str) -> regex.Pattern:
    return regex.compile(pattern, regex.IGNORECASE)


def search_regex(pattern: str, text: str) -> regex.Match | None:
    """Search ``text`` (its first RULE_TEXT_CHARS) with a time limit; RuleError when it runs out."""
    compiled = compile_regex(pattern)
    try:
        return compiled.search(text[:RULE_TEXT_CHARS], timeout=REGEX_TIMEOUT)
    except TimeoutError:
        raise RuleError(f"the pattern took more than {REGEX_TIMEOUT * 1000:.0f} ms on this text and was "
                        "skipped: simplify it (nested repetition such as (a+)+ backtracks without end)") from None


def is_slow_pattern(pattern: str) -> bool:
    """True when the pattern runs out of time on a probe text (checked when a rule is saved).

    The probes are long runs of common characters and of the pattern's own letters, the texts
    on which nested or overlapping repetition backtracks. Not proof of safety: the time limit
    in ``search_regex`` is the real guard; this tells the admin at once for the usual cases.
    """
    compiled = compile_regex(pattern)
    own = sorted({c for c in pattern if c.isalnum()})[:12]
    try:
        for run in (*PROBE_CHARS, *own):
            compiled.search(_probe(run), timeout=REGEX_TIMEOUT)
    except TimeoutError:
        return True
    return False


def _names(values: list) -> str:
    return ", ".join(str(v) for v in values)


def team_name(team_id: Any) -> str:
    team = db_session().get(Team, team_id) if isinstance(team_id, int) else None
    return f"{team.name} (#{team_id})" if team else f"team #{team_id}"


def evaluate(conditions: dict, facts: Facts) -> list[Verdict]:
    """Each condition's verdict, in a fixed order. Raises RuleError for data the form would refuse."""
    if not isinstance(conditions, dict) or not conditions:
        raise RuleError("the rule has no conditions")
    unknown = set(conditions) - set(CONDITION_KEYS)
    if unknown:
        raise RuleError(f"unknown condition {sorted(unknown)[0]!r}")
    out: list[Verdict] = []
    # Verdicts are shown on the explain page only (never stored): the reader's language.
    for key in CONDITION_KEYS:
        if key not in conditions:
            continue
        value = conditions[key]
        if key == "channel":
            wanted = [str(v).lower() for v in value]
            out.append(Verdict(key, gettext("channel is %(channels)s", channels=_names(wanted)), facts.channel,
                               facts.channel in wanted))
        elif key == "sentiment_below":
            limit = float(value)
            out.append(Verdict(key, gettext("sentiment below %(score)s", score=f"{limit:+.2f}"),
                               f"{facts.sentiment:+.2f}", facts.sentiment < limit))
        elif key == "words":
            found = sorted({m.group(1).lower() for m in word_pattern(list(value)).finditer(facts.text)})
            out.append(Verdict(key, gettext("mentions any of: %(words)s", words=_names(value)),
                               _names(found) if found else gettext("none of them"), bool(found)))
        elif key == "regex":
            match = search_regex(str(value), facts.text)
            out.append(Verdict(key, gettext("matches /%(pattern)s/", pattern=value),
                               f"“{match.group(0)[:60]}”" if match else gettext("no match"),
                               match is not None))
        elif key == "customer_tag":
            tag = str(value).strip().lower()
            shown = _names(sorted(facts.customer_tags)) or gettext("no tags")
            out.append(Verdict(key, gettext("customer tagged %(tag)s", tag=tag), shown, tag in facts.customer_tags))
        elif key == "team_id":
            out.append(Verdict(key, gettext("team is %(team)s", team=team_name(value)),
                               team_name(facts.team_id) if facts.team_id else gettext("no team"),
                               facts.team_id == value))
        elif key == "time":
            start, end = parse_hhmm(value.get("from")), parse_hhmm(value.get("to"))
            now = facts.created_local.time().replace(second=0, microsecond=0)
            inside = start <= now < end if start <= end else (now >= start or now < end)
            out.append(Verdict(key, gettext("created between %(start)s and %(end)s", start=f"{start:%H:%M}",
                                            end=f"{end:%H:%M}"),
                               f"{facts.created_local:%H:%M} {facts.created_local.tzname()}", inside))
        elif key == "priority":
            out.append(Verdict(key, gettext("priority is %(priorities)s", priorities=_names(value)), facts.priority,
                               facts.priority in value))
        elif key == "is_complaint":
            complaint = bool(value)
            out.append(Verdict(key, gettext("is a complaint") if complaint else gettext("is not a complaint"),
                               gettext("a complaint") if facts.is_complaint else gettext("not a complaint"),
                               facts.is_complaint == complaint))
    return out


def condition_words(conditions: dict) -> Text:
    """The conditions in words, as a lazy text: stored inside audit and routing reasons (each
    reader reads it in their language); the admin's values stay as typed."""
    parts: list[Text] = []
    for key in CONDITION_KEYS:
        if key not in (conditions or {}):
            continue
        value = conditions[key]
        if key == "channel":
            parts.append(lazy_gettext("channel in (%(channels)s)", channels=_names(value)))
        elif key == "sentiment_below":
            parts.append(lazy_gettext("sentiment < %(score)s", score=f"{float(value):+.2f}"))
        elif key == "words":
            parts.append(lazy_gettext("mentions %(words)s", words=" / ".join(value)))
        elif key == "regex":
            parts.append(lazy_gettext("matches /%(pattern)s/", pattern=value))
        elif key == "customer_tag":
            parts.append(lazy_gettext("customer tagged %(tag)s", tag=value))
        elif key == "team_id":
            parts.append(lazy_gettext("team %(team)s", team=team_name(value)))
        elif key == "time":
            parts.append(lazy_gettext("created %(start)s–%(end)s", start=value.get("from"), end=value.get("to")))
        elif key == "priority":
            parts.append(lazy_gettext("priority %(priorities)s", priorities="/".join(value)))
        elif key == "is_complaint":
            parts.append(lazy_gettext("is a complaint") if value else lazy_gettext("is not a complaint"))
    if not parts:
        return lazy_gettext("no conditions")
    # " and " joins whole conditions (each one translated), never fragments of a sentence.
    with_and: list[Text] = []
    for part in parts:
        if with_and:
            with_and.append(lazy_gettext(" and "))
        with_and.append(part)
    return joined(with_and, separator="")


def describe(conditions: dict) -> str:
    """The conditions in the reader's language, for the rules page (a str: the page escapes it)."""
    return str(condition_words(conditions))


def describe_actions(actions: dict) -> str:
    """A rule's actions in the reader's language, for the rules page and the explanation page."""
    parts = []
    if actions.get("team_id"):
        parts.append(gettext("team → %(team)s", team=team_name(actions["team_id"])))
    mode = actions.get("assign")
    if mode == "agent":
        agent = db_session().get(User, actions.get("agent_id") or 0)
        parts.append(gettext("assign → %(agent)s", agent=agent.name) if agent else
                     gettext("assign → agent #%(id)s", id=actions.get("agent_id")))
    elif mode in ASSIGN_MODES:
        parts.append(gettext("assign → %(mode)s", mode=ASSIGN_MODES[mode]))
    if actions.get("priority"):
        parts.append(gettext("priority → %(priority)s", priority=actions["priority"]))
    if actions.get("tags"):
        parts.append(gettext("tags + %(tags)s", tags=", ".join(actions["tags"])))
    if actions.get("sla_policy_id"):
        policy = core_tables.policy(actions["sla_policy_id"])
        parts.append(gettext("SLA → %(policy)s", policy=policy.name) if policy else
                     gettext("SLA → policy #%(id)s", id=actions["sla_policy_id"]))
    if actions.get("acknowledge"):
        parts.append(gettext("acknowledge (own text)") if actions.get("ack_template") else gettext("acknowledge"))
    if actions.get("notify_supervisor"):
        parts.append(gettext("notify supervisor"))
    return "; ".join(parts) or gettext("no actions")


def rule_reason(rule: ComplaintRule) -> Text:
    """Why a rule acted, for audit and routing reasons: stored in English and as words."""
    return lazy_gettext("rule '%(name)s' (#%(id)s): %(conditions)s", name=rule.name, id=str(rule.id),
                        conditions=condition_words(rule.conditions))


# ------------------------------------------------------------------ templates

_sandbox = SandboxedEnvironment(autoescape=False)
SAMPLE_VALUES = {"first_name": "Carla", "name": "Carla Customer", "reference": "HD-1", "subject": "My order",
                 "next_steps": "We will write within a day.", "apology": "We are sorry."}
# An acknowledgement needs placeholders, conditions and a few text filters. Jinja's sandbox
# stops attribute tricks but not work: ``{{ 9 ** 9999999 }}``, ``{{ "x" * 10**9 }}`` or nested
# ``range`` loops would hold a worker for minutes. Only these parts of the language are allowed.
ALLOWED_NODES = (nodes.Template, nodes.Output, nodes.TemplateData, nodes.Name, nodes.Const, nodes.If,
                 nodes.CondExpr, nodes.Not, nodes.And, nodes.Or, nodes.Compare, nodes.Operand, nodes.Concat,
                 nodes.Filter, nodes.Test)
ALLOWED_FILTERS = {"upper", "lower", "title", "capitalize", "trim", "default", "d"}
ALLOWED_TESTS = {"defined", "undefined", "none"}
TEMPLATE_LIMIT = ("Only placeholders such as {{ first_name }}, {% if … %} … {% else %} … {% endif %} and the "
                  "filters upper, lower, title, capitalize, trim and default can be used")


def template_problem(text: str) -> str | None:
    """None if ``text`` uses only the allowed parts of Jinja, else what is wrong (without rendering it)."""
    try:
        tree = _sandbox.parse(text)
    except TemplateSyntaxError as exc:
        return f"The template has an error on line {exc.lineno}: {exc.message}"
    for node in tree.find_all(nodes.Node):
        if not isinstance(node, ALLOWED_NODES):
            return f"{TEMPLATE_LIMIT} (found {type(node).__name__.lower()} on line {node.lineno})."
        if isinstance(node, nodes.Name) and (node.ctx != "load" or node.name not in SAMPLE_VALUES):
            return f"Unknown placeholder “{node.name}”: use {', '.join(SAMPLE_VALUES)}."
        if isinstance(node, nodes.Filter) and node.name not in ALLOWED_FILTERS:
            return f"{TEMPLATE_LIMIT} (found the filter {node.name})."
        if isinstance(node, nodes.Test) and node.name not in ALLOWED_TESTS:
            return f"{TEMPLATE_LIMIT} (found the test {node.name})."
    return None


def check_template(text: str) -> str | None:
    """None if the acknowledgement template is allowed and renders, else what is wrong with it."""
    problem = template_problem(text)
    if problem:
        return problem
    try:
        _sandbox.from_string(text).render(**SAMPLE_VALUES)
    except Exception as exc:  # e.g. a filter given arguments it does not take
        return f"The template cannot be rendered: {exc}"
    return None


def render_template_text(text: str, values: dict[str, str]) -> str:
    """Render an acknowledgement; RuleError for a template outside the allowed parts (saved earlier)."""
    problem = template_problem(text)
    if problem:
        raise RuleError(problem)
    return _sandbox.from_string(text).render(**values)


# ------------------------------------------------------------------ routing


@dataclass
class RoutingState:
    team_id: int | None = None
    assignee_id: int | None = None
    routed_by: Text | None = None  # the reason of the rule that routed the ticket
    reasons: list[Text] = field(default_factory=list)
    notify: list[Text] = field(default_factory=list)  # reasons of the rules that asked for a notice
    fired: list[int] = field(default_factory=list)


def active_rules() -> list[ComplaintRule]:
    return list(db_session().scalars(select(ComplaintRule).where(ComplaintRule.active.is_(True))
                                   .order_by(ComplaintRule.position, ComplaintRule.id)))


def all_rules() -> list[ComplaintRule]:
    return list(db_session().scalars(select(ComplaintRule).order_by(ComplaintRule.position, ComplaintRule.id)))


def _priority_change(ticket: Ticket, priority: str, reason: Text) -> None:
    """Raise the priority (the core applies it: automatic routing never lowers one)."""
    if priority not in PRIORITIES:
        raise RuleError(f"unknown priority {priority!r}")
    apply_route_decision(ticket, reason=reason, priority=priority)


def _add_tags(ticket: Ticket, names: list[str], reason: Text, action: str = "tagged") -> None:
    apply_route_decision(ticket, reason=reason, tags=names, tag_action=action)


def _team(team_id: Any) -> Team:
    team = db_session().get(Team, team_id) if isinstance(team_id, int) else None
    if team is None:
        raise RuleError(f"team #{team_id} does not exist")
    return team


def apply_actions(rule: ComplaintRule, ticket: Ticket, state: RoutingState) -> None:
    """Apply a firing rule's actions to the new ticket (inside create_ticket's transaction)."""
    actions = rule.actions or {}
    unknown = set(actions) - set(ACTION_KEYS)
    if unknown:
        raise RuleError(f"unknown action {sorted(unknown)[0]!r}")
    reason = rule_reason(rule)
    mode = actions.get("assign")
    routes = bool(actions.get("team_id") or mode)
    if routes and state.routed_by is None:
        team = _team(actions["team_id"]) if actions.get("team_id") else None
        assignee_id: int | None = None
        assign_note: Text | None = None  # why the assignment is not as the rule says, or how it was chosen
        if mode == "agent":
            agent = db_session().get(User, actions.get("agent_id") or 0)
            if agent is None or not agent.is_staff or not agent.is_active:
                raise RuleError(f"agent #{actions.get('agent_id')} is not an active agent")
            if agent.available:
                assignee_id = agent.id
            else:  # away: the ticket waits for the team's own strategy rather than for them
                assign_note = lazy_gettext("%(name)s is away", name=agent.name)
        elif mode in ("round_robin", "least_loaded"):
            pool = team or (db_session().get(Team, ticket.team_id) if ticket.team_id else None)
            if pool is None:
                raise RuleError(f"{ASSIGN_MODES[mode]} needs a team, and the ticket has none")
            chosen = choose_agent(ticket, pool, mode)
            if chosen is not None:
                assignee_id, assign_note = chosen.assignee_id, chosen.reason
            else:
                assign_note = lazy_gettext("nobody available in %(team)s", team=pool.name)
        elif mode:
            raise RuleError(f"unknown assignment {mode!r}")
        state.team_id = team.id if team is not None else None
        state.assignee_id = assignee_id
        state.routed_by = reason
        state.reasons.append(joined([reason, assign_note], separator=" — ") if assign_note else reason)
    if actions.get("priority"):
        _priority_change(ticket, actions["priority"], reason)
    if actions.get("tags"):
        _add_tags(ticket, list(actions["tags"]), reason)
    if actions.get("sla_policy_id"):
        policy = core_tables.policy(actions["sla_policy_id"])
        if policy is None or not policy.tag:
            raise RuleError(f"SLA policy #{actions['sla_policy_id']} does not exist or is not limited to a tag")
        _add_tags(ticket, [policy.tag], joined([reason, lazy_gettext("SLA policy '%(policy)s'", policy=policy.name)],
                                               separator=" — "), action="sla_policy")
    if actions.get("acknowledge"):
        existing = db_session().scalar(select(ComplaintAck).where(ComplaintAck.ticket_id == ticket.id))
        if existing is None:
            # The rule's text in the customer's language when it has one (ACK_TEXTS: Other languages).
            template = text_for(ACK_TEXTS, rule.id, actions.get("ack_template") or "", ticket.customer)[1]
            db_session().add(ComplaintAck(ticket_id=ticket.id, status="pending",
                                        reason=(english_text(reason) or "")[:500], template=template.strip() or None))
            audit(ticket, None, "acknowledgement", None, None, "queued", reason=reason)
    if actions.get("notify_supervisor"):
        state.notify.append(reason)
    state.fired.append(rule.id)


def supervisor_for(team_id: int | None) -> User | None:
    """Who hears about a ticket: the team's lead, else the plugin's supervisor setting."""
    from helpdesk_complaints.config import setting

    team = db_session().get(Team, team_id) if team_id else None
    lead = team.lead if team is not None else None
    if lead is not None and lead.is_active and lead.is_staff:
        return lead
    fallback = setting("supervisor")
    person = db_session().get(User, fallback) if fallback else None
    return person if person is not None and person.is_active and person.is_staff else None


def record_broken(rule: ComplaintRule, exc: BaseException) -> None:
    log.warning("complaints rule %r (#%s) failed and was skipped: %s", rule.name, rule.id, exc)
    rule.last_error = f"{type(exc).__name__}: {exc}"[:1000]
    rule.last_error_at = utcnow()


def route(ticket: Ticket, message: Message) -> Route | None:
    """The ``route_ticket`` answer: evaluate the active rules in order (see the module doc)."""
    rules = active_rules()
    if not rules:
        return None
    facts = facts_for(ticket, message)
    state = RoutingState()
    for rule in rules:
        try:
            with db_session().begin_nested():  # a rule failing half-way leaves nothing behind
                verdicts = evaluate(rule.conditions, facts)
                fires = all(v.ok for v in verdicts)
                if fires:
                    apply_actions(rule, ticket, state)
        except Exception as exc:  # any failure: skip the rule, never the ticket
            record_broken(rule, exc)
            continue
        if fires and rule.stop:
            break
    if state.notify:
        person = supervisor_for(state.team_id or ticket.team_id)
        if person is not None:
            text = lazy_gettext("New ticket routed by %(rule)s", rule=state.notify[0])
            db_session().add(ComplaintAlert(user_id=person.id, ticket_id=ticket.id, kind="rule",
                                          text=(english_text(text) or "")[:500], words=words_of(text)))
            audit(ticket, None, "notified", None, None, person.name, reason=state.notify[0])
    if state.team_id is None and state.assignee_id is None:
        return None
    return Route(team_id=state.team_id, assignee_id=state.assignee_id, reason=joined(state.reasons))


# ------------------------------------------------------------------ dry run and explain


@dataclass
class DryRun:
    checked: int
    matched: list[Ticket]
    errors: str | None = None
    stopped: bool = False  # ran out of DRY_RUN_SECONDS before the last ticket


def _first_messages(ticket_ids: list[int]) -> dict[int, Message]:
    if not ticket_ids:
        return {}
    from sqlalchemy import func

    first_ids = select(func.min(Message.id)).where(Message.ticket_id.in_(ticket_ids)).group_by(Message.ticket_id)
    return {m.ticket_id: m for m in db_session().scalars(select(Message).where(Message.id.in_(first_ids)))}


def dry_run(conditions: dict, limit: int = DRY_RUN_TICKETS, seconds: float = DRY_RUN_SECONDS) -> DryRun:
    """Evaluate ``conditions`` against the last ``limit`` tickets (their first message), for ``seconds`` at most."""
    from sqlalchemy.orm import selectinload

    tickets = list(db_session().scalars(select(Ticket).where(Ticket.merged_into_id.is_(None))
                                      .options(selectinload(Ticket.tags), selectinload(Ticket.customer))
                                      .order_by(Ticket.id.desc()).limit(limit)))
    ids = [t.id for t in tickets]
    firsts = _first_messages(ids)
    flagged = set(db_session().scalars(select(ComplaintFlag.ticket_id).where(
        ComplaintFlag.ticket_id.in_(ids), ComplaintFlag.cleared_at.is_(None)))) if ids else set()
    matched: list[Ticket] = []
    deadline = clock.monotonic() + seconds
    for checked, ticket in enumerate(tickets):
        if clock.monotonic() > deadline:
            return DryRun(checked=checked, matched=matched, stopped=True)
        facts = facts_for(ticket, firsts.get(ticket.id), has_flag=ticket.id in flagged)
        try:
            if all(v.ok for v in evaluate(conditions, facts)):
                matched.append(ticket)
        except RuleError as exc:
            return DryRun(checked=checked + 1, matched=[], errors=f"{ticket.reference}: {exc}")
    return DryRun(checked=len(tickets), matched=matched)


@dataclass
class Explanation:
    rule: ComplaintRule
    verdicts: list[Verdict]
    fires: bool
    status: str  # fires, would fire but earlier rule stopped, no match, inactive, broken
    error: str | None = None
    status_text: str = ""  # the status in the reader's language


def explain(ticket: Ticket) -> tuple[list[Explanation], Facts]:
    """Every rule, in order, against ``ticket`` as it is now (its first message)."""
    first = _first_messages([ticket.id]).get(ticket.id)
    flag = db_session().scalar(select(ComplaintFlag).where(ComplaintFlag.ticket_id == ticket.id))
    facts = facts_for(ticket, first, flag=flag)
    out: list[Explanation] = []
    stopped_by: str | None = None  # the name of the rule that stopped the evaluation
    routed = False
    for rule in all_rules():
        try:
            verdicts = evaluate(rule.conditions, facts)
        except Exception as exc:  # bad stored data or a pattern out of time: shown, never a server error
            out.append(Explanation(rule, [], False, "broken", str(exc) if isinstance(exc, RuleError)
                                   else f"{type(exc).__name__}: {exc}", status_text=gettext("broken")))
            continue
        matches = all(v.ok for v in verdicts)
        if not rule.active:
            status = "inactive" + (" (its conditions hold)" if matches else "")
            shown = gettext("inactive (its conditions hold)") if matches else gettext("inactive")
            fires = False
        elif not matches:
            status, shown, fires = "no match", gettext("no match"), False
        elif stopped_by is not None:
            status, fires = f"would match, but rule '{stopped_by}' stops the rules before it", False
            shown = gettext("would match, but rule '%(name)s' stops the rules before it", name=stopped_by)
        else:
            fires = True
            routes = bool((rule.actions or {}).get("team_id") or (rule.actions or {}).get("assign"))
            status, shown = "fires", gettext("fires")
            if routes and routed:
                status = "fires (routing already decided by an earlier rule)"
                shown = gettext("fires (routing already decided by an earlier rule)")
            routed = routed or routes
            if rule.stop:
                stopped_by = rule.name
        out.append(Explanation(rule, verdicts, fires, status, status_text=shown))
    return out, facts
