"""Learning from the team: agents' corrections become labels; a periodic job trains a model of
this install's own and uses it only while it beats the built-in detector on held-back labels.

* ``record_label``: "flag as complaint" and "not a complaint" on a ticket store one label per
  ticket (the latest correction wins) with the text the detector read.
* ``retrain`` (the job, and the admin's "Retrain now"): from ``MIN_LABELS`` labels with both
  classes, a logistic regression over the detector's features (``training.fit``). Each label is
  scored by a model trained without it (5-fold cross-validation); the learned model's cut-off is
  the best F1 on those scores with precision ≥ 0.80, and the built-in detector is scored on
  the same labels. The new model is stored as JSON weights with both scores; it is used when
  its F1 is higher (and the admin has not switched back to the built-in detector).
* ``active_model``: the model classification uses now (``None``: the built-in one).
"""
from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select

from helpdesk.plugin_api import Ticket, User, db_session, utcnow
from helpdesk_complaints.model import LinearModel
from helpdesk_complaints.models import ComplaintDetectorState, ComplaintLabel, ComplaintModel
from helpdesk_complaints.training import Scores, choose_cutoff, featurize, fit, out_of_fold, scores

log = logging.getLogger(__name__)

MIN_LABELS = 50  # and at least MIN_PER_CLASS of each
MIN_PER_CLASS = 10
MAX_LABELS = 20000  # the latest ones
_parsed: dict[int, LinearModel] = {}


@dataclass
class TrainResult:
    model: LinearModel
    learned: Scores
    builtin: Scores
    cutoff: float

    @property
    def beats_builtin(self) -> bool:
        return self.learned.f1 > self.builtin.f1


def ticket_text(ticket: Ticket) -> str:
    """What the detector read on this ticket: the subject and the first message."""
    from helpdesk_complaints.flags import first_message

    first = first_message(ticket)
    return f"{ticket.subject}\n{first.body if first is not None else ''}"[:5000]


def record_label(ticket: Ticket, agent: User | None, complaint: bool) -> ComplaintLabel:
    """Keep an agent's correction as a label (replacing an earlier one on the same ticket). Not committed."""
    label = db_session().scalar(select(ComplaintLabel).where(ComplaintLabel.ticket_id == ticket.id))
    if label is None:
        label = ComplaintLabel(ticket_id=ticket.id)
        db_session().add(label)
    label.complaint = complaint
    label.text = ticket_text(ticket)
    label.agent_id = agent.id if agent is not None else None
    label.created_at = utcnow()
    return label


def label_counts() -> dict[bool, int]:
    rows = db_session().execute(select(ComplaintLabel.complaint, func.count()).group_by(ComplaintLabel.complaint))
    counts = {True: 0, False: 0}
    for complaint, count in rows:
        counts[bool(complaint)] = int(count)
    return counts


def state() -> ComplaintDetectorState:
    """The admin's choices (a default, unsaved row when none was ever saved)."""
    row = db_session().scalar(select(ComplaintDetectorState).order_by(ComplaintDetectorState.id).limit(1))
    return row if row is not None else ComplaintDetectorState(sensitivity=50, use_learned=True)


def save_state(**changes: object) -> ComplaintDetectorState:
    row = db_session().scalar(select(ComplaintDetectorState).order_by(ComplaintDetectorState.id).limit(1))
    if row is None:
        row = ComplaintDetectorState(sensitivity=50, use_learned=True)
        db_session().add(row)
    for key, value in changes.items():
        setattr(row, key, value)
    row.updated_at = utcnow()
    return row


def latest_model() -> ComplaintModel | None:
    return db_session().scalar(select(ComplaintModel).order_by(ComplaintModel.id.desc()).limit(1))


def active_model(current: ComplaintDetectorState | None = None) -> tuple[LinearModel | None, ComplaintModel | None]:
    """The learned model classification uses (and its row), or ``(None, None)`` for the built-in detector.

    ``current``: the detector state when the caller has read it already (one read per ticket).
    """
    if not (current if current is not None else state()).use_learned:
        return None, None
    row = db_session().execute(select(ComplaintModel.id, ComplaintModel.beats_builtin)
                               .order_by(ComplaintModel.id.desc()).limit(1)).first()
    if row is None or not row.beats_builtin:
        return None, None
    model = _parsed.get(row.id)
    record = db_session().get(ComplaintModel, row.id)
    if model is None and record is not None:
        try:
            model = LinearModel.from_json(record.weights)
        except (ValueError, TypeError, AttributeError):
            log.warning("complaints: learned model #%s is unreadable; using the built-in detector", row.id)
            return None, None
        _parsed.clear()
        _parsed[row.id] = model
    return model, record


def train_from_labels(texts: Sequence[str], gold: Sequence[bool], *, sensitivity: int = 50,
                      phrases: Sequence[str] | None = None) -> TrainResult:
    """Train on ``texts``/``gold`` and score the learned and the built-in detector on held-back labels."""
    from helpdesk_complaints.detection import detect

    feats = featurize(texts)
    probabilities = out_of_fold(feats, gold, c=1.0, folds=5, min_count=2)
    cutoff = choose_cutoff(probabilities, gold, min_precision=0.80)
    learned = scores([p >= cutoff for p in probabilities], gold)
    builtin = scores([detect(t, phrases=phrases, sensitivity=sensitivity).complaint for t in texts], gold)
    model = fit(feats, gold, c=1.0, cutoff=cutoff, min_count=2,
                meta={"trained_on": len(texts), "source": "agents' corrections"})
    return TrainResult(model=model, learned=learned, builtin=builtin, cutoff=cutoff)


def retrain() -> ComplaintModel | None:
    """Train on this install's labels (enough of them, both classes) and store the model. Commits."""
    from helpdesk_complaints.config import phrases

    counts = label_counts()
    if sum(counts.values()) < MIN_LABELS or min(counts.values()) < MIN_PER_CLASS:
        return None
    labels = list(db_session().scalars(select(ComplaintLabel).order_by(ComplaintLabel.id.desc()).limit(MAX_LABELS)))
    result = train_from_labels([lab.text for lab in labels], [lab.complaint for lab in labels],
                               sensitivity=state().sensitivity, phrases=phrases())
    record = ComplaintModel(created_at=utcnow(), label_count=len(labels), weights=result.model.to_json(),
                            beats_builtin=result.beats_builtin,
                            metrics={"learned": result.learned.as_dict(), "builtin": result.builtin.as_dict(),
                                     "cutoff": round(result.cutoff, 3),
                                     "complaints": sum(lab.complaint for lab in labels)})
    db_session().add(record)
    db_session().commit()
    log.info("complaints: learned model #%s from %s labels: F1 %.3f (built-in %.3f)%s", record.id, len(labels),
             result.learned.f1, result.builtin.f1, "" if result.beats_builtin else "; the built-in detector stays")
    return record
