"""Who may use each route of the messaging plugin (read by the core's access-matrix test).

Webhooks authenticate the provider by signature, not a sign-in: without one every role is
refused (401/403). Short links and the read page are opened by whoever holds the link; the
matrix has no link, so it is refused (404) to everyone.
"""
from __future__ import annotations

ROLES = ("anonymous", "customer_a", "customer_b", "agent", "team_agent", "light_agent", "admin")
NOBODY: set[str] = set()

RULES: dict[str, set[str]] = {
    "messaging.sms": NOBODY,
    "messaging.telegram": NOBODY,
    "messaging.whatsapp_handshake": NOBODY,
    "messaging.whatsapp": NOBODY,
    "messaging.slack": NOBODY,
    "messaging.social": NOBODY,
    "messaging.short": NOBODY,
    "messaging.read": NOBODY,
    "messaging.voice": NOBODY,
    "messaging.link": {"agent", "admin"},  # about the world's ticket: out of the team agent's scope
    "messaging.log_call": {"agent", "admin"},
    "messaging.new_call": {"agent", "team_agent", "admin"},
}


def values(world: dict) -> dict:
    return {"link_code": "nothere", "read_token": "not-a-token"}
