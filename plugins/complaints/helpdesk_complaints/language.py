"""Which language is a message in? English is recognised at once by its common words; anything
else is identified by ``langdetect`` (a port of Google's language-detection library, seeded so
the answer is always the same). Short or unclear messages count as English."""
from __future__ import annotations

import threading
from functools import lru_cache

from helpdesk_complaints.model import tokens

ENGLISH = frozenset(
    "the a an and or but to of in on at for with from by my our your you i we it is are was were be been has have had "
    "not no never still this that these those me us can could would will please thanks thank hi hello just again "
    "why what when where how do does did don't didn't can't won't isn't wasn't haven't hasn't i'm it's you're am "
    "yet so very all any some there their they he she his her its as if about after before ago".split())
SUPPORTED = ("de", "fr", "es", "it", "pt", "nl")  # languages with their own cue lists
# Common words of the languages with cue lists: a message needs some of these (or letters
# English does not use) before langdetect, which takes milliseconds, is asked.
OTHERS = frozenset(
    "der die das und ist nicht kein keine ich mein meine wir sie seit schon noch nach mit auf für bitte danke wann "
    "le la les et est pas une un je mon ma nous vous pour avec sur dans toujours encore merci bonjour ne "
    "el los las y es no una yo mi nos para con por todavía otra vez gracias hola nadie muy "
    "il lo gli che non sono ancora nessuno grazie per "
    "o os não ainda ninguém obrigado uma "
    "het een niet geen nog steeds niemand bedankt voor de del des du au en se al su este esta han ha zu im "
    "ik mijn mij hoe kan wij jullie graag dat er op van te".split())
ACCENTED = frozenset("äöüßéèêàâçñáíóúãõìòù¿¡œ")
_lock = threading.Lock()


@lru_cache(maxsize=1)
def _detector_factory():
    from langdetect import DetectorFactory
    from langdetect.detector_factory import init_factory

    DetectorFactory.seed = 0
    init_factory()
    from langdetect import detector_factory

    return detector_factory._factory


def identify(text: str) -> str:
    """An ISO 639-1 code; ``"en"`` for English and for anything too short or unclear to tell."""
    words = tokens(text[:1000])
    words = [w for w in words if not w.isdigit()]
    if len(words) < 3:
        return "en"
    english = sum(w in ENGLISH for w in words)
    others = sum(w in OTHERS for w in words)
    accented = any(ch in ACCENTED for ch in text[:1000].lower())
    if others <= english and not (accented and others):
        return "en"
    try:
        with _lock:  # langdetect's detectors are not meant to be shared between threads
            detector = _detector_factory().create()
            detector.append(text[:1000])
            best = detector.get_probabilities()
    except Exception:  # noqa: BLE001 - langdetect raises its own error on text without features
        return "en"
    if not best or best[0].prob < 0.7:
        return "en"
    return str(best[0].lang).split("-")[0]
