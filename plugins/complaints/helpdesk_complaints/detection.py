"""Is this message a complaint? A linear model over words, sentiment and cues of a breached expectation.

A complaint states that something we (the company) were expected to deliver did not
happen: an order that "was supposed to arrive", a refund "still" not received, a charge
"twice", "nobody has answered" — or simply states the problem ("my bill is still messed up
??????", "no trains to Manchester"). The parts:

* **cues** of a breached expectation (English patterns, and a few per language for
  French, German, Spanish, Italian, Portuguese and Dutch), each with a weight;
* **own-fault / unrelated** markers ("by mistake", "my fault", "my dog"), with negative weight;
* **VADER** sentiment (English);
* for English, a **linear model** (``helpdesk_complaints.model``; the built-in one is trained by
  ``scripts/train_builtin.py``, a per-install one by ``helpdesk_complaints.learning``) over words,
  character n-grams, the sentiment and the cues, compared with a calibrated cut-off that the
  admin's sensitivity moves;
* **phrases** the admin configures (one per line, any language): each one is decisive;
* for other languages (``helpdesk_complaints.language``): the cues and phrases add up, 1.0 flags.

Every part that fired is listed as a signal, and ``reasons`` say which language rules applied
and what weighed most, so the ticket can say why it was flagged. Customer signals (repeat
contact, VIP) are added by the hook, which knows the customer; see ``helpdesk_complaints.flags``.

Pure Python at run time (scikit-learn is only needed to train): 1–2 ms per message after the
first call, which loads VADER's lexicon and the model once per process.
"""
from __future__ import annotations

import re
import threading
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from helpdesk_complaints.model import LinearModel

THRESHOLD = 1.0  # total weight from which a message is a complaint
MAX_CHARS = 5000  # quoted history and signatures come after; sentiment of a novel is not needed

DEFAULT_PHRASES = (
    # English
    "unacceptable", "disappointed", "disappointing", "ridiculous", "outrageous", "disgraceful",
    "appalling", "fed up", "sick and tired", "worst service", "terrible service", "poor service",
    "make a complaint", "formal complaint", "file a complaint", "speak to a manager", "thanks for nothing",
    # French
    "inacceptable", "déçu", "déçue", "réclamation", "honteux", "scandaleux",
    # German
    "Beschwerde", "enttäuscht", "Frechheit", "unverschämt", "inakzeptabel",
    # Spanish
    "inaceptable", "decepcionado", "decepcionada", "reclamación", "queja",
    # Italian
    "inaccettabile", "deluso", "delusa", "reclamo",
    # Portuguese
    "inaceitável", "reclamação",
    # Dutch
    "onacceptabel", "teleurgesteld", "klacht", "niet mee eens",
)

NUM = r"(?:\d+|a|an|one|two|three|four|five|six|seven|eight|nine|ten|several|many|few|couple of)"
UNIT = r"(?:minutes?|hours?|days?|weeks?|months?|years?)"
NEG = r"(?:not|no|never|n't|nothing|none)"
PROBLEM = (r"(?:damaged|broken|defective|faulty|cracked|smashed|ruined|torn|incomplete|wrong|missing|"
           r"late|delayed|dirty|stained|cold|empty|leaking|leaked|scratched|dented|expired|used)")

