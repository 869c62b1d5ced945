"""The complaints plugin's own tables (all prefixed ``complaints_``)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.plugin_api import Model, Ticket, User, lazy_gettext, utcnow, words_text

STEPS = ("acknowledge", "listen", "remedy", "resolve", "follow_up")

# Shown on pages and stored inside audit reasons (as words: read in each reader's language).
STEP_LABELS = {
    "acknowledge": lazy_gettext("Acknowledge"),
    "listen": lazy_gettext("Listen and apologise"),
    "remedy": lazy_gettext("Offer a remedy"),
    "resolve": lazy_gettext("Resolve"),
    "follow_up": lazy_gettext("Follow up"),
}


class ComplaintFlag(Model):
    """A ticket flagged as a complaint, and whether an agent cleared it as a false flag.

    One per ticket. Kept when cleared, so reports show detection precision over time.
    """

    __tablename__ = "complaints_flags"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), unique=True)
    score: Mapped[float] = mapped_column(Float, default=0.0)  # VADER compound of the flagged message
    signals: Mapped[list] = mapped_column(JSON, default=list)
    # detection (a message), survey (a low rating) or agent (flagged by hand: a miss of detection)
    source: Mapped[str] = mapped_column(String(20), default="detection")
    flagged_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    cleared_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    cleared_at: Mapped[datetime | None]
    clear_reason: Mapped[str | None] = mapped_column(String(500))

    ticket: Mapped[Ticket] = relationship()
    cleared_by: Mapped[User | None] = relationship()

    @property
    def active(self) -> bool:
        return self.cleared_at is None


class ComplaintRule(Model):
    """A routing rule: all conditions must hold; then the actions apply, in ``position`` order."""

    __tablename__ = "complaints_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    position: Mapped[int] = mapped_column(default=0, index=True)
    active: Mapped[bool] = mapped_column(default=True)
    conditions: Mapped[dict] = mapped_column(JSON, default=dict)
    actions: Mapped[dict] = mapped_column(JSON, default=dict)
    stop: Mapped[bool] = mapped_column(default=False)
    # The last error the rule raised while routing a ticket (it was skipped), shown as "broken".
    last_error: Mapped[str | None] = mapped_column(String(1000))
    last_error_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ComplaintStep(Model):
    """One done step of a complaint's playbook (no row = not done)."""

    __tablename__ = "complaints_steps"
    __table_args__ = (UniqueConstraint("ticket_id", "step"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    step: Mapped[str] = mapped_column(String(20))
    done_at: Mapped[datetime] = mapped_column(default=utcnow)
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # remedy: what was offered (or, with no_remedy, why nothing was)
    note: Mapped[str] = mapped_column(Text, default="")
    # The note's words when the plugin wrote it (the follow-up's answer): read per reader
    note_words: Mapped[dict | None] = mapped_column(JSON)
    no_remedy: Mapped[bool] = mapped_column(default=False)

    done_by: Mapped[User | None] = relationship()

    @property
    def note_text(self) -> str:
        """The note in the current language (an agent's own note, or an old row, as written)."""
        return words_text(self.note_words, self.note) or ""


class ComplaintAck(Model):
    """The one acknowledgement a complaint gets (the unique ticket makes "never two")."""

    __tablename__ = "complaints_acks"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), unique=True)
    # pending (a rule asked for it inside the ticket's transaction) → sent / unreachable
    status: Mapped[str] = mapped_column(String(20), default="pending")
    template: Mapped[str | None] = mapped_column(Text)  # a rule's own text; None = the default
    reason: Mapped[str] = mapped_column(String(500), default="")
    subject: Mapped[str] = mapped_column(String(500), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    channel: Mapped[str] = mapped_column(String(40), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]


class ComplaintFollowUp(Model):
    """"Did we resolve your concern?": scheduled when a complaint is resolved, sent by a job."""

    __tablename__ = "complaints_followups"
    __table_args__ = (Index("ix_complaints_followups_due", "sent_at", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), unique=True)
    due_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]
    resolved: Mapped[bool | None]
    comment: Mapped[str] = mapped_column(Text, default="")

    ticket: Mapped[Ticket] = relationship()


class ComplaintEscalation(Model):
    """One escalation of a missed complaint clock; unique per target kind and cycle."""

    __tablename__ = "complaints_escalations"
    __table_args__ = (UniqueConstraint("ticket_id", "target_kind", "cycle"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    target_kind: Mapped[str] = mapped_column(String(30))
    cycle: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    summary: Mapped[str] = mapped_column(String(500), default="")  # English: search, exports, logs
    words: Mapped[dict | None] = mapped_column(JSON)  # the summary's words (None on older rows)

    ticket: Mapped[Ticket] = relationship()

    @property
    def summary_text(self) -> str:
        """The summary in the current language (the stored English for older rows)."""
        return words_text(self.words, self.summary) or ""


class ComplaintAlert(Model):
    """Something a supervisor must see on their dashboard (an escalation, a rule's notice)."""

    __tablename__ = "complaints_alerts"
    __table_args__ = (Index("ix_complaints_alerts_user", "user_id", "dismissed_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))  # escalation, rule
    text: Mapped[str] = mapped_column(String(500))  # English: search, exports
    words: Mapped[dict | None] = mapped_column(JSON)  # the text's words (None on older rows)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    emailed_at: Mapped[datetime | None]  # alerts written inside a ticket's transaction are mailed after it
    dismissed_at: Mapped[datetime | None]

    ticket: Mapped[Ticket] = relationship()

    @property
    def shown_text(self) -> str:
        """The alert in the current language (the stored English for older rows)."""
        return words_text(self.words, self.text) or ""


class ComplaintLabel(Model):
    """An agent's correction of the detector, kept as a training label: one per ticket, the latest wins."""

    __tablename__ = "complaints_labels"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), unique=True)
    complaint: Mapped[bool]
    text: Mapped[str] = mapped_column(Text, default="")  # what the detector read: subject and first message
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class ComplaintModel(Model):
    """A model learned from this install's labels (JSON weights, never a pickle) and how it scored."""

    __tablename__ = "complaints_models"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    label_count: Mapped[int] = mapped_column(default=0)
    weights: Mapped[dict] = mapped_column(JSON, default=dict)  # LinearModel.to_json()
    metrics: Mapped[dict] = mapped_column(JSON, default=dict)  # learned / built-in P, R, F1 on held-back labels
    beats_builtin: Mapped[bool] = mapped_column(default=False)


class ComplaintDetectorState(Model):
    """The detector's admin choices (one row): sensitivity and whether a learned model may be used."""

    __tablename__ = "complaints_detector_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    sensitivity: Mapped[int] = mapped_column(default=50)  # 0 precise … 100 catches most
    use_learned: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
