"""Who may use each route of the chat plugin (read by the core's access-matrix test).

The widget's API is public: a visitor is the signed token, not a sign-in. What guards it is
the allowed origins (403 to any other page) and the token; the matrix checks that anybody,
signed in or not, gets the same answer, and that without an allowed ``Origin`` the API
refuses (the matrix sends none), so those routes are answered 403 to every role.
"""
from __future__ import annotations

ROLES = ("anonymous", "customer_a", "customer_b", "agent", "team_agent", "light_agent", "admin")
PUBLIC = set(ROLES)
NOBODY: set[str] = set()  # without an allowed Origin header the widget API answers nobody

RULES: dict[str, set[str]] = {
    "chat.widget_js": PUBLIC,
    "chat.widget_config": NOBODY,
    "chat.session": NOBODY,
    "chat.details": NOBODY,
    "chat.messages": NOBODY,
    "chat.upload": NOBODY,
    "chat.typing": NOBODY,
    "chat.rate": NOBODY,
    "chat.stream": NOBODY,
    "chat.suggest": NOBODY,
    "chat.solved": NOBODY,
}


def values(world: dict) -> dict:
    return {}