# (signal name, weight, pattern). Weights: 1.0 decides alone, less needs company.
CUES: tuple[tuple[str, float, str], ...] = (
    # Expectations stated and missed
    ("expected: supposed to / promised / told", 1.0,
     r"\b(?:supposed to|was promised|were promised|(?:you|they|he|she|we) promised|promised (?:me|us)|"
     r"i was (?:told|assured|promised)|we were (?:told|assured)|was guaranteed|you guaranteed|"
     r"you advertised|advertised as|(?:said|says|stated|claims?) (?:it )?(?:would|was|is) (?:waterproof|free|included)"
     r"|should have (?:arrived|been|received|got))\b"),
    ("paid for it", 0.5, r"\b(?:i|we) (?:paid|pay) (?:for|extra)\b|\bwhat (?:i|we) paid for\b"),
    ("still not", 1.0,
     r"\b(?:still|yet)\s+(?:not|no|nothing|haven'?t|hasn'?t|hadn'?t|isn'?t|aren'?t|doesn'?t|don'?t|didn'?t|"
     r"can'?t|cannot|won'?t|wasn'?t|weren'?t|waiting|broken|missing|wrong|getting|being charged|shows|showing|"
     r"charging|the same|down|unresolved|unanswered|no sign)\b|\b(?:is|are|was|it'?s|and) still (?:not|broken|"
     r"missing|wrong|down|there|happening|nothing)\b|\bstill nothing\b|\bstill (?:haven'?t|hasn'?t)\b"),
    ("not … yet", 0.7, rf"\b(?:{NEG}|hasn'?t|haven'?t|hadn'?t|didn'?t)\b[^.!?]{{0,60}}\byet\b"),
    ("again", 0.6,
     r"(?<!thanks )(?<!thank you )\b(?:again|once more|yet again|once again)\b(?! for)"),
    ("never happened", 1.0,
     r"\bnever (?:arrived|came|showed up|turned up|received|got|replied|answered|responded|called|"
     r"delivered|worked|fixed|heard back|refunded|sent|happened|reached)\b|\bno[- ]show\b"),
    ("has not happened", 0.8,
     r"\b(?:has|have|had|did|does|is|was)(?: not|n't)(?: even)? (?:been )?(?:arrived?|come|reached|received|"
     r"shown up|turned up|delivered|fixed|resolved|refunded|processed|looked at|answered|replied|responded|"
     r"called|credited|cancelled|repaired|replaced|working|work)\b|"
     r"\b(?:didn'?t|did not|never|haven'?t|have not|hasn'?t|has not) (?:get|got|receive|received|hear|heard)"
     r" (?:a |any |my |the |an )?(?:reply|response|answer|refund|callback|call|money|email|confirmation|package|"
     r"parcel|order|item|delivery)"),
    ("waiting for days", 0.9,
     rf"\b(?:waiting|waited|wait|been waiting|on hold)\b[^.!?]{{0,40}}\b(?:{NUM}\s+{UNIT}|all day|ages|forever|"
     rf"since (?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|last|yesterday|\w+ \d+))\b|"
     rf"\b(?:{NUM}\s+{UNIT}) (?:later|ago|and still|now and)\b|\b(?:down|broken|off) since\b|"
     rf"\btook (?:{NUM}|over|more than) (?:\w+ )?{UNIT}\b"),
    ("contacted repeatedly", 1.0,
     rf"\b(?:second|third|fourth|fifth|sixth|\d+(?:st|nd|rd|th)) time\b|\b{NUM} times\b|"
     r"\bhow many times\b|\bagain and again\b|\balready (?:reported|asked|told|called|written|contacted|sent|"
     r"complained|explained)\b|\bkeep (?:asking|calling|writing|chasing)\b|\btransferred\b"),
    ("nobody answers", 1.0,
     r"\b(?:nobody|no one|no-one|none of you)\b[^.!?]{0,20}\b(?:answer|answered|replied|reply|replies|responded|"
     r"respond|called|calls|came|come|showed|helped|help|told|tells|got back|bothered|cares|picks up)\b|"
     r"\bno (?:reply|response|answer|callback|call back|word)\b|\bhaven'?t heard (?:back|anything)\b|"
     r"\bwithout (?:any |a )?(?:notice|warning|explanation|reply|response|telling|asking|fixing|solving|"
     r"resolving)\b|\bhung up\b|\bignored\b|\bdisconnected\b|\bjust plays music\b"),
    ("charged wrongly", 1.0,
     r"\b(?:charged|billed|debited|took)\b[^.!?]{0,25}\b(?:twice|double|two times|again|extra|more than|wrongly|"
     r"incorrectly|without)\b|\bdouble[- ]charged\b|\bovercharged\b|\bcharged me\b|\bi was charged\b|"
     r"\b(?:bill|invoice|price|charge|fee)s?\b[^.!?]{0,30}\b(?:went up|gone up|increased|higher than|"
     r"wrong|incorrect|still shows)\b|\bauto(?:matically)?[- ]renew"),
    ("money back", 0.6, r"\b(?:refund|money back|reimburse|compensation|charge back|chargeback|the extra charge)\b"),
    ("arrived in a bad state", 1.0,
     rf"\b(?:arrived|came|delivered|received|is|was|were|are|got)\b[^.!?]{{0,25}}\b{PROBLEM}\b|"
     rf"\b{PROBLEM} (?:item|items|product|order|parcel|package|box|delivery)\b|\bitems? missing\b|"
     r"\bnot what (?:i|we) (?:ordered|paid for|booked|expected|asked for)\b|\binstead of\b|"
     r"\bbut (?:i |we )?(?:received|got)\b|\bdelivered on\b[^.!?]{0,20}\b(?:instead|too late)\b|"
     r"\bwas delivered on\b"),
    ("does not work", 1.0,
     r"\b(?:doesn'?t|does not|didn'?t|did not|won'?t|will not|isn'?t|is not|stopped|stops|no longer|not)\s+"
     r"(?:work|working|works|charging|turning on|connecting|loading)\b|"
     r"\bkeeps? (?:crashing|logging|freezing|failing|dropping|disconnecting|breaking|deleting|rebooting|"
     r"restarting|charging)\b|\b(?:came|fell) (?:off|apart)\b|\bleak(?:s|ed|ing)?\b|\bout of stock\b|"
     r"\b(?:removes|removed|deletes|deleted|wipes|wiped|lost) (?:the|my|our|all)\b|\bhorrible noise\b|"
     r"\bhas been down\b|\bis down\b"),
    ("bad service", 1.0,
     r"\b(?:rude|unprofessional|incompetent|useless|careless|unhelpful|impolite|arrogant)\b"),
    ("delayed or missed", 0.6,
     r"\b(?:delayed|too late|still late|late again|missed (?:the|my|our) (?:appointment|delivery|visit)|"
     r"never came|nobody came|no one came|lost (?:my|our) (?:parcel|package|order|luggage|data)|"
     r"left (?:my|our|the) (?:parcel|package)|next month)\b"),
    ("question at the company", 0.6,
     r"\bwhy (?:has|have|had|did|didn'?t|is|isn'?t|was|wasn'?t|are|aren'?t|do|don'?t|does|doesn'?t|can'?t|"
     r"won'?t|would|were|weren'?t)\b|\bexplain why\b|\bhow (?:is|was) (?:this|that) (?:acceptable|possible)\b|"
     r"\bthis is how you treat\b|\bwhat (?:is|was) going on\b"),
    ("still (unresolved)", 0.4, r"\bstill\b"),
    ("sarcasm", 0.5,
     r"^\s*(?:oh,? )?(?:great|brilliant|fantastic|wonderful|perfect|wow|well done|lovely|seriously)\b[.!,:?]|"
     r"\bthanks a lot\b|\byeah,? right\b|\"(?:update|support|service|help|fix|express|customer care)\"|"
     r"\bfor no reason\b|\bnow you want me to\b|\bseriously\?"),
    ("cancelling in anger", 0.5, r"\b(?:cancelling|canceling|i'?m leaving|taking my business)\b[.!]"),
    # Other languages: breach cues (their strong words are default phrases)
    ("fr: toujours pas / jamais", 1.0,
     r"\btoujours pas\b|\bjamais (?:reçu|arrivé|eu)\b|\baucune réponse\b|\bpersonne ne\b|\bn'est pas arrivée?\b|"
     r"\bcass[ée]e?s?\b|\bendommag[ée]e?s?\b|\ben retard\b|\bremboursement\b|\bpas encore\b"),
    ("de: immer noch / nie", 1.0,
     r"\bimmer noch (?:nicht|nichts|kein|keine)\b|\bnoch nicht\b|\bnie (?:angekommen|erhalten|geantwortet)\b|"
     r"\bkeine antwort\b|\bniemand\b|\bkaputt\b|\bbeschädigt\b|\bfalsch geliefert\b|\bfalsche[nrs]?\b|"
     r"\bRückerstattung\b|\banderes Modell\b"),
    ("es: todavía no / nadie", 1.0,
     r"\btodav[íi]a no\b|\ba[úu]n no\b|\bnadie (?:me )?(?:responde|contesta|llama)\b|\bdevoluci[óo]n\b|"
     r"\broto\b|\brota\b|\bnunca (?:lleg[óo]|recib[íi])\b|\bllevo\b[^.!?]{0,30}\besperando\b"),
    ("it: ancora non / nessuno", 1.0,
     r"\bancora non\b|\bnon (?:è )?(?:mai )?arrivat[oa]\b|\bnessuno (?:mi )?risponde\b|\brott[oa]\b|"
     r"\brimborso\b|\bin ritardo\b"),
    ("pt: ainda não / ninguém", 1.0,
     r"\bainda n[ãa]o\b|\bningu[ée]m (?:me )?responde\b|\bincomplet[oa]\b|\bquebrad[oa]\b|\breembolso\b|"
     r"\bnunca chegou\b|\batrasad[oa]\b"),
    ("nl: niet gekomen / niemand", 1.0,
     r"\bniet gekomen\b|\bnog steeds niet\b|\bniemand heeft\b|\bkapot\b|\bniet ontvangen\b|\bgeen antwoord\b|"
     r"\bterugbetaling\b"),
)

