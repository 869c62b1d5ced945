"""Signed, expiring survey links: itsdangerous with the app's SECRET_KEY and the salt "surveys".

The payload is ``[invitation id, customer id]``; the signature carries the time it was
made, so ``max_age`` (the validity setting) refuses old links even if the database says
nothing about them. Nothing secret is in the link: it only proves we made it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

SALT = "surveys"


def _serializer(at: datetime | None = None) -> URLSafeTimedSerializer:
    if at is None:
        return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)
    # Sign "as of" a given time (naive UTC): lets the sender stamp links with its own clock.
    stamp = int(at.timestamp() if at.tzinfo else (at - datetime(1970, 1, 1)).total_seconds())
    signer = type("StampedSigner", (TimestampSigner,), {"get_timestamp": lambda self: stamp})
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT, signer=signer)


def make_token(invitation_id: int, customer_id: int, at: datetime | None = None) -> str:
    return _serializer(at).dumps([invitation_id, customer_id])


@dataclass(frozen=True)
class TokenCheck:
    invitation_id: int | None = None
    customer_id: int | None = None
    problem: str | None = None  # "tampered" or "expired"


def read_token(token: str, max_age_days: int | None) -> TokenCheck:
    """Check a link's signature (and age unless ``max_age_days`` is None)."""
    serializer = _serializer()
    try:
        payload = serializer.loads(token, max_age=None if max_age_days is None else max_age_days * 86400)
    except SignatureExpired:
        return TokenCheck(problem="expired")
    except BadSignature:
        return TokenCheck(problem="tampered")
    if (not isinstance(payload, list) or len(payload) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in payload)):
        return TokenCheck(problem="tampered")
    return TokenCheck(invitation_id=payload[0], customer_id=payload[1])