# Markers that the trouble is not ours to answer for: the writer's own doing, or life.
MITIGATING: tuple[tuple[str, float, str], ...] = (
    ("own mistake", -0.8,
     r"\b(?:my (?:own )?(?:fault|mistake|bad)|by mistake|accidentally|i forgot|i deleted|i typed|"
     r"i'?m so stupid|i dropped|by dropping|our fault)\b"),
    ("someone else's doing", -0.6,
     r"\b(?:my|our) (?:dog|cat|son|daughter|kid|kids|child|children|toddler)\b|\bbecause of the (?:storm|weather|"
     r"snow|strike|traffic)\b|\bpassed away\b"),
    ("a question about how to", -0.3, r"^\s*(?:how (?:do|can) i|can i|do you|is there|where can i|what (?:is|are))\b"),
)

# A few more cues for messages in German, French and Spanish (written for this project).
OTHER_LANGUAGES: tuple[tuple[str, float, str], ...] = (
    ("de: schon wieder / unglaublich", 0.6,
     r"\bschon wieder\b|\bunglaublich\b|\bzweimal (?:bezahlt|abgebucht|berechnet)\b|\bwarte seit\b|"
     r"\bkein(?:e|en)? (?:zug|internet|strom|antwort|rückmeldung)\b|\bruft (?:niemand|keiner) zurück\b"),
    ("fr: encore / facturé deux fois", 0.6,
     r"\bencore un(?:e)?\b|\binadmissible\b|\bfactur[ée]e? deux fois\b|\bsans (?:aucune )?(?:information|réponse)\b|"
     r"\babîm[ée]e?\b|\bsupprim[ée]e?\b"),
    ("es: otra vez / cobrado dos veces", 0.6,
     r"\botra vez\b|\bcobrado dos veces\b|\bsin (?:luz|agua|internet|explicaci[óo]n|respuesta)\b|"
     r"\bnadie me (?:contesta|responde|llama)\b|\bllegó roto\b|\btarda semanas\b"),
)

_compiled_lock = threading.Lock()


@dataclass
class Detection:
    """The verdict on one message, with everything that counted."""

    complaint: bool
    score: float  # VADER compound, -1 … 1 (0 for languages VADER does not read)
    weight: float  # the evidence: above 0 is a complaint (the model's margin over the cut-off, plus extras)
    signals: list[str] = field(default_factory=list)
    probability: float | None = None  # the model's likelihood of a complaint (English only)
    language: str = "en"
    detector: str = "built-in"
    reasons: list[str] = field(default_factory=list)  # why, in words (the model's top features, rules used)

    def labels(self) -> dict:
        return {"score": round(self.score, 3), "weight": round(self.weight, 2), "signals": list(self.signals),
                "complaint": self.complaint, "language": self.language, "detector": self.detector,
                "probability": None if self.probability is None else round(self.probability, 3),
                "reasons": list(self.reasons)}


@lru_cache(maxsize=1)
def _analyzer():
    # vaderSentiment reads its lexicon with open() at construction; keep one per process.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        return SentimentIntensityAnalyzer()


def vader(text: str) -> dict[str, float]:
    """VADER's scores of ``text``: ``compound`` (-1 … 1), ``neg``, ``neu``, ``pos``."""
    return {k: float(v) for k, v in _analyzer().polarity_scores(text[:MAX_CHARS]).items()}


def sentiment(text: str) -> float:
    """VADER's compound score of ``text`` (-1 very negative … 1 very positive)."""
    return vader(text)["compound"]


@lru_cache(maxsize=1)
def _cues() -> tuple[tuple[str, float, re.Pattern], ...]:
    return tuple((name, weight, re.compile(pattern, re.IGNORECASE | re.MULTILINE))
                 for name, weight, pattern in (*CUES, *OTHER_LANGUAGES, *MITIGATING))


def cues_fired(text: str) -> list[tuple[str, float]]:
    """The cues (and mitigating markers, with negative weight) found in ``text``."""
    return [(name, weight) for name, weight, regex in _cues() if regex.search(text)]


def parse_phrases(text: str | None) -> list[str]:
    """The admin's phrase list: one per line (``;`` also separates, for one-line inputs)."""
    if text is None:
        return list(DEFAULT_PHRASES)
    return [p.strip() for p in re.split(r"[\n;]", text) if p.strip()]


@lru_cache(maxsize=8)
def phrase_pattern(phrases: tuple[str, ...]) -> re.Pattern | None:
    """One pattern for all phrases: case-insensitive, on word boundaries (any script), spaces flexible."""
    if not phrases:
        return None
    parts = sorted({r"\s+".join(re.escape(word) for word in p.split()) for p in phrases}, key=len, reverse=True)
    return re.compile(r"(?<!\w)(" + "|".join(parts) + r")(?!\w)", re.IGNORECASE)


def features(text: str, vader_scores: dict[str, float], cues: list[tuple[str, float]]) -> tuple[dict, list[str]]:
    """The model's features of ``text`` (see ``helpdesk_complaints.model``) and its words."""
    from helpdesk_complaints.model import cue_features, sentiment_features, shape_features, text_features, tokens

    words = tokens(text)
    feats = text_features(words)
    feats.update(shape_features(text, words))
    feats.update(sentiment_features(vader_scores))
    feats.update(cue_features(cues))
    return feats, words


def cutoff_logit(base_cutoff: float, sensitivity: int) -> float:
    """The model's cut-off moved by the admin's sensitivity (0 precise … 50 as trained … 100 catches most)."""
    from helpdesk_complaints.model import logit

    return logit(base_cutoff) + (50 - max(0, min(100, sensitivity))) / 20


def detect(text: str, *, phrases: Sequence[str] | None = None, threshold: float = -0.5,
           extra: Sequence[tuple[str, float]] = (), model: LinearModel | None = None, sensitivity: int = 50,
           detector: str = "built-in") -> Detection:
    """Classify one message.

    English: the linear model (``model``, default the built-in one) over words, character n-grams,
    VADER sentiment and the cues decides, with the cut-off moved by ``sensitivity``; a configured
    phrase decides alone. Other languages (identified by ``helpdesk_complaints.language``): no
    English model and no VADER; the language's cues and the phrases decide (total weight 1.0).
    ``threshold`` is the VADER compound below which sentiment is listed as a signal; ``extra``
    adds (signal, weight) pairs the caller knows (repeat contact, VIP).
    """
    from helpdesk_complaints.language import identify
    from helpdesk_complaints.model import builtin, sigmoid

    text = (text or "")[:MAX_CHARS]
    signals: list[str] = []
    reasons: list[str] = []
    pattern = phrase_pattern(tuple(DEFAULT_PHRASES if phrases is None else phrases))
    found = sorted({m.group(1).lower() for m in pattern.finditer(text)}) if pattern is not None else []
    signals.extend(f"phrase: {p}" for p in found)
    cues = cues_fired(text)
    signals.extend(f"cue: {name}" if weight > 0 else f"against: {name}" for name, weight in cues)
    extra_weight = sum(w for _, w in extra)
    language = identify(text)
    if language != "en":
        weight = (1.0 if found else 0.0) + sum(w for _, w in cues) + extra_weight - THRESHOLD
        signals.extend(name for name, _ in extra)
        reasons.append(f"no English rules applied; language {language} detected: "
                       f"{language} cues and the phrases used (total weight {weight + THRESHOLD:.1f}, 1.0 flags)")
        complaint = weight >= -1e-9
        if complaint:
            signals.append(f"language: {language} (no English rules applied)")
        return Detection(complaint=complaint, score=0.0, weight=weight, signals=signals, probability=None,
                         language=language, detector="cues", reasons=reasons)
    scores = vader(text)
    compound = scores["compound"]
    if compound <= threshold:
        signals.append(f"sentiment {compound:+.2f} (below {threshold:+.2f})")
    used = model if model is not None else builtin()
    feats, words = features(text, scores, cues)
    z = used.logit(feats)
    probability = sigmoid(z)
    margin = z - cutoff_logit(used.cutoff, sensitivity) + 2 * extra_weight
    complaint = margin >= 0 or bool(found)
    signals.extend(name for name, _ in extra)
    top = used.contributions(feats, words) if complaint else []  # (explaining takes longer than deciding)
    cut = sigmoid(cutoff_logit(used.cutoff, sensitivity))
    reasons.append(f"language en: English model ({detector}), cues and VADER sentiment applied")
    reasons.append(f"model ({detector}): likelihood {probability:.2f}, cut-off {cut:.2f}"
                   + (": " + ", ".join(f"{label} {value:+.1f}" for label, value in top) if top else ""))
    if found:
        reasons.append("a configured phrase decides alone")
    if complaint:
        signals.append(f"model ({detector}): likelihood {probability:.2f} ≥ {cut:.2f}" if margin >= 0 else
                       f"model ({detector}): likelihood {probability:.2f} (phrase decided)")
        signals.extend(f"because of {label}" for label, _ in top[:3])
    return Detection(complaint=complaint, score=compound, weight=margin, signals=signals, probability=probability,
                     language="en", detector=detector, reasons=reasons)
